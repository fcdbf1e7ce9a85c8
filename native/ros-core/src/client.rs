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

//! The caller's side: a client over a replaceable set of service instances.
//!
//! The endpoint set is pushed from outside (in Flink, by the client operator's coordinator) and
//! may change at any time. Each call:
//!
//! 1. waits for a slot if `max_in_flight` calls are already in flight (backpressure);
//! 2. picks an instance (power of two choices on outstanding calls, or round-robin; a call with
//!    an identity key by consistent hashing with bounded loads, so that its replays reach the
//!    instance that holds its result), skipping instances ejected after a connection failure;
//! 3. sends the request with its deadline and the service token (or a principal's credential);
//! 4. on `UNAVAILABLE` or `RESOURCE_EXHAUSTED` (no response was produced) tries a *different*
//!    instance, at most `max_attempts` times in all and only while the retry budget allows.
//!
//! Calls travel over one long-lived HTTP/2 stream per instance, many requests to a message
//! ([`Transport::Multiplexed`], see `stream_client`), or each as its own unary `Invoke`
//! ([`Transport::Unary`]; also taken by requests too large to share a message).
//!
//! A dropped connection fails the calls in flight on it at once (HTTP/2 reports the stream
//! errors); they are retried elsewhere. An instance that is unreachable or refuses for a full
//! queue is ejected with a backoff that grows while it keeps failing, until a call gets through
//! again. HTTP/2 keepalive turns a half-open connection into a dropped one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use prost::Message;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::transport::Endpoint;

use crate::auth::{PRINCIPAL_HEADER, ServiceToken, TOKEN_HEADER};
use crate::balancer::{self, LoadBalancing, Member, NoPick, RecentCalls, Ring};
use crate::endpoints::endpoint_uri;
use crate::options::{Options, Side, to_millis};
use crate::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use crate::proto::{CancelRequest, InvokeRequest};
use crate::retry::RetryBudget;
use crate::stats::{ClientStats, CodeCounters, LatencyHistogram};
use crate::status::{RosError, StatusCode};
use crate::stream_client::{CallFailure, Multiplexer};
use crate::stream_server::{CONNECTION_WINDOW_BYTES, FRAME_TARGET_BYTES, STREAM_WINDOW_BYTES};

/// How a client's calls travel to an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Transport {
    /// Over one long-lived stream per instance (`InvokeStream`), many requests to a message: a
    /// call costs a few bytes of a frame instead of an HTTP/2 stream of its own. Requests over
    /// 64 KiB go unary.
    #[default]
    Multiplexed,
    /// Each call is its own unary `Invoke`, as outside gRPC clients call.
    Unary,
}

