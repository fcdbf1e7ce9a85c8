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

//! JNI bindings of flink-ros: the native methods of `NativeClient`, `NativeServer` and
//! `NativeBridge` in `org.flinkros.client.internal`.
//!
//! A thin layer: it converts arguments, keeps handles, and maps errors and panics to
//! `RosException`; all logic lives in `ros-core`.

mod client;
mod handle;
mod java;
mod logging;
mod runtime;
mod server;
mod stats;
// Entry points that make the library panic or log on demand, for the Java tests only: a release
// library has none of them.
#[cfg(feature = "test-hooks")]
mod testing;

use std::ffi::c_void;

use jni::objects::{JClass, JObjectArray, JString};
use jni::sys::{JNI_ERR, JNI_VERSION_1_8, jint, jlong};
use jni::{EnvUnowned, JavaVM};

use crate::java::{NativeResult, ThrowRosException};

/// Resolves the Java classes the library calls back, with the class loader that loads it.
///
/// # Safety
/// Called by the JVM with a valid `JavaVM` pointer.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn JNI_OnLoad(
    vm: *mut jni::sys::JavaVM,
    _reserved: *mut c_void,
) -> jint {
    // SAFETY: the JVM passes a valid pointer.
    let vm = unsafe { JavaVM::from_raw(vm) };
    logging::install();
    java::install_panic_hook();
    match vm.attach_current_thread(java::init) {
        Ok(()) => JNI_VERSION_1_8,
        Err(_) => JNI_ERR,
    }
}

/// The library's version; the Java side refuses to run with a library of another version.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeBridge_nativeVersion<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JString<'local> {
    env.with_env(|env| -> NativeResult<JString<'local>> {
        Ok(env.new_string(env!("CARGO_PKG_VERSION"))?)
    })
    .resolve::<ThrowRosException>()
}

/// Waits up to `timeoutMillis` for native log events and takes at most `max`, as
/// `[level, target, message]` triples (level "1" = ERROR … "5" = TRACE).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeBridge_logDrain<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    max: jint,
    timeout_millis: jlong,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            let records = logging::drain(
                max.max(1) as usize,
                std::time::Duration::from_millis(timeout_millis.max(0) as u64),
            );
            let array = JObjectArray::<JString>::new(env, records.len() * 3, JString::null())?;
            for (i, record) in records.iter().enumerate() {
                env.with_local_frame(4, |env| -> jni::errors::Result<()> {
                    let level = env.new_string(record.level.to_string())?;
                    let target = env.new_string(&record.target)?;
                    let message = env.new_string(&record.message)?;
                    array.set_element(env, 3 * i, &level)?;
                    array.set_element(env, 3 * i + 1, &target)?;
                    array.set_element(env, 3 * i + 2, &message)
                })?;
            }
            Ok(array)
        },
    )
    .resolve::<ThrowRosException>()
}

/// Sets the most detailed native level forwarded to Java: 0 = off, 1 = ERROR … 5 = TRACE.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeBridge_logLevel<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    level: jint,
) {
    env.with_env(|_env| -> NativeResult<()> {
        logging::set_level(level);
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

/// Native log events dropped because Java did not drain them fast enough.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeBridge_logDropped<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> jlong {
    env.with_env(|_env| -> NativeResult<jlong> { Ok(logging::dropped() as jlong) })
        .resolve::<ThrowRosException>()
}
