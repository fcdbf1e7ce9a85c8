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

//! What the ROS runtime costs over plain gRPC.
//!
//! Baseline: a tonic client calling a tonic server (same proto, same loopback, same runtime) that
//! answers inside its handler, one unary call per request. ROS: a `RosClient` calling a
//! `RosServer` whose request goes through the bounded queue to a worker thread that polls it, as a
//! Java worker would, and back; once with each call a unary `Invoke` (`transport` `UNARY`), once
//! over the multiplexed stream (`MULTIPLEXED`, the default). The unary difference is the price of
//! the queue hand-off, load balancing, retries bookkeeping, deadlines and statistics.
//!
//! Run with `cargo bench -p ros-core --bench overhead` (release build). Each scenario runs the
//! three alternately for several rounds and prints medians and the ratios to the baseline.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hdrhistogram::Histogram;
use ros_core::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use ros_core::proto::rpc_operator_service_server::{RpcOperatorService, RpcOperatorServiceServer};
use ros_core::proto::{
    CancelRequest, CancelResponse, InvokeBatch, InvokeRequest, InvokeResponse, ResultBatch,
};
use ros_core::{ClientConfig, RosClient, RosServer, ServerConfig, Transport};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

const ROUNDS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run());
}

async fn run() {
    let baseline = Baseline::start().await;
    let ros = Ros::start().await;

    println!(
        "ROS runtime vs plain tonic gRPC, loopback, {} rounds each (medians; latency: lower is \
         better; throughput: higher is better)",
        ROUNDS
    );
    println!(
        "{:<40} {:>16} {:>16} {:>16} {:>9} {:>9}",
        "scenario", "tonic", "ROS unary", "ROS multiplexed", "unary/b", "mux/b"
    );

    let small = Bytes::from(vec![7u8; 256]);
    let large = Bytes::from(vec![7u8; 256 * 1024]);
    for (name, payload) in [("256 B", &small), ("256 KiB", &large)] {
        let (base, ros_result) = compare(&baseline, &ros, |target| {
            sequential(target, payload.clone(), 2_000)
        })
        .await;
        report(
            &format!("latency p50, 1 in flight, {name}"),
            &base,
            &ros_result,
            |r| r.p50_us,
            "µs",
        );
        report(
            &format!("latency p99, 1 in flight, {name}"),
            &base,
            &ros_result,
            |r| r.p99_us,
            "µs",
        );
    }
    for (name, payload, calls, in_flight) in [
        ("256 B", &small, 50_000, 64),
        ("256 B", &small, 100_000, 512),
        ("256 KiB", &large, 4_000, 64),
    ] {
        let (base, ros_result) = compare(&baseline, &ros, |target| {
            concurrent(target, payload.clone(), calls, in_flight)
        })
        .await;
        report(
            &format!("throughput, {in_flight} in flight, {name}"),
            &base,
            &ros_result,
            |r| r.calls_per_second,
            "calls/s",
        );
    }
    ros.stop();
}

/// Which side a measurement calls.
#[derive(Clone)]
enum Target {
    Baseline(RpcOperatorServiceClient<Channel>),
    Ros(Arc<RosClient>),
}

impl Target {
    async fn call(&self, payload: Bytes) {
        match self {
            Target::Baseline(client) => {
                let request = InvokeRequest {
                    method: "echo".to_string(),
                    payload,
                    ..InvokeRequest::default()
                };
                client.clone().invoke(request).await.expect("baseline call");
            }
            Target::Ros(client) => {
                client.call("echo", payload, None).await.expect("ROS call");
            }
        }
    }
}

struct Measurement {
    p50_us: f64,
    p99_us: f64,
    calls_per_second: f64,
}

/// Runs `measure` on the baseline and both ROS transports in alternation, after a warm-up, and
/// keeps every round: the baseline's, then the unary and the multiplexed ROS rounds.
async fn compare<F, Fut>(
    baseline: &Baseline,
    ros: &Ros,
    measure: F,
) -> (Vec<Measurement>, [Vec<Measurement>; 2])
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Measurement>,
{
    let targets = [
        baseline.target(),
        ros.target(Transport::Unary),
        ros.target(Transport::Multiplexed),
    ];
    for target in &targets {
        measure(target.clone()).await;
    }
    let mut rounds: [Vec<Measurement>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (target, results) in targets.iter().zip(rounds.iter_mut()) {
            results.push(measure(target.clone()).await);
        }
    }
    let [base, unary, multiplexed] = rounds;
    (base, [unary, multiplexed])
}

async fn sequential(target: Target, payload: Bytes, calls: usize) -> Measurement {
    let mut latency = Histogram::<u64>::new(3).expect("histogram");
    let started = Instant::now();
    for _ in 0..calls {
        let call_started = Instant::now();
        target.call(payload.clone()).await;
        latency
            .record(call_started.elapsed().as_nanos() as u64)
            .expect("record");
    }
    Measurement {
        p50_us: latency.value_at_quantile(0.5) as f64 / 1e3,
        p99_us: latency.value_at_quantile(0.99) as f64 / 1e3,
        calls_per_second: calls as f64 / started.elapsed().as_secs_f64(),
    }
}

