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

//! Choosing an instance for a call: the endpoint set's members, their load and health.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tonic::transport::Channel;

use crate::proto::rpc_operator_service_client::RpcOperatorServiceClient;
use crate::stream_client::Multiplexer;

/// How a client spreads calls over instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadBalancing {
    /// Two random instances are compared and the one with fewer calls outstanding gets the call.
    /// Steers load away from slow or busy instances with no coordination.
    #[default]
    PowerOfTwoChoices,
    /// Instances take turns.
    RoundRobin,
}

/// One instance of the endpoint set. Clones share the connection, load and health.
#[derive(Clone)]
pub(crate) struct Member {
    pub(crate) address: Arc<str>,
    pub(crate) stub: RpcOperatorServiceClient<Channel>,
    /// The multiplexed path to the instance, over the same connection.
    pub(crate) mux: Arc<Multiplexer>,
    outstanding: Arc<AtomicUsize>,
    health: Arc<Health>,
}

/// Ejection state: an instance that failed sits out for a backoff that doubles with each
/// consecutive failure.
struct Health {
    /// Nanoseconds since `epoch` until which the instance is ejected.
    ejected_until: AtomicU64,
    consecutive_failures: AtomicU32,
    /// Whether the last ejection was for a full queue (busy) rather than a lost connection.
    busy: AtomicBool,
    epoch: Instant,
}

impl Member {
    pub(crate) fn new(
        address: Arc<str>,
        stub: RpcOperatorServiceClient<Channel>,
        mux: Multiplexer,
    ) -> Member {
        Member {
            address,
            stub,
            mux: Arc::new(mux),
            outstanding: Arc::new(AtomicUsize::new(0)),
            health: Arc::new(Health {
                ejected_until: AtomicU64::new(0),
                consecutive_failures: AtomicU32::new(0),
                busy: AtomicBool::new(false),
                epoch: Instant::now(),
            }),
        }
    }

    fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Relaxed)
    }

    /// Counts a call as outstanding on this instance until the guard drops.
    pub(crate) fn start_call(&self) -> OutstandingGuard {
        self.outstanding.fetch_add(1, Ordering::Relaxed);
        OutstandingGuard(self.outstanding.clone())
    }

    fn is_ejected(&self, now: Instant) -> bool {
        let now = now.saturating_duration_since(self.health.epoch).as_nanos() as u64;
        self.health.ejected_until.load(Ordering::Relaxed) > now
    }

    /// Ejects the instance after a failure (`busy`: its queue was full, else its connection
    /// failed); returns the backoff it sits out.
    pub(crate) fn eject(&self, busy: bool, min: Duration, max: Duration) -> Duration {
        self.health.busy.store(busy, Ordering::Relaxed);
        let failures = self
            .health
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            .min(16);
        let backoff = min.saturating_mul(1 << failures).min(max);
        // Jitter keeps clients that lost the same instance from probing it in lockstep.
        let backoff = backoff.mul_f64(0.75 + fastrand::f64() * 0.5);
        let until = Instant::now().saturating_duration_since(self.health.epoch) + backoff;
        self.health
            .ejected_until
            .store(until.as_nanos() as u64, Ordering::Relaxed);
        backoff
    }

    /// A call got through: the instance is healthy again.
    pub(crate) fn healthy(&self) {
        if self.health.consecutive_failures.load(Ordering::Relaxed) != 0 {
            self.health.consecutive_failures.store(0, Ordering::Relaxed);
            self.health.ejected_until.store(0, Ordering::Relaxed);
        }
    }
}

/// Decrements an instance's outstanding calls when dropped.
pub(crate) struct OutstandingGuard(Arc<AtomicUsize>);

impl Drop for OutstandingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Why no instance could be picked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NoPick {
    /// The set is empty.
    Empty,
    /// Every member was already tried by this call.
    AllTried,
    /// Every untried member is ejected; `busy` if all of them for full queues.
    AllEjected { count: usize, busy: bool },
}

