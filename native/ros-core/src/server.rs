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

//! The gRPC server of one service instance.
//!
//! gRPC handlers never run user code: they check the request (token, client id, method), admit it
//! into a bounded [`RequestQueue`] and wait for the outcome, which host-language workers deliver
//! after polling the queue from their own threads (so no Tokio thread ever calls into the JVM on
//! the server side). A handler whose caller goes away (cancel, deadline, closed client, dead
//! connection) is dropped, and its request leaves the queue with it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::codegen::http;
use tonic::{Request, Response, Status};

use crate::auth::{Identity, ServiceToken};
use crate::listener::{ConnectionLimits, ConnectionRefusals};
use crate::options::{Options, Side, to_micros, to_millis};
use crate::proto::rpc_operator_service_server::{RpcOperatorService, RpcOperatorServiceServer};
use crate::proto::{
    CancelRequest, CancelResponse, InvokeBatch, InvokeRequest, InvokeResponse, ResultBatch,
};
use crate::queue::{
    Admission, BatchPolicy, Batching, ReplayPolicy, RequestQueue, ServerRequest, ServerStats,
};
use crate::result_cache::CachePolicy;
use crate::status::{RosError, StatusCode};

/// How a service instance listens, checks and queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Address to bind, e.g. `127.0.0.1` or `0.0.0.0`.
    pub bind_host: String,
    /// Port to bind; 0 picks a free one (read it back with [`RosServer::local_addr`]).
    pub port: u16,
    /// Requests that may wait for a worker; more are refused with `RESOURCE_EXHAUSTED`.
    pub queue_capacity: usize,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
    /// The methods the instance has; others are refused with `NOT_FOUND` before queueing. Empty:
    /// any method is queued and the worker decides.
    pub methods: BTreeSet<String>,
    /// The service's token; calls without it (or a principal's credential derived from it) are
    /// refused with `UNAUTHENTICATED`. Without one, every caller may act for any client id.
    pub token: Option<ServiceToken>,
    /// Interval of HTTP/2 keepalive pings to callers, which detect dead connections.
    pub keepalive_interval: Duration,
    /// How long a keepalive ping may go unanswered before the connection is dropped.
    pub keepalive_timeout: Duration,
    /// Connections open at most; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Time a new connection has to start HTTP/2 before it is closed.
    pub handshake_timeout: Duration,
    /// PEM file of the instance's certificate chain; with `tls_key_file`, calls must use TLS.
    pub tls_certificate_file: Option<PathBuf>,
    /// PEM file of the private key of `tls_certificate_file`.
    pub tls_key_file: Option<PathBuf>,
    /// How workers' batches are formed, for every method and for some methods on their own.
    pub batching: Batching,
    /// How keyed requests are cached and kept for replays.
    pub replay: ReplayPolicy,
}

/// The options that may also be given for one method, as `<option>@<method>`.
const PER_METHOD_OPTIONS: [&str; 2] = ["maxBatchSize", "maxBatchDelayMicros"];

impl Default for ServerConfig {
    /// The defaults of `options.properties`.
    fn default() -> ServerConfig {
        ServerConfig::from_options(Vec::<(&str, String)>::new(), BTreeSet::new())
            .expect("the table's server defaults are valid")
    }
}

