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

//! `flinkros._native.Server`: a service instance whose requests Python workers take in batches.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};
use ros_core::{RosError, RosServer, ServerConfig};

use crate::errors;
use crate::runtime::runtime;

/// A running service instance: a gRPC endpoint in front of a bounded request queue, with the
/// same options, batching, cancellation, deadlines, size limits and token check as an instance
/// hosted by a JVM.
#[pyclass(frozen, module = "flinkros._native")]
pub(crate) struct Server {
    server: RosServer,
}

/// Requests of one method, taken together by [`Server::poll`].
#[pyclass(frozen, module = "flinkros._native")]
pub(crate) struct Batch {
    /// The method every request of the batch calls.
    #[pyo3(get)]
    method: Py<PyAny>,
    /// Ids to answer the requests with, in the batch's order.
    #[pyo3(get)]
    ids: Py<PyList>,
    /// The requests' payloads (`bytes`), in the batch's order.
    #[pyo3(get)]
    payloads: Py<PyList>,
    /// Seconds left until each request's deadline (`None`: no deadline), when polled.
    #[pyo3(get)]
    remaining: Py<PyList>,
}

#[pymethods]
impl Batch {
    fn __len__(&self, py: Python<'_>) -> usize {
        self.ids.bind(py).len()
    }
}

#[pymethods]
impl Server {
    /// Starts an instance from options given by name (those of `RosServerOptions`: `bindHost`,
    /// `port`, `queueCapacity`, `maxBatchSize`, `maxBatchSize@method`, `token`, ...) serving
    /// `methods`. Raises `flinkros.RosError` (`INVALID_ARGUMENT` for a bad option, `UNAVAILABLE`
    /// when the port cannot be bound).
    #[new]
    fn new(py: Python<'_>, options: Vec<(String, String)>, methods: Vec<String>) -> PyResult<Self> {
        let config = ServerConfig::from_options(options, methods.into_iter().collect())
            .map_err(|e| errors::to_py(py, &e))?;
        let runtime = runtime()?;
        let server = py
            .detach(|| runtime.block_on(RosServer::start(config)))
            .map_err(|e| errors::to_py(py, &e))?;
        Ok(Server { server })
    }

    /// The port the instance listens on.
    #[getter]
    fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    /// The host the instance is bound to.
    #[getter]
    fn bind_host(&self) -> String {
        self.server.local_addr().ip().to_string()
    }

    /// The options the instance runs with, every default filled in (no token).
    fn options(&self) -> Vec<(String, String)> {
        self.server.config().to_options()
    }

    /// Waits up to `timeout` seconds for requests and takes a batch of at most `max` of one
    /// method, formed by that method's batching options. `None` when the timeout passed with
    /// nothing queued, or the instance was shut down. Releases the GIL while it waits.
    #[pyo3(signature = (max, timeout))]
    fn poll(&self, py: Python<'_>, max: usize, timeout: f64) -> PyResult<Option<Batch>> {
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|e| PyValueError::new_err(format!("timeout: {e}")))?;
        let requests = py.detach(|| self.server.poll(max.max(1), timeout));
        let Some(first) = requests.first() else {
            return Ok(None);
        };
        let now = Instant::now();
        let ids = PyList::new(py, requests.iter().map(|r| r.id))?;
        let payloads = PyList::new(
            py,
            requests
                .iter()
                .map(|r| PyBytes::new(py, r.payload.as_ref())),
        )?;
        let remaining = PyList::new(
            py,
            requests.iter().map(|r| {
                r.deadline
                    .map(|d| d.saturating_duration_since(now).as_secs_f64())
            }),
        )?;
        Ok(Some(Batch {
            method: first.method.clone().into_pyobject(py)?.into_any().unbind(),
            ids: ids.unbind(),
            payloads: payloads.unbind(),
            remaining: remaining.unbind(),
        }))
    }

    /// Answers polled requests: for each id, either a result (`bytes`) or an error
    /// `(code, message)`, the other `None`. Returns how many found their caller still waiting.
    fn complete(
        &self,
        py: Python<'_>,
        ids: Vec<u64>,
        results: Vec<Option<PyBackedBytes>>,
        errors: Vec<Option<(i32, String)>>,
    ) -> PyResult<usize> {
        if ids.len() != results.len() || ids.len() != errors.len() {
            return Err(PyValueError::new_err(format!(
                "{} ids, {} results and {} errors: each id needs one of each",
                ids.len(),
                results.len(),
                errors.len()
            )));
        }
        let mut outcomes = Vec::with_capacity(ids.len());
        for ((id, result), error) in ids.into_iter().zip(results).zip(errors) {
            let outcome = match (result, error) {
                (Some(bytes), None) => Ok(Bytes::copy_from_slice(&bytes)),
                (None, Some((code, message))) => Err(RosError::new(errors::code(code)?, message)),
                _ => {
                    return Err(PyValueError::new_err(format!(
                        "request {id} needs exactly one of a result and an error"
                    )));
                }
            };
            outcomes.push((id, outcome));
        }
        Ok(py.detach(|| self.server.complete_all(outcomes)))
    }

    /// Counters and latencies since the instance started, by the names `RosServerStats` uses.
    fn stats(&self) -> HashMap<String, u64> {
        self.server.stats().named().into_iter().collect()
    }

    /// Stops accepting requests, answers queued ones `UNAVAILABLE`, and waits (bounded) for the
    /// listener to close. Idempotent.
    fn shutdown(&self, py: Python<'_>) -> PyResult<()> {
        let runtime = runtime()?;
        py.detach(|| runtime.block_on(self.server.shutdown()));
        Ok(())
    }
}
