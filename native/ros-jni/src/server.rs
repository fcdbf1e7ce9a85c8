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

//! Native methods of `RosServer`.

use std::time::{Duration, Instant};

use jni::objects::{
    JByteArray, JClass, JIntArray, JLongArray, JObject, JObjectArray, JString, JValue,
};
use jni::sys::{jboolean, jint, jlong, jvalue};
use jni::{Env, EnvUnowned};
use ros_core::{RosError, RosServer, ServerConfig, ServerRequest};

use crate::handle::{self, LeaseSlot, NativeObject};
use crate::java::{
    NativeResult, ThrowRosException, options_array, read_options, read_strings, refs,
    status_from_java,
};
use crate::runtime::RuntimeLease;
use crate::stats;

/// What a Java `RosServer` points to.
struct ServerHandle {
    server: RosServer,
    runtime: LeaseSlot,
}

impl NativeObject for ServerHandle {
    fn close(&self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.handle().block_on(self.server.shutdown());
        }
    }
}

/// # Safety
/// `pointer` must come from `serverStart` and not have been freed; Java guarantees both.
unsafe fn handle<'a>(pointer: jlong) -> &'a ServerHandle {
    // SAFETY: see the function's contract.
    unsafe { handle::borrow(pointer) }
}

/// Starts a server from options given by name (`[name, value, ...]`, see `options.properties`)
/// and the instance's methods.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverStart<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    options: JObjectArray<'local, JString<'local>>,
    methods: JObjectArray<'local, JString<'local>>,
) -> jlong {
    env.with_env(|env| -> NativeResult<jlong> {
        let methods = read_strings(env, &methods)?.into_iter().collect();
        let config = ServerConfig::from_options(read_options(env, &options)?, methods)?;
        let runtime = RuntimeLease::acquire()
            .map_err(|e| RosError::internal(format!("cannot start the runtime: {e}")))?;
        let server = runtime.handle().block_on(RosServer::start(config))?;
        Ok(handle::into_pointer(ServerHandle {
            server,
            runtime: LeaseSlot::new(runtime),
        }))
    })
    .resolve::<ThrowRosException>()
}

/// The options the server runs with, every default filled in, as `[name, value, ...]` (no token).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverOptions<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            // SAFETY: Java passes a live handle.
            let handle = unsafe { handle(pointer) };
            Ok(options_array(env, &handle.server.config().to_options())?)
        },
    )
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverPort<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> jint {
    env.with_env(|_env| -> NativeResult<jint> {
        // SAFETY: Java passes a live handle.
        Ok(jint::from(
            unsafe { handle(pointer) }.server.local_addr().port(),
        ))
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverPoll<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    max: jint,
    timeout_millis: jlong,
) -> JObjectArray<'local> {
    env.with_env(|env| -> NativeResult<JObjectArray<'local>> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let batch = handle.server.poll(
            max.max(1) as usize,
            Duration::from_millis(timeout_millis.max(0) as u64),
        );
        Ok(to_java(env, &batch)?)
    })
    .resolve::<ThrowRosException>()
}