impl ServerConfig {
    /// A configuration from options given by name (`queueCapacity`, `keepAliveIntervalMillis`,
    /// ...) and the instance's methods; the rest take their defaults. The names and limits are
    /// those of `options.properties`.
    ///
    /// # Errors
    /// `INVALID_ARGUMENT` naming an unknown option or a value out of its limits.
    pub fn from_options<K, V>(
        given: impl IntoIterator<Item = (K, V)>,
        methods: BTreeSet<String>,
    ) -> Result<ServerConfig, RosError>
    where
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut shared = Vec::new();
        let mut per_method: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for (name, value) in given {
            match name.as_ref().split_once('@') {
                Some((option, method)) if PER_METHOD_OPTIONS.contains(&option) => {
                    per_method
                        .entry(method.to_string())
                        .or_default()
                        .push((option.to_string(), value.into()));
                }
                _ => shared.push((name.as_ref().to_string(), value.into())),
            }
        }
        let options = Options::new(Side::Server, shared)?;
        let default_batch = BatchPolicy {
            max_size: options.int("maxBatchSize")?,
            max_delay: options.micros("maxBatchDelayMicros")?,
        };
        let mut method_batches = BTreeMap::new();
        for (method, given) in per_method {
            if !methods.is_empty() && !methods.contains(&method) {
                return Err(RosError::invalid_argument(format!(
                    "batching is set for method '{}', which the instance does not have (its \
                     methods: {})",
                    crate::status::echo(&method),
                    methods.iter().cloned().collect::<Vec<_>>().join(", ")
                )));
            }
            let own = Options::new(Side::Server, given)?;
            let policy = BatchPolicy {
                max_size: if own.is_given("maxBatchSize") {
                    own.int("maxBatchSize")?
                } else {
                    default_batch.max_size
                },
                max_delay: if own.is_given("maxBatchDelayMicros") {
                    own.micros("maxBatchDelayMicros")?
                } else {
                    default_batch.max_delay
                },
            };
            method_batches.insert(method, policy);
        }
        let config = ServerConfig {
            bind_host: options
                .text("bindHost")
                .unwrap_or_default()
                .trim()
                .to_string(),
            port: options.int("port")?,
            queue_capacity: options.int("queueCapacity")?,
            max_message_bytes: options.int("maxMessageBytes")?,
            methods,
            token: options.text("token").map(ServiceToken::new).transpose()?,
            keepalive_interval: options.millis("keepAliveIntervalMillis")?,
            keepalive_timeout: options.millis("keepAliveTimeoutMillis")?,
            max_connections: options.int("maxConnections")?,
            handshake_timeout: options.millis("handshakeTimeoutMillis")?,
            tls_certificate_file: options.text("tlsCertificateFile").map(PathBuf::from),
            tls_key_file: options.text("tlsKeyFile").map(PathBuf::from),
            batching: Batching {
                default: default_batch,
                methods: method_batches,
            },
            replay: ReplayPolicy {
                cache: CachePolicy {
                    max_entries: options.int("resultCacheMaxEntries")?,
                    max_bytes: options.int("resultCacheMaxBytes")?,
                    ttl: options.millis("resultCacheTtlMillis")?,
                },
                orphan_grace: options.millis("orphanGraceMillis")?,
            },
        };
        if config.tls_certificate_file.is_some() != config.tls_key_file.is_some() {
            return Err(RosError::invalid_argument(
                "tlsCertificateFile and tlsKeyFile go together: set both for TLS, or neither",
            ));
        }
        if config.bind_host.is_empty() {
            return Err(RosError::invalid_argument("bindHost must not be blank"));
        }
        if let Some(blank) = config.methods.iter().find(|m| m.trim().is_empty()) {
            return Err(RosError::invalid_argument(format!(
                "method names must not be blank, got '{blank}'"
            )));
        }
        Ok(config)
    }

    /// The options by name, as [`ServerConfig::from_options`] takes them, without the token.
    pub fn to_options(&self) -> Vec<(String, String)> {
        let mut options = vec![
            ("bindHost", self.bind_host.clone()),
            ("port", self.port.to_string()),
            ("queueCapacity", self.queue_capacity.to_string()),
            ("maxMessageBytes", self.max_message_bytes.to_string()),
            (
                "keepAliveIntervalMillis",
                to_millis(self.keepalive_interval),
            ),
            ("keepAliveTimeoutMillis", to_millis(self.keepalive_timeout)),
            ("maxConnections", self.max_connections.to_string()),
            ("handshakeTimeoutMillis", to_millis(self.handshake_timeout)),
            ("maxBatchSize", self.batching.default.max_size.to_string()),
            (
                "maxBatchDelayMicros",
                to_micros(self.batching.default.max_delay),
            ),
            (
                "resultCacheMaxEntries",
                self.replay.cache.max_entries.to_string(),
            ),
            (
                "resultCacheMaxBytes",
                self.replay.cache.max_bytes.to_string(),
            ),
            ("resultCacheTtlMillis", to_millis(self.replay.cache.ttl)),
            ("orphanGraceMillis", to_millis(self.replay.orphan_grace)),
        ];
        if let (Some(certificate), Some(key)) = (&self.tls_certificate_file, &self.tls_key_file) {
            options.push(("tlsCertificateFile", certificate.display().to_string()));
            options.push(("tlsKeyFile", key.display().to_string()));
        }
        let mut options: Vec<(String, String)> = options
            .into_iter()
            .map(|(name, value)| (name.to_string(), value))
            .collect();
        for (method, policy) in &self.batching.methods {
            options.push((
                format!("maxBatchSize@{method}"),
                policy.max_size.to_string(),
            ));
            options.push((
                format!("maxBatchDelayMicros@{method}"),
                to_micros(policy.max_delay),
            ));
        }
        options
    }

    /// Checks a configuration built in code against the same limits as one built from options.
    fn validate(&self) -> Result<(), RosError> {
        ServerConfig::from_options(self.to_options(), self.methods.clone()).map(|_| ())
    }
}

