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

//! The Tokio runtime a host process (a JVM, a Python interpreter) runs clients and servers on.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Builder;

/// A multi-thread runtime for the wire work of one process: a few threads (up to 4), since the
/// model's own threads need the cores, named `ros-runtime-<n>`, with IO and timers and no signal
/// handling, which belongs to the host.
pub fn builder() -> Builder {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let mut builder = Builder::new_multi_thread();
    builder
        .worker_threads(threads)
        .thread_name_fn(|| {
            static NEXT: AtomicUsize = AtomicUsize::new(1);
            format!("ros-runtime-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        })
        .enable_io()
        .enable_time();
    builder
}
