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

//! Hooks that let Java tests prove panics never cross into the JVM.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use jni::EnvUnowned;
use jni::objects::{JClass, JObject, JString};
use ros_core::RosError;

use crate::java::{JavaCompletion, NativeResult, ThrowRosException, panic_message};
use crate::runtime::RuntimeLease;

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeTestHooks_panic<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
) {
    env.with_env(|env| -> NativeResult<()> {
        let message = message.try_to_string(env)?;
        panic!("{message}");
    })
    .resolve::<ThrowRosException>()
}

#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeTestHooks_panicInTask<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    message: JString<'local>,
    call: JObject<'local>,
) {
    env.with_env(|env| -> NativeResult<()> {
        let message = message.try_to_string(env)?;
        let completion = JavaCompletion::new(env.new_global_ref(&call)?);
        let runtime = RuntimeLease::acquire()
            .map_err(|e| RosError::internal(format!("cannot start the runtime: {e}")))?;
        let spawner = runtime.handle().clone();
        spawner.spawn(async move {
            // The task holds the lease, so the runtime outlives it.
            let _runtime = runtime;
            let outcome = AssertUnwindSafe(async move {
                if !message.is_empty() {
                    panic!("{message}");
                }
                Ok(bytes::Bytes::new())
            })
            .catch_unwind()
            .await
            .unwrap_or_else(|panic| {
                Err(RosError::internal(format!(
                    "native panic in runtime task: {}",
                    panic_message(panic.as_ref())
                )))
            });
            completion.finish(outcome);
        });
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

/// Emits `count` native log events at `level` (1 = ERROR … 5 = TRACE) with `message`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeTestHooks_log<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    level: jni::sys::jint,
    count: jni::sys::jint,
    message: JString<'local>,
) {
    env.with_env(|env| -> NativeResult<()> {
        let message = message.try_to_string(env)?;
        for i in 0..count {
            match level {
                1 => tracing::error!(sequence = i, "{message}"),
                2 => tracing::warn!(sequence = i, "{message}"),
                3 => tracing::info!(sequence = i, "{message}"),
                4 => tracing::debug!(sequence = i, "{message}"),
                _ => tracing::trace!(sequence = i, "{message}"),
            }
        }
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

/// Writes a certificate authority (`ca.pem`) and a certificate it issued for `name`
/// (`instance.pem`, key `instance.key`) into `dir`, for the TLS tests.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeTestHooks_writeTestPki<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    dir: JString<'local>,
    name: JString<'local>,
) {
    env.with_env(|env| -> NativeResult<()> {
        let dir = std::path::PathBuf::from(dir.try_to_string(env)?);
        let name = name.try_to_string(env)?;
        write_test_pki(&dir, &name)
            .map_err(|e| RosError::internal(format!("cannot write test certificates: {e}")))?;
        Ok(())
    })
    .resolve::<ThrowRosException>()
}

fn write_test_pki(dir: &std::path::Path, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    std::fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "flink-ros test CA");
    let ca = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate()?;
    let certificate = CertificateParams::new(vec![name.to_string()])?.signed_by(&key, &issuer)?;
    std::fs::write(dir.join("ca.pem"), ca.pem())?;
    std::fs::write(dir.join("instance.pem"), certificate.pem())?;
    std::fs::write(dir.join("instance.key"), key.serialize_pem())?;
    Ok(())
}
