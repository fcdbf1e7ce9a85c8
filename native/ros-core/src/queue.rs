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
//!
//! Requests with an identity key run once however often they arrive (single flight): one that
//! matches a queued or running request of the same method, key and payload joins it, and all its
//! callers get the one outcome; a successful result stays in the [`ResultCache`] and answers later
//! copies at once. A keyed request whose callers all went away (their data plane restarted) may
//! stay queued for `orphan_grace`, so that the replayed request joins it instead of running again.
//! A caller's handle on its request is a *ticket*: the queue id for the caller that brought the
//! request, another id for each caller that joined it.

use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::result_cache::{CachePolicy, PayloadDigest, RequestKey, ResultCache, payload_digest};
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
    /// The request's identity key; empty: none.
    pub identity_key: Bytes,
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

/// What an instance does with keyed requests: how long it keeps their results, and how long it
/// keeps one whose callers all went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayPolicy {
    /// Bounds of the result cache.
    pub cache: CachePolicy,
    /// How long a queued keyed request stays after its callers went away, for a replay to join;
    /// zero drops it at once, as an unkeyed one.
    pub orphan_grace: Duration,
}

impl Default for ReplayPolicy {
    /// The defaults of `options.properties`.
    fn default() -> ReplayPolicy {
        crate::server::ServerConfig::default().replay
    }
}

/// A caller that joined a request brought by another.
struct Follower {
    ticket: u64,
    request_id: u64,
    client_id: String,
    client_epoch: u64,
    responder: Responder,
}

/// The callers waiting for one queued or running request.
#[derive(Default)]
struct Waiting {
    /// The caller that brought the request, until it goes away.
    leader: Option<Responder>,
    followers: Vec<Follower>,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.leader.is_none() && self.followers.is_empty()
    }

    /// Takes the follower holding `ticket` out.
    fn remove_follower(&mut self, ticket: u64) -> Option<Follower> {
        let index = self.followers.iter().position(|f| f.ticket == ticket)?;
        Some(self.followers.swap_remove(index))
    }

    /// Sends the outcome to every caller; returns how many received it.
    fn send_all(self, outcome: Result<Bytes, RosError>) -> u64 {
        let mut delivered = 0;
        for follower in self.followers {
            delivered += u64::from(follower.responder.send(outcome.clone()));
        }
        if let Some(leader) = self.leader {
            delivered += u64::from(leader.send(outcome));
        }
        delivered
    }
}

/// The identity of a keyed request.
struct Keyed {
    key: RequestKey,
    digest: PayloadDigest,
}

struct Queued {
    admission: Admission,
    waiting: Waiting,
    enqueued_at: Instant,
    keyed: Option<Keyed>,
    /// Set while the request waits with no caller, for a replay to join it.
    orphaned_until: Option<Instant>,
}

struct Running {
    waiting: Waiting,
    taken_at: Instant,
    keyed: Option<Keyed>,
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
    /// Keyed requests answered from the result cache, without running.
    pub cache_hits: u64,
    /// Keyed requests that joined an equal request already queued or running.
    pub joined: u64,
    /// Keyed requests whose key was held by a different payload (run on their own).
    pub key_conflicts: u64,
    /// Results the cache dropped for its bounds or their time to live.
    pub cache_evictions: u64,
    /// Results in the cache now.
    pub cache_entries: u64,
    /// Bytes of results in the cache now.
    pub cache_bytes: u64,
    /// Keyed requests kept queued after their callers went away (orphan grace).
    pub orphans_kept: u64,
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
            || self.orphaned_until.is_some_and(|until| until <= now)
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
            ("cacheHits", self.cache_hits),
            ("joined", self.joined),
            ("keyConflicts", self.key_conflicts),
            ("cacheEvictions", self.cache_evictions),
            ("cacheEntries", self.cache_entries),
            ("cacheBytes", self.cache_bytes),
            ("orphansKept", self.orphans_kept),
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
    /// Requests taken by workers: who waits for the outcome, and when they were taken.
    executing: HashMap<u64, Running>,
    /// The request each follower's ticket waits for.
    followers: HashMap<u64, u64>,
    /// The queued or running request of each identity.
    flights: HashMap<RequestKey, u64>,
    next_id: u64,
    closed: bool,
    stats: ServerStats,
}

