//! A service instance for tests: a real `RosServer` on loopback with worker threads that play the
//! host language's role (poll, run a handler, complete).

#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use ros_core::{RosError, RosServer, ServerConfig, ServerRequest};

pub type Handler = Arc<dyn Fn(&ServerRequest) -> Result<Bytes, RosError> + Send + Sync>;

pub struct Instance {
    pub server: Arc<RosServer>,
    pub address: String,
    pub served: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl Instance {
    /// Starts an instance whose `workers` threads each take up to `batch` requests per poll.
    pub async fn start(
        workers: usize,
        batch: usize,
        queue_capacity: usize,
        handler: Handler,
    ) -> Instance {
        let server = RosServer::start(ServerConfig {
            queue_capacity,
            ..ServerConfig::default()
        })
        .await
        .expect("server starts");
        let address = server.local_addr().to_string();
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let served = Arc::new(AtomicU64::new(0));
        let workers = (0..workers)
            .map(|_| {
                let (server, stop, served, handler) = (
                    server.clone(),
                    stop.clone(),
                    served.clone(),
                    handler.clone(),
                );
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        for request in server.poll(batch, Duration::from_millis(20)) {
                            let outcome = handler(&request);
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
        }
    }

    /// Echoes the payload with the instance's address appended after a '|'.
    pub async fn echo(workers: usize) -> Instance {
        let tag: Arc<std::sync::OnceLock<String>> = Arc::new(std::sync::OnceLock::new());
        let handler_tag = tag.clone();
        let instance = Instance::start(
            workers,
            16,
            1024,
            Arc::new(move |request: &ServerRequest| {
                let mut out = request.payload.to_vec();
                out.push(b'|');
                out.extend_from_slice(
                    handler_tag
                        .get()
                        .map(String::as_str)
                        .unwrap_or("")
                        .as_bytes(),
                );
                Ok(Bytes::from(out))
            }),
        )
        .await;
        tag.set(instance.address.clone()).unwrap();
        instance
    }

    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    pub fn stop_workers(&mut self) {
        self.stop.store(true, Ordering::Release);
        for worker in self.workers.drain(..) {
            worker.join().unwrap();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop_workers();
    }
}
