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

//! Runtime errors as Python's `flinkros.RosError`, which carries the status code.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use ros_core::{RosError, StatusCode};

/// A `flinkros.RosError(code, message)` for `error`.
pub(crate) fn to_py(py: Python<'_>, error: &RosError) -> PyErr {
    match error_class(py).and_then(|class| class.call1((error.code.as_i32(), &error.message))) {
        Ok(value) => PyErr::from_value(value),
        // Only when the package is broken: keep the code in the message at least.
        Err(_) => pyo3::exceptions::PyRuntimeError::new_err(error.to_string()),
    }
}

/// The error as a value (for lists of outcomes), not raised.
pub(crate) fn to_py_value<'py>(py: Python<'py>, error: &RosError) -> PyResult<Bound<'py, PyAny>> {
    error_class(py)?.call1((error.code.as_i32(), &error.message))
}

fn error_class(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("flinkros.errors")?.getattr("RosError")
}

/// The status code of a number given by Python.
pub(crate) fn code(value: i32) -> PyResult<StatusCode> {
    StatusCode::from_i32(value).ok_or_else(|| {
        PyValueError::new_err(format!(
            "unknown status code {value}; the codes are those of flinkros.StatusCode"
        ))
    })
}

/// Every status code as `(name, number, retryable)`, so that the Python enum cannot drift from
/// the runtime's.
#[pyfunction]
pub(crate) fn status_codes() -> Vec<(&'static str, i32, bool)> {
    StatusCode::ALL
        .iter()
        .map(|code| (code.name(), code.as_i32(), code.is_retryable()))
        .collect()
}
