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

//! `flinkros._native.Client`: calls a service's instances from Python, with the balancing,
//! retries, deadlines and backpressure of the Java client.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyList};
use ros_core::{ClientConfig, RosClient};

use crate::errors;
use crate::runtime::runtime;

/// A client of one service over a set of instances (`host:port` each).
#[pyclass(frozen, module = "flinkros._native")]
pub(crate) struct Client {
    client: RosClient,
}

fn timeout_of(seconds: Option<f64>) -> PyResult<Option<Duration>> {
    seconds
        .map(|s| {
            Duration::try_from_secs_f64(s)
                .map_err(|e| PyValueError::new_err(format!("timeout: {e}")))
        })
        .transpose()
}

#[pymethods]
impl Client {
    /// A client calling `endpoints`, with options given by name (those of `RosClientOptions`:
    /// `clientId`, `token`, `maxInFlight`, `defaultTimeoutMillis`, ...).
    #[new]
    fn new(
        py: Python<'_>,
        endpoints: Vec<String>,
        options: Vec<(String, String)>,
    ) -> PyResult<Self> {
        let config = ClientConfig::from_options(options).map_err(|e| errors::to_py(py, &e))?;
        let client = RosClient::new(config).map_err(|e| errors::to_py(py, &e))?;
        // Connections are made by the runtime, so the endpoint set is set inside it.
        let _entered = runtime()?.enter();
        client
            .update_endpoints(endpoints)
            .map_err(|e| errors::to_py(py, &e))?;
        Ok(Client { client })
    }

    /// Replaces the set of instances.
    fn update_endpoints(&self, py: Python<'_>, endpoints: Vec<String>) -> PyResult<()> {
        let _entered = runtime()?.enter();
        self.client
            .update_endpoints(endpoints)
            .map_err(|e| errors::to_py(py, &e))
    }

    /// Calls `method` with `payload` and returns its result; raises `flinkros.RosError`.
    /// `timeout` in seconds covers waiting, attempts and retries (default: the client's).
    /// `key`: the request's identity key (empty: none), see the client's `call`.
    #[pyo3(signature = (method, payload, timeout = None, key = None))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        payload: PyBackedBytes,
        timeout: Option<f64>,
        key: Option<PyBackedBytes>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let timeout = timeout_of(timeout)?;
        let payload = Bytes::copy_from_slice(&payload);
        let key = key.map_or_else(Bytes::new, |key| Bytes::copy_from_slice(&key));
        let runtime = runtime()?;
        let result =
            py.detach(|| runtime.block_on(self.client.call_keyed(method, payload, timeout, key)));
        match result {
            Ok(bytes) => Ok(PyBytes::new(py, &bytes)),
            Err(error) => Err(errors::to_py(py, &error)),
        }
    }

    /// Calls `method` once per payload, as many at a time as the client allows (`maxInFlight`),
    /// and returns the outcomes in the payloads' order: `bytes`, or a `flinkros.RosError` value
    /// for a call that failed. Releases the GIL until every call has finished.
    #[pyo3(signature = (method, payloads, timeout = None))]
    fn call_all<'py>(
        &self,
        py: Python<'py>,
        method: &str,
        payloads: Vec<PyBackedBytes>,
        timeout: Option<f64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let timeout = timeout_of(timeout)?;
        let payloads: Vec<Bytes> = payloads.iter().map(|p| Bytes::copy_from_slice(p)).collect();
        let runtime = runtime()?;
        let window = self.client.config().max_in_flight;
        let outcomes = py.detach(|| {
            runtime.block_on(
                futures_util::stream::iter(payloads)
                    .map(|payload| self.client.call(method, payload, timeout))
                    .buffered(window)
                    .collect::<Vec<_>>(),
            )
        });
        let list = PyList::empty(py);
        for outcome in outcomes {
            match outcome {
                Ok(bytes) => list.append(PyBytes::new(py, &bytes))?,
                Err(error) => list.append(errors::to_py_value(py, &error)?)?,
            }
        }
        Ok(list)
    }

    /// Counters and latencies since the client was made, by the names `RosClientStats` uses.
    fn stats(&self) -> HashMap<String, u64> {
        self.client.stats().named().into_iter().collect()
    }

    /// Fails calls in progress with `CANCELLED` and refuses new ones. Idempotent.
    fn close(&self) {
        self.client.close();
    }
}

/// The identity key made from a call itself: SHA-256 of its method and payload.
#[pyfunction]
pub(crate) fn content_key<'py>(
    py: Python<'py>,
    method: &str,
    payload: PyBackedBytes,
) -> Bound<'py, PyBytes> {
    PyBytes::new(py, &ros_core::content_key(method, &payload))
}
