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

//! How the client and server behave when instances die, hang, fill up or are slow, and when
//! requests are bad: real servers on loopback, real connection loss.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Gate, Instance, InstanceSpec, client, eventually, gated, served_by};
use ros_core::{LoadBalancing, RosClient, ServerRequest, ServiceToken, StatusCode};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// An instance that takes `delay` per request on one worker.
fn slow(delay: Duration) -> InstanceSpec {
    InstanceSpec::new(Arc::new(move |request: &ServerRequest| {
        std::thread::sleep(delay);
        Ok(request.payload.clone())
    }))
}

/// Fills a gated one-worker instance of queue capacity 1: one call runs (blocked on the gate),
/// one waits in the queue. Returns the two pending calls.
async fn saturate(
    instance: &Instance,
) -> Vec<tokio::task::JoinHandle<Result<Bytes, ros_core::RosError>>> {
    let occupy = client(|c| c.max_attempts = 1);
    occupy.update_endpoints([&instance.address]).unwrap();
    let mut pending = Vec::new();
    for (executing, depth) in [(1, 0), (1, 1)] {
        let occupy = occupy.clone();
        pending.push(tokio::spawn(async move {
            occupy.call("m", Bytes::new(), None).await
        }));
        eventually(Duration::from_secs(5), "instance saturated", || {
            let stats = instance.server.stats();
            stats.executing == executing && stats.depth == depth
        })
        .await;
    }
    pending
}

/// Runs `calls` calls, `concurrency` at a time; returns the outcomes by call index.
async fn load(
    client: &RosClient,
    calls: usize,
    concurrency: usize,
) -> Vec<Result<Bytes, ros_core::RosError>> {
    let mut in_flight = JoinSet::new();
    let mut outcomes = vec![None; calls];
    for i in 0..calls {
        if in_flight.len() >= concurrency {
            let (index, outcome) = in_flight.join_next().await.unwrap().unwrap();
            outcomes[index] = Some(outcome);
        }
        let client = client.clone();
        in_flight.spawn(async move {
            let outcome = client.call("m", Bytes::from(format!("{i}")), None).await;
            (i, outcome)
        });
    }
    while let Some(done) = in_flight.join_next().await {
        let (index, outcome) = done.unwrap();
        outcomes[index] = Some(outcome);
    }
    outcomes.into_iter().map(Option::unwrap).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_fail_over_to_the_survivor_when_an_instance_dies_under_load() {
    // The doomed instance is slower, so calls are queued on it when it dies.
    let mut doomed = slow(Duration::from_millis(2)).isolated().start().await;
    let survivor = InstanceSpec::echo().workers(2, 8).start().await;
    let client = client(|c| c.load_balancing = LoadBalancing::RoundRobin);
    client
        .update_endpoints([&doomed.address, &survivor.address])
        .unwrap();

    let stop = Arc::new(AtomicBool::new(false));
    let killed_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let completed = Arc::new(AtomicU64::new(0));
    let mut callers = JoinSet::new();
    for caller in 0..32 {
        let (client, stop, killed_at, completed) = (
            client.clone(),
            stop.clone(),
            killed_at.clone(),
            completed.clone(),
        );
        callers.spawn(async move {
            // Calls that were in flight when the instance died: when each completed, and where.
            let mut across_the_kill: Vec<(Instant, u16)> = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let payload = Bytes::from(format!("{caller}-{i}"));
                let reply = client.call("m", payload, None).await;
                let reply = reply.expect("every call succeeds");
                completed.fetch_add(1, Ordering::Relaxed);
                if let Some(kill) = *killed_at.lock().unwrap()
                    && started < kill
                {
                    across_the_kill.push((Instant::now(), served_by(&reply)));
                }
                i += 1;
            }
            across_the_kill
        });
    }

    // Sustained load first, so the retry budget reflects real traffic.
    eventually(Duration::from_secs(30), "warm-up calls", || {
        completed.load(Ordering::Relaxed) >= 3000
    })
    .await;
    let in_flight_on_doomed = doomed.server.stats().depth + doomed.server.stats().executing;
    *killed_at.lock().unwrap() = Some(Instant::now());
    let kill = Instant::now();
    doomed.kill();
    let at_kill = completed.load(Ordering::Relaxed);
    eventually(Duration::from_secs(30), "calls after the kill", || {
        completed.load(Ordering::Relaxed) >= at_kill + 3000
    })
    .await;
    stop.store(true, Ordering::Relaxed);

    let mut across_the_kill = Vec::new();
    while let Some(done) = callers.join_next().await {
        across_the_kill.extend(done.unwrap());
    }
    // Calls were queued or running on the instance when it died...
    assert!(
        in_flight_on_doomed > 0,
        "no call was in flight on the killed instance"
    );
    // ...and every call in flight at the kill that completed after it completed on the survivor,
    // within 100 ms of the kill. The dead instance's runtime shuts down in the background, so a
    // reply it had already sent may still arrive just after the kill: that is the only kind of
    // call it may have answered after the kill, within the same 100 ms.
    let after_kill: Vec<&(Instant, u16)> = across_the_kill
        .iter()
        .filter(|(completed_at, _)| *completed_at > kill)
        .collect();
    let (on_survivor, on_doomed): (Vec<_>, Vec<_>) = after_kill
        .into_iter()
        .partition(|(_, port)| *port == survivor.port());
    assert!(
        !on_survivor.is_empty(),
        "no call in flight at the kill completed on the survivor after it"
    );
    for (completed_at, _) in &on_doomed {
        let after = completed_at.duration_since(kill);
        assert!(
            after < Duration::from_millis(100),
            "a call completed on the dead instance {after:?} after the kill"
        );
    }
    let reroute = on_survivor
        .iter()
        .map(|(completed_at, _)| completed_at.duration_since(kill))
        .max()
        .unwrap_or_default();
    println!(
        "instance killed with {in_flight_on_doomed} calls queued or running on it; {} calls in \
         flight at the kill completed on the survivor, the last {reroute:?} after it ({} replies \
         the instance had sent arrived after the kill)",
        on_survivor.len(),
        on_doomed.len()
    );
    assert!(
        reroute < Duration::from_millis(100),
        "rerouting took {reroute:?}"
    );
    let stats = client.stats();
    assert_eq!(stats.calls, stats.succeeded, "no call failed: {stats:?}");
    assert!(stats.ejections >= 1);
}

