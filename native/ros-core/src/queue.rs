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

//! The bounded request queue of a service instance, between gRPC handlers (Tokio tasks) and the
//! host-language workers that poll it from their own threads.
//!
//! Queued requests live in a `BTreeMap` keyed by an increasing id, which gives FIFO order and
//! cheap removal from the middle: a caller that goes away, an epoch cancel, or an expired deadline
//! takes its request out before any worker sees it.
//!
//! Workers take batches of one method: the method of the oldest request, and the requests of that
//! method behind it, up to the method's [`BatchPolicy`]. A batch that is not full may wait for
//! more requests until its oldest request has waited `max_delay`; the requests stay queued (and
//! cancellable) until the batch is taken.

use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::stats::{CodeCounters, LatencyHistogram, LatencySnapshot};
use crate::status::{RosError, StatusCode};

/// A request's outcome on its way to a multiplexed stream: the request's `request_id` and it.
pub(crate) type StreamResult = (u64, Result<Bytes, RosError>);

/// Where a request's outcome goes.
pub(crate) enum Responder {
    /// The unary handler waiting for it.
    Call(oneshot::Sender<Result<Bytes, RosError>>),
    /// The multiplexed stream that carried the request, which sends it with others.
    Stream {
        results: mpsc::UnboundedSender<StreamResult>,
        request_id: u64,
    },
}

impl Responder {
    /// Delivers the outcome; false when nobody waits for it any more.
    fn send(self, outcome: Result<Bytes, RosError>) -> bool {
        match self {
            Responder::Call(sender) => sender.send(outcome).is_ok(),
            Responder::Stream {
                results,
                request_id,
            } => results.send((request_id, outcome)).is_ok(),
        }
    }
}

impl From<oneshot::Sender<Result<Bytes, RosError>>> for Responder {
    fn from(sender: oneshot::Sender<Result<Bytes, RosError>>) -> Responder {
        Responder::Call(sender)
    }
}

/// A request handed to a worker. Its `id` is what the worker completes it with.
#[derive(Debug, Clone)]
pub struct ServerRequest {
    /// Queue-local id, unique within this instance; pass it to `complete`.
    pub id: u64,
    /// The client's id for this request.
    pub request_id: u64,
    /// Who called.
    pub client_id: String,
    /// The caller's attempt number.
    pub client_epoch: u64,
    /// The operator method to run.
    pub method: String,
    /// The argument.
    pub payload: Bytes,
    /// When the caller stops waiting, if it said.
    pub deadline: Option<Instant>,
    /// How long the request waited in the queue.
    pub queue_wait: Duration,
}

/// The admission data of a request, as it comes off the wire.
pub(crate) struct Admission {
    pub request_id: u64,
    pub client_id: String,
    pub client_epoch: u64,
    pub method: String,
    pub payload: Bytes,
    pub deadline: Option<Instant>,
}

/// How a method's requests are batched: at most `max_size` per batch, and a batch that is not full
/// waits until its oldest request has been queued for `max_delay` (zero: never waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchPolicy {
    /// Most requests in one batch.
    pub max_size: usize,
    /// Longest a batch waits to fill, counted from when its oldest request was queued.
    pub max_delay: Duration,
}

impl Default for BatchPolicy {
    /// Batches of up to 64, never waiting to fill: the defaults of `options.properties`.
    fn default() -> BatchPolicy {
        BatchPolicy {
            max_size: 64,
            max_delay: Duration::ZERO,
        }
    }
}

/// The batch policies of an instance: one for every method, some methods with their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batching {
    /// The policy of methods without one of their own.
    pub default: BatchPolicy,
    /// Policies by method.
    pub methods: BTreeMap<String, BatchPolicy>,
}

impl Batching {
    /// The policy of `method`.
    pub fn policy(&self, method: &str) -> BatchPolicy {
        self.methods.get(method).copied().unwrap_or(self.default)
    }
}

