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

//! The caller's side of `InvokeStream`: one long-lived stream per instance carries a client's
//! calls to it, as many requests to a message as are waiting to be sent.
//!
//! The stream opens on the first call and again on the first call after it broke. When it breaks
//! (connection lost, instance stopped, caller refused) every call waiting on it fails at once,
//! as the streams of unary calls on a lost connection do, so the client retries them elsewhere.
//! A call whose future is dropped (deadline, abort, closed client) tells the instance, which
//! drops the request if it is still queued.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;
use parking_lot::Mutex;
use prost::Message;
use tokio::sync::{mpsc, oneshot};
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

use crate::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use crate::proto::{InvokeBatch, InvokeRequest, ResultBatch};
use crate::status::{RosError, StatusCode};
use crate::stream_server::{FRAME_MAX_ITEMS, FRAME_TARGET_BYTES, outcome};

/// Why a call got no result from its instance.
#[derive(Debug, Clone)]
pub(crate) struct CallFailure {
    pub(crate) error: RosError,
    /// The stream or its connection failed: no response was produced.
    pub(crate) transport: bool,
}

type Waiter = oneshot::Sender<Result<Bytes, CallFailure>>;

/// Calls waiting for their result on one stream.
#[derive(Default)]
struct Waiting {
    by_request_id: HashMap<u64, Waiter>,
    /// Set once the stream failed; a call that finds it set opens a new stream.
    broken: bool,
}

enum Outbound {
    Request(InvokeRequest),
    Abandon(u64),
}

/// One open stream.
struct OpenStream {
    outbound: mpsc::UnboundedSender<Outbound>,
    waiting: Arc<Mutex<Waiting>>,
}

/// The multiplexed path to one instance. Shared by the clones of its endpoint-set member.
pub(crate) struct Multiplexer {
    stub: RpcOperatorServiceClient<Channel>,
    /// Sent when a stream opens: credentials and the largest result this client accepts.
    metadata: MetadataMap,
    current: Mutex<Option<Arc<OpenStream>>>,
}

impl Multiplexer {
    /// A multiplexer over `channel`, whose streams open with `metadata`; `max_message_bytes` is
    /// the client's limit for one request or result.
    pub(crate) fn new(
        channel: Channel,
        mut metadata: MetadataMap,
        max_message_bytes: usize,
    ) -> Multiplexer {
        // A message holds up to about FRAME_TARGET_BYTES of results plus one of any size.
        let max_frame = max_message_bytes
            .saturating_add(FRAME_TARGET_BYTES)
            .saturating_add(crate::stream_server::FRAME_SLACK_BYTES);
        let stub = RpcOperatorServiceClient::new(channel)
            .max_decoding_message_size(max_frame)
            .max_encoding_message_size(max_frame);
        metadata.insert(
            crate::stream_server::MAX_RESULT_HEADER,
            max_message_bytes
                .to_string()
                .parse()
                .expect("digits are a header value"),
        );
        Multiplexer {
            stub,
            metadata,
            current: Mutex::new(None),
        }
    }

    /// Sends `request` on the stream and waits for its outcome.
    pub(crate) async fn call(&self, request: InvokeRequest) -> Result<Bytes, CallFailure> {
        let request_id = request.request_id;
        let (waiter, outcome) = oneshot::channel();
        let stream = self.register(request_id, waiter);
        // If the stream broke since, it has answered the call already.
        let _ = stream.outbound.send(Outbound::Request(request));
        let mut abandon = AbandonOnDrop {
            stream: &stream,
            request_id,
            armed: true,
        };
        let outcome = outcome.await;
        abandon.armed = false;
        outcome.unwrap_or_else(|_| {
            Err(CallFailure {
                error: RosError::unavailable("the stream to the instance dropped the call"),
                transport: true,
            })
        })
    }

    /// Registers a call on the current stream, opening one if there is none or it broke.
    fn register(&self, request_id: u64, waiter: Waiter) -> Arc<OpenStream> {
        let mut current = self.current.lock();
        if let Some(stream) = current.as_ref() {
            let mut waiting = stream.waiting.lock();
            if !waiting.broken {
                waiting.by_request_id.insert(request_id, waiter);
                return stream.clone();
            }
        }
        let stream = self.open();
        stream
            .waiting
            .lock()
            .by_request_id
            .insert(request_id, waiter);
        *current = Some(stream.clone());
        stream
    }

