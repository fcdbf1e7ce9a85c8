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

//! The process's Tokio runtime and its log output.

use std::sync::OnceLock;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::runtime::Runtime;

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// The runtime every server and client of this process runs on, started on first use. It lives
/// as long as the process: a Python process hosts one instance, and its threads are idle when
/// nothing is served.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = ros_core::runtime::builder().build().map_err(|e| {
        PyRuntimeError::new_err(format!("cannot start the flink-ros runtime threads: {e}"))
    })?;
    // A concurrent first use may have won; its runtime is kept and this one dropped.
    Ok(RUNTIME.get_or_init(|| built))
}

/// Sends the runtime's log events at `level` and above (`error`, `warn`, `info`, `debug`,
/// `trace`) to standard error, where a TaskManager that launched the process picks them up.
/// Only the first call has an effect.
#[pyfunction]
#[pyo3(signature = (level = "info"))]
pub(crate) fn init_logging(level: &str) -> PyResult<()> {
    let level: tracing::Level = level.parse().map_err(|_| {
        pyo3::exceptions::PyValueError::new_err(format!(
            "unknown log level '{level}'; use error, warn, info, debug or trace"
        ))
    })?;
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    Ok(())
}