struct Queued {
    admission: Admission,
    responder: Responder,
    enqueued_at: Instant,
}

/// Counters and latencies of one instance, since it started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Requests accepted into the queue.
    pub admitted: u64,
    /// Requests refused because the queue was full.
    pub rejected_full: u64,
    /// Requests taken by workers.
    pub dispatched: u64,
    /// Batches taken by workers (`dispatched / batches` is the mean batch size).
    pub batches: u64,
    /// Requests removed while queued because their caller went away or their epoch was cancelled.
    pub cancelled_queued: u64,
    /// Requests removed while queued because their deadline passed.
    pub expired_queued: u64,
    /// Results delivered to a waiting caller.
    pub completed: u64,
    /// Results that found no caller any more (it went away while the request executed).
    pub discarded_results: u64,
    /// Requests waiting now.
    pub depth: u64,
    /// Requests being executed by workers now.
    pub executing: u64,
    /// Requests refused because they named a method the instance does not have.
    pub rejected_unknown_method: u64,
    /// Requests refused because they lacked the service's token.
    pub rejected_unauthenticated: u64,
    /// Connections closed on arrival because the instance held its maximum.
    pub rejected_connections: u64,
    /// Connections closed because they did not start HTTP/2 within the handshake timeout.
    pub handshake_timeouts: u64,
    /// Requests the worker answered with an error, by code in the order of
    /// [`StatusCode::ALL`](crate::StatusCode::ALL).
    pub failed_by_code: [u64; StatusCode::ALL.len()],
    /// Time requests waited in the queue before a worker took them.
    pub queue_wait: LatencySnapshot,
    /// Time from a worker taking a request to its outcome.
    pub execution: LatencySnapshot,
}

impl Queued {
    fn is_expired(&self, now: Instant) -> bool {
        self.admission
            .deadline
            .is_some_and(|deadline| deadline <= now)
    }
}

/// How many requests of `method` are queued, counting up to `limit`.
fn queued_of(state: &State, method: &str, limit: usize) -> usize {
    state
        .queued
        .values()
        .filter(|q| q.admission.method == method)
        .take(limit)
        .count()
}

impl ServerStats {
    /// Every counter and latency field by name, as the Java facade's `RosServerStats` reads them.
    pub fn named(&self) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = [
            ("admitted", self.admitted),
            ("rejectedFull", self.rejected_full),
            ("rejectedUnknownMethod", self.rejected_unknown_method),
            ("rejectedUnauthenticated", self.rejected_unauthenticated),
            ("rejectedConnections", self.rejected_connections),
            ("handshakeTimeouts", self.handshake_timeouts),
            ("dispatched", self.dispatched),
            ("batches", self.batches),
            ("cancelledQueued", self.cancelled_queued),
            ("expiredQueued", self.expired_queued),
            ("completed", self.completed),
            ("discardedResults", self.discarded_results),
            ("queueDepth", self.depth),
            ("executing", self.executing),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_string(), value))
        .collect();
        crate::stats::named_codes("failed", &self.failed_by_code, &mut out);
        self.queue_wait.named("queueWait", &mut out);
        self.execution.named("execution", &mut out);
        out
    }
}

#[derive(Default)]
struct State {
    queued: BTreeMap<u64, Queued>,
    /// Requests taken by workers: where the outcome goes, and when they were taken.
    executing: HashMap<u64, (Responder, Instant)>,
    next_id: u64,
    closed: bool,
    stats: ServerStats,
}

/// See the module documentation.
pub(crate) struct RequestQueue {
    capacity: usize,
    batching: Arc<Batching>,
    state: Mutex<State>,
    not_empty: Condvar,
    queue_wait: LatencyHistogram,
    execution: LatencyHistogram,
    failed: CodeCounters,
}

