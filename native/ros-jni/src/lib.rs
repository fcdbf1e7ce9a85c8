//! JNI bindings of flink-ros: the native methods of `org.flinkros.client.internal.NativeBridge`.
//!
//! A thin layer: it converts arguments, keeps handles, and maps errors and panics to
//! `RosException`; all logic lives in `ros-core`.

mod client;
mod handle;
mod java;
mod runtime;
mod server;
mod testing;

use std::ffi::c_void;

use jni::objects::{JClass, JString};
use jni::sys::{JNI_ERR, JNI_VERSION_1_8, jint};
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
