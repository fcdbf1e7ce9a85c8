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

//! The instance's side of `InvokeStream`, the multiplexed path: many requests over one HTTP/2
//! stream, several to a message.
//!
//! Each request goes through the same checks and the same bounded queue as a unary `Invoke`, and
//! gets the same errors, as its own result on the stream. The response stream drives everything:
//! while tonic polls it, it reads the caller's messages, admits their requests, expires the ones
//! whose deadline passes while queued and sends the results that workers deliver, as many to a
//! message as are ready. When the caller goes away tonic drops it, and every request of the stream
//! still queued leaves the queue (a running one's result is discarded), as a unary handler's does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use prost::Message;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::time::{DelayQueue, delay_queue};
use tonic::{Status, Streaming};

use crate::auth::Identity;
use crate::proto::invoke_result::Outcome;
use crate::proto::{Failure, InvokeBatch, InvokeRequest, InvokeResult, ResultBatch};
use crate::queue::{Admission, RequestQueue, Responder, StreamResult};
use crate::status::{RosError, StatusCode};

/// A message of results is sent once it holds this many bytes (or every ready result); larger
/// ones would hold back the results behind them.
pub(crate) const FRAME_TARGET_BYTES: usize = 64 * 1024;
/// Most requests or results in one message.
pub(crate) const FRAME_MAX_ITEMS: usize = 1024;
/// What a message may hold beyond one request or result of the size limit: its own framing.
pub(crate) const FRAME_SLACK_BYTES: usize = 1024;
/// HTTP/2 flow-control windows: one stream carries all of a client's calls to an instance, so it
/// gets a window that keeps many small requests (or a few large ones) moving without waiting for
/// window updates on a loopback or LAN round trip.
pub(crate) const STREAM_WINDOW_BYTES: u32 = 4 * 1024 * 1024;
/// The whole connection's window, above the stream's so that unary calls beside it move too.
pub(crate) const CONNECTION_WINDOW_BYTES: u32 = 8 * 1024 * 1024;
/// Header with which a caller opening a stream says the largest result it accepts (its own
/// `maxMessageBytes`); larger results are answered with an error instead of breaking its stream.
pub(crate) const MAX_RESULT_HEADER: &str = "x-ros-max-result-bytes";

/// Refuses a method the instance does not have.
pub(crate) type MethodCheck = Arc<dyn Fn(&str) -> Result<(), RosError> + Send + Sync>;

/// What a stream needs of its instance.
pub(crate) struct Instance {
    pub(crate) queue: Arc<RequestQueue>,
    /// Refuses a method the instance does not have (counting the refusal).
    pub(crate) check_method: MethodCheck,
    pub(crate) max_message_bytes: usize,
    /// The largest result the caller and the instance both accept.
    pub(crate) max_result_bytes: usize,
    /// Cancelled when the instance shuts down: streams stop taking requests, send the results
    /// (the queue answers its requests `UNAVAILABLE` then) and end, so that the shutdown does
    /// not wait for callers to close their streams.
    pub(crate) shutting_down: CancellationToken,
}

/// A request of this stream that is queued or running.
struct Outstanding {
    queue_id: u64,
    deadline: Option<(delay_queue::Key, u64)>,
}

/// The state of one stream; see the module documentation.
struct StreamState {
    instance: Instance,
    identity: Identity,
    /// `None` once the caller has sent its last message.
    inbound: Option<Streaming<InvokeBatch>>,
    results: mpsc::UnboundedSender<StreamResult>,
    delivered: mpsc::UnboundedReceiver<StreamResult>,
    /// By the caller's request id.
    outstanding: HashMap<u64, Outstanding>,
    /// Request ids by deadline.
    deadlines: DelayQueue<u64>,
    /// Results to send that did not come from a worker (refusals, expiries).
    ready: Vec<InvokeResult>,
    /// Set after the stream failed: nothing more is sent.
    finished: bool,
}

/// Serves one `InvokeStream` from a caller authenticated as `identity`.
pub(crate) fn serve(
    instance: Instance,
    identity: Identity,
    inbound: Streaming<InvokeBatch>,
) -> impl Stream<Item = Result<ResultBatch, Status>> + Send + 'static {
    let (results, delivered) = mpsc::unbounded_channel();
    let state = StreamState {
        instance,
        identity,
        inbound: Some(inbound),
        results,
        delivered,
        outstanding: HashMap::new(),
        deadlines: DelayQueue::new(),
        ready: Vec::new(),
        finished: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        let item = state.next_message().await?;
        Some((item, state))
    })
}

