//! The caller's side: a client over a replaceable set of service instances.
//!
//! The endpoint set is pushed from outside (in Flink, by the client operator's coordinator) and
//! may change at any time; calls pick an instance round-robin. Connections are made lazily and
//! kept for as long as their address stays in the set.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

use crate::endpoints::endpoint_uri;
use crate::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use crate::proto::{CancelRequest, InvokeRequest};
use crate::status::{RosError, StatusCode};

/// How a client identifies itself and waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Who calls; for a Flink subtask `<job>/<operator>/<subtask>`.
    pub client_id: String,
    /// The caller's attempt number; sent with every request.
    pub client_epoch: u64,
    /// Deadline of a call that does not give its own.
    pub default_timeout: Duration,
    /// How long calls made before the first endpoints arrive wait for them. Once the set has had
    /// members, an empty set fails calls with `UNAVAILABLE` at once.
    pub startup_wait: Duration,
    /// Time allowed to open a connection to an instance.
    pub connect_timeout: Duration,
    /// Largest request or response message, in bytes.
    pub max_message_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            client_id: "ros-client".to_string(),
            client_epoch: 0,
            default_timeout: Duration::from_secs(30),
            startup_wait: Duration::ZERO,
            connect_timeout: Duration::from_secs(5),
            max_message_bytes: 64 * 1024 * 1024,
        }
    }
}

impl ClientConfig {
    fn validate(&self) -> Result<(), RosError> {
        if self.default_timeout.is_zero() {
            return Err(RosError::invalid_argument(
                "default timeout must be positive, got 0",
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(RosError::invalid_argument(
                "connect timeout must be positive, got 0",
            ));
        }
        if self.max_message_bytes == 0 {
            return Err(RosError::invalid_argument(
                "max message size must be at least 1 byte, got 0",
            ));
        }
        Ok(())
    }
}

#[derive(Clone)]
struct Member {
    address: Arc<str>,
    stub: RpcOperatorServiceClient<Channel>,
}

#[derive(Default)]
struct EndpointSet {
    members: Vec<Member>,
    /// Whether the set has ever had members; ends the startup wait.
    ever_populated: bool,
    updates: u64,
}

struct Inner {
    config: ClientConfig,
    endpoints: watch::Sender<EndpointSet>,
    next_member: AtomicUsize,
    next_request_id: AtomicU64,
    closed: CancellationToken,
    startup_until: Instant,
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
        let startup_until = Instant::now() + config.startup_wait;
        Ok(RosClient {
            inner: Arc::new(Inner {
                config,
                endpoints: watch::Sender::new(EndpointSet::default()),
                next_member: AtomicUsize::new(0),
                next_request_id: AtomicU64::new(0),
                closed: CancellationToken::new(),
                startup_until,
            }),
        })
    }

    /// The configuration this client was made with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Replaces the set of instances (`host:port` each). Connections to addresses that stay are
    /// kept. Nothing changes if any address is malformed. Must run inside a Tokio runtime.
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
                        .unwrap_or_else(|| connect_lazily(&address, uri, config))
                })
                .collect();
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

    /// Calls `method` with `payload` on one instance and waits for its result, for at most
    /// `timeout` (or the configured default).
    pub async fn call(
        &self,
        method: &str,
        payload: Bytes,
        timeout: Option<Duration>,
    ) -> Result<Bytes, RosError> {
        let timeout = timeout.unwrap_or(self.inner.config.default_timeout);
        let deadline = Instant::now() + timeout;
        tokio::select! {
            biased;
            _ = self.inner.closed.cancelled() => {
                Err(RosError::cancelled("client was closed while the call was in flight"))
            }
            outcome = tokio::time::timeout_at(deadline, self.attempt(method, payload, deadline)) => {
                outcome.unwrap_or_else(|_| Err(RosError::deadline_exceeded(format!(
                    "call to '{method}' got no result within {} ms",
                    timeout.as_millis()
                ))))
            }
        }
    }

    async fn attempt(
        &self,
        method: &str,
        payload: Bytes,
        deadline: Instant,
    ) -> Result<Bytes, RosError> {
        let member = self.pick(deadline).await?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let request = InvokeRequest {
            request_id: self.inner.next_request_id.fetch_add(1, Ordering::Relaxed),
            client_id: self.inner.config.client_id.clone(),
            client_epoch: self.inner.config.client_epoch,
            method: method.to_string(),
            payload,
            timeout_millis: remaining.as_millis().max(1) as u64,
        };
        let mut stub = member.stub;
        match stub.invoke(request).await {
            Ok(response) => Ok(response.into_inner().payload),
            Err(status) => {
                let mut error = RosError::from(status);
                if matches!(
                    error.code,
                    StatusCode::Unavailable | StatusCode::ResourceExhausted
                ) {
                    error.message = format!("instance {}: {}", member.address, error.message);
                }
                Err(error)
            }
        }
    }

    /// Picks the next instance round-robin. An empty set fails at once with `UNAVAILABLE`, except
    /// during the startup wait, when the call waits for the first endpoints.
    async fn pick(&self, deadline: Instant) -> Result<Member, RosError> {
        let mut updates = self.inner.endpoints.subscribe();
        loop {
            {
                let set = updates.borrow_and_update();
                if !set.members.is_empty() {
                    let n = self.inner.next_member.fetch_add(1, Ordering::Relaxed);
                    return Ok(set.members[n % set.members.len()].clone());
                }
                if set.ever_populated || Instant::now() >= self.inner.startup_until {
                    return Err(RosError::unavailable(format!(
                        "no live instance of the service (endpoint set is empty after {} updates)",
                        set.updates
                    )));
                }
            }
            let wait_until = self.inner.startup_until.min(deadline);
            // A timeout or a closed channel both lead back to the checks above.
            let _ = tokio::time::timeout_at(wait_until, updates.changed()).await;
        }
    }

    /// Asks every instance in the set to drop the queued requests of this client's earlier
    /// attempts (epochs below this client's). Returns how many were dropped in all. Instances that
    /// cannot be reached are skipped: their queues die with them.
    pub async fn cancel_earlier_epochs(&self) -> u64 {
        let members = self.inner.endpoints.borrow().members.clone();
        let mut cancelled = 0;
        for member in members {
            let mut stub = member.stub;
            let request = CancelRequest {
                client_id: self.inner.config.client_id.clone(),
                below_epoch: self.inner.config.client_epoch,
            };
            match stub.cancel(request).await {
                Ok(response) => cancelled += response.into_inner().cancelled,
                Err(status) => tracing::debug!(
                    instance = %member.address,
                    %status,
                    "could not cancel earlier epochs"
                ),
            }
        }
        cancelled
    }

    /// Fails every call in flight with `CANCELLED`, refuses new ones and drops all connections.
    pub fn close(&self) {
        self.inner.closed.cancel();
        self.inner.endpoints.send_modify(|set| set.members.clear());
    }

    /// Whether [`RosClient::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }
}

fn connect_lazily(address: &str, uri: String, config: &ClientConfig) -> Member {
    let channel = Endpoint::from_shared(uri)
        .expect("endpoint_uri produces valid URIs")
        .connect_timeout(config.connect_timeout)
        .tcp_nodelay(true)
        .connect_lazy();
    let stub = RpcOperatorServiceClient::new(channel)
        .max_decoding_message_size(config.max_message_bytes)
        .max_encoding_message_size(config.max_message_bytes);
    Member {
        address: Arc::from(address),
        stub,
    }
}