impl State {
    fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Forgets the flight and follower tickets of request `id`, which left the queue for good.
    fn forget(&mut self, id: u64, keyed: Option<&Keyed>, followers: &[Follower]) {
        if let Some(keyed) = keyed
            && self.flights.get(&keyed.key) == Some(&id)
        {
            self.flights.remove(&keyed.key);
        }
        for follower in followers {
            self.followers.remove(&follower.ticket);
        }
    }

    /// The payload digest of keyed request `id`, queued or running.
    fn digest_of(&self, id: u64) -> Option<PayloadDigest> {
        let keyed = match self.queued.get(&id) {
            Some(queued) => queued.keyed.as_ref(),
            None => self.executing.get(&id)?.keyed.as_ref(),
        };
        keyed.map(|keyed| keyed.digest)
    }

    /// Removes queued request `id` for good, returning it.
    fn remove_queued(&mut self, id: u64) -> Option<Queued> {
        let queued = self.queued.remove(&id)?;
        self.forget(id, queued.keyed.as_ref(), &queued.waiting.followers);
        Some(queued)
    }
}

/// See the module documentation.
pub(crate) struct RequestQueue {
    capacity: usize,
    batching: Arc<Batching>,
    orphan_grace: Duration,
    cache: ResultCache,
    state: Mutex<State>,
    not_empty: Condvar,
    queue_wait: LatencyHistogram,
    execution: LatencyHistogram,
    failed: CodeCounters,
}