impl StreamState {
    /// The next message to send: a batch of results once some are ready, an error if the
    /// caller's side failed, nothing once the caller is done and every request is answered.
    async fn next_message(&mut self) -> Option<Result<ResultBatch, Status>> {
        if self.finished {
            return None;
        }
        loop {
            while let Ok((request_id, outcome)) = self.delivered.try_recv() {
                self.deliver(request_id, outcome);
            }
            if !self.ready.is_empty() {
                return Some(Ok(self.take_ready()));
            }
            if self.inbound.is_none() && self.outstanding.is_empty() {
                return None;
            }
            tokio::select! {
                biased;
                Some((request_id, outcome)) = self.delivered.recv() => {
                    self.deliver(request_id, outcome);
                }
                _ = self.instance.shutting_down.cancelled(), if self.inbound.is_some() => {
                    self.inbound = None;
                }
                Some(expired) = self.deadlines.next(), if !self.deadlines.is_empty() => {
                    self.expire(expired.into_inner());
                }
                message = next_inbound(&mut self.inbound), if self.inbound.is_some() => {
                    match message {
                        Ok(Some(batch)) => {
                            if let Err(status) = self.accept(batch) {
                                self.finished = true;
                                return Some(Err(status));
                            }
                        }
                        Ok(None) => self.inbound = None,
                        Err(status) => {
                            self.finished = true;
                            return Some(Err(status));
                        }
                    }
                }
            }
        }
    }

    /// Queues a worker's outcome for sending, unless its caller abandoned it or it expired.
    fn deliver(&mut self, request_id: u64, outcome: Result<Bytes, RosError>) {
        if self.outstanding_done(request_id).is_none() {
            return;
        }
        let limit = self.instance.max_result_bytes;
        let outcome = match outcome {
            Ok(payload) if payload.len() > limit => Err(RosError::invalid_argument(format!(
                "result of {} bytes is over the limit of {limit} bytes (option maxMessageBytes \
                 of the service and of its callers)",
                payload.len()
            ))),
            other => other,
        };
        self.ready.push(result(request_id, outcome));
    }

    /// Takes the ready results, up to one message's worth.
    fn take_ready(&mut self) -> ResultBatch {
        let mut size = 0;
        let mut count = 0;
        for result in &self.ready {
            if count > 0 && (size >= FRAME_TARGET_BYTES || count >= FRAME_MAX_ITEMS) {
                break;
            }
            size += result.encoded_len();
            count += 1;
        }
        let rest = self.ready.split_off(count);
        ResultBatch {
            results: std::mem::replace(&mut self.ready, rest),
        }
    }

    /// Takes a message of the caller. One with more entries than a well-behaved client sends
    /// fails the stream: its refusals alone could hold more memory than the message itself.
    fn accept(&mut self, batch: InvokeBatch) -> Result<(), Status> {
        let entries = batch.requests.len() + batch.abandoned.len();
        if entries > FRAME_MAX_ITEMS {
            return Err(Status::invalid_argument(format!(
                "a message of the stream carries {entries} requests and abandoned ids, more than \
                 the {FRAME_MAX_ITEMS} allowed"
            )));
        }
        for request_id in batch.abandoned {
            if let Some(outstanding) = self.outstanding_done(request_id) {
                self.instance.queue.abandon(outstanding.queue_id);
            }
        }
        for request in batch.requests {
            let request_id = request.request_id;
            if let Err(error) = self.admit(request) {
                self.ready.push(result(request_id, Err(error)));
            }
        }
        Ok(())
    }