/// How a client identifies itself, routes, retries and waits.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientConfig {
    /// Who calls; for a Flink subtask `<job>/<operator>/<subtask>`.
    pub client_id: String,
    /// The caller's attempt number; sent with every request.
    pub client_epoch: u64,
    /// Deadline of a call that does not give its own (it covers waiting, retries and all).
    pub default_timeout: Duration,
    /// How long calls made before the first endpoints arrive wait for them. Once the set has had
    /// members, an empty set fails calls with `UNAVAILABLE` at once.
    pub startup_wait: Duration,
    /// How long a call that finds no live instance (none in the set, or every one lost its
    /// connection or already failed this call) waits for one, within its deadline, instead of
    /// failing with `UNAVAILABLE` at once: instances that all restart together make callers wait,
    /// not fail.
    pub no_instance_wait: Duration,
    /// Time allowed to open a connection to an instance.
    pub connect_timeout: Duration,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// How calls are spread over instances.
    pub load_balancing: LoadBalancing,
    /// How calls travel to an instance.
    pub transport: Transport,
    /// Calls with an identity key go to the instance their key hashes to unless it took more than
    /// this many times the mean of the client's latest keyed calls (then to the next on the ring).
    pub affinity_load_factor: f64,
    /// Attempts per call, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// Retries may not exceed this fraction of calls (on top of `retry_min_per_second`).
    pub retry_budget_ratio: f64,
    /// Retries allowed per second regardless of the ratio, so that a quiet client can retry.
    pub retry_min_per_second: u32,
    /// Calls in flight at most; more wait for a slot.
    pub max_in_flight: usize,
    /// Interval of HTTP/2 keepalive pings.
    pub keepalive_interval: Duration,
    /// How long a keepalive ping may go unanswered before the connection counts as dropped.
    pub keepalive_timeout: Duration,
    /// Backoff of an instance ejected after its first failure (lost connection or full queue); it
    /// doubles with each further failure.
    pub ejection_min: Duration,
    /// Longest ejection backoff.
    pub ejection_max: Duration,
    /// Sent with every request: the service's token, or with a `principal` that principal's
    /// credential ([`ServiceToken::credential`]).
    pub token: Option<ServiceToken>,
    /// The principal the client authenticates as, sent with every request; `client_id` must be
    /// within it (the principal itself, or below it: `<principal>/...`). `None`: the client
    /// holds the service's token and may act for any client id.
    pub principal: Option<String>,
    /// The name of the service called, for error messages.
    pub service_name: Option<String>,
    /// PEM file of the certificate authority to trust; set, calls use TLS.
    pub tls_ca_file: Option<PathBuf>,
    /// The name instances' certificates must carry; by default the host of each address.
    pub tls_server_name: Option<String>,
}

impl Default for ClientConfig {
    /// The defaults of `options.properties`.
    fn default() -> ClientConfig {
        ClientConfig::from_options(Vec::<(&str, String)>::new())
            .expect("the table's client defaults are valid")
    }
}