impl RequestQueue {
    pub(crate) fn new(capacity: usize, batching: Batching, replay: ReplayPolicy) -> RequestQueue {
        RequestQueue {
            capacity,
            batching: Arc::new(batching),
            orphan_grace: replay.orphan_grace,
            cache: ResultCache::new(replay.cache),
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

    /// Queues a request, joins an equal keyed one, or answers it from the cache; or refuses it at
    /// once when the queue is full or closed. Returns the caller's ticket.
    pub(crate) fn admit(
        &self,
        admission: Admission,
        responder: impl Into<Responder>,
    ) -> Result<u64, RosError> {
        let responder = responder.into();
        let mut keyed = (!admission.identity_key.is_empty()).then(|| Keyed {
            key: RequestKey {
                method: admission.method.clone(),
                key: admission.identity_key.clone(),
            },
            digest: payload_digest(&admission.method, &admission.payload),
        });
        let mut state = self.lock();
        if state.closed {
            return Err(RosError::unavailable("service instance is shutting down"));
        }
        if let Some(identity) = &keyed {
            // Looked up under the lock: a result moves from its flight to the cache in one step.
            match self.cache.get(&identity.key, &identity.digest) {
                Ok(Some(result)) => {
                    let ticket = state.next_id();
                    drop(state);
                    responder.send(Ok(result));
                    return Ok(ticket);
                }
                Ok(None) => {}
                Err(()) => keyed = None,
            }
        }
        let flight = keyed.as_ref().and_then(|identity| {
            let id = *state.flights.get(&identity.key)?;
            Some((id, state.digest_of(id) == Some(identity.digest)))
        });
        match flight {
            Some((id, true)) => {
                let ticket = state.next_id();
                let follower = Follower {
                    ticket,
                    request_id: admission.request_id,
                    client_id: admission.client_id,
                    client_epoch: admission.client_epoch,
                    responder,
                };
                if let Some(queued) = state.queued.get_mut(&id) {
                    queued.orphaned_until = None;
                    queued.admission.deadline =
                        later_deadline(queued.admission.deadline, admission.deadline);
                    queued.waiting.followers.push(follower);
                } else if let Some(running) = state.executing.get_mut(&id) {
                    running.waiting.followers.push(follower);
                }
                state.followers.insert(ticket, id);
                state.stats.joined += 1;
                return Ok(ticket);
            }
            // The key is held by a different payload: this one runs on its own.
            Some((_, false)) => keyed = None,
            None => {}
        }
        if keyed.is_none() && !admission.identity_key.is_empty() {
            state.stats.key_conflicts += 1;
        }
        self.enqueue(state, admission, responder, keyed)
    }

    fn enqueue(
        &self,
        mut state: MutexGuard<'_, State>,
        admission: Admission,
        responder: Responder,
        keyed: Option<Keyed>,
    ) -> Result<u64, RosError> {
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
        let id = state.next_id();
        if let Some(identity) = &keyed {
            state.flights.insert(identity.key.clone(), id);
        }
        state.queued.insert(
            id,
            Queued {
                admission,
                waiting: Waiting {
                    leader: Some(responder),
                    followers: Vec::new(),
                },
                enqueued_at: Instant::now(),
                keyed,
                orphaned_until: None,
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

    /// Removes queued request `id` because its time ran out: its deadline (its callers are
    /// answered `DEADLINE_EXCEEDED`) or, with no caller left, its orphan grace.
    fn expire_queued(&self, state: &mut State, id: u64, now: Instant) {
        let Some(queued) = state.remove_queued(id) else {
            return;
        };
        if queued.waiting.is_empty() {
            state.stats.cancelled_queued += 1;
            return;
        }
        state.stats.expired_queued += 1;
        queued
            .waiting
            .send_all(Err(RosError::deadline_exceeded(format!(
                "request {} of {} expired after {} ms in the queue",
                queued.admission.request_id,
                queued.admission.client_id,
                now.duration_since(queued.enqueued_at).as_millis()
            ))));
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
                waiting,
                enqueued_at,
                keyed,
                orphaned_until: _,
            }) = state.queued.remove(&id)
            else {
                continue;
            };
            state.executing.insert(
                id,
                Running {
                    waiting,
                    taken_at: now,
                    keyed,
                },
            );
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

    /// Delivers the outcomes of a batch under one lock, to every caller of each request, and
    /// keeps the successful results of keyed requests. Returns how many requests found a caller.
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
            let received = match state.executing.remove(&id) {
                Some(running) => {
                    self.execution.record(running.taken_at.elapsed());
                    state.forget(id, running.keyed.as_ref(), &running.waiting.followers);
                    // Stored before the flight is gone (both under the lock), so that an equal
                    // request arriving now finds one or the other.
                    if let (Some(keyed), Ok(result)) = (running.keyed, &outcome) {
                        self.cache.put(keyed.key, keyed.digest, result.clone());
                    }
                    running.waiting.send_all(outcome)
                }
                None => 0,
            };
            if received > 0 {
                state.stats.completed += received;
                delivered += 1;
            } else {
                state.stats.discarded_results += 1;
            }
        }
        delivered
    }

    /// The deadline of the caller holding `ticket` passed: if its request is still queued, the
    /// caller leaves it (returns true), and the request leaves the queue unless other callers
    /// wait for it. A running request is left to `abandon`.
    pub(crate) fn expire(&self, ticket: u64) -> bool {
        let mut state = self.lock();
        let id = state.followers.get(&ticket).copied().unwrap_or(ticket);
        let Some(queued) = state.queued.get_mut(&id) else {
            return false;
        };
        if id == ticket {
            queued.waiting.leader = None;
        } else {
            queued.waiting.remove_follower(ticket);
        }
        let emptied = queued.waiting.is_empty();
        state.followers.remove(&ticket);
        if emptied {
            state.remove_queued(id);
            state.stats.expired_queued += 1;
        }
        true
    }

    /// The caller holding `ticket` went away. A queued request that no caller waits for any more
    /// is dropped, or with an identity key kept for the orphan grace; a running one runs on and
    /// its result is discarded (or, with an identity key, kept in the cache).
    pub(crate) fn abandon(&self, ticket: u64) {
        let mut state = self.lock();
        let id = state.followers.remove(&ticket).unwrap_or(ticket);
        let follower = id != ticket;
        if let Some(queued) = state.queued.get_mut(&id) {
            if follower {
                queued.waiting.remove_follower(ticket);
            } else {
                queued.waiting.leader = None;
            }
            if queued.waiting.is_empty() {
                self.orphan(&mut state, id);
            }
        } else if let Some(running) = state.executing.get_mut(&id) {
            if follower {
                running.waiting.remove_follower(ticket);
            } else {
                running.waiting.leader = None;
            }
        }
    }

    /// Queued request `id` has no caller left: keep it for the orphan grace if a replay can join
    /// it (it has an identity key), else drop it.
    fn orphan(&self, state: &mut State, id: u64) {
        let Some(queued) = state.queued.get_mut(&id) else {
            return;
        };
        if queued.keyed.is_some() && !self.orphan_grace.is_zero() {
            queued.orphaned_until = Some(Instant::now() + self.orphan_grace);
            state.stats.orphans_kept += 1;
        } else {
            state.remove_queued(id);
            state.stats.cancelled_queued += 1;
        }
    }

    /// Answers the callers of `client_id` whose epoch is below `below_epoch` and whose requests
    /// are still queued `CANCELLED`; a request left without callers is dropped (or kept for the
    /// orphan grace). Returns how many callers were answered.
    pub(crate) fn cancel_epochs(&self, client_id: &str, below_epoch: u64) -> u64 {
        let mut state = self.lock();
        let doomed = |client: &str, epoch: u64| client == client_id && epoch < below_epoch;
        let mut answered: Vec<(Responder, u64, u64)> = Vec::new();
        let mut emptied = Vec::new();
        let mut tickets = Vec::new();
        for (&id, queued) in state.queued.iter_mut() {
            let before = answered.len();
            let admission = &queued.admission;
            if queued.waiting.leader.is_some()
                && doomed(&admission.client_id, admission.client_epoch)
                && let Some(leader) = queued.waiting.leader.take()
            {
                answered.push((leader, admission.request_id, admission.client_epoch));
            }
            let mut kept = Vec::with_capacity(queued.waiting.followers.len());
            for follower in queued.waiting.followers.drain(..) {
                if doomed(&follower.client_id, follower.client_epoch) {
                    tickets.push(follower.ticket);
                    answered.push((
                        follower.responder,
                        follower.request_id,
                        follower.client_epoch,
                    ));
                } else {
                    kept.push(follower);
                }
            }
            queued.waiting.followers = kept;
            if answered.len() > before && queued.waiting.is_empty() {
                emptied.push(id);
            }
        }
        for ticket in tickets {
            state.followers.remove(&ticket);
        }
        for id in emptied {
            self.orphan(&mut state, id);
        }
        drop(state);
        let count = answered.len() as u64;
        for (responder, request_id, epoch) in answered {
            let _ = responder.send(Err(RosError::cancelled(format!(
                "request {request_id} of {client_id} (epoch {epoch}) cancelled: epochs below \
                 {below_epoch} were cancelled"
            ))));
        }
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
        state.followers.clear();
        state.flights.clear();
        drop(state);
        let closing = || Err(RosError::unavailable("service instance shut down"));
        for (_, q) in queued {
            q.waiting.send_all(closing());
        }
        for (_, running) in executing {
            running.waiting.send_all(closing());
        }
        self.not_empty.notify_all();
    }

    /// The queue's part of the instance's stats.
    pub(crate) fn stats(&self) -> ServerStats {
        let cache = self.cache.stats();
        let state = self.lock();
        ServerStats {
            depth: state.queued.len() as u64,
            executing: state.executing.len() as u64,
            cache_hits: cache.hits,
            cache_evictions: cache.evictions,
            cache_entries: cache.entries,
            cache_bytes: cache.bytes,
            failed_by_code: self.failed.snapshot(),
            queue_wait: self.queue_wait.snapshot(),
            execution: self.execution.snapshot(),
            ..state.stats.clone()
        }
    }
}

/// The later of two deadlines, `None` (no deadline) being the latest.
fn later_deadline(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    Some(a?.max(b?))
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
            identity_key: Bytes::new(),
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
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
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
        let queue = RequestQueue::new(20, policies, ReplayPolicy::default());
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
        let queue = RequestQueue::new(10, batching(2, delay), ReplayPolicy::default());
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
            ReplayPolicy::default(),
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
        let queue = RequestQueue::new(
            10,
            batching(4, Duration::from_millis(300)),
            ReplayPolicy::default(),
        );
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
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
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
        let queue = RequestQueue::new(1, Batching::default(), ReplayPolicy::default());
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
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
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
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
        let (tx, _rx) = oneshot::channel();
        let id = queue.admit(admission("c", 0, None), tx).unwrap();
        queue.abandon(id);
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        assert_eq!(queue.stats().cancelled_queued, 1);
    }

    #[test]
    fn expired_request_is_answered_deadline_exceeded_without_dispatch() {
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
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
        let queue = RequestQueue::new(10, Batching::default(), ReplayPolicy::default());
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
        let queue = std::sync::Arc::new(RequestQueue::new(
            10,
            Batching::default(),
            ReplayPolicy::default(),
        ));
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

    fn keyed(key: &str, payload: &str, client: &str, epoch: u64) -> Admission {
        let mut admission = call("m", client, epoch, None);
        admission.identity_key = Bytes::copy_from_slice(key.as_bytes());
        admission.payload = Bytes::copy_from_slice(payload.as_bytes());
        admission
    }

    fn replaying(orphan_grace: Duration) -> RequestQueue {
        RequestQueue::new(
            10,
            Batching::default(),
            ReplayPolicy {
                orphan_grace,
                ..ReplayPolicy::default()
            },
        )
    }

    type Receiver = oneshot::Receiver<Result<Bytes, RosError>>;

    fn admit(queue: &RequestQueue, admission: Admission) -> (u64, Receiver) {
        let (tx, rx) = oneshot::channel();
        (queue.admit(admission, tx).unwrap(), rx)
    }

    #[test]
    fn an_equal_keyed_request_joins_the_running_one_and_later_ones_hit_the_cache() {
        let queue = replaying(Duration::ZERO);
        let (_, mut first) = admit(&queue, keyed("k", "p", "a", 0));
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 1);
        // Arrives while the first runs: joins it, nothing new is queued.
        let (_, mut second) = admit(&queue, keyed("k", "p", "b", 0));
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        assert!(queue.complete(batch[0].id, Ok(Bytes::from_static(b"r"))));
        assert_eq!(first.try_recv().unwrap().unwrap(), Bytes::from_static(b"r"));
        assert_eq!(
            second.try_recv().unwrap().unwrap(),
            Bytes::from_static(b"r")
        );
        // Arrives after: answered from the cache at once.
        let (_, mut third) = admit(&queue, keyed("k", "p", "c", 0));
        assert_eq!(third.try_recv().unwrap().unwrap(), Bytes::from_static(b"r"));
        let stats = queue.stats();
        assert_eq!(
            (
                stats.admitted,
                stats.dispatched,
                stats.joined,
                stats.cache_hits
            ),
            (1, 1, 1, 1),
            "{stats:?}"
        );
        assert_eq!(stats.completed, 2);
    }

    #[test]
    fn a_key_reused_for_another_payload_runs_on_its_own_and_never_gets_the_other_result() {
        let queue = replaying(Duration::ZERO);
        let (_, _first) = admit(&queue, keyed("k", "p", "a", 0));
        let (_, mut other) = admit(&queue, keyed("k", "q", "a", 0));
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 2, "both run");
        assert!(queue.complete(batch[0].id, Ok(Bytes::from_static(b"for p"))));
        assert!(queue.complete(batch[1].id, Ok(Bytes::from_static(b"for q"))));
        assert_eq!(
            other.try_recv().unwrap().unwrap(),
            Bytes::from_static(b"for q")
        );
        // The cache holds p's result under k; q asking again is not answered from it.
        let (_, mut again) = admit(&queue, keyed("k", "q", "a", 0));
        assert!(again.try_recv().is_err(), "not answered from the cache");
        assert_eq!(queue.poll(10, Duration::ZERO).len(), 1, "runs again");
        assert_eq!(queue.stats().key_conflicts, 2);
        assert_eq!(queue.stats().cache_hits, 0);
    }

