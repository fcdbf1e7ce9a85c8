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

//! Stats snapshots for Java: values as a `long[]`, and once per process the names that say which
//! value is which. `RosClientStats` and `RosServerStats` read them by name, so neither side keeps
//! a layout in step with the other.

use jni::Env;
use jni::EnvUnowned;
use jni::objects::{JClass, JLongArray, JObjectArray, JString};
use ros_core::{ClientStats, ServerStats};

use crate::java::{NativeResult, ThrowRosException, string_array};

/// The values of `named`, in its order.
pub(crate) fn values<'local>(
    env: &mut Env<'local>,
    named: &[(String, u64)],
) -> jni::errors::Result<JLongArray<'local>> {
    let array = env.new_long_array(named.len())?;
    let values: Vec<i64> = named.iter().map(|(_, v)| *v as i64).collect();
    array.set_region(env, 0, &values)?;
    Ok(array)
}

fn names<'local>(
    env: &mut Env<'local>,
    named: &[(String, u64)],
) -> jni::errors::Result<JObjectArray<'local, JString<'local>>> {
    string_array(env, named.iter().map(|(name, _)| name))
}

/// The names of the values of `clientStats`, in their order.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeClient_clientStatsNames<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            Ok(names(env, &ClientStats::default().named())?)
        },
    )
    .resolve::<ThrowRosException>()
}

/// The names of the values of `serverStats`, in their order.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_flinkros_client_internal_NativeServer_serverStatsNames<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
) -> JObjectArray<'local, JString<'local>> {
    env.with_env(
        |env| -> NativeResult<JObjectArray<'local, JString<'local>>> {
            Ok(names(env, &ServerStats::default().named())?)
        },
    )
    .resolve::<ThrowRosException>()
}