    fn admit(&mut self, request: InvokeRequest) -> Result<(), RosError> {
        self.identity.check(&request.client_id, "call")?;
        (self.instance.check_method)(&request.method)?;
        check_request_size(&request, self.instance.max_message_bytes)?;
        let request_id = request.request_id;
        if self.outstanding.contains_key(&request_id) {
            return Err(RosError::invalid_argument(format!(
                "request id {request_id} is already in use by an unanswered request of this stream"
            )));
        }
        let timeout = Duration::from_millis(request.timeout_millis);
        let deadline = (request.timeout_millis > 0)
            .then(|| Instant::now().checked_add(timeout))
            .flatten();
        let queue_id = self.instance.queue.admit(
            Admission {
                request_id,
                client_id: request.client_id,
                client_epoch: request.client_epoch,
                method: request.method,
                payload: request.payload,
                deadline,
                identity_key: request.identity_key,
            },
            Responder::Stream {
                results: self.results.clone(),
                request_id,
            },
        )?;
        let deadline = deadline.map(|_| {
            (
                self.deadlines.insert(request_id, timeout),
                request.timeout_millis,
            )
        });
        self.outstanding
            .insert(request_id, Outstanding { queue_id, deadline });
        Ok(())
    }

    /// Forgets an outstanding request (answered, abandoned or expired) and its deadline.
    fn outstanding_done(&mut self, request_id: u64) -> Option<Outstanding> {
        let outstanding = self.outstanding.remove(&request_id)?;
        if let Some((key, _)) = &outstanding.deadline {
            self.deadlines.try_remove(key);
        }
        Some(outstanding)
    }

    /// A request's deadline passed: it leaves the queue if it is still there, or its result will
    /// be discarded if it runs; either way its caller is answered now, as by a unary handler.
    fn expire(&mut self, request_id: u64) {
        let Some(outstanding) = self.outstanding.remove(&request_id) else {
            return;
        };
        let queue = &self.instance.queue;
        let expired = queue.expire(outstanding.queue_id);
        if !expired {
            queue.abandon(outstanding.queue_id);
        }
        let millis = outstanding.deadline.map_or(0, |(_, millis)| millis);
        self.ready.push(result(
            request_id,
            Err(RosError::deadline_exceeded(format!(
                "the request passed its deadline of {millis} ms {}",
                if expired {
                    "while queued"
                } else {
                    "while running"
                }
            ))),
        ));
    }
}

impl Drop for StreamState {
    /// The caller went away (or the stream ended): its queued requests leave the queue.
    fn drop(&mut self) {
        for (_, outstanding) in self.outstanding.drain() {
            self.instance.queue.abandon(outstanding.queue_id);
        }
    }
}

/// Refuses a request over the instance's size limit, naming both and the option.
pub(crate) fn check_request_size(request: &InvokeRequest, limit: usize) -> Result<(), RosError> {
    let size = request.encoded_len();
    if size > limit {
        return Err(RosError::invalid_argument(format!(
            "request of {size} bytes is over the instance's limit of {limit} bytes (option \
             maxMessageBytes)"
        )));
    }
    Ok(())
}

/// The largest result the caller of a stream accepts, if it said.
pub(crate) fn caller_result_limit(metadata: &tonic::metadata::MetadataMap) -> Option<usize> {
    metadata.get(MAX_RESULT_HEADER)?.to_str().ok()?.parse().ok()
}

async fn next_inbound(
    inbound: &mut Option<Streaming<InvokeBatch>>,
) -> Result<Option<InvokeBatch>, Status> {
    match inbound {
        Some(inbound) => inbound.message().await,
        None => std::future::pending().await,
    }
}

/// A request's outcome as sent on the stream.
pub(crate) fn result(request_id: u64, outcome: Result<Bytes, RosError>) -> InvokeResult {
    InvokeResult {
        request_id,
        outcome: Some(match outcome {
            Ok(payload) => Outcome::Payload(payload),
            Err(error) => Outcome::Failure(Failure {
                code: error.code.as_i32(),
                message: error.message,
            }),
        }),
    }
}

/// A result as received from the stream.
pub(crate) fn outcome(result: InvokeResult) -> Result<Bytes, RosError> {
    match result.outcome {
        Some(Outcome::Payload(payload)) => Ok(payload),
        Some(Outcome::Failure(failure)) => Err(RosError::new(
            StatusCode::from_grpc(tonic::Code::from_i32(failure.code)),
            failure.message,
        )),
        None => Err(RosError::internal(format!(
            "instance answered request {} with neither a result nor a failure",
            result.request_id
        ))),
    }
}