impl ClientConfig {
    /// A configuration from options given by name (`maxAttempts`, `defaultTimeoutMillis`, ...);
    /// the rest take their defaults. The names and limits are those of `options.properties`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming an unknown option or a value out of its limits.
    pub fn from_options<K, V>(
        given: impl IntoIterator<Item = (K, V)>,
    ) -> Result<ClientConfig, RosError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let options = Options::new(Side::Client, given)?;
        let load_balancing = match options.text("loadBalancing") {
            Some("POWER_OF_TWO_CHOICES") => LoadBalancing::PowerOfTwoChoices,
            Some("ROUND_ROBIN") => LoadBalancing::RoundRobin,
            other => {
                return Err(RosError::invalid_argument(format!(
                    "loadBalancing must be POWER_OF_TWO_CHOICES or ROUND_ROBIN, got {other:?}"
                )));
            }
        };
        let transport = match options.text("transport") {
            Some("MULTIPLEXED") => Transport::Multiplexed,
            Some("UNARY") => Transport::Unary,
            other => {
                return Err(RosError::invalid_argument(format!(
                    "transport must be MULTIPLEXED or UNARY, got {other:?}"
                )));
            }
        };
        let config = ClientConfig {
            client_id: options.text("clientId").unwrap_or_default().to_string(),
            client_epoch: options.int("clientEpoch")?,
            default_timeout: options.millis("defaultTimeoutMillis")?,
            startup_wait: options.millis("startupWaitMillis")?,
            no_instance_wait: options.millis("noInstanceWaitMillis")?,
            connect_timeout: options.millis("connectTimeoutMillis")?,
            max_message_bytes: options.int("maxMessageBytes")?,
            load_balancing,
            transport,
            affinity_load_factor: options.real("affinityLoadFactor")?,
            max_attempts: options.int("maxAttempts")?,
            retry_budget_ratio: options.real("retryBudgetRatio")?,
            retry_min_per_second: options.int("retryMinPerSecond")?,
            max_in_flight: options.int("maxInFlight")?,
            keepalive_interval: options.millis("keepAliveIntervalMillis")?,
            keepalive_timeout: options.millis("keepAliveTimeoutMillis")?,
            ejection_min: options.millis("ejectionMinMillis")?,
            ejection_max: options.millis("ejectionMaxMillis")?,
            token: options.text("token").map(ServiceToken::new).transpose()?,
            principal: options.text("principal").map(str::to_string),
            service_name: options.text("serviceName").map(str::to_string),
            tls_ca_file: options.text("tlsCaFile").map(PathBuf::from),
            tls_server_name: options.text("tlsServerName").map(str::to_string),
        };
        if config.tls_server_name.is_some() && config.tls_ca_file.is_none() {
            return Err(RosError::invalid_argument(
                "tlsServerName needs tlsCaFile: without a certificate authority calls do not use TLS",
            ));
        }
        if config.client_id.trim().is_empty() {
            return Err(RosError::invalid_argument("clientId must not be blank"));
        }
        if let Some(principal) = &config.principal {
            crate::auth::validate_principal(principal)?;
            // Fails here rather than on every call with PERMISSION_DENIED.
            if !crate::auth::is_within(principal, &config.client_id) {
                return Err(RosError::invalid_argument(format!(
                    "clientId '{}' is outside principal '{}': with a principal, the client id \
                     must be the principal or start with '{}/'",
                    crate::status::echo(&config.client_id),
                    crate::status::echo(principal),
                    crate::status::echo(principal)
                )));
            }
        }
        if config.ejection_max < config.ejection_min {
            return Err(RosError::invalid_argument(format!(
                "ejectionMaxMillis ({}) must not be below ejectionMinMillis ({})",
                config.ejection_max.as_millis(),
                config.ejection_min.as_millis()
            )));
        }
        Ok(config)
    }

    /// The options by name, as [`ClientConfig::from_options`] takes them; the token is left out
    /// so that what is shown or logged never holds it.
    pub fn to_options(&self) -> Vec<(&'static str, String)> {
        let mut options = vec![
            ("clientId", self.client_id.clone()),
            ("clientEpoch", self.client_epoch.to_string()),
            ("defaultTimeoutMillis", to_millis(self.default_timeout)),
            ("startupWaitMillis", to_millis(self.startup_wait)),
            ("noInstanceWaitMillis", to_millis(self.no_instance_wait)),
            ("connectTimeoutMillis", to_millis(self.connect_timeout)),
            ("maxMessageBytes", self.max_message_bytes.to_string()),
            (
                "loadBalancing",
                match self.load_balancing {
                    LoadBalancing::PowerOfTwoChoices => "POWER_OF_TWO_CHOICES",
                    LoadBalancing::RoundRobin => "ROUND_ROBIN",
                }
                .to_string(),
            ),
            (
                "transport",
                match self.transport {
                    Transport::Multiplexed => "MULTIPLEXED",
                    Transport::Unary => "UNARY",
                }
                .to_string(),
            ),
            ("affinityLoadFactor", self.affinity_load_factor.to_string()),
            ("maxAttempts", self.max_attempts.to_string()),
            ("retryBudgetRatio", self.retry_budget_ratio.to_string()),
            ("retryMinPerSecond", self.retry_min_per_second.to_string()),
            ("maxInFlight", self.max_in_flight.to_string()),
            (
                "keepAliveIntervalMillis",
                to_millis(self.keepalive_interval),
            ),
            ("keepAliveTimeoutMillis", to_millis(self.keepalive_timeout)),
            ("ejectionMinMillis", to_millis(self.ejection_min)),
            ("ejectionMaxMillis", to_millis(self.ejection_max)),
        ];
        if let Some(principal) = &self.principal {
            options.push(("principal", principal.clone()));
        }
        if let Some(name) = &self.service_name {
            options.push(("serviceName", name.clone()));
        }
        if let Some(ca) = &self.tls_ca_file {
            options.push(("tlsCaFile", ca.display().to_string()));
        }
        if let Some(name) = &self.tls_server_name {
            options.push(("tlsServerName", name.clone()));
        }
        options
    }

    /// Checks a configuration built in code against the same limits as one built from options.
    fn validate(&self) -> Result<(), RosError> {
        ClientConfig::from_options(self.to_options())?;
        if self.principal.is_some() && self.token.is_none() {
            return Err(RosError::invalid_argument(
                "principal needs token: set the principal's credential as the client's token",
            ));
        }
        Ok(())
    }
}

