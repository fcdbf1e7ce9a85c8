// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
//     http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! The Tokio runtime shared by all clients and servers of this copy of the library.
//!
//! It exists while at least one handle holds a [`RuntimeLease`] and is shut down when the last one
//! is released, so that no runtime thread outlives the objects using it (in Flink: the job's
//! class loader, which loaded this copy of the library).

use parking_lot::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

use crate::java;

/// How long releasing the last lease waits for runtime tasks to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

struct Shared {
    runtime: Runtime,
    leases: usize,
}

static SHARED: Mutex<Option<Shared>> = Mutex::new(None);

fn shared() -> MutexGuard<'static, Option<Shared>> {
    SHARED.lock()
}

/// A claim on the shared runtime; the runtime lives while any lease does.
pub(crate) struct RuntimeLease {
    handle: Handle,
}

impl RuntimeLease {
    /// Takes a lease, starting the runtime if none runs.
    pub(crate) fn acquire() -> std::io::Result<RuntimeLease> {
        let mut shared = shared();
        if shared.is_none() {
            *shared = Some(Shared {
                runtime: build_runtime()?,
                leases: 0,
            });
        }
        let shared = shared.as_mut().expect("runtime was just created");
        shared.leases += 1;
        Ok(RuntimeLease {
            handle: shared.runtime.handle().clone(),
        })
    }

    /// The runtime to spawn on or block on.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for RuntimeLease {
    fn drop(&mut self) {
        let last = {
            let mut shared = shared();
            match shared.as_mut() {
                Some(s) if s.leases > 1 => {
                    s.leases -= 1;
                    None
                }
                _ => shared.take(),
            }
        };
        if let Some(last) = last {
            if Handle::try_current().is_ok() {
                // Released from a runtime thread (a task held the last lease): blocking here
                // would deadlock, so let the threads wind down on their own.
                last.runtime.shutdown_background();
            } else {
                last.runtime.shutdown_timeout(SHUTDOWN_GRACE);
            }
        }
    }
}

fn build_runtime() -> std::io::Result<Runtime> {
    ros_core::runtime::builder()
        // Runtime threads complete Java futures; attach them once, with this library's class
        // loader as their context class loader.
        .on_thread_start(java::attach_runtime_thread)
        .build()
}
