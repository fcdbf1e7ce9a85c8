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

//! Callers authenticated as principals act only for their own client ids: they cannot cancel
//! another principal's queued requests, nor call under another's id; the owner (the service token)
//! still may.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Gate, Instance, eventually, gated, raw_channel};
use ros_core::auth::{PRINCIPAL_HEADER, TOKEN_HEADER};
use ros_core::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use ros_core::proto::{CancelRequest, InvokeRequest};
use ros_core::{ClientConfig, RosClient, RosError, ServiceToken, StatusCode};
use tokio::task::JoinSet;

const SERVICE_TOKEN: &str = "the-service-token-of-this-test";

fn service_token() -> ServiceToken {
    ServiceToken::new(SERVICE_TOKEN).unwrap()
}

/// A client authenticated as `principal`, with that principal's credential.
fn principal_client(principal: &str, client_id: &str, epoch: u64, address: &str) -> RosClient {
    let client = RosClient::new(ClientConfig {
        client_id: client_id.to_string(),
        client_epoch: epoch,
        principal: Some(principal.to_string()),
        token: Some(service_token().credential(principal).unwrap()),
        ..ClientConfig::default()
    })
    .unwrap();
    client.update_endpoints([address]).unwrap();
    client
}

/// A client holding the service token itself: the owner.
fn owner_client(address: &str) -> RosClient {
    let client = RosClient::new(ClientConfig {
        client_id: "coordinator/op".to_string(),
        token: Some(service_token()),
        ..ClientConfig::default()
    })
    .unwrap();
    client.update_endpoints([address]).unwrap();
    client
}

/// An instance with the service token whose one worker blocks on `gate`, so that calls queue.
async fn gated_instance(gate: Arc<Gate>) -> Instance {
    gated(gate)
        .config(|c| c.token = Some(service_token()))
        .start()
        .await
}

/// Starts `count` calls of `client`, and waits until one runs and the rest are queued.
async fn park_calls(
    client: &RosClient,
    count: usize,
    instance: &Instance,
) -> JoinSet<Result<Bytes, RosError>> {
    let mut calls = JoinSet::new();
    for i in 0..count {
        let client = client.clone();
        calls.spawn(async move { client.call("m", Bytes::from(format!("{i}")), None).await });
    }
    eventually(
        Duration::from_secs(10),
        "one running, the rest queued",
        || {
            let stats = instance.server.stats();
            stats.executing == 1 && stats.depth == count as u64 - 1
        },
    )
    .await;
    calls
}

