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

//! Native methods of `RosClient`.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use futures_util::FutureExt;
use jni::EnvUnowned;
use jni::objects::{JByteArray, JClass, JLongArray, JObject, JObjectArray, JString};
use jni::sys::{jboolean, jlong};
use parking_lot::{Mutex, MutexGuard};
use ros_core::{ClientConfig, RosClient, RosError};
use tokio::task::AbortHandle;
use tokio_util::task::TaskTracker;

use crate::handle::{self, LeaseSlot, NativeObject};
use crate::java::{
    Completions, JavaCompletion, NativeResult, ThrowRosException, options_array, panic_message,
    read_options, read_strings, string_array,
};
use crate::runtime::RuntimeLease;
use crate::stats;

/// Calls in flight by id, so that Java can abort one whose future was cancelled.
#[derive(Default)]
struct CallRegistry {
    next_id: AtomicI64,
    running: Mutex<HashMap<i64, AbortHandle>>,
}

impl CallRegistry {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, AbortHandle>> {
        self.running.lock()
    }
}

/// What a Java `RosClient` points to.
struct ClientHandle {
    client: RosClient,
    /// Tasks carrying calls; `close` waits for them so every future is completed.
    calls: TaskTracker,
    registry: Arc<CallRegistry>,
    /// Hands calls' outcomes to Java together; taken on close, so that its task ends once the
    /// last call has delivered.
    completions: Mutex<Option<Completions>>,
    runtime: LeaseSlot,
}

impl NativeObject for ClientHandle {
    fn close(&self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        self.client.close();
        self.calls.close();
        // The deliverer is one of the tracked tasks: it ends after the last call's outcome.
        drop(self.completions.lock().take());
        let calls = self.calls.clone();
        let wait_for_calls = move || {
            // Calls fail fast once the client is closed; the bound only guards against a bug.
            let _ = runtime.handle().block_on(async {
                tokio::time::timeout(Duration::from_secs(10), calls.wait()).await
            });
            drop(runtime);
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Closed from a runtime thread (a result callback run inline): blocking here would
            // stall the runtime, so a thread of its own waits for the calls and lets it go.
            let spawned = std::thread::Builder::new()
                .name("ros-client-close".to_string())
                .spawn(wait_for_calls);
            if let Err(error) = spawned {
                tracing::warn!(%error, "cannot start a thread to finish closing a client");
            }
        } else {
            wait_for_calls();
        }
    }
}

/// # Safety
/// `pointer` must come from `clientCreate` and not have been freed; Java guarantees both.
unsafe fn handle<'a>(pointer: jlong) -> &'a ClientHandle {
    // SAFETY: see the function's contract.
    unsafe { handle::borrow(pointer) }
}

fn millis(value: jlong) -> Duration {
    Duration::from_millis(value.max(0) as u64)
}

/// Creates a client from options given by name (`[name, value, ...]`, see `options.properties`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientCreate<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    options: JObjectArray<'local, JString<'local>>,
) -> jlong {
    env.with_env(|env| -> NativeResult<jlong> {
        let config = ClientConfig::from_options(read_options(env, &options)?)?;
        let client = RosClient::new(config)?;
        let runtime = RuntimeLease::acquire()
            .map_err(|e| RosError::internal(format!("cannot start the runtime: {e}")))?;
        let calls = TaskTracker::new();
        let completions = Completions::start(runtime.handle(), &calls);
        Ok(handle::into_pointer(ClientHandle {
            client,
            calls,
            registry: Arc::default(),
            completions: Mutex::new(Some(completions)),
            runtime: LeaseSlot::new(runtime),
        }))
    })
    .resolve::<ThrowRosException>()
}

/// The options the client runs with, every default filled in, as `[name, value, ...]` (no token).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientOptions<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            // SAFETY: Java passes a live handle.
            let handle = unsafe { handle(pointer) };
            Ok(options_array(env, &handle.client.config().to_options())?)
        },
    )
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientUpdateEndpoints<
    'local,
>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    endpoints: JObjectArray<'local, JString<'local>>,
) {
    env.with_env(|env| -> NativeResult<()> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let addresses = read_strings(env, &endpoints)?;
        let runtime = handle
            .runtime
            .runtime()
            .ok_or_else(|| RosError::cancelled("client is closed"))?;
        // New connections are set up on the runtime.
        let _entered = runtime.enter();
        handle.client.update_endpoints(addresses)?;
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientEndpoints<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            // SAFETY: Java passes a live handle.
            let handle = unsafe { handle(pointer) };
            Ok(string_array(env, handle.client.endpoints().iter())?)
        },
    )
    .resolve::<ThrowRosException>()
}