/// Builds a `RosServerRequest[]`; one JNI crossing carries the whole batch.
fn to_java<'local>(
    env: &mut Env<'local>,
    batch: &[ServerRequest],
) -> jni::errors::Result<JObjectArray<'local>> {
    let refs = refs();
    let array = env.new_object_array(batch.len() as i32, &refs.request_class, JObject::null())?;
    let now = Instant::now();
    for (i, request) in batch.iter().enumerate() {
        // A frame per element keeps the local references of a large batch bounded.
        env.with_local_frame(8, |env| -> jni::errors::Result<()> {
            let client_id = env.new_string(&request.client_id)?;
            let method = env.new_string(&request.method)?;
            let payload = env.byte_array_from_slice(&request.payload)?;
            let timeout_millis = request
                .deadline
                .map(|d| d.saturating_duration_since(now).as_millis() as i64)
                .unwrap_or(-1);
            let args: [jvalue; 7] = [
                JValue::Long(request.id as i64).as_jni(),
                JValue::Long(request.request_id as i64).as_jni(),
                JValue::Object(&client_id).as_jni(),
                JValue::Long(request.client_epoch as i64).as_jni(),
                JValue::Object(&method).as_jni(),
                JValue::Object(&payload).as_jni(),
                JValue::Long(timeout_millis).as_jni(),
            ];
            // SAFETY: the constructor id was resolved on this class with this signature.
            let element =
                unsafe { env.new_object_unchecked(&refs.request_class, refs.request_ctor, &args)? };
            array.set_element(env, i, &element)
        })?;
    }
    Ok(array)
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverComplete<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    id: jlong,
    result: JByteArray<'local>,
) -> jboolean {
    env.with_env(|env| -> NativeResult<jboolean> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let result = bytes::Bytes::from(env.convert_byte_array(&result)?);
        Ok(handle.server.complete(id as u64, Ok(result)))
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverFail<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    id: jlong,
    code: jint,
    message: JString<'local>,
) -> jboolean {
    env.with_env(|env| -> NativeResult<jboolean> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let error = RosError::new(status_from_java(code)?, message.try_to_string(env)?);
        Ok(handle.server.complete(id as u64, Err(error)))
    })
    .resolve::<ThrowRosException>()
}

/// Delivers a batch's outcomes in one crossing: for each of the first `count` `ids[i]`,
/// `results[i]` when `codes[i]` is 0 (OK), else the error `codes[i]` with `messages[i]`. The
/// arrays may be longer (the caller reuses them). Returns how many found their caller.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverCompleteAll<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
    count: jint,
    ids: JLongArray<'local>,
    results: JObjectArray<'local, JByteArray<'local>>,
    codes: JIntArray<'local>,
    messages: JObjectArray<'local, JString<'local>>,
) -> jint {
    env.with_env(|env| -> NativeResult<jint> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        let count = usize::try_from(count)
            .map_err(|_| RosError::invalid_argument("negative batch outcome count"))?;
        let shortest = ids
            .len(env)?
            .min(results.len(env)?)
            .min(codes.len(env)?)
            .min(messages.len(env)?);
        if shortest < count {
            return Err(RosError::invalid_argument(format!(
                "batch outcome arrays hold {shortest} entries, fewer than the {count} given"
            ))
            .into());
        }
        let mut id_values = vec![0i64; count];
        ids.get_region(env, 0, &mut id_values)?;
        let mut code_values = vec![0i32; count];
        codes.get_region(env, 0, &mut code_values)?;
        let mut outcomes = Vec::with_capacity(count);
        for (i, (&id, &code)) in id_values.iter().zip(&code_values).enumerate() {
            // A frame per element keeps the local references of a large batch bounded.
            let outcome = env.with_local_frame(2, |env| -> NativeResult<_> {
                if code == 0 {
                    let result = results.get_element(env, i)?;
                    Ok(Ok(bytes::Bytes::from(env.convert_byte_array(&result)?)))
                } else {
                    let message = messages.get_element(env, i)?.try_to_string(env)?;
                    Ok(Err(RosError::new(status_from_java(code)?, message)))
                }
            })?;
            outcomes.push((id as u64, outcome));
        }
        Ok(handle.server.complete_all(outcomes) as jint)
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverStats<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) -> JLongArray<'local> {
    env.with_env(|env| -> NativeResult<JLongArray<'local>> {
        // SAFETY: Java passes a live handle.
        let handle = unsafe { handle(pointer) };
        Ok(stats::values(env, &handle.server.stats().named())?)
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverClose<'local>(
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
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverFree<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    pointer: jlong,
) {
    env.with_env(|_env| -> NativeResult<()> {
        // SAFETY: Java calls this once, when nothing else can use the handle any more.
        unsafe { handle::free::<ServerHandle>(pointer) };
        Ok(())
    })
    .resolve::<ThrowRosException>()
}