async fn outcomes(mut calls: JoinSet<Result<Bytes, RosError>>) -> Vec<Result<(), StatusCode>> {
    let mut codes = Vec::new();
    while let Some(done) = calls.join_next().await {
        codes.push(done.unwrap().map(|_| ()).map_err(|e| e.code));
    }
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_cannot_cancel_another_principals_queued_requests() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let b = principal_client("job/b", "job/b/0", 0, &instance.address);
    let calls = park_calls(&b, 4, &instance).await;

    // A holds a correct credential of its own, and names B's client id and B's prefix.
    let a = principal_client("job/a", "job/a/0", 7, &instance.address);
    for foreign in ["job/b/0", "job/b"] {
        let refused = a.cancel_epochs(foreign, u64::MAX).await.unwrap_err();
        assert_eq!(refused.code, StatusCode::PermissionDenied, "{refused}");
        assert!(
            refused.message.contains(&format!("'{foreign}'"))
                && refused.message.contains("'job/a'"),
            "names the client id and the principal: {refused}"
        );
        assert!(!refused.message.contains(SERVICE_TOKEN), "{refused}");
    }
    let stats = instance.server.stats();
    assert_eq!(stats.cancelled_queued, 0, "nothing was cancelled");
    assert_eq!(stats.depth, 3);

    // B's requests all still run and complete.
    gate.open();
    assert_eq!(outcomes(calls).await, vec![Ok(()); 4]);
    assert_eq!(gate.entered(), 4);
    assert_eq!(instance.server.stats().completed, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_principal_cancels_its_own_earlier_epochs() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let before = principal_client("job/a", "job/a/0", 0, &instance.address);
    let calls = park_calls(&before, 4, &instance).await;

    let after = principal_client("job/a", "job/a/0", 1, &instance.address);
    assert_eq!(after.cancel_earlier_epochs().await, Ok(3));
    // The principal itself is one of its client ids too.
    assert_eq!(after.cancel_epochs("job/a", 1).await, Ok(0));

    gate.open();
    let codes = outcomes(calls).await;
    assert_eq!(codes.iter().filter(|c| c.is_ok()).count(), 1, "{codes:?}");
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == Err(StatusCode::Cancelled))
            .count(),
        3,
        "{codes:?}"
    );
    assert_eq!(gate.entered(), 1, "cancelled requests never ran");
    assert_eq!(instance.server.stats().cancelled_queued, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_still_cancels_any_client() {
    let gate = Arc::new(Gate::default());
    let instance = gated_instance(gate.clone()).await;
    let b = principal_client("job/b", "job/b/0", 0, &instance.address);
    let calls = park_calls(&b, 4, &instance).await;

    let owner = owner_client(&instance.address);
    assert_eq!(owner.cancel_epochs("job/b/0", 1).await, Ok(3));

    gate.open();
    let codes = outcomes(calls).await;
    assert_eq!(codes.iter().filter(|c| c.is_ok()).count(), 1, "{codes:?}");
    assert_eq!(instance.server.stats().cancelled_queued, 3);
    // The owner calls under any client id.
    let reply = owner
        .call("m", Bytes::from_static(b"x"), None)
        .await
        .unwrap();
    assert!(reply.starts_with(b"x|"));
}

#[tokio::test]
async fn a_credential_presented_under_another_principal_is_unauthenticated() {
    let instance = common::InstanceSpec::echo()
        .config(|c| c.token = Some(service_token()))
        .start()
        .await;
    let credential_of_a = service_token().credential("job/a").unwrap();
    let impostor = RosClient::new(ClientConfig {
        client_id: "job/b/0".to_string(),
        principal: Some("job/b".to_string()),
        token: Some(credential_of_a),
        ..ClientConfig::default()
    })
    .unwrap();
    impostor.update_endpoints([&instance.address]).unwrap();

    let error = impostor.call("m", Bytes::new(), None).await.unwrap_err();
    assert_eq!(error.code, StatusCode::Unauthenticated, "{error}");
    let error = impostor.cancel_epochs("job/b/0", 1).await.unwrap_err();
    assert_eq!(error.code, StatusCode::Unauthenticated, "{error}");
    let stats = instance.server.stats();
    assert_eq!(stats.rejected_unauthenticated, 2);
    assert_eq!(stats.admitted, 0);

    // The same credential under its own principal is served.
    let a = principal_client("job/a", "job/a/0", 0, &instance.address);
    a.call("m", Bytes::new(), None).await.unwrap();
}

#[tokio::test]
async fn a_call_under_a_client_id_outside_the_principal_is_permission_denied() {
    let instance = common::InstanceSpec::echo()
        .config(|c| c.token = Some(service_token()))
        .start()
        .await;
    // The client refuses such an id itself, so this is what an outside caller could send.
    let mut stub = RpcOperatorServiceClient::new(raw_channel(&instance.address).await);
    let as_a = |client_id: &str| {
        let mut request = tonic::Request::new(InvokeRequest {
            client_id: client_id.to_string(),
            method: "m".to_string(),
            ..InvokeRequest::default()
        });
        let metadata = request.metadata_mut();
        metadata.insert(PRINCIPAL_HEADER, "job/a".parse().unwrap());
        metadata.insert(TOKEN_HEADER, credential_header("job/a"));
        request
    };
    for foreign in ["job/b/0", "job/ab/0", "job"] {
        let status = stub.invoke(as_a(foreign)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::PermissionDenied, "{status:?}");
        assert!(
            status.message().contains(&format!("'{foreign}'"))
                && status.message().contains("'job/a'"),
            "{status:?}"
        );
    }
    let long = format!("job/b/{}", "x".repeat(10_000));
    let status = stub.invoke(as_a(&long)).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
    assert!(status.message().len() < 600, "the id is cut: {status:?}");
    assert_eq!(instance.server.stats().admitted, 0, "nothing was queued");

    // Within the principal it is served, and a raw Cancel outside it is refused as well.
    stub.invoke(as_a("job/a/0")).await.unwrap();
    let mut cancel = tonic::Request::new(CancelRequest {
        client_id: "job/b/0".to_string(),
        below_epoch: 1,
    });
    cancel
        .metadata_mut()
        .insert(PRINCIPAL_HEADER, "job/a".parse().unwrap());
    cancel
        .metadata_mut()
        .insert(TOKEN_HEADER, credential_header("job/a"));
    let status = stub.cancel(cancel).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::PermissionDenied);
}

#[test]
fn a_client_with_a_principal_must_use_an_id_within_it_and_a_credential() {
    let config = |client_id: &str, token: Option<ServiceToken>| ClientConfig {
        client_id: client_id.to_string(),
        principal: Some("job/a".to_string()),
        token,
        ..ClientConfig::default()
    };
    let credential = || Some(service_token().credential("job/a").unwrap());
    for outside in ["job/b/0", "job/ab", "job"] {
        let error = RosClient::new(config(outside, credential())).err().unwrap();
        assert_eq!(error.code, StatusCode::InvalidArgument);
        assert!(
            error.message.contains(&format!("'{outside}'")) && error.message.contains("'job/a'"),
            "names both: {error}"
        );
    }
    let error = RosClient::new(config("job/a/0", None)).err().unwrap();
    assert_eq!(error.code, StatusCode::InvalidArgument);
    assert!(error.message.contains("principal needs token"), "{error}");
    let error = ClientConfig::from_options([("clientId", "job/a/0"), ("principal", "has space")])
        .unwrap_err();
    assert_eq!(error.code, StatusCode::InvalidArgument);
    RosClient::new(config("job/a", credential())).unwrap();
    RosClient::new(config("job/a/7", credential())).unwrap();
}

/// The credential of `principal` as a header value; computed as a client computes it, checked
/// against an independent implementation by the unit tests' known answer.
fn credential_header(principal: &str) -> tonic::metadata::AsciiMetadataValue {
    hmac_hex(SERVICE_TOKEN, &format!("flink-ros-credential:{principal}"))
        .parse()
        .unwrap()
}

/// HMAC-SHA256 in lowercase hex, written out here so that the raw requests do not depend on the
/// code under test.
fn hmac_hex(key: &str, message: &str) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
