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

//! Real clients against real servers on loopback.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Gate, Instance, eventually, gated};
use ros_core::{ClientConfig, RosClient, RosError, StatusCode};
use tokio::task::JoinSet;

fn client(startup_wait: Duration) -> RosClient {
    common::client(|c| c.startup_wait = startup_wait)
}

async fn gated_instance(gate: Arc<Gate>) -> Instance {
    // One request at a time, so that the rest wait in the queue.
    gated(gate).start().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_all_succeed_on_both_instances() {
    let a = Instance::echo(2).await;
    let b = Instance::echo(2).await;
    let client = client(Duration::ZERO);
    client.update_endpoints([&a.address, &b.address]).unwrap();

    let calls = 4000;
    let concurrency = 200;
    let mut in_flight = JoinSet::new();
    let mut ok = 0;
    for i in 0..calls {
        if in_flight.len() >= concurrency {
            ok += check_echo(in_flight.join_next().await.unwrap().unwrap());
        }
        let client = client.clone();
        in_flight.spawn(async move {
            let payload = format!("record-{i}");
            let reply = client
                .call("echo", Bytes::from(payload.clone()), None)
                .await;
            (payload, reply)
        });
    }
    while let Some(done) = in_flight.join_next().await {
        ok += check_echo(done.unwrap());
    }
    assert_eq!(ok, calls);
    assert_eq!(a.served() + b.served(), calls as u64);
    assert!(
        a.served() > calls as u64 / 4 && b.served() > calls as u64 / 4,
        "round robin spreads load: a={} b={}",
        a.served(),
        b.served()
    );
}

fn check_echo((payload, reply): (String, Result<Bytes, RosError>)) -> usize {
    let reply = reply.expect("call succeeds");
    let reply = String::from_utf8(reply.to_vec()).unwrap();
    assert!(
        reply.starts_with(&format!("{payload}|")),
        "{reply} answers {payload}"
    );
    1
}

#[tokio::test]
async fn empty_endpoint_set_fails_unavailable_at_once() {
    let client = client(Duration::ZERO);
    let start = Instant::now();
    let error = client
        .call("m", Bytes::from_static(b"x"), Some(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(error.code, StatusCode::Unavailable);
    assert!(error.message.contains("no live instance"), "{error}");
    assert!(start.elapsed() < Duration::from_secs(1));

    // Emptied after having members: also at once, even with a startup wait configured.
    let instance = Instance::echo(1).await;
    let client = self::client(Duration::from_secs(30));
    client.update_endpoints([&instance.address]).unwrap();
    client.call("m", Bytes::new(), None).await.unwrap();
    client.update_endpoints(Vec::<String>::new()).unwrap();
    let start = Instant::now();
    let error = client.call("m", Bytes::new(), None).await.unwrap_err();
    assert_eq!(error.code, StatusCode::Unavailable);
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn calls_wait_for_the_first_endpoints_during_startup() {
    let instance = Instance::echo(1).await;
    let client = client(Duration::from_secs(30));
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.call("m", Bytes::from_static(b"early"), None).await })
    };
    tokio::task::yield_now().await;
    client.update_endpoints([&instance.address]).unwrap();
    let reply = pending.await.unwrap().unwrap();
    assert!(reply.starts_with(b"early|"));
}

#[tokio::test]
async fn deadline_expiry_fails_the_call_and_drops_the_queued_request() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let client = client(Duration::ZERO);
    client.update_endpoints([&instance.address]).unwrap();

    // The first call occupies the only worker; the second waits in the queue.
    let blocker = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .call("m", Bytes::new(), Some(Duration::from_secs(30)))
                .await
        })
    };
    eventually(Duration::from_secs(5), "worker busy", || {
        gate.entered() == 1
    })
    .await;

    let start = Instant::now();
    let error = client
        .call("m", Bytes::new(), Some(Duration::from_millis(200)))
        .await
        .unwrap_err();
    let waited = start.elapsed();
    assert_eq!(error.code, StatusCode::DeadlineExceeded, "{error}");
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
        "{waited:?}"
    );

    // Its request left the queue without ever reaching the worker: expired there at its
    // deadline, or cancelled as its caller went away, whichever came first.
    eventually(Duration::from_secs(5), "queued request dropped", || {
        let stats = instance.server.stats();
        stats.expired_queued + stats.cancelled_queued == 1
    })
    .await;
    gate.open();
    blocker.await.unwrap().unwrap();
    assert_eq!(gate.entered(), 1);
    assert_eq!(instance.server.stats().depth, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_set_replaced_under_load_loses_no_call() {
    let old = Instance::echo(2).await;
    let new_a = Instance::echo(2).await;
    let new_b = Instance::echo(2).await;
    let client = client(Duration::ZERO);
    client.update_endpoints([&old.address]).unwrap();

    let calls = 3000;
    let switch_at = 1000;
    let mut in_flight = JoinSet::new();
    let mut ok = 0;
    for i in 0..calls {
        if i == switch_at {
            client
                .update_endpoints([&new_a.address, &new_b.address])
                .unwrap();
        }
        if in_flight.len() >= 64 {
            ok += check_echo(in_flight.join_next().await.unwrap().unwrap());
        }
        let client = client.clone();
        in_flight.spawn(async move {
            let payload = format!("r{i}");
            (
                payload.clone(),
                client.call("echo", Bytes::from(payload), None).await,
            )
        });
    }
    while let Some(done) = in_flight.join_next().await {
        ok += check_echo(done.unwrap());
    }
    assert_eq!(ok, calls);
    // Calls that picked their instance before the switch went to the old one; none after it.
    let old_served = old.served();
    assert!(
        old_served > 0 && old_served <= switch_at as u64,
        "{old_served}"
    );
    assert!(new_a.served() > 0 && new_b.served() > 0);
    for _ in 0..100 {
        client.call("echo", Bytes::new(), None).await.unwrap();
    }
    assert_eq!(old.served(), old_served);
    assert_eq!(
        client.endpoints(),
        vec![new_a.address.clone(), new_b.address.clone()]
    );
}

#[tokio::test]
async fn closing_the_client_fails_calls_in_flight_with_cancelled() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let client = client(Duration::ZERO);
    client.update_endpoints([&instance.address]).unwrap();
    let pending = {
        let client = client.clone();
        tokio::spawn(async move { client.call("m", Bytes::new(), None).await })
    };
    eventually(Duration::from_secs(5), "call executing", || {
        gate.entered() == 1
    })
    .await;
    client.close();
    let error = pending.await.unwrap().unwrap_err();
    assert_eq!(error.code, StatusCode::Cancelled);
    let error = client.call("m", Bytes::new(), None).await.unwrap_err();
    assert_eq!(error.code, StatusCode::Cancelled);
    assert!(client.update_endpoints([&instance.address]).is_err());
    gate.open();
}

