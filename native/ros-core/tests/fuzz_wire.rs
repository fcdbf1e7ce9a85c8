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

//! Property tests of what an instance does with whatever arrives on the wire: random bytes as
//! the request message, and well-formed requests with random fields. Every request gets a typed
//! answer (never `INTERNAL` or `UNKNOWN`, which would blame the service for the caller's bytes),
//! and the instance keeps serving. A short run is part of the tests; raise `PROPTEST_CASES` for a
//! longer one.

mod common;

use bytes::{BufMut, Bytes};
use common::InstanceSpec;
use proptest::prelude::*;
use prost::Message;
use ros_core::proto::{InvokeRequest, InvokeResponse};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic_prost::ProstCodec;

/// Sends its bytes as the message, as they are; reads the answer as an `InvokeResponse`.
#[derive(Default)]
struct RawCodec;

struct RawEncoder;

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

struct ResponseDecoder(<ProstCodec<InvokeRequest, InvokeResponse> as Codec>::Decoder);

impl Decoder for ResponseDecoder {
    type Item = InvokeResponse;
    type Error = tonic::Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<InvokeResponse>, tonic::Status> {
        self.0.decode(buf)
    }
}

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = InvokeResponse;
    type Encoder = RawEncoder;
    type Decoder = ResponseDecoder;

    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }

    fn decoder(&mut self) -> ResponseDecoder {
        ResponseDecoder(ProstCodec::<InvokeRequest, InvokeResponse>::default().decoder())
    }
}

/// The answers a caller may get for its own bytes: anything but a fault of the service.
const TYPED: [tonic::Code; 5] = [
    tonic::Code::Ok,
    tonic::Code::InvalidArgument,
    tonic::Code::NotFound,
    tonic::Code::DeadlineExceeded,
    tonic::Code::ResourceExhausted,
];

fn request() -> impl Strategy<Value = Vec<u8>> {
    let random = proptest::collection::vec(any::<u8>(), 0..512);
    let well_formed = (
        any::<u64>(),
        ".{0,40}",
        any::<u64>(),
        prop_oneof!["echo".prop_map(String::from), ".{0,300}"],
        proptest::collection::vec(any::<u8>(), 0..2048),
        prop_oneof![Just(0u64), 1u64..5_000, any::<u64>()],
    )
        .prop_map(
            |(request_id, client_id, client_epoch, method, payload, timeout_millis)| {
                InvokeRequest {
                    request_id,
                    client_id,
                    client_epoch,
                    method,
                    payload: Bytes::from(payload),
                    timeout_millis,
                    identity_key: Default::default(),
                }
                .encode_to_vec()
            },
        );
    prop_oneof![random, well_formed]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_request_gets_a_typed_answer_and_the_instance_keeps_serving(
        requests in proptest::collection::vec(request(), 1..16),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let instance = InstanceSpec::echo()
                .workers(1, 16)
                .config(|c| {
                    c.methods = ["echo".to_string()].into();
                    c.max_message_bytes = 1024;
                })
                .start()
                .await;
            let channel = common::raw_channel(&instance.address).await;
            for bytes in requests {
                let mut grpc = tonic::client::Grpc::new(channel.clone());
                grpc.ready().await.unwrap();
                let code = match grpc
                    .unary::<Vec<u8>, InvokeResponse, _>(
                        tonic::Request::new(bytes.clone()),
                        "/ros.v1.RpcOperatorService/Invoke".parse().unwrap(),
                        RawCodec,
                    )
                    .await
                {
                    Ok(_) => tonic::Code::Ok,
                    Err(status) => status.code(),
                };
                prop_assert!(TYPED.contains(&code), "{:?} for {} bytes", code, bytes.len());
            }
            // Still serving a well-formed call.
            let client = common::client(|_| {});
            client.update_endpoints([instance.address.clone()]).unwrap();
            let reply = client.call("echo", Bytes::from_static(b"ok"), None).await;
            prop_assert!(reply.is_ok(), "{:?}", reply);
            Ok(())
        })?;
    }
}