/// A running service instance: a gRPC endpoint in front of a request queue.
///
/// Dropping it shuts it down without waiting; [`RosServer::shutdown`] also waits for the
/// listener to close.
pub struct RosServer {
    config: ServerConfig,
    local_addr: SocketAddr,
    queue: Arc<RequestQueue>,
    refusals: Arc<Refusals>,
    health: tonic_health::server::HealthReporter,
    shutting_down: CancellationToken,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    serving: Mutex<Option<JoinHandle<()>>>,
}

/// Requests refused before they reached the queue.
#[derive(Default)]
struct Refusals {
    unknown_method: AtomicU64,
    unauthenticated: AtomicU64,
    connections: Arc<ConnectionRefusals>,
}

impl RosServer {
    /// Binds the listener and starts serving on the current Tokio runtime.
    pub async fn start(config: ServerConfig) -> Result<RosServer, RosError> {
        config.validate()?;
        let bind = format!("{}:{}", config.bind_host, config.port);
        let listener = TcpListener::bind(&bind)
            .await
            .map_err(|e| RosError::unavailable(format!("cannot bind {bind}: {e}")))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| RosError::internal(format!("cannot read bound address: {e}")))?;

        let queue = Arc::new(RequestQueue::new(
            config.queue_capacity,
            config.batching.clone(),
            config.replay,
        ));
        let refusals = Arc::new(Refusals::default());
        let handler = Handler {
            queue: queue.clone(),
            methods: Arc::new(config.methods.clone()),
            refusals: refusals.clone(),
            max_message_bytes: config.max_message_bytes,
            shutting_down: CancellationToken::new(),
        };
        let shutting_down = handler.shutting_down.clone();
        // A message of the multiplexed stream holds several requests or results, each within
        // the limit, which the handlers check one by one; the codec's bound only has to admit the
        // largest message a well-behaved peer sends.
        let max_frame = config
            .max_message_bytes
            .max(crate::stream_server::FRAME_TARGET_BYTES)
            .saturating_add(crate::stream_server::FRAME_TARGET_BYTES)
            .saturating_add(crate::stream_server::FRAME_SLACK_BYTES);
        let token = config.token.clone();
        let auth_refusals = refusals.clone();
        let service = RpcOperatorServiceServer::new(handler)
            .max_decoding_message_size(max_frame)
            .max_encoding_message_size(max_frame);
        let service = tonic::service::interceptor::InterceptedService::new(
            service,
            move |mut request: Request<()>| {
                let identity = match &token {
                    None => Identity::Owner,
                    Some(token) => match token.authenticate(request.metadata()) {
                        Some(identity) => identity,
                        None => {
                            auth_refusals
                                .unauthenticated
                                .fetch_add(1, Ordering::Relaxed);
                            return Err(Status::unauthenticated(
                                "missing, repeated or wrong service token or principal credential \
                                 (x-ros-token, x-ros-principal)",
                            ));
                        }
                    },
                };
                // The handlers check the request's client id against it.
                request.extensions_mut().insert(identity);
                Ok(request)
            },
        );