impl RequestQueue {
    pub(crate) fn new(capacity: usize, batching: Batching) -> RequestQueue {
        RequestQueue {
            capacity,
            batching: Arc::new(batching),
            state: Mutex::new(State::default()),
            not_empty: Condvar::new(),
            queue_wait: LatencyHistogram::new(),
            execution: LatencyHistogram::new(),
            failed: CodeCounters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // parking_lot locks do not poison: every change to the state is a single step, so a panic
        // elsewhere cannot leave it half done or turn into a second panic here.
        self.state.lock()
    }

    /// Queues a request, or refuses it at once when the queue is full or closed.
    pub(crate) fn admit(
        &self,
        admission: Admission,
        responder: impl Into<Responder>,
    ) -> Result<u64, RosError> {
        let responder = responder.into();
        let mut state = self.lock();
        if state.closed {
            return Err(RosError::unavailable("service instance is shutting down"));
        }
        if state.queued.len() >= self.capacity {
            state.stats.rejected_full += 1;
            return Err(RosError::new(
                StatusCode::ResourceExhausted,
                format!(
                    "service instance queue is full ({} requests queued, capacity {})",
                    state.queued.len(),
                    self.capacity
                ),
            ));
        }
        let id = state.next_id;
        state.next_id += 1;
        state.queued.insert(
            id,
            Queued {
                admission,
                responder,
                enqueued_at: Instant::now(),
            },
        );
        state.stats.admitted += 1;
        drop(state);
        self.not_empty.notify_one();
        Ok(id)
    }

    /// Waits up to `timeout` for requests and takes a batch of at most `max` requests of one
    /// method, oldest first (see the module documentation). Returns an empty batch on timeout or
    /// once the queue is closed. A batch waiting to fill waits past `timeout`, up to its method's
    /// `max_delay`. Requests whose deadline has passed are answered `DEADLINE_EXCEEDED` here and
    /// never reach a worker.
    pub(crate) fn poll(&self, max: usize, timeout: Duration) -> Vec<ServerRequest> {
        let wait_until = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if state.closed {
                return Vec::new();
            }
            let now = Instant::now();
            let wake_at = match self.oldest_live(&mut state, now) {
                Some((method, enqueued_at)) => {
                    let policy = self.batching.policy(&method);
                    let limit = max.clamp(1, policy.max_size.max(1));
                    let ready_at = enqueued_at + policy.max_delay;
                    if now >= ready_at || queued_of(&state, &method, limit) >= limit {
                        return self.take(&mut state, &method, limit, now);
                    }
                    ready_at
                }
                None if now >= wait_until => return Vec::new(),
                None => wait_until,
            };
            // Woken early by every admission, so that a batch forming sees each newcomer.
            self.not_empty
                .wait_for(&mut state, wake_at.saturating_duration_since(now));
        }
    }

    /// The method and queueing time of the oldest request that has not expired, answering the
    /// expired ones in front of it.
    fn oldest_live(&self, state: &mut State, now: Instant) -> Option<(String, Instant)> {
        loop {
            let (&id, queued) = state.queued.first_key_value()?;
            if !queued.is_expired(now) {
                return Some((queued.admission.method.clone(), queued.enqueued_at));
            }
            self.expire_queued(state, id, now);
        }
    }

    /// Answers queued request `id` `DEADLINE_EXCEEDED` and removes it.
    fn expire_queued(&self, state: &mut State, id: u64, now: Instant) {
        if let Some(queued) = state.queued.remove(&id) {
            state.stats.expired_queued += 1;
            let _ = queued
                .responder
                .send(Err(RosError::deadline_exceeded(format!(
                    "request {} of {} expired after {} ms in the queue",
                    queued.admission.request_id,
                    queued.admission.client_id,
                    now.duration_since(queued.enqueued_at).as_millis()
                ))));
        }
    }