#[tokio::test]
async fn cancel_drops_queued_requests_of_earlier_epochs_only() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let old = client(Duration::ZERO);
    old.update_endpoints([&instance.address]).unwrap();

    let mut calls = JoinSet::new();
    for _ in 0..5 {
        let old = old.clone();
        calls.spawn(async move { old.call("m", Bytes::new(), None).await });
    }
    eventually(Duration::from_secs(5), "one executing, four queued", || {
        let stats = instance.server.stats();
        stats.executing == 1 && stats.depth == 4
    })
    .await;

    let restarted = RosClient::new(ClientConfig {
        client_epoch: 1,
        ..old.config().clone()
    })
    .unwrap();
    restarted.update_endpoints([&instance.address]).unwrap();
    assert_eq!(restarted.cancel_earlier_epochs().await, Ok(4));

    gate.open();
    let mut codes = Vec::new();
    while let Some(done) = calls.join_next().await {
        codes.push(done.unwrap().map(|_| ()).map_err(|e| e.code));
    }
    assert_eq!(codes.iter().filter(|c| c.is_ok()).count(), 1);
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == Err(StatusCode::Cancelled))
            .count(),
        4
    );
    assert_eq!(
        gate.entered(),
        1,
        "cancelled requests never reached the handler"
    );
    assert_eq!(instance.server.stats().cancelled_queued, 4);
}

#[tokio::test]
async fn oversized_request_gets_invalid_argument_and_server_stays_healthy() {
    let server = ros_core::RosServer::start(ros_core::ServerConfig {
        max_message_bytes: 1024,
        ..ros_core::ServerConfig::default()
    })
    .await
    .unwrap();
    let address = server.local_addr().to_string();
    let client = client(Duration::ZERO);
    client.update_endpoints([address]).unwrap();
    let error = client
        .call("m", Bytes::from(vec![0u8; 4096]), None)
        .await
        .unwrap_err();
    assert_eq!(error.code, StatusCode::InvalidArgument, "{error}");
    assert_eq!(server.stats().admitted, 0);

    // A small request still gets through.
    let call = {
        let client = client.clone();
        tokio::spawn(async move { client.call("m", Bytes::from_static(b"ok"), None).await })
    };
    let server = Arc::new(server);
    let worker = {
        let server = server.clone();
        std::thread::spawn(move || {
            loop {
                if let Some(request) = server.poll(1, Duration::from_secs(5)).pop() {
                    server.complete(request.id, Ok(request.payload));
                    return;
                }
            }
        })
    };
    assert_eq!(call.await.unwrap().unwrap(), Bytes::from_static(b"ok"));
    worker.join().unwrap();
}

#[tokio::test]
async fn malformed_endpoints_are_rejected_and_leave_the_set_unchanged() {
    let instance = Instance::echo(1).await;
    let client = client(Duration::ZERO);
    client.update_endpoints([&instance.address]).unwrap();
    let error = client
        .update_endpoints([instance.address.as_str(), "nohost"])
        .unwrap_err();
    assert_eq!(error.code, StatusCode::InvalidArgument);
    assert!(error.message.contains("nohost"));
    assert_eq!(client.endpoints(), vec![instance.address.clone()]);
}

#[tokio::test]
async fn dead_instance_fails_fast_with_unavailable() {
    // Bind and immediately free a port, so nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client(Duration::ZERO);
    client
        .update_endpoints([format!("127.0.0.1:{port}")])
        .unwrap();
    let start = Instant::now();
    let error = client.call("m", Bytes::new(), None).await.unwrap_err();
    assert_eq!(error.code, StatusCode::Unavailable, "{error}");
    assert!(error.message.contains(&port.to_string()), "{error}");
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// Outside tools probe an instance with the standard gRPC health service, without the token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_answer_the_standard_grpc_health_check() {
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;

    let instance = common::InstanceSpec::echo()
        .config(|c| {
            c.token = Some(
                ros_core::ServiceToken::new("a-secret-token-of-a-service".to_string()).unwrap(),
            )
        })
        .start()
        .await;
    let mut health = HealthClient::new(common::raw_channel(&instance.address).await);
    for service in ["", "ros.v1.RpcOperatorService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "service '{service}'");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_string(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);

    instance.server.shutdown().await;
    let after = health
        .check(HealthCheckRequest {
            service: "ros.v1.RpcOperatorService".to_string(),
        })
        .await;
    assert!(
        !matches!(&after, Ok(reply) if reply.get_ref().status == ServingStatus::Serving as i32),
        "a stopped instance must not report SERVING: {after:?}"
    );
}