#[derive(Default)]
struct EndpointSet {
    members: Vec<Member>,
    /// The members on the hash ring of keyed calls.
    ring: Ring,
    /// Whether the set has ever had members; ends the startup wait.
    ever_populated: bool,
    updates: u64,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    succeeded: AtomicU64,
    failed: CodeCounters,
    retries: AtomicU64,
    retries_refused: AtomicU64,
    ejections: AtomicU64,
    in_flight: AtomicU64,
}

struct Inner {
    config: ClientConfig,
    /// `config.principal` as a header value, made once.
    principal: Option<AsciiMetadataValue>,
    /// Present when calls use TLS.
    tls: Option<tonic::transport::ClientTlsConfig>,
    endpoints: watch::Sender<EndpointSet>,
    round_robin: AtomicUsize,
    /// Where the latest keyed calls went: the loads keyed calls are balanced by.
    recent_keyed: parking_lot::Mutex<RecentCalls>,
    next_request_id: AtomicU64,
    slots: Semaphore,
    budget: RetryBudget,
    closed: CancellationToken,
    startup_until: Instant,
    counters: Counters,
    latency: LatencyHistogram,
}

/// A client of one RpcOperator service. Cheap to clone; clones share connections and state.
#[derive(Clone)]
pub struct RosClient {
    inner: Arc<Inner>,
}

impl RosClient {
    /// Creates a client with an empty endpoint set.
    pub fn new(config: ClientConfig) -> Result<RosClient, RosError> {
        config.validate()?;
        let tls = match &config.tls_ca_file {
            Some(ca) => Some(crate::tls::client(ca, config.tls_server_name.as_deref())?),
            None => None,
        };
        let principal = config
            .principal
            .as_deref()
            .map(|principal| {
                AsciiMetadataValue::try_from(principal)
                    .map_err(|_| RosError::invalid_argument("principal is not a header value"))
            })
            .transpose()?;
        Ok(RosClient {
            inner: Arc::new(Inner {
                principal,
                tls,
                startup_until: Instant::now() + config.startup_wait,
                slots: Semaphore::new(config.max_in_flight),
                budget: RetryBudget::new(config.retry_budget_ratio, config.retry_min_per_second),
                config,
                endpoints: watch::Sender::new(EndpointSet::default()),
                round_robin: AtomicUsize::new(0),
                recent_keyed: parking_lot::Mutex::new(RecentCalls::default()),
                next_request_id: AtomicU64::new(0),
                closed: CancellationToken::new(),
                counters: Counters::default(),
                latency: LatencyHistogram::new(),
            }),
        })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Replaces the set of instances (`host:port` each). Connections, load and health of
    /// addresses that stay are kept. Nothing changes if any address is malformed. Must run
    /// inside a Tokio runtime.
    pub fn update_endpoints<I, S>(&self, addresses: I) -> Result<(), RosError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if self.inner.closed.is_cancelled() {
            return Err(RosError::cancelled("client is closed"));
        }
        let mut wanted: Vec<(String, String)> = Vec::new();
        for address in addresses {
            let address = address.as_ref().trim();
            let uri = endpoint_uri(address)?;
            if !wanted.iter().any(|(a, _)| a == address) {
                wanted.push((address.to_string(), uri));
            }
        }
        let config = &self.inner.config;
        let tls = self.inner.tls.as_ref();
        let principal = self.inner.principal.as_ref();
        self.inner.endpoints.send_modify(|set| {
            let mut existing: HashMap<Arc<str>, Member> = set
                .members
                .drain(..)
                .map(|m| (m.address.clone(), m))
                .collect();
            set.members = wanted
                .into_iter()
                .map(|(address, uri)| {
                    existing
                        .remove(address.as_str())
                        .unwrap_or_else(|| connect_lazily(&address, uri, config, tls, principal))
                })
                .collect();
            set.ring = Ring::new(&set.members);
            set.ever_populated |= !set.members.is_empty();
            set.updates += 1;
        });
        Ok(())
    }

