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

//! Requests with identity keys over real instances on loopback: single flight, the result cache,
//! orphans of a restarted caller, and affinity with bounded loads.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Gate, Instance, InstanceSpec, client, eventually, gated};
use futures_util::StreamExt;
use ros_core::{RosClient, ServerStats};

fn key(n: u64) -> Bytes {
    Bytes::from(format!("record-{n}"))
}

/// Calls `keys` with `concurrency` calls in flight; returns the replies in key order.
async fn call_all(
    client: &RosClient,
    keys: std::ops::Range<u64>,
    concurrency: usize,
) -> Vec<Bytes> {
    futures_util::stream::iter(keys)
        .map(|n| {
            let client = client.clone();
            async move {
                client
                    .call_keyed("m", Bytes::from(format!("payload-{n}")), None, key(n))
                    .await
                    .unwrap_or_else(|error| panic!("call {n} failed: {error}"))
            }
        })
        .buffered(concurrency)
        .collect()
        .await
}

fn total(instances: &[Instance], field: impl Fn(&ServerStats) -> u64) -> u64 {
    instances.iter().map(|i| field(&i.server.stats())).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_reach_the_original_instance_and_run_nowhere_again() {
    let mut instances = Vec::new();
    for _ in 0..4 {
        instances.push(InstanceSpec::echo().workers(2, 16).start().await);
    }
    let addresses: Vec<String> = instances.iter().map(|i| i.address.clone()).collect();
    let records = 4000;

    let first = client(|c| c.client_epoch = 0);
    first.update_endpoints(&addresses).unwrap();

    let original = call_all(&first, 0..records, 64).await;
    let dispatched: Vec<u64> = instances
        .iter()
        .map(|i| i.server.stats().dispatched)
        .collect();
    assert_eq!(dispatched.iter().sum::<u64>(), records);
    let mean = records as f64 / 4.0;
    for (instance, count) in instances.iter().zip(&dispatched) {
        assert!(
            *count as f64 <= 1.25 * mean,
            "{} ran {count} of {records} requests, over 1.25 x the mean {mean}",
            instance.address
        );
    }

    // The restarted caller: a new client (another process, another epoch) replays every record.
    let replaying = client(|c| c.client_epoch = 1);
    replaying.update_endpoints(&addresses).unwrap();
    let replayed = call_all(&replaying, 0..records, 64).await;
    let hits = total(&instances, |s| s.cache_hits);
    let ran_again = total(&instances, |s| s.dispatched) - records;
    assert!(
        hits as f64 >= 0.9 * records as f64,
        "only {hits} of {records} replays reached the instance that held their result"
    );
    assert_eq!(
        hits + ran_again,
        records,
        "each replay is a hit or runs once"
    );
    // Every reply names the instance that ran the request: hits come back from the same one.
    let same = original
        .iter()
        .zip(&replayed)
        .filter(|(a, b)| a == b)
        .count() as u64;
    assert!(same >= hits, "{same} equal replies, {hits} cache hits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn equal_requests_in_flight_together_run_once() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone()).start().await;
    let calls: Vec<_> = (0..10)
        .map(|epoch| {
            let caller = client(|c| c.client_epoch = epoch);
            caller.update_endpoints([&instance.address]).unwrap();
            tokio::spawn(async move {
                caller
                    .call_keyed("m", Bytes::from_static(b"same"), None, key(1))
                    .await
            })
        })
        .collect();
    eventually(Duration::from_secs(5), "all ten arrived", || {
        let stats = instance.server.stats();
        stats.admitted + stats.joined == 10
    })
    .await;
    gate.open();
    for call in calls {
        let reply = call.await.unwrap().unwrap();
        assert!(reply.starts_with(b"same|"), "{reply:?}");
    }
    assert_eq!(gate.entered(), 1, "ran once for ten callers");
    let stats = instance.server.stats();
    assert_eq!((stats.admitted, stats.joined), (1, 9), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_reused_for_another_payload_gets_its_own_result() {
    let instance = Instance::echo(1).await;
    let caller = client(|_| {});
    caller.update_endpoints([&instance.address]).unwrap();
    let a = caller
        .call_keyed("m", Bytes::from_static(b"first"), None, key(1))
        .await
        .unwrap();
    let b = caller
        .call_keyed("m", Bytes::from_static(b"second"), None, key(1))
        .await
        .unwrap();
    assert!(
        a.starts_with(b"first|") && b.starts_with(b"second|"),
        "{a:?} {b:?}"
    );
    let stats = instance.server.stats();
    assert_eq!((stats.cache_hits, stats.key_conflicts), (0, 1), "{stats:?}");
}

/// Sends five keyed requests from a caller whose one worker blocks on the gate, then closes that
/// caller as a failed data plane does; returns the instance once its worker is released.
async fn orphan_five(orphan_grace_millis: &str) -> (Instance, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone())
        .config(|c| {
            *c = ros_core::ServerConfig::from_options(
                [("orphanGraceMillis", orphan_grace_millis)],
                Default::default(),
            )
            .unwrap()
        })
        .start()
        .await;
    let failed = client(|c| c.client_epoch = 0);
    failed.update_endpoints([&instance.address]).unwrap();
    for n in 0..5 {
        let failed = failed.clone();
        tokio::spawn(async move {
            let _ = failed
                .call_keyed("m", Bytes::from(format!("payload-{n}")), None, key(n))
                .await;
        });
    }
    eventually(Duration::from_secs(5), "five queued or running", || {
        instance.server.stats().admitted == 5 && gate.entered() == 1
    })
    .await;
    failed.close();
    eventually(
        Duration::from_secs(5),
        "the caller's requests orphaned",
        || {
            let stats = instance.server.stats();
            stats.orphans_kept + stats.cancelled_queued == 4
        },
    )
    .await;
    gate.open();
    (instance, gate)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_grace_the_instance_finishes_a_failed_callers_work_for_its_replay() {
    let (instance, _gate) = orphan_five("60000").await;
    // The instance runs the orphans while the caller restarts...
    eventually(Duration::from_secs(5), "orphans ran", || {
        let stats = instance.server.stats();
        stats.dispatched == 5 && stats.executing == 0
    })
    .await;
    // ...and the replay is answered without running anything again.
    let replaying = client(|c| c.client_epoch = 1);
    replaying.update_endpoints([&instance.address]).unwrap();
    let replies = call_all(&replaying, 0..5, 5).await;
    assert_eq!(replies.len(), 5);
    let stats = instance.server.stats();
    assert_eq!(
        (stats.dispatched, stats.cache_hits, stats.orphans_kept),
        (5, 5, 4),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_grace_a_failed_callers_queued_work_is_dropped() {
    let (instance, _gate) = orphan_five("0").await;
    let replaying = client(|c| c.client_epoch = 1);
    replaying.update_endpoints([&instance.address]).unwrap();
    call_all(&replaying, 0..5, 5).await;
    let stats = instance.server.stats();
    // The running one finished for the replay (which joined it or found it in the cache); the
    // four queued ones were dropped and ran once, for the replay.
    assert_eq!(
        (
            stats.cancelled_queued,
            stats.cache_hits + stats.joined,
            stats.dispatched
        ),
        (4, 1, 5),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_cache_stays_within_its_bounds_under_a_flood_of_keys() {
    let instance = InstanceSpec::echo()
        .workers(2, 16)
        .config(|c| {
            c.replay.cache.max_entries = 200;
            c.replay.cache.max_bytes = 64 * 1024;
        })
        .start()
        .await;
    let caller = client(|_| {});
    caller.update_endpoints([&instance.address]).unwrap();
    let results = call_all(&caller, 0..5000, 64).await;
    assert_eq!(results.len(), 5000);
    let stats = instance.server.stats();
    assert!(stats.cache_entries <= 200, "{stats:?}");
    assert!(stats.cache_bytes <= 64 * 1024, "{stats:?}");
    assert!(stats.cache_evictions >= 4800, "{stats:?}");
    assert!(
        stats.cache_entries >= 100,
        "the cache is still used: {stats:?}"
    );
}