async fn concurrent(target: Target, payload: Bytes, calls: usize, in_flight: usize) -> Measurement {
    let started = Instant::now();
    let mut running = FuturesUnordered::new();
    let mut issued = 0;
    while issued < calls || !running.is_empty() {
        while issued < calls && running.len() < in_flight {
            let (target, payload) = (target.clone(), payload.clone());
            running.push(async move { target.call(payload).await });
            issued += 1;
        }
        running.next().await;
    }
    Measurement {
        p50_us: f64::NAN,
        p99_us: f64::NAN,
        calls_per_second: calls as f64 / started.elapsed().as_secs_f64(),
    }
}

fn report(
    scenario: &str,
    base: &[Measurement],
    ros: &[Vec<Measurement>; 2],
    value: impl Fn(&Measurement) -> f64,
    unit: &str,
) {
    let base = median(base.iter().map(&value).collect());
    let unary = median(ros[0].iter().map(&value).collect());
    let multiplexed = median(ros[1].iter().map(&value).collect());
    println!(
        "{:<40} {:>16} {:>16} {:>16} {:>8.2}x {:>8.2}x",
        scenario,
        format!("{base:.0} {unit}"),
        format!("{unary:.0} {unit}"),
        format!("{multiplexed:.0} {unit}"),
        unary / base,
        multiplexed / base
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// A plain tonic server that answers inside its handler.
struct Baseline {
    address: String,
}

struct EchoService;

#[tonic::async_trait]
impl RpcOperatorService for EchoService {
    async fn invoke(
        &self,
        request: Request<InvokeRequest>,
    ) -> Result<Response<InvokeResponse>, Status> {
        Ok(Response::new(InvokeResponse {
            payload: request.into_inner().payload,
        }))
    }

    async fn cancel(
        &self,
        _request: Request<CancelRequest>,
    ) -> Result<Response<CancelResponse>, Status> {
        Ok(Response::new(CancelResponse { cancelled: 0 }))
    }

    type InvokeStreamStream = futures_util::stream::Empty<Result<ResultBatch, Status>>;

    async fn invoke_stream(
        &self,
        _request: Request<tonic::Streaming<InvokeBatch>>,
    ) -> Result<Response<Self::InvokeStreamStream>, Status> {
        Err(Status::unimplemented("the baseline calls unary only"))
    }
}

impl Baseline {
    async fn start() -> Baseline {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let service = RpcOperatorServiceServer::new(EchoService)
            .max_decoding_message_size(64 * 1024 * 1024)
            .max_encoding_message_size(64 * 1024 * 1024);
        tokio::spawn(
            Server::builder()
                .add_service(service)
                .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
        );
        Baseline { address }
    }

    fn target(&self) -> Target {
        let channel = Channel::from_shared(format!("http://{}", self.address))
            .expect("uri")
            .connect_lazy();
        Target::Baseline(
            RpcOperatorServiceClient::new(channel)
                .max_decoding_message_size(64 * 1024 * 1024)
                .max_encoding_message_size(64 * 1024 * 1024),
        )
    }
}

/// A ROS instance with one worker thread that echoes, and a client over it.
struct Ros {
    /// Kept so that the instance lives as long as the benchmark.
    _server: Arc<RosServer>,
    unary: Arc<RosClient>,
    multiplexed: Arc<RosClient>,
    stop: Arc<AtomicBool>,
}

impl Ros {
    async fn start() -> Ros {
        let server = Arc::new(
            RosServer::start(ServerConfig::default())
                .await
                .expect("server starts"),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let (worker_server, worker_stop) = (server.clone(), stop.clone());
        std::thread::spawn(move || {
            while !worker_stop.load(Ordering::Acquire) {
                for request in worker_server.poll(64, Duration::from_millis(20)) {
                    worker_server.complete(request.id, Ok(request.payload.clone()));
                }
            }
        });
        let client = |transport| {
            let client = RosClient::new(ClientConfig {
                transport,
                ..ClientConfig::default()
            })
            .expect("client");
            client
                .update_endpoints([server.local_addr().to_string()])
                .expect("endpoints");
            Arc::new(client)
        };
        Ros {
            unary: client(Transport::Unary),
            multiplexed: client(Transport::Multiplexed),
            _server: server,
            stop,
        }
    }

    fn target(&self, transport: Transport) -> Target {
        Target::Ros(match transport {
            Transport::Unary => self.unary.clone(),
            Transport::Multiplexed => self.multiplexed.clone(),
        })
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.unary.close();
        self.multiplexed.close();
    }
}