    /// The addresses currently in the endpoint set.
    pub fn endpoints(&self) -> Vec<String> {
        self.inner
            .endpoints
            .borrow()
            .members
            .iter()
            .map(|m| m.address.to_string())
            .collect()
    }

    /// Calls `method` with `payload` and waits for its result, for at most `timeout` (or the
    /// configured default) in all: waiting for a slot, attempts and retries.
    pub async fn call(
        &self,
        method: &str,
        payload: Bytes,
        timeout: Option<Duration>,
    ) -> Result<Bytes, RosError> {
        self.call_keyed(method, payload, timeout, Bytes::new())
            .await
    }

    /// As [`RosClient::call`], for a request with an identity key (empty: none). Requests of one
    /// method with the same key and payload run once on an instance (later ones join it or are
    /// answered from its result cache), and keyed calls go to the instance their key hashes to,
    /// within [`ClientConfig::affinity_load_factor`] of the mean load. For a deterministic
    /// method, [`crate::content_key`] makes the key from the method and payload.
    pub async fn call_keyed(
        &self,
        method: &str,
        payload: Bytes,
        timeout: Option<Duration>,
        identity_key: Bytes,
    ) -> Result<Bytes, RosError> {
        let counters = &self.inner.counters;
        counters.calls.fetch_add(1, Ordering::Relaxed);
        counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let _in_flight = DecrementOnDrop(&counters.in_flight);
        self.inner.budget.deposit();

        let timeout = timeout.unwrap_or(self.inner.config.default_timeout);
        if let Err(error) = self.check_size(method, &payload, &identity_key) {
            counters.failed.increment(error.code);
            return Err(error);
        }
        let started = Instant::now();
        let deadline = started + timeout;
        let outcome = tokio::select! {
            biased;
            _ = self.inner.closed.cancelled() => {
                Err(RosError::cancelled("client was closed while the call was in flight"))
            }
            outcome = tokio::time::timeout_at(deadline, self.call_with_retries(method, payload, identity_key, deadline)) => {
                outcome.unwrap_or_else(|_| Err(RosError::deadline_exceeded(format!(
                    "call to '{method}' got no result within {} ms",
                    timeout.as_millis()
                ))))
            }
        };
        match &outcome {
            Ok(_) => {
                counters.succeeded.fetch_add(1, Ordering::Relaxed);
                self.inner.latency.record(started.elapsed());
            }
            Err(error) => counters.failed.increment(error.code),
        }
        outcome
    }

    /// Refuses a request over the message size limit before anything is sent (tonic would only
    /// reset the stream, losing the reason).
    fn check_size(
        &self,
        method: &str,
        payload: &Bytes,
        identity_key: &Bytes,
    ) -> Result<(), RosError> {
        let limit = self.inner.config.max_message_bytes;
        // The request's encoded size, up to the varints of the id and deadline fields.
        let size = prost::Message::encoded_len(&InvokeRequest {
            request_id: u64::MAX,
            client_id: self.inner.config.client_id.clone(),
            client_epoch: self.inner.config.client_epoch,
            method: method.to_string(),
            payload: payload.clone(),
            timeout_millis: u64::MAX,
            identity_key: identity_key.clone(),
        });
        if size > limit {
            let target = match &self.inner.config.service_name {
                Some(service) => format!("method '{method}' of service '{service}'"),
                None => format!("'{method}'"),
            };
            return Err(RosError::invalid_argument(format!(
                "request to {target} is {size} bytes, over the service's limit of {limit} bytes \
                 (option maxMessageBytes): send smaller records or raise maxMessageBytes of the \
                 service (RosDescriptor) and of its callers"
            )));
        }
        Ok(())
    }