/// Picks an instance that is neither ejected nor in `tried`.
pub(crate) fn pick(
    members: &[Member],
    tried: &[Arc<str>],
    policy: LoadBalancing,
    round_robin: &AtomicUsize,
) -> Result<Member, NoPick> {
    if members.is_empty() {
        return Err(NoPick::Empty);
    }
    let now = Instant::now();
    let untried: Vec<&Member> = members
        .iter()
        .filter(|m| !tried.contains(&m.address))
        .collect();
    if untried.is_empty() {
        return Err(NoPick::AllTried);
    }
    let candidates: Vec<&Member> = untried
        .iter()
        .copied()
        .filter(|m| !m.is_ejected(now))
        .collect();
    let chosen = match candidates.len() {
        0 => {
            return Err(NoPick::AllEjected {
                count: untried.len(),
                busy: untried
                    .iter()
                    .all(|m| m.health.busy.load(Ordering::Relaxed)),
            });
        }
        1 => candidates[0],
        n => match policy {
            LoadBalancing::RoundRobin => {
                candidates[round_robin.fetch_add(1, Ordering::Relaxed) % n]
            }
            LoadBalancing::PowerOfTwoChoices => {
                let first = fastrand::usize(..n);
                let second = (first + 1 + fastrand::usize(..n - 1)) % n;
                let (a, b) = (candidates[first], candidates[second]);
                if b.outstanding() < a.outstanding() {
                    b
                } else {
                    a
                }
            }
        },
    };
    Ok(chosen.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::transport::Endpoint;

    fn member(address: &str) -> Member {
        let channel = Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        Member::new(
            Arc::from(address),
            RpcOperatorServiceClient::new(channel.clone()),
            Multiplexer::new(channel, Default::default(), 1024),
        )
    }

    #[tokio::test]
    async fn power_of_two_choices_prefers_the_less_loaded_instance() {
        let busy = member("busy:1");
        let idle = member("idle:1");
        let _load: Vec<_> = (0..10).map(|_| busy.start_call()).collect();
        let members = vec![busy, idle];
        let counter = AtomicUsize::new(0);
        for _ in 0..100 {
            let picked = pick(&members, &[], LoadBalancing::PowerOfTwoChoices, &counter).unwrap();
            assert_eq!(&*picked.address, "idle:1");
        }
    }

    #[tokio::test]
    async fn round_robin_takes_turns() {
        let members = vec![member("a:1"), member("b:1"), member("c:1")];
        let counter = AtomicUsize::new(0);
        let picks: Vec<String> = (0..6)
            .map(|_| {
                pick(&members, &[], LoadBalancing::RoundRobin, &counter)
                    .unwrap()
                    .address
                    .to_string()
            })
            .collect();
        assert_eq!(picks, ["a:1", "b:1", "c:1", "a:1", "b:1", "c:1"]);
    }

    #[tokio::test]
    async fn skips_tried_and_ejected_instances() {
        let members = vec![member("a:1"), member("b:1")];
        let counter = AtomicUsize::new(0);
        let tried = [Arc::from("a:1")];
        for _ in 0..10 {
            let picked = pick(&members, &tried, LoadBalancing::RoundRobin, &counter).unwrap();
            assert_eq!(&*picked.address, "b:1");
        }
        let both: Vec<Arc<str>> = vec![Arc::from("a:1"), Arc::from("b:1")];
        assert_eq!(
            pick(&members, &both, LoadBalancing::RoundRobin, &counter).err(),
            Some(NoPick::AllTried)
        );

        members[1].eject(true, Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(
            pick(&members, &tried, LoadBalancing::RoundRobin, &counter).err(),
            Some(NoPick::AllEjected {
                count: 1,
                busy: true
            })
        );
        members[1].eject(false, Duration::from_secs(60), Duration::from_secs(60));
        assert_eq!(
            pick(&members, &tried, LoadBalancing::RoundRobin, &counter).err(),
            Some(NoPick::AllEjected {
                count: 1,
                busy: false
            })
        );
        members[1].healthy();
        assert!(pick(&members, &tried, LoadBalancing::RoundRobin, &counter).is_ok());
        assert_eq!(
            pick(&[], &[], LoadBalancing::RoundRobin, &counter).err(),
            Some(NoPick::Empty)
        );
    }

    #[tokio::test]
    async fn ejection_backoff_doubles_up_to_the_maximum() {
        let m = member("a:1");
        let min = Duration::from_millis(100);
        let max = Duration::from_millis(1000);
        let first = m.eject(false, min, max);
        let second = m.eject(false, min, max);
        let later: Vec<Duration> = (0..10).map(|_| m.eject(false, min, max)).collect();
        assert!(first >= Duration::from_millis(75) && first <= Duration::from_millis(125));
        assert!(second >= Duration::from_millis(150) && second <= Duration::from_millis(250));
        assert!(later.iter().all(|b| *b <= Duration::from_millis(1250)));
    }
}