#[tokio::test]
async fn empty_endpoint_set_fails_unavailable_within_10_ms() {
    let client = client(|_| {});
    let mut elapsed = Vec::new();
    for _ in 0..100 {
        let start = Instant::now();
        let error = client.call("m", Bytes::new(), None).await.unwrap_err();
        elapsed.push(start.elapsed());
        assert_eq!(error.code, StatusCode::Unavailable);
    }
    elapsed.sort();
    println!(
        "empty endpoint set: median {:?}, max {:?}",
        elapsed[50], elapsed[99]
    );
    assert!(elapsed[50] < Duration::from_millis(10));
    assert!(elapsed[90] < Duration::from_millis(10));
}

/// Every instance of a service lost at once (their one host died) while calls are in flight, and
/// a new instance starting elsewhere: with `no_instance_wait`, the calls wait and complete on the
/// new instance; without it, they fail at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_wait_out_the_loss_of_every_instance_when_told_to() {
    for wait in [Duration::ZERO, Duration::from_secs(20)] {
        let mut first = slow(Duration::from_millis(500)).isolated().start().await;
        let client = client(|c| c.no_instance_wait = wait);
        client.update_endpoints([&first.address]).unwrap();
        let mut calls = JoinSet::new();
        for i in 0..8 {
            let client = client.clone();
            calls.spawn(async move { client.call("m", Bytes::from(format!("{i}")), None).await });
        }
        eventually(Duration::from_secs(10), "calls on the instance", || {
            let stats = first.server.stats();
            stats.depth + stats.executing == 8
        })
        .await;
        let killed = Instant::now();
        first.kill();
        if wait.is_zero() {
            while let Some(outcome) = calls.join_next().await {
                let error = outcome.unwrap().unwrap_err();
                assert_eq!(error.code, StatusCode::Unavailable, "{error}");
            }
            assert!(killed.elapsed() < Duration::from_secs(5));
            continue;
        }
        // The calls wait: none completes until an instance is back.
        eventually(
            Duration::from_secs(10),
            "the lost connection noticed",
            || client.stats().ejections >= 1,
        )
        .await;
        assert!(
            calls.try_join_next().is_none(),
            "a call ended without an instance"
        );
        let second = Instance::echo(1).await;
        client.update_endpoints([&second.address]).unwrap();
        while let Some(outcome) = calls.join_next().await {
            let reply = outcome
                .unwrap()
                .expect("the call waited for the new instance");
            assert_eq!(served_by(&reply), second.port());
        }
        assert_eq!(second.served(), 8);
    }
}

