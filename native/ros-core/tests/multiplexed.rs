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

//! The multiplexed wire path (`InvokeStream`): what an instance does with a stream's messages,
//! seen from a raw gRPC client, and that `RosClient` answers the same over both transports.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Gate, InstanceSpec, client, eventually, gated};
use ros_core::proto::invoke_result::Outcome;
use ros_core::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use ros_core::proto::{InvokeBatch, InvokeRequest, InvokeResult, ResultBatch};
use ros_core::{ServiceToken, StatusCode, Transport};
use tokio::sync::mpsc;
use tonic::Streaming;

/// A raw `InvokeStream`, as an outside client opens one: send messages, read results.
struct RawStream {
    send: mpsc::UnboundedSender<InvokeBatch>,
    results: Streaming<ResultBatch>,
}

impl RawStream {
    async fn open(
        address: &str,
        headers: &[(&'static str, &str)],
    ) -> Result<RawStream, tonic::Status> {
        let mut stub = RpcOperatorServiceClient::new(common::raw_channel(address).await);
        let (send, outbound) = mpsc::unbounded_channel();
        let mut request = tonic::Request::new(futures_util::stream::unfold(
            outbound,
            |mut outbound: mpsc::UnboundedReceiver<InvokeBatch>| async move {
                outbound.recv().await.map(|message| (message, outbound))
            },
        ));
        for (name, value) in headers {
            request.metadata_mut().insert(*name, value.parse().unwrap());
        }
        let results = stub.invoke_stream(request).await?.into_inner();
        Ok(RawStream { send, results })
    }

    fn send(&self, requests: Vec<InvokeRequest>, abandoned: Vec<u64>) {
        self.send
            .send(InvokeBatch {
                requests,
                abandoned,
            })
            .unwrap();
    }

    /// Reads results until `count` have arrived, by request id.
    async fn results(&mut self, count: usize) -> BTreeMap<u64, InvokeResult> {
        let mut by_id = BTreeMap::new();
        while by_id.len() < count {
            let message = tokio::time::timeout(Duration::from_secs(5), self.results.message())
                .await
                .expect("results within 5 s")
                .unwrap()
                .expect("stream still open");
            for result in message.results {
                assert!(
                    by_id.insert(result.request_id, result).is_none(),
                    "one result per request"
                );
            }
        }
        by_id
    }
}

fn request(
    request_id: u64,
    method: &str,
    payload: &'static [u8],
    timeout_millis: u64,
) -> InvokeRequest {
    InvokeRequest {
        request_id,
        client_id: "outside".to_string(),
        client_epoch: 0,
        method: method.to_string(),
        payload: Bytes::from_static(payload),
        timeout_millis,
        identity_key: Default::default(),
    }
}

fn payload(result: &InvokeResult) -> &[u8] {
    match &result.outcome {
        Some(Outcome::Payload(payload)) => payload,
        other => panic!("expected a payload, got {other:?}"),
    }
}

fn failure(result: &InvokeResult) -> (StatusCode, &str) {
    match &result.outcome {
        Some(Outcome::Failure(failure)) => (
            StatusCode::from_i32(failure.code).expect("one of our codes"),
            &failure.message,
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_message_carries_several_requests_and_each_gets_its_own_outcome() {
    let instance = InstanceSpec::echo()
        .config(|c| c.methods = ["echo".to_string()].into())
        .start()
        .await;
    let mut stream = RawStream::open(&instance.address, &[]).await.unwrap();
    stream.send(
        vec![
            request(1, "echo", b"one", 0),
            request(2, "train", b"two", 0),
            request(3, "echo", b"three", 0),
        ],
        vec![],
    );
    let results = stream.results(3).await;
    assert!(payload(&results[&1]).starts_with(b"one"));
    assert!(payload(&results[&3]).starts_with(b"three"));
    let (code, message) = failure(&results[&2]);
    assert_eq!(code, StatusCode::NotFound, "{message}");
    assert!(message.contains("'train'"), "{message}");

    // A request id still in use by an unanswered request is refused alone.
    let gate = Arc::new(Gate::default());
    let gated_instance = gated(gate.clone()).start().await;
    let mut stream = RawStream::open(&gated_instance.address, &[]).await.unwrap();
    stream.send(
        vec![request(7, "m", b"a", 0), request(7, "m", b"b", 0)],
        vec![],
    );
    let results = stream.results(1).await;
    let (code, message) = failure(&results[&7]);
    assert_eq!(code, StatusCode::InvalidArgument, "{message}");
    assert!(message.contains("already in use"), "{message}");
    gate.open();
    let results = stream.results(1).await;
    assert!(payload(&results[&7]).starts_with(b"a|"));
    assert_eq!(instance.server.stats().admitted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_request_leaves_the_queue_unrun_and_unanswered() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone()).start().await;
    let mut stream = RawStream::open(&instance.address, &[]).await.unwrap();
    stream.send(
        vec![
            request(1, "m", b"runs", 0),
            request(2, "m", b"abandoned", 0),
        ],
        vec![],
    );
    eventually(Duration::from_secs(5), "1 running, 1 queued", || {
        gate.entered() == 1 && instance.server.stats().depth == 1
    })
    .await;
    stream.send(vec![], vec![2]);
    eventually(
        Duration::from_secs(5),
        "the abandoned request dropped",
        || instance.server.stats().cancelled_queued == 1,
    )
    .await;
    gate.open();
    stream.send(vec![request(3, "m", b"after", 0)], vec![]);
    let results = stream.results(2).await;
    assert_eq!(
        results.keys().copied().collect::<Vec<_>>(),
        vec![1, 3],
        "no result for 2"
    );
    assert_eq!(gate.entered(), 2, "the abandoned request never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_expiring_while_queued_is_answered_at_its_deadline() {
    let gate = Arc::new(Gate::default());
    let instance = gated(gate.clone()).start().await;
    let mut stream = RawStream::open(&instance.address, &[]).await.unwrap();
    stream.send(vec![request(1, "m", b"blocks", 0)], vec![]);
    eventually(Duration::from_secs(5), "the worker to be busy", || {
        gate.entered() == 1
    })
    .await;

    let started = Instant::now();
    stream.send(vec![request(2, "m", b"expires", 200)], vec![]);
    let results = stream.results(1).await;
    let waited = started.elapsed();
    let (code, message) = failure(&results[&2]);
    assert_eq!(code, StatusCode::DeadlineExceeded, "{message}");
    assert!(message.contains("while queued"), "{message}");
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_millis(700),
        "answered after {waited:?}"
    );
    let stats = instance.server.stats();
    assert_eq!((stats.expired_queued, stats.depth), (1, 0));
    gate.open();
    assert!(payload(&stream.results(1).await[&1]).starts_with(b"blocks"));
    assert_eq!(gate.entered(), 1, "the expired request never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_over_the_callers_limit_fails_alone_and_the_stream_goes_on() {
    let instance = InstanceSpec::echo().start().await;
    let mut stream = RawStream::open(&instance.address, &[("x-ros-max-result-bytes", "100")])
        .await
        .unwrap();
    stream.send(
        vec![
            request(1, "m", &[b'x'; 500], 0),
            request(2, "m", b"small", 0),
        ],
        vec![],
    );
    let results = stream.results(2).await;
    let (code, message) = failure(&results[&1]);
    assert_eq!(code, StatusCode::InvalidArgument, "{message}");
    assert!(message.contains("limit of 100 bytes"), "{message}");
    assert!(payload(&results[&2]).starts_with(b"small"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_more_entries_than_allowed_fails_the_stream_and_queues_nothing() {
    let instance = InstanceSpec::echo().start().await;
    let mut stream = RawStream::open(&instance.address, &[]).await.unwrap();
    let flood = (0..1025).map(|id| request(id, "m", b"x", 0)).collect();
    stream.send(flood, vec![]);
    let refused = stream.results.message().await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(refused.message().contains("1025"), "{refused:?}");
    assert_eq!(instance.server.stats().admitted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_the_token_is_refused_before_any_request_queues() {
    let token = ServiceToken::new("s3cret-token-for-this-service").unwrap();
    let instance = InstanceSpec::echo()
        .config(|c| c.token = Some(token.clone()))
        .start()
        .await;
    let refused = match RawStream::open(&instance.address, &[]).await {
        Ok(mut stream) => {
            stream.send(vec![request(1, "m", b"x", 0)], vec![]);
            stream.results.message().await.unwrap_err()
        }
        Err(status) => status,
    };
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    assert_eq!(instance.server.stats().admitted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_answer_alike() {
    let instance = InstanceSpec::echo()
        .config(|c| {
            c.methods = ["echo".to_string()].into();
            c.max_message_bytes = 1024;
        })
        .start()
        .await;
    for transport in [Transport::Multiplexed, Transport::Unary] {
        let client = client(|c| c.transport = transport);
        client.update_endpoints([&instance.address]).unwrap();
        let reply = client
            .call("echo", Bytes::from_static(b"hi"), None)
            .await
            .unwrap();
        assert!(reply.starts_with(b"hi"), "{transport:?}");
        let unknown = client.call("nope", Bytes::new(), None).await.unwrap_err();
        assert_eq!(
            unknown.code,
            StatusCode::NotFound,
            "{transport:?}: {unknown}"
        );
        let oversized = client
            .call("echo", Bytes::from(vec![0u8; 4096]), None)
            .await
            .unwrap_err();
        assert_eq!(
            oversized.code,
            StatusCode::InvalidArgument,
            "{transport:?}: {oversized}"
        );
        assert!(
            oversized
                .message
                .contains("over the instance's limit of 1024 bytes"),
            "{transport:?}: {oversized}"
        );
        // Many calls at once all get their own answers.
        let calls = (0..500).map(|i| {
            let client = client.clone();
            async move {
                let reply = client
                    .call("echo", Bytes::from(format!("{i}|")), None)
                    .await;
                (i, reply.unwrap())
            }
        });
        for (i, reply) in futures_util::future::join_all(calls).await {
            assert!(
                reply.starts_with(format!("{i}|").as_bytes()),
                "{transport:?}"
            );
        }
        let stats = client.stats();
        assert_eq!(
            (stats.succeeded, stats.retries),
            (501, 0),
            "{transport:?}: {stats:?}"
        );
    }
}
