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

//! A caller fails mid-stream and replays its records from the start, as a data-plane subtask
//! restarted without a checkpoint does, against four instances of a serial 20 ms model: model
//! executions and wall time of the replay, with and without identity keys.
//!
//! Runtime level: the failed caller's client is closed and a new client with the next epoch
//! cancels the earlier epochs and replays, as the connector's restarted subtask does; the
//! connector's ITCase checks the same on a MiniCluster with a real data-plane failover.
//!
//! `cargo bench -p ros-core --bench replay`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use ros_core::{ClientConfig, RosClient, RosServer, ServerConfig};

const INSTANCES: usize = 4;
const RECORDS: u64 = 800;
/// Records the caller has results for when it fails.
const FAIL_AFTER: u64 = 400;
const MODEL: Duration = Duration::from_millis(20);
const IN_FLIGHT: usize = 64;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "{INSTANCES} instances of a serial {} ms model; {RECORDS} records, the caller fails after \
         {FAIL_AFTER} results with {IN_FLIGHT} calls in flight and replays all {RECORDS}",
        MODEL.as_millis()
    );
    println!(
        "| identity keys | model executions | replay wall time | replays answered without running |"
    );
    println!("|---|---|---|---|");
    for keyed in [false, true] {
        let (executions, wall, reused) = runtime.block_on(failover(keyed));
        println!(
            "| {} | {executions} ({:.2}x the records) | {:.2} s | {reused} |",
            if keyed { "yes" } else { "no" },
            executions as f64 / RECORDS as f64,
            wall.as_secs_f64()
        );
    }
}

/// Runs one failover; returns the model's executions in all, the replay's wall time, and the
/// replayed requests that joined a running one or came from the cache.
async fn failover(keyed: bool) -> (u64, Duration, u64) {
    let executions = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut servers = Vec::new();
    for _ in 0..INSTANCES {
        let config =
            ServerConfig::from_options([("orphanGraceMillis", "60000")], Default::default())
                .unwrap();
        let server = Arc::new(RosServer::start(config).await.unwrap());
        let (worker, executions, stop) = (server.clone(), executions.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Acquire) {
                for request in worker.poll(1, Duration::from_millis(20)) {
                    std::thread::sleep(MODEL);
                    executions.fetch_add(1, Ordering::Relaxed);
                    worker.complete(request.id, Ok(request.payload));
                }
            }
        });
        servers.push(server);
    }
    let addresses: Vec<String> = servers.iter().map(|s| s.local_addr().to_string()).collect();

    let failed = caller(0, &addresses);
    // The failed attempt: its calls in flight are dropped with the stream when it fails.
    {
        let mut done = 0;
        let calls = futures_util::stream::iter(0..RECORDS)
            .map(|n| call(&failed, n, keyed))
            .buffer_unordered(IN_FLIGHT);
        tokio::pin!(calls);
        while calls.next().await.is_some() {
            done += 1;
            if done == FAIL_AFTER {
                break;
            }
        }
    }
    failed.close();

    let replaying = caller(1, &addresses);
    let started = Instant::now();
    // As the connector's restarted caller does first: drop what the failed attempt left queued
    // (with keys and an orphan grace, those are kept for the replay to join).
    replaying.cancel_earlier_epochs().await.unwrap();
    futures_util::stream::iter(0..RECORDS)
        .map(|n| call(&replaying, n, keyed))
        .buffer_unordered(IN_FLIGHT)
        .for_each(|_| async {})
        .await;
    let wall = started.elapsed();
    // Orphans nobody joined may still run after the replay; they count too.
    while servers
        .iter()
        .any(|s| s.stats().depth + s.stats().executing > 0)
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let reused = servers
        .iter()
        .map(|s| s.stats().cache_hits + s.stats().joined)
        .sum();
    stop.store(true, Ordering::Release);
    for server in &servers {
        server.shutdown().await;
    }
    (executions.load(Ordering::Relaxed), wall, reused)
}

fn caller(epoch: u64, addresses: &[String]) -> RosClient {
    let client = RosClient::new(ClientConfig {
        client_id: "job/op/0".to_string(),
        client_epoch: epoch,
        ..ClientConfig::default()
    })
    .unwrap();
    client.update_endpoints(addresses).unwrap();
    client
}

async fn call(client: &RosClient, n: u64, keyed: bool) {
    let key = if keyed {
        Bytes::from(n.to_be_bytes().to_vec())
    } else {
        Bytes::new()
    };
    client
        .call_keyed("predict", Bytes::from(n.to_be_bytes().to_vec()), None, key)
        .await
        .expect("the call succeeds");
}