/// Share of `calls` served by the slow instance, under `policy`.
async fn slow_share(policy: LoadBalancing) -> f64 {
    let slow = slow(Duration::from_millis(5)).start().await;
    let fast = InstanceSpec::echo().workers(2, 1).start().await;
    let client = client(|c| c.load_balancing = policy);
    client
        .update_endpoints([&slow.address, &fast.address])
        .unwrap();
    let outcomes = load(&client, 2000, 16).await;
    let by_slow = outcomes
        .iter()
        .filter(|o| served_by(o.as_ref().unwrap()) == slow.port())
        .count();
    by_slow as f64 / outcomes.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn power_of_two_choices_sends_a_slow_instance_a_small_share() {
    let p2c = slow_share(LoadBalancing::PowerOfTwoChoices).await;
    let round_robin = slow_share(LoadBalancing::RoundRobin).await;
    println!("slow instance's share: P2C {p2c:.3}, round-robin {round_robin:.3}");
    assert!(p2c < 0.05, "P2C gave the slow instance {p2c:.3}");
    assert!(round_robin > 0.4, "round-robin gave it {round_robin:.3}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_refused_by_a_full_queue_are_retried_on_the_other_instance() {
    let gate = Arc::new(Gate::default());
    let full = gated(gate.clone())
        .config(|c| c.queue_capacity = 1)
        .start()
        .await;
    let healthy = Instance::echo(2).await;
    let client = client(|c| c.load_balancing = LoadBalancing::RoundRobin);
    client
        .update_endpoints([&full.address, &healthy.address])
        .unwrap();
    // Occupy the gated worker and the one queue slot.
    let pending = saturate(&full).await;

    let outcomes = load(&client, 500, 8).await;
    assert!(outcomes.iter().all(|o| o.is_ok()));
    assert!(
        outcomes
            .iter()
            .all(|o| served_by(o.as_ref().unwrap()) == healthy.port())
    );
    let refused = full.server.stats().rejected_full;
    let stats = client.stats();
    println!("full instance refused {refused}; client: {stats:?}");
    // Each refusal was retried on the healthy instance; after the first, the full instance sat
    // out its ejection backoff, so few calls went there at all.
    assert!(refused >= 1);
    assert_eq!(stats.retries, refused);
    assert!(refused < 100, "{refused}");

    gate.open();
    for call in pending {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_storm_against_a_saturated_service_stays_within_the_budget() {
    let gate = Arc::new(Gate::default());
    let a = gated(gate.clone())
        .config(|c| c.queue_capacity = 1)
        .start()
        .await;
    let b = gated(gate.clone())
        .config(|c| c.queue_capacity = 1)
        .start()
        .await;
    let mut pending = saturate(&a).await;
    pending.extend(saturate(&b).await);

    let (ratio, min_per_second) = (0.2, 10);
    let client = client(|c| {
        c.max_attempts = 5;
        c.retry_budget_ratio = ratio;
        c.retry_min_per_second = min_per_second;
        // No ejection backoff to speak of: the budget alone has to hold retries back.
        c.ejection_min = Duration::from_micros(1);
        c.ejection_max = Duration::from_micros(1);
    });
    client.update_endpoints([&a.address, &b.address]).unwrap();
    let calls = 2000;
    let start = Instant::now();
    let outcomes = load(&client, calls, 32).await;
    let elapsed = start.elapsed();
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().unwrap_err().code == StatusCode::ResourceExhausted)
    );

    let attempts = a.server.stats().rejected_full + b.server.stats().rejected_full;
    let retries = attempts - calls as u64;
    let bound = calls as f64 * ratio + f64::from(min_per_second) * (1.0 + elapsed.as_secs_f64());
    let stats = client.stats();
    println!(
        "{calls} calls against a saturated service: {attempts} attempts, {retries} retries \
         (budget allows {bound:.0}), {} refused by the budget",
        stats.retries_refused
    );
    assert!((retries as f64) <= bound);
    assert_eq!(stats.retries, retries);
    assert!(stats.retries_refused > 0);

    gate.open();
    for call in pending {
        call.await.unwrap().unwrap();
    }
}

/// Accepts connections and drops them at once, counting them: a service that is dying.
async fn dying_listener() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::Relaxed);
            let _ = socket.shutdown().await;
        }
    });
    (address, accepted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dying_service_is_not_hammered() {
    let (a, a_connections) = dying_listener().await;
    let (b, b_connections) = dying_listener().await;
    let client = client(|_| {});
    client
        .update_endpoints([a.to_string(), b.to_string()])
        .unwrap();
    let calls = 1000;
    let start = Instant::now();
    let outcomes = load(&client, calls, 32).await;
    let elapsed = start.elapsed();
    let codes: std::collections::BTreeSet<String> = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap_err().to_string())
        .collect();
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().unwrap_err().code == StatusCode::Unavailable),
        "{codes:?}"
    );
    let connections = a_connections.load(Ordering::Relaxed) + b_connections.load(Ordering::Relaxed);
    println!(
        "{calls} calls against a dying service in {elapsed:?}: {connections} connections, \
         client {:?}",
        client.stats()
    );
    // Ejected instances are not tried until their backoff ends.
    assert!(connections < 50, "{connections} connections");
    assert!(elapsed < Duration::from_secs(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_cancel_drops_everything_queued_behind_a_slow_handler() {
    let gate = Arc::new(Gate::default());
    let seen = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let handler_seen = seen.clone();
    let handler_gate = gate.clone();
    let instance = InstanceSpec::new(Arc::new(move |request: &ServerRequest| {
        handler_seen.lock().unwrap().push(request.client_epoch);
        handler_gate.pass();
        Ok(Bytes::new())
    }))
    .start()
    .await;
    let old = client(|c| c.client_epoch = 3);
    old.update_endpoints([&instance.address]).unwrap();
    let mut calls = JoinSet::new();
    for _ in 0..200 {
        let old = old.clone();
        calls.spawn(async move { old.call("m", Bytes::new(), None).await });
    }
    eventually(
        Duration::from_secs(10),
        "199 queued behind the first",
        || {
            let stats = instance.server.stats();
            stats.executing == 1 && stats.depth == 199
        },
    )
    .await;

    let restarted = client(|c| c.client_epoch = 4);
    restarted.update_endpoints([&instance.address]).unwrap();
    assert_eq!(restarted.cancel_earlier_epochs().await, Ok(199));
    // The new attempt's own call still runs.
    let fresh = {
        let restarted = restarted.clone();
        tokio::spawn(async move { restarted.call("m", Bytes::new(), None).await })
    };
    gate.open();
    fresh.await.unwrap().unwrap();

    let mut codes: HashMap<Result<(), StatusCode>, usize> = HashMap::new();
    while let Some(done) = calls.join_next().await {
        *codes
            .entry(done.unwrap().map(|_| ()).map_err(|e| e.code))
            .or_default() += 1;
    }
    assert_eq!(codes.get(&Ok(())), Some(&1));
    assert_eq!(codes.get(&Err(StatusCode::Cancelled)), Some(&199));
    assert_eq!(
        *seen.lock().unwrap(),
        vec![3, 4],
        "the handler never saw a cancelled request"
    );
    assert_eq!(instance.server.stats().cancelled_queued, 199);
}

#[tokio::test]
async fn bad_requests_get_typed_errors_and_the_server_stays_healthy() {
    let token = ServiceToken::new("s3cret-token-for-this-service").unwrap();
    let instance = InstanceSpec::echo()
        .config(|c| {
            c.max_message_bytes = 1024;
            c.methods = ["predict".to_string()].into();
            c.token = Some(token.clone());
        })
        .start()
        .await;
    let good = client(|c| c.token = Some(token.clone()));
    good.update_endpoints([&instance.address]).unwrap();

    let oversized = good
        .call("predict", Bytes::from(vec![0u8; 4096]), None)
        .await
        .unwrap_err();
    assert_eq!(oversized.code, StatusCode::InvalidArgument, "{oversized}");
    assert!(
        oversized
            .message
            .contains("over the instance's limit of 1024 bytes")
            && oversized.message.contains("request of 4")
            && oversized.message.contains("maxMessageBytes"),
        "names size and limit: {oversized}"
    );

    let unknown = good.call("train", Bytes::new(), None).await.unwrap_err();
    assert_eq!(unknown.code, StatusCode::NotFound);
    assert!(unknown.message.contains("'train'") && unknown.message.contains("predict"));

    for wrong in [
        None,
        Some(ServiceToken::new("not-the-right-token-at-all").unwrap()),
    ] {
        let intruder = client(|c| c.token = wrong);
        intruder.update_endpoints([&instance.address]).unwrap();
        let error = intruder
            .call("predict", Bytes::new(), None)
            .await
            .unwrap_err();
        assert_eq!(error.code, StatusCode::Unauthenticated);
        assert!(!error.message.contains("s3cret"), "{error}");
        // Refused, not silently zero: nothing was cancelled.
        let refused = intruder.cancel_earlier_epochs().await.unwrap_err();
        assert_eq!(refused.code, StatusCode::Unauthenticated);
    }

    let reply = good
        .call("predict", Bytes::from_static(b"fine"), None)
        .await
        .unwrap();
    assert!(reply.starts_with(b"fine|"));
    let stats = instance.server.stats();
    assert_eq!(stats.rejected_unknown_method, 1);
    // Two intruders, each refused for a call and for a cancel.
    assert_eq!(stats.rejected_unauthenticated, 4);
    assert_eq!(stats.admitted, 1);
}

#[tokio::test]
async fn a_malformed_message_gets_invalid_argument() {
    /// Field 4 of `InvokeRequest` is the method, a string; bytes that are not UTF-8 are not one.
    #[derive(Clone, PartialEq, prost::Message)]
    struct MalformedInvoke {
        #[prost(bytes = "vec", tag = "4")]
        method: Vec<u8>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct Empty {}

    let instance = Instance::echo(1).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", instance.address))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let status = grpc
        .unary::<MalformedInvoke, Empty, _>(
            tonic::Request::new(MalformedInvoke {
                method: vec![0xff, 0xfe, 0xfd],
            }),
            "/ros.v1.RpcOperatorService/Invoke".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("malformed"), "{status:?}");
    assert_eq!(instance.server.stats().admitted, 0);
}

/// A TCP proxy that can stop forwarding while keeping its connections open: a peer that is
/// gone without closing anything (a half-open connection).
struct Blackhole {
    address: SocketAddr,
    frozen: Arc<AtomicBool>,
}

impl Blackhole {
    async fn start(target: String) -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let frozen = Arc::new(AtomicBool::new(false));
        let proxy_frozen = frozen.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let outbound = TcpStream::connect(&target).await.unwrap();
                let frozen = proxy_frozen.clone();
                tokio::spawn(async move {
                    let (mut in_read, mut in_write) = inbound.into_split();
                    let (mut out_read, mut out_write) = outbound.into_split();
                    let up = pump(&mut in_read, &mut out_write, &frozen);
                    let down = pump(&mut out_read, &mut in_write, &frozen);
                    tokio::join!(up, down);
                    // Frozen: hold every socket open and silent, forever.
                    std::future::pending::<()>().await;
                });
            }
        });
        Blackhole { address, frozen }
    }

    fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
}

