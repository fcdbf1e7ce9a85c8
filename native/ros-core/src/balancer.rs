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
//!
//! Calls with an identity key go by consistent hashing with bounded loads (Mirrokni, Thorup and
//! Zadimoghaddam, 2018): each member holds many points on a hash ring, and a key goes to the first
//! member clockwise of its own point whose load stays within `c` times the mean with this call, so
//! the same key reaches the same instance while no instance turns into a hot spot. The load is
//! the member's share of the client's last [`RECENT_CALLS`] keyed calls. The calls in flight
//! would do too, but they swing with every batch of results: with them as the load, 12-16 % of
//! replays at 64 calls in flight missed the instance that held their result, where the share
//! keeps them home.
//! Points follow from the members' addresses alone, so clients in other processes agree, and a
//! member that leaves moves only its own keys.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use sha2::{Digest, Sha256};
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

/// The members that are neither ejected nor in `tried`, or why there is none.
fn candidates<'a>(members: &'a [Member], tried: &[Arc<str>]) -> Result<Vec<&'a Member>, NoPick> {
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
    if candidates.is_empty() {
        return Err(NoPick::AllEjected {
            count: untried.len(),
            busy: untried
                .iter()
                .all(|m| m.health.busy.load(Ordering::Relaxed)),
        });
    }
    Ok(candidates)
}

/// Points of each member on the ring: enough that members' shares of the keys differ by a few
/// percent.
const POINTS_PER_MEMBER: u64 = 256;

/// The hash ring of an endpoint set's members.
#[derive(Default)]
pub(crate) struct Ring {
    /// Points and the index of their member, by point.
    points: Vec<(u64, usize)>,
}

impl Ring {
    pub(crate) fn new(members: &[Member]) -> Ring {
        let mut points: Vec<(u64, usize)> = members
            .iter()
            .enumerate()
            .flat_map(|(index, member)| {
                (0..POINTS_PER_MEMBER).map(move |point| {
                    let mut label = member.address.as_bytes().to_vec();
                    label.extend_from_slice(&point.to_be_bytes());
                    (ring_position(&label), index)
                })
            })
            .collect();
        points.sort_unstable();
        Ring { points }
    }
}

/// Where `bytes` lie on the ring: the first 8 bytes of their SHA-256, the same in every process.
pub(crate) fn ring_position(bytes: &[u8]) -> u64 {
    let digest = Sha256::digest(bytes);
    u64::from_be_bytes(digest[..8].try_into().expect("a digest has 8 bytes"))
}

/// How many of a client's latest keyed calls make up the loads they are balanced by.
pub(crate) const RECENT_CALLS: usize = 1024;

/// Calls per instance below which a share is noise, not a hot spot (3 of a client's first 3 calls
/// going to one instance): the bound counts at least this many calls per instance, so that a new
/// client, such as the restarted caller replaying its records, keeps its keys on their instances.
const MIN_CALLS_PER_INSTANCE: usize = 64;

/// The instances a client's latest keyed calls went to, and how many went to each.
#[derive(Default)]
pub(crate) struct RecentCalls {
    order: VecDeque<Arc<str>>,
    by_address: HashMap<Arc<str>, usize>,
}

impl RecentCalls {
    fn load(&self, address: &Arc<str>) -> usize {
        self.by_address.get(address).copied().unwrap_or(0)
    }

    /// Forgets the oldest call once the window is full, so that the one about to be picked fits.
    fn make_room(&mut self) {
        if self.order.len() >= RECENT_CALLS
            && let Some(oldest) = self.order.pop_front()
            && let Some(count) = self.by_address.get_mut(&oldest)
        {
            *count -= 1;
            if *count == 0 {
                self.by_address.remove(&oldest);
            }
        }
    }

    fn record(&mut self, address: Arc<str>) {
        *self.by_address.entry(address.clone()).or_default() += 1;
        self.order.push_back(address);
    }
}