/// Starts a call; returns its id, which `clientAbort` takes.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientCall<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    method: JString<'local>,
    payload: JByteArray<'local>,
    timeout_millis: jlong,
    identity_key: JByteArray<'local>,
    content_key: jboolean,
    call: JObject<'local>,
) -> jlong {
    env.with_env(|env| -> NativeResult<jlong> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let runtime = handle
            .runtime
            .runtime()
            .ok_or_else(|| RosError::cancelled("client is closed"))?;
        let method = method.try_to_string(env)?;
        let payload = bytes::Bytes::from(env.convert_byte_array(&payload)?);
        let timeout = (timeout_millis > 0).then(|| millis(timeout_millis));
        let identity_key = if content_key {
            ros_core::content_key(&method, &payload)
        } else if identity_key.is_null() {
            bytes::Bytes::new()
        } else {
            bytes::Bytes::from(env.convert_byte_array(&identity_key)?)
        };
        let call = env.new_global_ref(&call)?;
        let completion = match handle.completions.lock().clone() {
            Some(batch) => JavaCompletion::batched(call, batch),
            None => JavaCompletion::new(call),
        };
        let client = handle.client.clone();
        let registry = handle.registry.clone();
        let id = registry.next_id.fetch_add(1, Ordering::Relaxed);
        // Holding the lock while spawning makes sure the entry exists before the task, which
        // removes it when done, can look for it.
        let mut running = registry.lock();
        let task = handle.calls.spawn_on(
            {
                let registry = registry.clone();
                async move {
                    let outcome = AssertUnwindSafe(client.call_keyed(
                        &method,
                        payload,
                        timeout,
                        identity_key,
                    ))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        Err(RosError::internal(format!(
                            "native panic in call to '{method}': {}",
                            panic_message(panic.as_ref())
                        )))
                    });
                    registry.lock().remove(&id);
                    completion.finish(outcome);
                }
            },
            &runtime,
        );
        running.insert(id, task.abort_handle());
        Ok(id)
    })
    .resolve::<ThrowRosException>()
}

/// Aborts a call whose Java future was cancelled: the request is dropped, and an instance still
/// holding it in its queue removes it.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientAbort<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    call_id: jlong,
) {
    env.with_env(|_env| -> NativeResult<()> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        if let Some(task) = handle.registry.lock().remove(&call_id) {
            task.abort();
        }
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

/// Asks every instance to drop the queued requests of `clientId` with epochs below `belowEpoch`;
/// the count arrives through `call` as 8 big-endian bytes, or a refusal (`PERMISSION_DENIED`,
/// `UNAUTHENTICATED`) as its error.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientCancelEpochs<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    client_id: JString<'local>,
    below_epoch: jlong,
    call: JObject<'local>,
) {
    env.with_env(|env| -> NativeResult<()> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let runtime = handle
            .runtime
            .runtime()
            .ok_or_else(|| RosError::cancelled("client is closed"))?;
        let client_id = client_id.try_to_string(env)?;
        let completion = JavaCompletion::new(env.new_global_ref(&call)?);
        let client = handle.client.clone();
        handle.calls.spawn_on(
            async move {
                let cancelled = client
                    .cancel_epochs(&client_id, below_epoch.max(0) as u64)
                    .await;
                completion.finish(
                    cancelled
                        .map(|cancelled| bytes::Bytes::copy_from_slice(&cancelled.to_be_bytes())),
                );
            },
            &runtime,
        );
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientStats<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> JLongArray<'local> {
    env.with_env(|env| -> NativeResult<JLongArray<'local>> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        Ok(stats::values(env, &handle.client.stats().named())?)
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientClose<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) {
    env.with_env(|_env| -> NativeResult<()> {
        // SAFETY: Java passes a live handle.
        unsafe { handle(pointer) }.close();
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientFree<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) {
    env.with_env(|_env| -> NativeResult<()> {
        // SAFETY: Java calls this once, when nothing else can use the handle any more.
        unsafe { handle::free::<ClientHandle>(pointer) };
        Ok(())
    })
    .resolve::<ThrowRosException>()
}