    async fn call_with_retries(
        &self,
        method: &str,
        payload: Bytes,
        identity_key: Bytes,
        deadline: Instant,
    ) -> Result<Bytes, RosError> {
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| RosError::cancelled("client is closed"))?;
        let config = &self.inner.config;
        let waits_until = Instant::now() + config.no_instance_wait;
        let mut tried: Vec<Arc<str>> = Vec::new();
        let position = (!identity_key.is_empty()).then(|| balancer::ring_position(&identity_key));
        let mut member = self
            .pick(&tried, position, deadline, waits_until)
            .await
            .map_err(|no_pick| self.no_instance_error(no_pick))?;
        loop {
            let error = match self
                .attempt(
                    &member,
                    method,
                    payload.clone(),
                    identity_key.clone(),
                    deadline,
                )
                .await
            {
                Ok(result) => return Ok(result),
                Err(error) => error,
            };
            let retryable = error.code.is_retryable();
            tried.push(member.address.clone());
            if !retryable || tried.len() >= config.max_attempts as usize {
                return Err(error);
            }
            let Ok(next) = self.pick(&tried, position, deadline, waits_until).await else {
                return Err(RosError::new(
                    error.code,
                    format!("{} (no other live instance to retry on)", error.message),
                ));
            };
            if !self.inner.budget.try_withdraw() {
                self.inner
                    .counters
                    .retries_refused
                    .fetch_add(1, Ordering::Relaxed);
                return Err(RosError::new(
                    error.code,
                    format!("{} (not retried: retry budget exhausted)", error.message),
                ));
            }
            self.inner.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                from = %member.address,
                to = %next.address,
                %error,
                "retrying on another instance"
            );
            member = next;
        }
    }

    fn no_instance_error(&self, no_pick: NoPick) -> RosError {
        let updates = self.inner.endpoints.borrow().updates;
        match no_pick {
            NoPick::Empty => RosError::unavailable(format!(
                "no live instance of the service (endpoint set is empty after {updates} updates)"
            )),
            NoPick::AllTried => RosError::unavailable("every instance failed this call"),
            NoPick::AllEjected { count, busy: true } => RosError::new(
                StatusCode::ResourceExhausted,
                format!(
                    "every instance of the service is busy: all {count} refused calls for full \
                     queues just now and sit out a backoff"
                ),
            ),
            NoPick::AllEjected { count, busy: false } => RosError::unavailable(format!(
                "no live instance of the service: all {count} instances lost their connections \
                 just now and sit out a backoff"
            )),
        }
    }

    async fn attempt(
        &self,
        member: &Member,
        method: &str,
        payload: Bytes,
        identity_key: Bytes,
        deadline: Instant,
    ) -> Result<Bytes, RosError> {
        let _outstanding = member.start_call();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let request = InvokeRequest {
            request_id: self.inner.next_request_id.fetch_add(1, Ordering::Relaxed),
            client_id: self.inner.config.client_id.clone(),
            client_epoch: self.inner.config.client_epoch,
            method: method.to_string(),
            payload,
            // Rounded up: the instance must not give up before the caller does.
            timeout_millis: remaining.as_micros().div_ceil(1000).max(1) as u64,
            identity_key,
        };
        let outcome = if self.inner.config.transport == Transport::Multiplexed
            && request.encoded_len() <= FRAME_TARGET_BYTES
        {
            member.mux.call(request).await
        } else {
            let mut stub = member.stub.clone();
            match stub.invoke(self.authorized(request)).await {
                Ok(response) => Ok(response.into_inner().payload),
                Err(status) => Err(CallFailure {
                    transport: std::error::Error::source(&status).is_some(),
                    error: RosError::from(status),
                }),
            }
        };
        match outcome {
            Ok(payload) => {
                member.healthy();
                Ok(payload)
            }
            Err(failure) => Err(self.classify(member, failure)),
        }
    }

    /// A request carrying the client's token and principal, if it has them.
    fn authorized<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        *request.metadata_mut() = credentials(
            self.inner.config.token.as_ref(),
            self.inner.principal.as_ref(),
        );
        request
    }

    /// Turns a failed attempt into a `RosError`. A transport failure means no response was
    /// produced, so it is `UNAVAILABLE`. An instance that is unreachable or whose queue is full
    /// is ejected for a backoff, so that calls go elsewhere instead of hammering it.
    fn classify(&self, member: &Member, failure: CallFailure) -> RosError {
        let mut error = failure.error;
        if failure.transport {
            error.code = StatusCode::Unavailable;
        }
        if error.code.is_retryable() {
            error.message = format!("instance {}: {}", member.address, error.message);
            let busy = error.code == StatusCode::ResourceExhausted;
            let backoff = member.eject(
                busy,
                self.inner.config.ejection_min,
                self.inner.config.ejection_max,
            );
            self.inner
                .counters
                .ejections
                .fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                instance = %member.address,
                backoff_ms = backoff.as_millis() as u64,
                %error,
                "instance ejected"
            );
        }
        error
    }

    /// Picks an instance not yet tried by this call. When there is none, the call waits for one
    /// during the startup wait (before the set ever had members) and, until `waits_until`, when
    /// no live instance is left (see [`ClientConfig::no_instance_wait`]); otherwise it fails at
    /// once. A call whose key lies at `position` goes by the ring.
    async fn pick(
        &self,
        tried: &[Arc<str>],
        position: Option<u64>,
        deadline: Instant,
        waits_until: Instant,
    ) -> Result<Member, NoPick> {
        // Ejected instances come back when their backoff ends, which no update announces.
        const RECHECK: Duration = Duration::from_millis(50);
        let mut updates = self.inner.endpoints.subscribe();
        loop {
            let now = Instant::now();
            let starting = {
                let set = updates.borrow_and_update();
                let picked = match position {
                    Some(position) => balancer::pick_keyed(
                        &set.members,
                        &set.ring,
                        position,
                        tried,
                        self.inner.config.affinity_load_factor,
                        &mut self.inner.recent_keyed.lock(),
                    ),
                    None => balancer::pick(
                        &set.members,
                        tried,
                        self.inner.config.load_balancing,
                        &self.inner.round_robin,
                    ),
                };
                let starting = !set.ever_populated && now < self.inner.startup_until;
                match picked {
                    Err(NoPick::Empty) if starting => {}
                    Err(
                        NoPick::Empty | NoPick::AllTried | NoPick::AllEjected { busy: false, .. },
                    ) if now < waits_until => {}
                    other => return other,
                }
                starting
            };
            let mut wait_until = if starting {
                self.inner.startup_until.max(waits_until)
            } else {
                waits_until.min(now + RECHECK)
            };
            wait_until = wait_until.min(deadline);
            // A timeout or a closed channel both lead back to the checks above.
            let _ = tokio::time::timeout_at(wait_until, updates.changed()).await;
        }
    }

    /// Asks every instance in the set to drop the queued requests of this client's earlier
    /// attempts (epochs below this client's). Returns how many were dropped in all; fails as
    /// [`RosClient::cancel_epochs`] does.
    pub async fn cancel_earlier_epochs(&self) -> Result<u64, RosError> {
        let config = &self.inner.config;
        self.cancel_epochs(&config.client_id, config.client_epoch)
            .await
    }

    /// Asks every instance in the set to drop the queued requests of `client_id` whose epoch is
    /// below `below_epoch` (a caller that restarted: its earlier attempts' results are not wanted).
    /// Returns how many were dropped in all. Instances that cannot be reached are skipped: their
    /// queues die with them.
    ///
    /// # Errors
    /// The first refusal of an instance once all have answered: `PERMISSION_DENIED` when the
    /// client authenticates as a principal and `client_id` is outside it (nothing was dropped),
    /// `UNAUTHENTICATED` without the right token.
    pub async fn cancel_epochs(&self, client_id: &str, below_epoch: u64) -> Result<u64, RosError> {
        let members = self.inner.endpoints.borrow().members.clone();
        let cancels = members.into_iter().map(|member| {
            let request = self.authorized(CancelRequest {
                client_id: client_id.to_string(),
                below_epoch,
            });
            async move {
                let mut stub = member.stub;
                match stub.cancel(request).await {
                    Ok(response) => Ok(response.into_inner().cancelled),
                    Err(status) => {
                        let unreachable = std::error::Error::source(&status).is_some()
                            || StatusCode::from_grpc(status.code()).is_retryable();
                        tracing::debug!(
                            instance = %member.address,
                            %status,
                            "could not cancel earlier epochs"
                        );
                        if unreachable {
                            Ok(0)
                        } else {
                            let mut error = RosError::from(status);
                            error.message =
                                format!("instance {}: {}", member.address, error.message);
                            Err(error)
                        }
                    }
                }
            }
        });
        futures_util::future::join_all(cancels)
            .await
            .into_iter()
            .sum()
    }

    /// What the client has done so far.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        ClientStats {
            calls: c.calls.load(Ordering::Relaxed),
            succeeded: c.succeeded.load(Ordering::Relaxed),
            failed_by_code: c.failed.snapshot(),
            retries: c.retries.load(Ordering::Relaxed),
            retries_refused: c.retries_refused.load(Ordering::Relaxed),
            ejections: c.ejections.load(Ordering::Relaxed),
            in_flight: c.in_flight.load(Ordering::Relaxed),
            latency: self.inner.latency.snapshot(),
        }
    }

    /// Fails every call in flight with `CANCELLED`, refuses new ones and drops all connections.
    pub fn close(&self) {
        self.inner.closed.cancel();
        self.inner.slots.close();
        self.inner.endpoints.send_modify(|set| set.members.clear());
    }

    /// Whether [`RosClient::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }
}