/// Picks the instance for a call whose key lies at `position`: the first candidate clockwise on
/// `ring` whose load (see the module documentation) stays within `load_factor` times the mean
/// with this call.
pub(crate) fn pick_keyed(
    members: &[Member],
    ring: &Ring,
    position: u64,
    tried: &[Arc<str>],
    load_factor: f64,
    recent: &mut RecentCalls,
) -> Result<Member, NoPick> {
    let candidates = candidates(members, tried)?;
    recent.make_room();
    let total: usize = candidates.iter().map(|m| recent.load(&m.address)).sum();
    let calls = (total + 1).max(MIN_CALLS_PER_INSTANCE * candidates.len());
    let bound = (load_factor * calls as f64 / candidates.len() as f64).ceil() as usize;
    let start = ring.points.partition_point(|(point, _)| *point < position);
    let clockwise = ring.points[start..].iter().chain(&ring.points[..start]);
    let chosen = clockwise
        .map(|(_, index)| &members[*index])
        .find(|member| {
            recent.load(&member.address) < bound
                && candidates.iter().any(|c| std::ptr::eq(*c, *member))
        })
        // Unreachable: the loads of the candidates sum to less than their number times the bound.
        .unwrap_or(candidates[0])
        .clone();
    recent.record(chosen.address.clone());
    Ok(chosen)
}

/// Picks an instance that is neither ejected nor in `tried`.
pub(crate) fn pick(
    members: &[Member],
    tried: &[Arc<str>],
    policy: LoadBalancing,
    round_robin: &AtomicUsize,
) -> Result<Member, NoPick> {
    let candidates = candidates(members, tried)?;
    let chosen = match candidates.len() {
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

    fn key_position(n: u64) -> u64 {
        ring_position(&n.to_be_bytes())
    }

    #[tokio::test]
    async fn a_key_goes_to_the_same_instance_and_only_a_removed_instance_moves_its_keys() {
        let members: Vec<Member> = (0..4)
            .map(|i| member(&format!("10.0.0.{i}:7000")))
            .collect();
        let ring = Ring::new(&members);
        let owner = |members: &[Member], ring: &Ring, n: u64| {
            pick_keyed(
                members,
                ring,
                key_position(n),
                &[],
                100.0,
                &mut RecentCalls::default(),
            )
            .unwrap()
            .address
            .to_string()
        };
        let before: Vec<String> = (0..4000).map(|n| owner(&members, &ring, n)).collect();
        assert_eq!(
            before,
            (0..4000)
                .map(|n| owner(&members, &ring, n))
                .collect::<Vec<_>>()
        );
        for address in members.iter().map(|m| m.address.to_string()) {
            let share = before.iter().filter(|a| **a == address).count();
            assert!(
                (800..=1200).contains(&share),
                "{address} holds {share} of 4000 keys"
            );
        }
        let removed = members[2].address.to_string();
        let rest: Vec<Member> = members
            .iter()
            .filter(|m| *m.address != *removed)
            .cloned()
            .collect();
        let rest_ring = Ring::new(&rest);
        for (n, old) in before.iter().enumerate() {
            let new = owner(&rest, &rest_ring, n as u64);
            if *old != removed {
                assert_eq!(&new, old, "key {n} moved although its instance stayed");
            }
        }
    }

    #[tokio::test]
    async fn no_instance_takes_more_than_the_load_factor_times_the_mean() {
        let members: Vec<Member> = (0..4)
            .map(|i| member(&format!("10.0.0.{i}:7000")))
            .collect();
        let ring = Ring::new(&members);
        let mut recent = RecentCalls::default();
        // One hot key: plain consistent hashing would send every call to one instance.
        for calls in 1..=3 * RECENT_CALLS {
            pick_keyed(&members, &ring, key_position(7), &[], 1.25, &mut recent).unwrap();
            let window = calls.min(RECENT_CALLS);
            let bound =
                (1.25 * window.max(MIN_CALLS_PER_INSTANCE * 4) as f64 / 4.0).ceil() as usize;
            for m in &members {
                let load = recent.load(&m.address);
                assert!(load <= bound, "{load} of {window} calls, over {bound}");
            }
        }
        // The hot key spilled over to every instance, each within the bound.
        let used = members
            .iter()
            .filter(|m| recent.load(&m.address) > 0)
            .count();
        assert_eq!(used, 4, "the hot key's calls went to {used} instances");
    }

    #[tokio::test]
    async fn a_keyed_call_skips_tried_and_ejected_instances() {
        let members: Vec<Member> = (0..3)
            .map(|i| member(&format!("10.0.0.{i}:7000")))
            .collect();
        let ring = Ring::new(&members);
        let pick = |tried: &[Arc<str>]| {
            let mut recent = RecentCalls::default();
            pick_keyed(&members, &ring, key_position(1), tried, 100.0, &mut recent).unwrap()
        };
        let home = pick(&[]);
        let next = pick(std::slice::from_ref(&home.address));
        assert_ne!(home.address, next.address);
        home.eject(false, Duration::from_secs(60), Duration::from_secs(60));
        let while_ejected = pick(&[]);
        assert_eq!(
            while_ejected.address, next.address,
            "the next on the ring, as a retry"
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
