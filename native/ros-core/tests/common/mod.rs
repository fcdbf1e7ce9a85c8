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

//! Service instances for tests: real `RosServer`s on loopback with worker threads that play the
//! host language's role (poll, run a handler, complete), and helpers to fail them for real.

#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ros_core::{ClientConfig, RosClient, RosError, RosServer, ServerConfig, ServerRequest};
use tokio::runtime::Runtime;

pub type Handler = Arc<dyn Fn(&ServerRequest) -> Result<Bytes, RosError> + Send + Sync>;

/// A service instance: a server, its workers, and (if isolated) the runtime it runs on.
pub struct Instance {
    pub server: Arc<RosServer>,
    pub address: String,
    pub served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
    /// Present when the instance has a runtime of its own, so that it can be killed.
    runtime: Option<Runtime>,
}

/// How to start an [`Instance`].
pub struct InstanceSpec {
    pub workers: usize,
    /// Requests a worker takes per poll.
    pub batch: usize,
    pub config: ServerConfig,
    pub handler: Handler,
    /// Run on a runtime of its own, which [`Instance::kill`] tears down like a dying process.
    pub isolated: bool,
}

impl InstanceSpec {
    pub fn new(handler: Handler) -> InstanceSpec {
        InstanceSpec {
            workers: 1,
            batch: 1,
            config: ServerConfig::default(),
            handler,
            isolated: false,
        }
    }

    /// Answers with the payload followed by '|' and the instance's port.
    pub fn echo() -> InstanceSpec {
        InstanceSpec::new(Arc::new(|request: &ServerRequest| {
            Ok(request.payload.clone())
        }))
    }

    pub fn workers(mut self, workers: usize, batch: usize) -> InstanceSpec {
        self.workers = workers;
        self.batch = batch;
        self
    }

    pub fn config(mut self, change: impl FnOnce(&mut ServerConfig)) -> InstanceSpec {
        change(&mut self.config);
        self
    }

    pub fn isolated(mut self) -> InstanceSpec {
        self.isolated = true;
        self
    }

    pub async fn start(self) -> Instance {
        let (server, runtime) = if self.isolated {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            let server = runtime
                .spawn(RosServer::start(self.config))
                .await
                .unwrap()
                .expect("server starts");
            (server, Some(runtime))
        } else {
            (
                RosServer::start(self.config).await.expect("server starts"),
                None,
            )
        };
        let address = server.local_addr().to_string();
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let tag = Bytes::from(format!("|{}", server.local_addr().port()));
        let workers = (0..self.workers)
            .map(|_| {
                let (server, stop, served, handler, tag) = (
                    server.clone(),
                    stop.clone(),
                    served.clone(),
                    self.handler.clone(),
                    tag.clone(),
                );
                let batch = self.batch;
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        for request in server.poll(batch, Duration::from_millis(20)) {
                            // Every reply names the instance, so tests see who served.
                            let outcome = handler(&request).map(|reply| {
                                let mut out = reply.to_vec();
                                out.extend_from_slice(&tag);
                                Bytes::from(out)
                            });
                            served.fetch_add(1, Ordering::Relaxed);
                            server.complete(request.id, outcome);
                        }
                    }
                })
            })
            .collect();
        Instance {
            server,
            address,
            served,
            stop,
            workers,
            runtime,
        }
    }
}

impl Instance {
    pub async fn echo(workers: usize) -> Instance {
        InstanceSpec::echo().workers(workers, 16).start().await
    }

    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    pub fn port(&self) -> u16 {
        self.server.local_addr().port()
    }

    pub fn stop_workers(&mut self) {
        self.stop.store(true, Ordering::Release);
        let workers: Vec<_> = self.workers.drain(..).collect();
        // A failing test may leave a worker blocked in its handler; do not hang on it.
        if !std::thread::panicking() {
            for worker in workers {
                worker.join().unwrap();
            }
        }
    }

    /// Dies like a crashed process: its runtime is torn down, so its listener and connections
    /// close without any goodbye and queued requests get no answer.
    pub fn kill(&mut self) {
        self.runtime
            .take()
            .expect("only isolated instances can be killed")
            .shutdown_background();
        self.stop_workers();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop_workers();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The port an instance's reply names.
pub fn served_by(reply: &[u8]) -> u16 {
    let text = std::str::from_utf8(reply).unwrap();
    text.rsplit('|').next().unwrap().parse().unwrap()
}

/// A client named like a Flink subtask, with tweaks.
pub fn client(change: impl FnOnce(&mut ClientConfig)) -> RosClient {
    let mut config = ClientConfig {
        client_id: "job/op/0".to_string(),
        ..ClientConfig::default()
    };
    change(&mut config);
    RosClient::new(config).unwrap()
}

/// A plain gRPC channel to `address`, as an outside client (grpcurl, Python) opens one.
pub async fn raw_channel(address: &str) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Polls `condition` until it holds, failing the test after `limit`.
pub async fn eventually(limit: Duration, what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < limit, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A gate that handlers block on until the test opens it.
#[derive(Default)]
pub struct Gate {
    open: Mutex<bool>,
    changed: Condvar,
    entered: AtomicUsize,
}

impl Gate {
    pub fn pass(&self) {
        self.entered.fetch_add(1, Ordering::SeqCst);
        let open = self.open.lock().unwrap();
        let _open = self.changed.wait_while(open, |open| !*open).unwrap();
    }

    pub fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.changed.notify_all();
    }

    pub fn entered(&self) -> usize {
        self.entered.load(Ordering::SeqCst)
    }
}

/// An instance whose one worker takes one request at a time and blocks on `gate`.
pub fn gated(gate: Arc<Gate>) -> InstanceSpec {
    InstanceSpec::new(Arc::new(move |request: &ServerRequest| {
        gate.pass();
        Ok(request.payload.clone())
    }))
}