struct DecrementOnDrop<'a>(&'a AtomicU64);

impl Drop for DecrementOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The headers that authenticate a request: the token (or the principal's credential) and the
/// principal, where the client has them.
fn credentials(
    token: Option<&ServiceToken>,
    principal: Option<&AsciiMetadataValue>,
) -> MetadataMap {
    let mut metadata = MetadataMap::new();
    if let Some(token) = token {
        metadata.insert(TOKEN_HEADER, token.header_value());
    }
    if let Some(principal) = principal {
        metadata.insert(PRINCIPAL_HEADER, principal.clone());
    }
    metadata
}

fn connect_lazily(
    address: &str,
    uri: String,
    config: &ClientConfig,
    tls: Option<&tonic::transport::ClientTlsConfig>,
    principal: Option<&AsciiMetadataValue>,
) -> Member {
    let endpoint = match tls {
        Some(tls) => Endpoint::from_shared(uri.replacen("http://", "https://", 1))
            .expect("endpoint_uri produces valid URIs")
            .tls_config(tls.clone())
            .expect("a TLS configuration built from a readable CA"),
        None => Endpoint::from_shared(uri).expect("endpoint_uri produces valid URIs"),
    };
    let channel = endpoint
        .connect_timeout(config.connect_timeout)
        .tcp_nodelay(true)
        .http2_keep_alive_interval(config.keepalive_interval)
        .keep_alive_timeout(config.keepalive_timeout)
        .keep_alive_while_idle(true)
        .initial_stream_window_size(STREAM_WINDOW_BYTES)
        .initial_connection_window_size(CONNECTION_WINDOW_BYTES)
        .connect_lazy();
    let stub = RpcOperatorServiceClient::new(channel.clone())
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes);
    let mux = Multiplexer::new(
        channel,
        credentials(config.token.as_ref(), principal),
        config.max_message_bytes,
    );
    Member::new(Arc::from(address), stub, mux)
}