    /// Takes up to `limit` requests of `method`, oldest first, expiring those passed by.
    fn take(
        &self,
        state: &mut State,
        method: &str,
        limit: usize,
        now: Instant,
    ) -> Vec<ServerRequest> {
        let mut taken = Vec::with_capacity(limit);
        let mut expired = Vec::new();
        for (&id, queued) in &state.queued {
            if taken.len() >= limit {
                break;
            }
            if queued.is_expired(now) {
                expired.push(id);
            } else if queued.admission.method == method {
                taken.push(id);
            }
        }
        for id in expired {
            self.expire_queued(state, id, now);
        }
        let mut batch = Vec::with_capacity(taken.len());
        for id in taken {
            let Some(Queued {
                admission,
                responder,
                enqueued_at,
            }) = state.queued.remove(&id)
            else {
                continue;
            };
            state.executing.insert(id, (responder, now));
            state.stats.dispatched += 1;
            let queue_wait = now.duration_since(enqueued_at);
            self.queue_wait.record(queue_wait);
            batch.push(ServerRequest {
                id,
                request_id: admission.request_id,
                client_id: admission.client_id,
                client_epoch: admission.client_epoch,
                method: admission.method,
                payload: admission.payload,
                deadline: admission.deadline,
                queue_wait,
            });
        }
        if !batch.is_empty() {
            state.stats.batches += 1;
        }
        batch
    }

    /// Delivers a worker's outcome. Returns false when nobody waits for it any more.
    pub(crate) fn complete(&self, id: u64, outcome: Result<Bytes, RosError>) -> bool {
        self.complete_all([(id, outcome)]) == 1
    }

    /// Delivers the outcomes of a batch under one lock. Returns how many found their caller.
    pub(crate) fn complete_all(
        &self,
        outcomes: impl IntoIterator<Item = (u64, Result<Bytes, RosError>)>,
    ) -> usize {
        let mut state = self.lock();
        let mut delivered = 0;
        for (id, outcome) in outcomes {
            if let Err(error) = &outcome {
                self.failed.increment(error.code);
            }
            let found = match state.executing.remove(&id) {
                Some((responder, taken_at)) => {
                    self.execution.record(taken_at.elapsed());
                    responder.send(outcome)
                }
                None => false,
            };
            if found {
                state.stats.completed += 1;
                delivered += 1;
            } else {
                state.stats.discarded_results += 1;
            }
        }
        delivered
    }

    /// The deadline of request `id` passed: drops it if it is still queued (returns true), so that
    /// it neither waits for a worker nor holds a place in the queue.
    pub(crate) fn expire(&self, id: u64) -> bool {
        let mut state = self.lock();
        let expired = state.queued.remove(&id).is_some();
        if expired {
            state.stats.expired_queued += 1;
        }
        expired
    }

    /// The caller of request `id` went away: drop it if still queued, forget its responder if it
    /// is executing (its result will be discarded).
    pub(crate) fn abandon(&self, id: u64) {
        let mut state = self.lock();
        if state.queued.remove(&id).is_some() {
            state.stats.cancelled_queued += 1;
        } else {
            state.executing.remove(&id);
        }
    }

    /// Drops the queued requests of `client_id` whose epoch is below `below_epoch`, answering
    /// them `CANCELLED`. Returns how many were dropped.
    pub(crate) fn cancel_epochs(&self, client_id: &str, below_epoch: u64) -> u64 {
        let mut state = self.lock();
        let doomed: Vec<u64> = state
            .queued
            .iter()
            .filter(|(_, q)| {
                q.admission.client_id == client_id && q.admission.client_epoch < below_epoch
            })
            .map(|(id, _)| *id)
            .collect();
        for id in &doomed {
            if let Some(queued) = state.queued.remove(id) {
                let _ = queued.responder.send(Err(RosError::cancelled(format!(
                    "request {} of {} (epoch {}) cancelled: epochs below {} were cancelled",
                    queued.admission.request_id,
                    client_id,
                    queued.admission.client_epoch,
                    below_epoch
                ))));
            }
        }
        let count = doomed.len() as u64;
        state.stats.cancelled_queued += count;
        count
    }