async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    frozen: &AtomicBool,
) {
    use tokio::io::AsyncReadExt;
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            _ = tokio::time::sleep(Duration::from_millis(5)) => {
                if frozen.load(Ordering::SeqCst) { return; }
                continue;
            }
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if frozen.load(Ordering::SeqCst) || to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// How long a call stuck behind a peer that went silent takes to complete on the survivor, with
/// the client's keepalive set to `interval` and `timeout`.
async fn half_open_detection(interval: Duration, timeout: Duration) -> Duration {
    let gate = Arc::new(Gate::default());
    let behind = gated(gate.clone()).start().await;
    let blackhole = Blackhole::start(behind.address.clone()).await;
    let survivor = Instance::echo(1).await;
    let client = client(|c| {
        c.keepalive_interval = interval;
        c.keepalive_timeout = timeout;
        c.load_balancing = LoadBalancing::RoundRobin;
    });
    client
        .update_endpoints([blackhole.address.to_string(), survivor.address.clone()])
        .unwrap();

    // A call stuck behind the blackhole, then the peer goes silent.
    let stuck = {
        let client = client.clone();
        tokio::spawn(async move { client.call("m", Bytes::from_static(b"x"), None).await })
    };
    eventually(Duration::from_secs(5), "call reached the instance", || {
        gate.entered() == 1
    })
    .await;
    let frozen_at = Instant::now();
    blackhole.freeze();

    let reply = stuck.await.unwrap().unwrap();
    let took = frozen_at.elapsed();
    assert_eq!(served_by(&reply), survivor.port());
    gate.open();
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_detects_a_half_open_connection_within_its_settings() {
    let quick = half_open_detection(Duration::from_millis(100), Duration::from_millis(200)).await;
    let slow = half_open_detection(Duration::from_millis(1000), Duration::from_millis(1000)).await;
    println!("half-open connection detected after {quick:?} (100 + 200 ms) and {slow:?} (1 + 1 s)");
    assert!(quick < Duration::from_secs(1), "{quick:?}");
    // The settings are what decide it: an unanswered ping is waited for a whole timeout.
    assert!(slow >= Duration::from_secs(1), "{slow:?}");
    assert!(slow < Duration::from_secs(3), "{slow:?}");
}

/// An instance that shuts down while remote callers' requests wait in its queue answers them
/// `UNAVAILABLE`, so they go to another instance; with none, they fail at once, never hang.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_shutting_down_hands_its_queued_callers_to_another_instance() {
    let gate = Arc::new(Gate::default());
    let closing = gated(gate.clone())
        .config(|c| c.queue_capacity = 64)
        .start()
        .await;
    let other = Instance::echo(2).await;
    let handing_over = client(|c| {
        c.load_balancing = LoadBalancing::RoundRobin;
        c.retry_budget_ratio = 1.0;
    });
    handing_over
        .update_endpoints([closing.address.clone()])
        .unwrap();
    let mut calls = JoinSet::new();
    for i in 0..20 {
        let client = handing_over.clone();
        calls.spawn(async move { client.call("m", Bytes::from(format!("{i}")), None).await });
    }
    eventually(
        Duration::from_secs(5),
        "requests queued on the closing instance",
        || {
            let stats = closing.server.stats();
            stats.depth + stats.executing == 20
        },
    )
    .await;
    // The other instance joins, then the first one shuts down with 20 requests on it.
    handing_over
        .update_endpoints([closing.address.clone(), other.address.clone()])
        .unwrap();
    closing.server.shutdown().await;
    gate.open();
    while let Some(outcome) = calls.join_next().await {
        let reply = outcome.unwrap().expect("served by the other instance");
        assert_eq!(served_by(&reply), other.port());
    }

    // Alone, a shutting-down instance's callers get UNAVAILABLE at once.
    let gate = Arc::new(Gate::default());
    let alone = gated(gate.clone()).start().await;
    let lonely = client(|_| {});
    lonely.update_endpoints([alone.address.clone()]).unwrap();
    let pending = {
        let client = lonely.clone();
        tokio::spawn(async move { client.call("m", Bytes::from_static(b"x"), None).await })
    };
    eventually(
        Duration::from_secs(5),
        "request reached the instance",
        || gate.entered() == 1,
    )
    .await;
    let started = Instant::now();
    alone.server.shutdown().await;
    let error = pending.await.unwrap().unwrap_err();
    assert_eq!(error.code, StatusCode::Unavailable, "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
    gate.open();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_max_in_flight_wait_instead_of_piling_up() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone()).start().await;
    let client = client(|c| c.max_in_flight = 4);
    client.update_endpoints([&instance.address]).unwrap();
    let mut calls = JoinSet::new();
    for _ in 0..10 {
        let client = client.clone();
        calls.spawn(async move { client.call("m", Bytes::new(), None).await });
    }
    eventually(Duration::from_secs(5), "10 calls started", || {
        client.stats().in_flight == 10
    })
    .await;
    eventually(Duration::from_secs(5), "4 reached the instance", || {
        let stats = instance.server.stats();
        stats.executing + stats.depth == 4
    })
    .await;
    // The other six wait in the client: nothing more was sent.
    assert_eq!(instance.server.stats().admitted, 4);
    gate.open();
    while let Some(done) = calls.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(instance.server.stats().admitted, 10);
    assert_eq!(client.stats().in_flight, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_requests_of_a_closed_client_or_a_vanished_caller_are_dropped() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone())
        .config(|c| {
            c.keepalive_interval = Duration::from_millis(100);
            c.keepalive_timeout = Duration::from_millis(200);
        })
        .start()
        .await;
    // One call occupies the worker for the whole test.
    let occupant = client(|_| {});
    occupant.update_endpoints([&instance.address]).unwrap();
    let occupied = {
        let occupant = occupant.clone();
        tokio::spawn(async move { occupant.call("m", Bytes::new(), None).await })
    };
    eventually(Duration::from_secs(5), "worker busy", || {
        gate.entered() == 1
    })
    .await;

    // A client that closes with calls queued.
    let closing = client(|_| {});
    closing.update_endpoints([&instance.address]).unwrap();
    let mut queued = JoinSet::new();
    for _ in 0..5 {
        let closing = closing.clone();
        queued.spawn(async move { closing.call("m", Bytes::new(), None).await });
    }
    eventually(Duration::from_secs(5), "5 queued", || {
        instance.server.stats().depth == 5
    })
    .await;
    closing.close();
    eventually(
        Duration::from_secs(5),
        "closed client's requests dropped",
        || instance.server.stats().cancelled_queued == 5,
    )
    .await;
    while let Some(done) = queued.join_next().await {
        assert_eq!(done.unwrap().unwrap_err().code, StatusCode::Cancelled);
    }

    // A caller that vanishes without closing anything: the server's keepalive finds out.
    let blackhole = Blackhole::start(instance.address.clone()).await;
    let vanishing = client(|c| {
        // The caller itself would never notice: its pings are far apart.
        c.keepalive_interval = Duration::from_secs(3600);
    });
    vanishing
        .update_endpoints([blackhole.address.to_string()])
        .unwrap();
    let mut lost = JoinSet::new();
    for _ in 0..3 {
        let vanishing = vanishing.clone();
        lost.spawn(async move { vanishing.call("m", Bytes::new(), None).await });
    }
    eventually(Duration::from_secs(5), "3 queued", || {
        instance.server.stats().depth == 3
    })
    .await;
    blackhole.freeze();
    eventually(
        Duration::from_secs(5),
        "vanished caller's requests dropped",
        || instance.server.stats().cancelled_queued == 8,
    )
    .await;
    lost.abort_all();

    gate.open();
    occupied.await.unwrap().unwrap();
    assert_eq!(gate.entered(), 1, "no dropped request ever ran");
}

#[tokio::test]
async fn an_oversized_request_fails_in_the_client_before_it_is_sent() {
    let instance = Instance::echo(1).await;
    let client = client(|c| c.max_message_bytes = 1000);
    client.update_endpoints([&instance.address]).unwrap();
    let error = client
        .call("m", Bytes::from(vec![1u8; 5000]), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, StatusCode::InvalidArgument, "{error}");
    assert!(error.message.contains("1000"), "{error}");
    assert_eq!(instance.server.stats().admitted, 0);
    // A reply over the client's limit is refused too, after the instance did the work.
    let verbose = InstanceSpec::new(Arc::new(|_: &ServerRequest| {
        Ok(Bytes::from(vec![b'x'; 500]))
    }))
    .start()
    .await;
    let small_limit = common::client(|c| c.max_message_bytes = 200);
    small_limit.update_endpoints([&verbose.address]).unwrap();
    let error = small_limit
        .call("m", Bytes::from_static(b"short"), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, StatusCode::InvalidArgument, "{error}");
    assert!(error.message.contains("200"), "{error}");
    assert_eq!(verbose.server.stats().completed, 1);
}

/// A raw gRPC call, as an outside client (grpcurl, Python) makes it: no gRPC deadline, only the
/// request's own `timeout_millis`.
async fn raw_invoke(
    address: &str,
    method: &str,
    timeout_millis: u64,
) -> Result<ros_core::proto::InvokeResponse, tonic::Status> {
    raw_invoke_payload(address, method, Bytes::from_static(b"x"), timeout_millis).await
}

/// As [`raw_invoke`], with a payload.
async fn raw_invoke_payload(
    address: &str,
    method: &str,
    payload: Bytes,
    timeout_millis: u64,
) -> Result<ros_core::proto::InvokeResponse, tonic::Status> {
    let mut client = ros_core::proto::rpc_operator_service_client::RpcOperatorServiceClient::new(
        common::raw_channel(address).await,
    );
    client
        .invoke(ros_core::proto::InvokeRequest {
            request_id: 1,
            client_id: "outside".to_string(),
            client_epoch: 0,
            method: method.to_string(),
            payload,
            timeout_millis,
            identity_key: Default::default(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_request_leaves_the_queue_when_its_deadline_passes() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone()).start().await;
    // The worker is stuck on a first request, so the second one queues.
    let blocker = tokio::spawn({
        let address = instance.address.clone();
        async move { raw_invoke(&address, "echo", 0).await }
    });
    eventually(Duration::from_secs(5), "the worker to be busy", || {
        gate.entered() == 1
    })
    .await;

    let started = Instant::now();
    let expired = tokio::time::timeout(
        Duration::from_secs(5),
        raw_invoke(&instance.address, "echo", 200),
    )
    .await
    .expect("answered at its deadline, not when a worker is free")
    .unwrap_err();
    let waited = started.elapsed();

    assert_eq!(expired.code(), tonic::Code::DeadlineExceeded, "{expired:?}");
    assert!(expired.message().contains("while queued"), "{expired:?}");
    // Answered at its deadline, not when the worker got to it (the gate is still closed).
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(700),
        "answered after {waited:?}"
    );
    let stats = instance.server.stats();
    assert_eq!(stats.expired_queued, 1);
    assert_eq!(stats.depth, 0, "its place in the queue is free again");
    assert_eq!(
        gate.entered(),
        1,
        "the expired request never reached the worker"
    );

    gate.open();
    blocker.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_method_error_does_not_echo_a_huge_name() {
    let instance = InstanceSpec::echo()
        .config(|c| c.methods = ["echo".to_string()].into_iter().collect())
        .start()
        .await;
    let name = "m".repeat(200 * 1024);
    let error = raw_invoke(&instance.address, &name, 0).await.unwrap_err();
    assert_eq!(error.code(), tonic::Code::NotFound, "{:?}", error.code());
    assert!(
        error.message().len() < 1024,
        "{} bytes",
        error.message().len()
    );
    assert!(error.message().contains(&format!("({} bytes)", name.len())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outside_client_gets_invalid_argument_for_an_oversized_request() {
    let instance = InstanceSpec::echo()
        .config(|c| c.max_message_bytes = 1024)
        .start()
        .await;
    let error = raw_invoke_payload(&instance.address, "echo", Bytes::from(vec![7u8; 4096]), 0)
        .await
        .unwrap_err();
    assert_eq!(error.code(), tonic::Code::InvalidArgument, "{error:?}");
    assert!(
        error
            .message()
            .contains("over the instance's limit of 1024 bytes")
            && error.message().contains("maxMessageBytes"),
        "{error:?}"
    );
}
