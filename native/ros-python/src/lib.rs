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

//! `flinkros._native`: the runtime of flink-ros for a Python process. The instance side (a
//! [`ros_core::RosServer`] that Python workers poll in batches) and a client, both thin layers
//! over `ros-core`; the Python API around them lives in the `flinkros` package.
//!
//! Every blocking call releases the GIL, so that other Python threads (a second worker, the
//! host's supervision threads) run while one waits for requests or results.

mod client;
mod errors;
mod runtime;
mod server;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<server::Server>()?;
    module.add_class::<server::Batch>()?;
    module.add_class::<client::Client>()?;
    module.add_function(wrap_pyfunction!(runtime::init_logging, module)?)?;
    module.add_function(wrap_pyfunction!(errors::status_codes, module)?)?;
    module.add_function(wrap_pyfunction!(client::content_key, module)?)?;
    module.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