    /// Refuses new requests, answers queued and executing ones `UNAVAILABLE` (so callers retry
    /// elsewhere) and wakes every polling worker.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        let queued = std::mem::take(&mut state.queued);
        let executing = std::mem::take(&mut state.executing);
        drop(state);
        let closing = || Err(RosError::unavailable("service instance shut down"));
        for (_, q) in queued {
            let _ = q.responder.send(closing());
        }
        for (_, (responder, _)) in executing {
            let _ = responder.send(closing());
        }
        self.not_empty.notify_all();
    }

    /// The queue's part of the instance's stats.
    pub(crate) fn stats(&self) -> ServerStats {
        let state = self.lock();
        ServerStats {
            depth: state.queued.len() as u64,
            executing: state.executing.len() as u64,
            failed_by_code: self.failed.snapshot(),
            queue_wait: self.queue_wait.snapshot(),
            execution: self.execution.snapshot(),
            ..state.stats.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(client: &str, epoch: u64, deadline: Option<Instant>) -> Admission {
        call("m", client, epoch, deadline)
    }

    fn call(method: &str, client: &str, epoch: u64, deadline: Option<Instant>) -> Admission {
        Admission {
            request_id: 7,
            client_id: client.to_string(),
            client_epoch: epoch,
            method: method.to_string(),
            payload: Bytes::from_static(b"x"),
            deadline,
        }
    }

    /// Queues a request of `method`, returning its id and the receiver of its outcome.
    fn queue_call(
        queue: &RequestQueue,
        method: &str,
        deadline: Option<Instant>,
    ) -> (u64, oneshot::Receiver<Result<Bytes, RosError>>) {
        let (tx, rx) = oneshot::channel();
        let id = queue.admit(call(method, "c", 0, deadline), tx).unwrap();
        (id, rx)
    }

    fn batching(max_size: usize, max_delay: Duration) -> Batching {
        Batching {
            default: BatchPolicy {
                max_size,
                max_delay,
            },
            methods: BTreeMap::new(),
        }
    }

    fn ids(batch: &[ServerRequest]) -> Vec<u64> {
        batch.iter().map(|r| r.id).collect()
    }

    #[test]
    fn a_batch_holds_one_method_oldest_first_and_leaves_the_others_queued() {
        let queue = RequestQueue::new(10, Batching::default());
        let a0 = queue_call(&queue, "a", None).0;
        let b0 = queue_call(&queue, "b", None).0;
        let a1 = queue_call(&queue, "a", None).0;
        let b1 = queue_call(&queue, "b", None).0;
        assert_eq!(ids(&queue.poll(10, Duration::ZERO)), vec![a0, a1]);
        assert_eq!(ids(&queue.poll(10, Duration::ZERO)), vec![b0, b1]);
        let stats = queue.stats();
        assert_eq!((stats.batches, stats.dispatched), (2, 4));
    }

    #[test]
    fn max_batch_size_bounds_a_batch_per_method() {
        let mut policies = batching(3, Duration::ZERO);
        policies.methods.insert(
            "small".to_string(),
            BatchPolicy {
                max_size: 1,
                max_delay: Duration::ZERO,
            },
        );
        let queue = RequestQueue::new(20, policies);
        let big: Vec<u64> = (0..5).map(|_| queue_call(&queue, "big", None).0).collect();
        assert_eq!(ids(&queue.poll(100, Duration::ZERO)), big[..3]);
        assert_eq!(ids(&queue.poll(2, Duration::ZERO)), big[3..]);
        let small: Vec<u64> = (0..2)
            .map(|_| queue_call(&queue, "small", None).0)
            .collect();
        assert_eq!(ids(&queue.poll(100, Duration::ZERO)), small[..1]);
    }

    #[test]
    fn a_batch_waits_up_to_max_delay_to_fill_and_no_longer_once_full() {
        let delay = Duration::from_millis(100);
        let queue = RequestQueue::new(10, batching(2, delay));
        let (first, _rx) = queue_call(&queue, "m", None);
        let queued_at = Instant::now();
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(ids(&batch), vec![first]);
        assert!(queued_at.elapsed() >= delay, "{:?}", queued_at.elapsed());

        // Full at once: taken without waiting for the delay.
        let full: Vec<u64> = (0..2).map(|_| queue_call(&queue, "m", None).0).collect();
        let polled_at = Instant::now();
        assert_eq!(ids(&queue.poll(10, Duration::ZERO)), full);
        assert!(polled_at.elapsed() < delay, "{:?}", polled_at.elapsed());
    }

    #[test]
    fn a_request_cancelled_while_its_batch_forms_never_runs() {
        let queue = std::sync::Arc::new(RequestQueue::new(
            10,
            batching(4, Duration::from_millis(200)),
        ));
        let (doomed, _rx) = queue_call(&queue, "m", None);
        let poller = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.poll(10, Duration::ZERO))
        };
        queue.abandon(doomed);
        let (kept, _rx2) = queue_call(&queue, "m", None);
        let batch = poller.join().unwrap();
        assert_eq!(ids(&batch), vec![kept]);
        assert_eq!(queue.stats().cancelled_queued, 1);
    }

    #[test]
    fn a_request_expiring_while_its_batch_forms_never_runs() {
        let queue = RequestQueue::new(10, batching(4, Duration::from_millis(300)));
        let (_id, mut rx) = queue_call(
            &queue,
            "m",
            Some(Instant::now() + Duration::from_millis(20)),
        );
        let batch = queue.poll(10, Duration::from_millis(50));
        assert!(batch.is_empty(), "{batch:?}");
        let outcome = rx.try_recv().expect("answered");
        assert_eq!(outcome.unwrap_err().code, StatusCode::DeadlineExceeded);
        assert_eq!(queue.stats().expired_queued, 1);
    }

    #[test]
    fn complete_all_answers_each_caller_with_its_own_outcome() {
        let queue = RequestQueue::new(10, Batching::default());
        let (a, mut rx_a) = queue_call(&queue, "m", None);
        let (b, mut rx_b) = queue_call(&queue, "m", None);
        assert_eq!(ids(&queue.poll(10, Duration::ZERO)), vec![a, b]);
        let delivered = queue.complete_all([
            (a, Ok(Bytes::from_static(b"ok"))),
            (b, Err(RosError::invalid_argument("bad item"))),
        ]);
        assert_eq!(delivered, 2);
        assert_eq!(rx_a.try_recv().unwrap().unwrap(), Bytes::from_static(b"ok"));
        assert_eq!(
            rx_b.try_recv().unwrap().unwrap_err().code,
            StatusCode::InvalidArgument
        );
    }

    #[test]
    fn full_queue_refuses_with_resource_exhausted_naming_the_capacity() {
        let queue = RequestQueue::new(1, Batching::default());
        let (tx, _rx) = oneshot::channel();
        queue.admit(admission("c", 0, None), tx).unwrap();
        let (tx, _rx2) = oneshot::channel();
        let error = queue.admit(admission("c", 0, None), tx).unwrap_err();
        assert_eq!(error.code, StatusCode::ResourceExhausted);
        assert!(error.message.contains("capacity 1"), "{}", error.message);
        assert_eq!(queue.stats().rejected_full, 1);
    }

    #[test]
    fn poll_is_fifo_and_bounded_by_max() {
        let queue = RequestQueue::new(10, Batching::default());
        let mut receivers = Vec::new();
        for _ in 0..3 {
            let (tx, rx) = oneshot::channel();
            queue.admit(admission("c", 0, None), tx).unwrap();
            receivers.push(rx);
        }
        let first = queue.poll(2, Duration::ZERO);
        assert_eq!(first.iter().map(|r| r.id).collect::<Vec<_>>(), vec![0, 1]);
        let second = queue.poll(2, Duration::ZERO);
        assert_eq!(second.iter().map(|r| r.id).collect::<Vec<_>>(), vec![2]);
        assert!(queue.poll(2, Duration::ZERO).is_empty());
    }

    #[test]
    fn abandoned_queued_request_never_reaches_a_worker() {
        let queue = RequestQueue::new(10, Batching::default());
        let (tx, _rx) = oneshot::channel();
        let id = queue.admit(admission("c", 0, None), tx).unwrap();
        queue.abandon(id);
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        assert_eq!(queue.stats().cancelled_queued, 1);
    }

    #[test]
    fn expired_request_is_answered_deadline_exceeded_without_dispatch() {
        let queue = RequestQueue::new(10, Batching::default());
        let (tx, mut rx) = oneshot::channel();
        queue
            .admit(admission("c", 0, Some(Instant::now())), tx)
            .unwrap();
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        let outcome = rx.try_recv().unwrap();
        assert_eq!(outcome.unwrap_err().code, StatusCode::DeadlineExceeded);
        assert_eq!(queue.stats().expired_queued, 1);
    }

    #[test]
    fn cancel_epochs_drops_only_older_epochs_of_that_client() {
        let queue = RequestQueue::new(10, Batching::default());
        let mut receivers = Vec::new();
        for (client, epoch) in [("a", 0), ("a", 1), ("a", 2), ("b", 0)] {
            let (tx, rx) = oneshot::channel();
            queue.admit(admission(client, epoch, None), tx).unwrap();
            receivers.push(rx);
        }
        assert_eq!(queue.cancel_epochs("a", 2), 2);
        let left: Vec<(String, u64)> = queue
            .poll(10, Duration::ZERO)
            .into_iter()
            .map(|r| (r.client_id, r.client_epoch))
            .collect();
        assert_eq!(left, vec![("a".to_string(), 2), ("b".to_string(), 0)]);
        let cancelled = receivers[0].try_recv().unwrap().unwrap_err();
        assert_eq!(cancelled.code, StatusCode::Cancelled);
    }

    #[test]
    fn close_answers_everyone_unavailable_and_wakes_pollers() {
        let queue = std::sync::Arc::new(RequestQueue::new(10, Batching::default()));
        let poller = {
            let queue = queue.clone();
            std::thread::spawn(move || queue.poll(10, Duration::from_secs(60)))
        };
        let (tx, mut rx) = oneshot::channel();
        queue.admit(admission("c", 0, None), tx).unwrap();
        // The poller may or may not have taken the request; either way close answers the caller.
        queue.close();
        let batch = poller.join().unwrap();
        for request in batch {
            assert!(!queue.complete(request.id, Ok(Bytes::new())));
        }
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().code,
            StatusCode::Unavailable
        );
        let (tx, _rx) = oneshot::channel();
        assert_eq!(
            queue.admit(admission("c", 0, None), tx).unwrap_err().code,
            StatusCode::Unavailable
        );
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use tokio::sync::oneshot::error::TryRecvError;

        /// An admitted request's id, its caller's receiver, and whether the caller walked away.
        type Caller = (u64, oneshot::Receiver<Result<Bytes, RosError>>, bool);

        /// What callers and workers do to a queue, in any order.
        #[derive(Debug, Clone)]
        enum Step {
            Admit { client: u8, epoch: u64, method: u8 },
            Poll { max: usize },
            Complete { pick: usize, ok: bool },
            Abandon { pick: usize },
            Expire { pick: usize },
            CancelEpochs { client: u8, below: u64 },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                4 => (0u8..3, 0u64..3, 0u8..2)
                    .prop_map(|(client, epoch, method)| Step::Admit { client, epoch, method }),
                2 => (1usize..5).prop_map(|max| Step::Poll { max }),
                2 => (any::<usize>(), any::<bool>()).prop_map(|(pick, ok)| Step::Complete { pick, ok }),
                1 => any::<usize>().prop_map(|pick| Step::Abandon { pick }),
                1 => any::<usize>().prop_map(|pick| Step::Expire { pick }),
                1 => (0u8..3, 0u64..4).prop_map(|(client, below)| Step::CancelEpochs { client, below }),
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// Whatever happens, the queue stays within its capacity, hands requests out oldest
            /// first, keeps its counts consistent, and on close leaves no caller waiting.
            #[test]
            fn no_request_is_lost_duplicated_or_left_waiting(
                capacity in 1usize..6,
                steps in proptest::collection::vec(step(), 1..80),
            ) {
                let queue = RequestQueue::new(capacity, batching(2, Duration::ZERO));
                // Every admitted request's receiver, and whether its caller walked away.
                let mut callers: Vec<Caller> = Vec::new();
                let mut executing: Vec<u64> = Vec::new();
                let mut last_polled: HashMap<String, u64> = HashMap::new();
                for step in steps {
                    match step {
                        Step::Admit { client, epoch, method } => {
                            let (tx, rx) = oneshot::channel();
                            let full = queue.stats().depth as usize >= capacity;
                            let admission =
                                call(&method.to_string(), &client.to_string(), epoch, None);
                            match queue.admit(admission, tx) {
                                Ok(id) => {
                                    prop_assert!(!full, "admitted over capacity");
                                    callers.push((id, rx, false));
                                }
                                Err(error) => {
                                    prop_assert!(full, "refused with room: {error}");
                                    prop_assert_eq!(error.code, StatusCode::ResourceExhausted);
                                }
                            }
                        }
                        Step::Poll { max } => {
                            let batch = queue.poll(max, Duration::ZERO);
                            prop_assert!(batch.len() <= max.min(2));
                            for request in batch.iter() {
                                prop_assert_eq!(&request.method, &batch[0].method, "one method");
                                let last = last_polled.insert(request.method.clone(), request.id);
                                prop_assert!(last.is_none_or(|last| request.id > last),
                                    "not oldest first");
                                executing.push(request.id);
                            }
                        }
                        Step::Complete { pick, ok } => {
                            if !executing.is_empty() {
                                let id = executing.remove(pick % executing.len());
                                let outcome = if ok {
                                    Ok(Bytes::from_static(b"r"))
                                } else {
                                    Err(RosError::internal("boom"))
                                };
                                let abandoned = callers.iter().any(|(c, _, gone)| *c == id && *gone);
                                prop_assert_eq!(queue.complete(id, outcome), !abandoned);
                            }
                        }
                        Step::Abandon { pick } => {
                            if !callers.is_empty() {
                                let index = pick % callers.len();
                                queue.abandon(callers[index].0);
                                callers[index].2 = true;
                            }
                        }
                        Step::Expire { pick } => {
                            if !callers.is_empty() {
                                let index = pick % callers.len();
                                if queue.expire(callers[index].0) {
                                    // The handler answers DEADLINE_EXCEEDED itself; the caller
                                    // is no longer the queue's.
                                    callers[index].2 = true;
                                }
                            }
                        }
                        Step::CancelEpochs { client, below } => {
                            queue.cancel_epochs(&client.to_string(), below);
                        }
                    }
                    let stats = queue.stats();
                    prop_assert!(stats.depth as usize <= capacity);
                    prop_assert_eq!(
                        stats.admitted,
                        stats.dispatched + stats.cancelled_queued + stats.expired_queued + stats.depth,
                        "admitted requests are queued, dispatched, cancelled or expired: {:?}", stats
                    );
                }
                queue.close();
                for (id, mut receiver, gone) in callers {
                    if gone {
                        continue;
                    }
                    // Answered with a result or an error, never left waiting.
                    prop_assert!(
                        !matches!(receiver.try_recv(), Err(TryRecvError::Empty)),
                        "request {} still waits after close", id
                    );
                }
            }
        }
    }
}