    fn open(&self) -> Arc<OpenStream> {
        let (outbound, requests) = mpsc::unbounded_channel();
        let waiting = Arc::new(Mutex::new(Waiting::default()));
        let mut request = tonic::Request::new(outbound_messages(requests));
        *request.metadata_mut() = self.metadata.clone();
        let mut stub = self.stub.clone();
        let receiving = waiting.clone();
        tokio::spawn(async move {
            let status = match stub.invoke_stream(request).await {
                Ok(response) => {
                    let mut inbound = response.into_inner();
                    loop {
                        match inbound.message().await {
                            Ok(Some(results)) => deliver(&receiving, results),
                            Ok(None) => {
                                break tonic::Status::unavailable("the instance ended the stream");
                            }
                            Err(status) => break status,
                        }
                    }
                }
                Err(status) => status,
            };
            fail_all(&receiving, status);
        });
        Arc::new(OpenStream { outbound, waiting })
    }
}

/// Hands each result to its waiting call.
fn deliver(waiting: &Mutex<Waiting>, results: ResultBatch) {
    let mut waiting = waiting.lock();
    for result in results.results {
        if let Some(waiter) = waiting.by_request_id.remove(&result.request_id) {
            let _ = waiter.send(outcome(result).map_err(|error| CallFailure {
                error,
                transport: false,
            }));
        }
    }
}

/// The stream failed: every call waiting on it fails with why.
fn fail_all(waiting: &Mutex<Waiting>, status: tonic::Status) {
    // A failure of the connection (tonic gives the transport error as the source) or of the
    // instance means no response was produced: UNAVAILABLE, retried elsewhere. A refusal of the
    // stream itself (UNAUTHENTICATED, say) keeps its code.
    let transport = std::error::Error::source(&status).is_some()
        || StatusCode::from_grpc(status.code()) == StatusCode::Unavailable;
    let mut error = RosError::from(status);
    if transport {
        error.code = StatusCode::Unavailable;
    }
    let failure = CallFailure { error, transport };
    let waiters = {
        let mut waiting = waiting.lock();
        waiting.broken = true;
        std::mem::take(&mut waiting.by_request_id)
    };
    if !waiters.is_empty() {
        tracing::debug!(calls = waiters.len(), error = %failure.error, "stream to instance broke");
    }
    for (_, waiter) in waiters {
        let _ = waiter.send(Err(failure.clone()));
    }
}

/// Tells the instance that a call went away before its result arrived.
struct AbandonOnDrop<'a> {
    stream: &'a OpenStream,
    request_id: u64,
    armed: bool,
}

impl Drop for AbandonOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed
            && self
                .stream
                .waiting
                .lock()
                .by_request_id
                .remove(&self.request_id)
                .is_some()
        {
            let _ = self
                .stream
                .outbound
                .send(Outbound::Abandon(self.request_id));
        }
    }
}

/// The stream's messages: everything waiting to be sent when the transport asks for the next
/// message, up to about [`FRAME_TARGET_BYTES`] or [`FRAME_MAX_ITEMS`].
fn outbound_messages(
    requests: mpsc::UnboundedReceiver<Outbound>,
) -> impl Stream<Item = InvokeBatch> + Send + 'static {
    futures_util::stream::unfold(
        (requests, None::<Outbound>),
        |(mut requests, mut held)| async move {
            let mut next = match held.take() {
                Some(item) => Some(item),
                None => Some(requests.recv().await?),
            };
            let mut message = InvokeBatch::default();
            let mut size = 0;
            while let Some(item) = next.take() {
                match item {
                    Outbound::Abandon(request_id) => message.abandoned.push(request_id),
                    Outbound::Request(request) => {
                        let length = request.encoded_len();
                        if !message.requests.is_empty() && size + length > FRAME_TARGET_BYTES {
                            held = Some(Outbound::Request(request));
                            break;
                        }
                        size += length;
                        message.requests.push(request);
                    }
                }
                if message.requests.len() + message.abandoned.len() >= FRAME_MAX_ITEMS {
                    break;
                }
                next = requests.try_recv().ok();
            }
            Some((message, (requests, held)))
        },
    )
}