    #[test]
    fn a_failed_result_is_shared_by_joined_callers_but_not_cached() {
        let queue = replaying(Duration::ZERO);
        let (_, mut first) = admit(&queue, keyed("k", "p", "a", 0));
        let (_, mut second) = admit(&queue, keyed("k", "p", "b", 0));
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 1);
        queue.complete(batch[0].id, Err(RosError::internal("boom")));
        assert_eq!(
            first.try_recv().unwrap().unwrap_err().code,
            StatusCode::Internal
        );
        assert_eq!(
            second.try_recv().unwrap().unwrap_err().code,
            StatusCode::Internal
        );
        let (_, _third) = admit(&queue, keyed("k", "p", "c", 0));
        assert_eq!(
            queue.poll(10, Duration::ZERO).len(),
            1,
            "an error is not cached"
        );
    }

    #[test]
    fn the_request_runs_for_a_joined_caller_after_the_first_caller_leaves() {
        let queue = replaying(Duration::ZERO);
        let (leader, _first) = admit(&queue, keyed("k", "p", "a", 0));
        let (_, mut second) = admit(&queue, keyed("k", "p", "b", 0));
        queue.abandon(leader);
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 1, "still queued for the second caller");
        assert!(queue.complete(batch[0].id, Ok(Bytes::from_static(b"r"))));
        assert_eq!(
            second.try_recv().unwrap().unwrap(),
            Bytes::from_static(b"r")
        );
        assert_eq!(queue.stats().cancelled_queued, 0);
    }

    #[test]
    fn without_grace_an_orphaned_keyed_request_is_dropped_as_today() {
        let queue = replaying(Duration::ZERO);
        let (_, _rx) = admit(&queue, keyed("k", "p", "a", 0));
        assert_eq!(queue.cancel_epochs("a", 1), 1);
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        let stats = queue.stats();
        assert_eq!((stats.cancelled_queued, stats.orphans_kept), (1, 0));
    }

    #[test]
    fn with_grace_the_replay_of_a_restarted_caller_joins_its_orphaned_request() {
        let queue = replaying(Duration::from_secs(60));
        let (_, mut old) = admit(&queue, keyed("k", "p", "a", 0));
        let (_, _unkeyed) = admit(&queue, call("m", "a", 0, None));
        // The caller restarts: its earlier epoch is cancelled.
        assert_eq!(queue.cancel_epochs("a", 1), 2);
        assert_eq!(
            old.try_recv().unwrap().unwrap_err().code,
            StatusCode::Cancelled
        );
        let stats = queue.stats();
        assert_eq!(
            (stats.orphans_kept, stats.cancelled_queued, stats.depth),
            (1, 1, 1)
        );
        // The replay joins the kept request instead of queueing another.
        let (_, mut replay) = admit(&queue, keyed("k", "p", "a", 1));
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 1);
        assert!(queue.complete(batch[0].id, Ok(Bytes::from_static(b"r"))));
        assert_eq!(
            replay.try_recv().unwrap().unwrap(),
            Bytes::from_static(b"r")
        );
        let stats = queue.stats();
        assert_eq!((stats.admitted, stats.dispatched, stats.joined), (2, 1, 1));
    }

    #[test]
    fn an_orphan_nobody_joins_leaves_after_its_grace() {
        let grace = Duration::from_millis(30);
        let queue = replaying(grace);
        let (ticket, _rx) = admit(&queue, keyed("k", "p", "a", 0));
        queue.abandon(ticket);
        assert_eq!(queue.stats().depth, 1, "kept while its grace lasts");
        // No worker reached it within its grace: it is dropped, not run.
        std::thread::sleep(grace * 2);
        assert!(queue.poll(10, Duration::ZERO).is_empty());
        let stats = queue.stats();
        assert_eq!((stats.depth, stats.cancelled_queued), (0, 1), "{stats:?}");
    }

    #[test]
    fn a_running_orphan_still_fills_the_cache() {
        let queue = replaying(Duration::ZERO);
        let (ticket, _rx) = admit(&queue, keyed("k", "p", "a", 0));
        let batch = queue.poll(10, Duration::ZERO);
        queue.abandon(ticket);
        assert!(!queue.complete(batch[0].id, Ok(Bytes::from_static(b"r"))));
        let (_, mut replay) = admit(&queue, keyed("k", "p", "a", 1));
        assert_eq!(
            replay.try_recv().unwrap().unwrap(),
            Bytes::from_static(b"r")
        );
    }

    #[test]
    fn a_joined_caller_whose_deadline_passes_leaves_the_others_waiting() {
        let queue = replaying(Duration::ZERO);
        let (_, mut first) = admit(&queue, keyed("k", "p", "a", 0));
        let (second, _rx) = admit(&queue, keyed("k", "p", "b", 0));
        assert!(queue.expire(second));
        let batch = queue.poll(10, Duration::ZERO);
        assert_eq!(batch.len(), 1);
        queue.complete(batch[0].id, Ok(Bytes::from_static(b"r")));
        assert_eq!(first.try_recv().unwrap().unwrap(), Bytes::from_static(b"r"));
        assert_eq!(queue.stats().expired_queued, 0);
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
            Admit {
                client: u8,
                epoch: u64,
                method: u8,
            },
            /// A keyed request: `other_payload` reuses the key for a different payload.
            AdmitKeyed {
                client: u8,
                epoch: u64,
                key: u8,
                other_payload: bool,
            },
            Poll {
                max: usize,
            },
            Complete {
                pick: usize,
                ok: bool,
            },
            Abandon {
                pick: usize,
            },
            Expire {
                pick: usize,
            },
            CancelEpochs {
                client: u8,
                below: u64,
            },
        }

        fn step() -> impl Strategy<Value = Step> {
            prop_oneof![
                4 => (0u8..3, 0u64..3, 0u8..2)
                    .prop_map(|(client, epoch, method)| Step::Admit { client, epoch, method }),
                3 => (0u8..3, 0u64..3, 0u8..3, proptest::bool::weighted(0.2))
                    .prop_map(|(client, epoch, key, other_payload)|
                        Step::AdmitKeyed { client, epoch, key, other_payload }),
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
                keep_orphans in proptest::bool::ANY,
                steps in proptest::collection::vec(step(), 1..80),
            ) {
                let replay = ReplayPolicy {
                    orphan_grace: if keep_orphans { Duration::from_secs(3600) } else { Duration::ZERO },
                    ..ReplayPolicy::default()
                };
                let queue = RequestQueue::new(capacity, batching(2, Duration::ZERO), replay);
                // Tickets of keyed callers, whose request may be shared with others.
                let mut keyed: std::collections::HashSet<u64> = std::collections::HashSet::new();
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
                        Step::AdmitKeyed { client, epoch, key, other_payload } => {
                            let (tx, rx) = oneshot::channel();
                            let mut admission = call("k", &client.to_string(), epoch, None);
                            admission.identity_key = Bytes::from(vec![key]);
                            admission.payload = Bytes::from(vec![key, u8::from(other_payload)]);
                            match queue.admit(admission, tx) {
                                Ok(ticket) => {
                                    keyed.insert(ticket);
                                    callers.push((ticket, rx, false));
                                }
                                Err(error) => {
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
                                let delivered = queue.complete(id, outcome);
                                // A keyed request may have callers that joined it.
                                if !keyed.contains(&id) {
                                    prop_assert_eq!(delivered, !abandoned);
                                }
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