        // The standard gRPC health service, without the token, so that outside tools (grpcurl,
        // grpc_health_probe, load balancers) can probe an instance.
        let (health, health_service) = tonic_health::server::health_reporter();
        health
            .set_serving::<RpcOperatorServiceServer<Handler>>()
            .await;

        let (stop, stopped) = oneshot::channel::<()>();
        let incoming = crate::listener::incoming(
            listener,
            ConnectionLimits {
                max_connections: config.max_connections,
                handshake_timeout: config.handshake_timeout,
            },
            refusals.connections.clone(),
        );
        let mut builder = tonic::transport::Server::builder();
        if let (Some(certificate), Some(key)) = (&config.tls_certificate_file, &config.tls_key_file)
        {
            builder = builder
                .tls_config(crate::tls::server(certificate, key)?)
                .map_err(|e| RosError::invalid_argument(format!("invalid TLS identity: {e}")))?;
        }
        let mut server = builder
            .http2_keepalive_interval(Some(config.keepalive_interval))
            .http2_keepalive_timeout(Some(config.keepalive_timeout))
            .initial_stream_window_size(Some(crate::stream_server::STREAM_WINDOW_BYTES))
            .initial_connection_window_size(Some(crate::stream_server::CONNECTION_WINDOW_BYTES))
            .layer(tower::util::MapResponseLayer::new({
                let limit = config.max_message_bytes;
                move |response| oversized_is_invalid_argument::<tonic::body::Body>(response, limit)
            }));
        let serving = tokio::spawn(async move {
            let result = server
                .add_service(health_service)
                .add_service(service)
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = result {
                tracing::warn!(%local_addr, %error, "service instance stopped serving");
            }
        });
        tracing::info!(%local_addr, "service instance listening");
        Ok(RosServer {
            config,
            local_addr,
            queue,
            refusals,
            health,
            shutting_down,
            stop: Mutex::new(Some(stop)),
            serving: Mutex::new(Some(serving)),
        })
    }

    /// The configuration the instance runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The address the instance listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Blocks the calling (non-Tokio) thread for up to `timeout` until requests arrive, and takes
    /// a batch of at most `max` requests of one method, formed by the method's [`BatchPolicy`]
    /// (a batch waiting to fill may hold the thread past `timeout`, up to the policy's delay). An
    /// empty batch means the timeout passed or the server shut down.
    pub fn poll(&self, max: usize, timeout: Duration) -> Vec<ServerRequest> {
        self.queue.poll(max, timeout)
    }

    /// Delivers the outcome of a polled request. Returns false when its caller is gone (the
    /// result is discarded).
    pub fn complete(&self, id: u64, outcome: Result<Bytes, RosError>) -> bool {
        self.queue.complete(id, outcome)
    }

    /// Delivers the outcomes of a polled batch at once. Returns how many found their caller.
    pub fn complete_all(
        &self,
        outcomes: impl IntoIterator<Item = (u64, Result<Bytes, RosError>)>,
    ) -> usize {
        self.queue.complete_all(outcomes)
    }

    /// Counters and latencies of the instance.
    pub fn stats(&self) -> ServerStats {
        ServerStats {
            rejected_unknown_method: self.refusals.unknown_method.load(Ordering::Relaxed),
            rejected_unauthenticated: self.refusals.unauthenticated.load(Ordering::Relaxed),
            rejected_connections: self.refusals.connections.over_limit.load(Ordering::Relaxed),
            handshake_timeouts: self
                .refusals
                .connections
                .handshake_timeouts
                .load(Ordering::Relaxed),
            ..self.queue.stats()
        }
    }

    /// Stops accepting requests, answers pending ones `UNAVAILABLE`, and waits (bounded) for the
    /// listener and connections to close. Idempotent.
    pub async fn shutdown(&self) {
        self.health
            .set_not_serving::<RpcOperatorServiceServer<Handler>>()
            .await;
        self.begin_shutdown();
        let serving = self.serving.lock().take();
        if let Some(mut serving) = serving
            && tokio::time::timeout(Duration::from_secs(5), &mut serving)
                .await
                .is_err()
        {
            serving.abort();
        }
    }

    fn begin_shutdown(&self) {
        self.queue.close();
        self.shutting_down.cancel();
        if let Some(stop) = self.stop.lock().take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for RosServer {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}

#[derive(Clone)]
struct Handler {
    queue: Arc<RequestQueue>,
    methods: Arc<BTreeSet<String>>,
    refusals: Arc<Refusals>,
    max_message_bytes: usize,
    /// Ends the multiplexed streams when the instance shuts down.
    shutting_down: CancellationToken,
}

impl Handler {
    /// Refuses a request whose client id the caller may not act for.
    fn check_scope<T>(request: &Request<T>, client_id: &str, action: &str) -> Result<(), RosError> {
        // The interceptor puts an identity into every request it lets through; fail closed if a
        // request ever arrives without one.
        let identity = request
            .extensions()
            .get::<Identity>()
            .ok_or_else(|| RosError::internal("request reached the handler unauthenticated"))?;
        identity.check(client_id, action)
    }

    fn check_method(&self, method: &str) -> Result<(), RosError> {
        if self.methods.is_empty() || self.methods.contains(method) {
            return Ok(());
        }
        self.refusals.unknown_method.fetch_add(1, Ordering::Relaxed);
        let known: Vec<&str> = self.methods.iter().map(String::as_str).collect();
        Err(RosError::new(
            StatusCode::NotFound,
            format!(
                "the service has no method '{}' (its methods: {})",
                crate::status::echo(method),
                known.join(", ")
            ),
        ))
    }
}

/// gRPC's decoder refuses a request over the size limit with `OUT_OF_RANGE` ("decoded message
/// length too large"); the contract says `INVALID_ARGUMENT`, naming the size, the limit and the
/// option. Nothing else here answers `OUT_OF_RANGE`, so every such answer is that refusal.
fn oversized_is_invalid_argument<B>(
    mut response: http::Response<B>,
    limit: usize,
) -> http::Response<B> {
    const OUT_OF_RANGE: &str = "11";
    let headers = response.headers_mut();
    if headers.get("grpc-status").map(|v| v.as_bytes()) != Some(OUT_OF_RANGE.as_bytes()) {
        return response;
    }
    let original = headers
        .get("grpc-message")
        .map(|v| percent_decode(v.as_bytes()))
        .unwrap_or_default();
    let numbers: Vec<&str> = original
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    // The decoder's own bound is above the configured limit (see `max_frame`): name the latter.
    let message = match numbers.first() {
        Some(size) => format!(
            "request of {size} bytes is over the instance's limit of {limit} bytes \
             (option maxMessageBytes)"
        ),
        None => format!(
            "request is over the instance's limit of {limit} bytes (option maxMessageBytes)"
        ),
    };
    headers.insert(
        "grpc-status",
        http::HeaderValue::from_static(INVALID_ARGUMENT_CODE),
    );
    if let Ok(value) = http::HeaderValue::from_str(&message) {
        headers.insert("grpc-message", value);
    }
    response
}

const INVALID_ARGUMENT_CODE: &str = "3";

/// A `grpc-message` header's text: gRPC percent-encodes it.
fn percent_decode(encoded: &[u8]) -> String {
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while i < encoded.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (encoded.get(i), encoded.get(i + 1), encoded.get(i + 2)) {
            (Some(b'%'), Some(&high), Some(&low)) if hex(high).is_some() && hex(low).is_some() => {
                decoded.push((hex(high).unwrap_or(0) * 16 + hex(low).unwrap_or(0)) as u8);
                i += 3;
            }
            _ => {
                decoded.push(encoded[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// Takes a queued request out of the queue when its caller goes away before the outcome arrives
/// (the handler future is dropped when the client cancels, times out or disconnects).
struct AbandonOnDrop<'a> {
    queue: &'a RequestQueue,
    id: u64,
    armed: bool,
}

impl Drop for AbandonOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.queue.abandon(self.id);
        }
    }
}

#[tonic::async_trait]
impl RpcOperatorService for Handler {
    async fn invoke(
        &self,
        request: Request<InvokeRequest>,
    ) -> Result<Response<InvokeResponse>, Status> {
        Self::check_scope(&request, &request.get_ref().client_id, "call")?;
        let request = request.into_inner();
        self.check_method(&request.method)?;
        crate::stream_server::check_request_size(&request, self.max_message_bytes)?;
        let request_timeout_millis = request.timeout_millis;
        let deadline = (request.timeout_millis > 0)
            .then(|| Instant::now().checked_add(Duration::from_millis(request.timeout_millis)))
            .flatten();
        let (respond, outcome) = oneshot::channel();
        let id = self.queue.admit(
            Admission {
                request_id: request.request_id,
                client_id: request.client_id,
                client_epoch: request.client_epoch,
                method: request.method,
                payload: request.payload,
                deadline,
                identity_key: request.identity_key,
            },
            respond,
        )?;
        let mut guard = AbandonOnDrop {
            queue: &self.queue,
            id,
            armed: true,
        };
        // A request whose deadline passes while it waits leaves the queue then, not when a worker
        // reaches it: its caller gets its answer and the place in the queue is free at once.
        let outcome = match deadline {
            None => outcome.await,
            Some(deadline) => {
                match tokio::time::timeout_at(tokio::time::Instant::from_std(deadline), outcome)
                    .await
                {
                    Ok(outcome) => outcome,
                    Err(_) => {
                        let expired = self.queue.expire(id);
                        // Still armed when it runs: a running request's result is discarded.
                        guard.armed = !expired;
                        return Err(Status::deadline_exceeded(format!(
                            "the request passed its deadline of {} ms {}",
                            request_timeout_millis,
                            if expired {
                                "while queued"
                            } else {
                                "while running"
                            }
                        )));
                    }
                }
            }
        };
        guard.armed = false;
        match outcome {
            Ok(Ok(payload)) if payload.len() > self.max_message_bytes => {
                Err(RosError::invalid_argument(format!(
                    "result of {} bytes is over the instance's limit of {} bytes (option \
                     maxMessageBytes)",
                    payload.len(),
                    self.max_message_bytes
                ))
                .into())
            }
            Ok(Ok(payload)) => Ok(Response::new(InvokeResponse { payload })),
            Ok(Err(error)) => Err(error.into()),
            Err(_) => Err(Status::unavailable("service instance dropped the request")),
        }
    }

    type InvokeStreamStream = std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<ResultBatch, Status>> + Send + 'static>,
    >;

    async fn invoke_stream(
        &self,
        request: Request<tonic::Streaming<InvokeBatch>>,
    ) -> Result<Response<Self::InvokeStreamStream>, Status> {
        let identity = request
            .extensions()
            .get::<Identity>()
            .cloned()
            .ok_or_else(|| RosError::internal("request reached the handler unauthenticated"))?;
        let max_result_bytes = crate::stream_server::caller_result_limit(request.metadata())
            .map_or(self.max_message_bytes, |caller| {
                caller.min(self.max_message_bytes)
            });
        let handler = self.clone();
        let instance = crate::stream_server::Instance {
            queue: self.queue.clone(),
            check_method: Arc::new(move |method: &str| handler.check_method(method)),
            max_message_bytes: self.max_message_bytes,
            max_result_bytes,
            shutting_down: self.shutting_down.clone(),
        };
        let results = crate::stream_server::serve(instance, identity, request.into_inner());
        Ok(Response::new(Box::pin(results)))
    }

    async fn cancel(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<CancelResponse>, Status> {
        // A principal may cancel only its own clients' requests; the owner may cancel anyone's.
        Self::check_scope(&request, &request.get_ref().client_id, "cancel")?;
        let request = request.into_inner();
        let cancelled = self
            .queue
            .cancel_epochs(&request.client_id, request.below_epoch);
        if cancelled > 0 {
            tracing::info!(
                client = %request.client_id,
                below_epoch = request.below_epoch,
                cancelled,
                "cancelled queued requests of earlier attempts"
            );
        }
        Ok(Response::new(CancelResponse { cancelled }))
    }
}
