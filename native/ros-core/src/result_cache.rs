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

//! Identities of requests and the instance's bounded cache of their results.
//!
//! A request that carries an identity key is known by its method and key; its payload digest
//! (SHA-256 over method and payload) goes with it, so that a key reused for a different payload
//! is never answered with another payload's result.
//!
//! The cache is bounded by entries, bytes and time to live at once. moka bounds one weight, so
//! each entry weighs its bytes but at least `max_bytes / max_entries`: the weights then stay
//! within `max_bytes`, and at most `max_entries` entries fit.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use moka::notification::RemovalCause;
use sha2::{Digest, Sha256};

/// A request's identity: its method and the key it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RequestKey {
    pub(crate) method: String,
    pub(crate) key: Bytes,
}

/// SHA-256 over a request's method and payload.
pub(crate) type PayloadDigest = [u8; 32];

/// The digest of `method` and `payload`; the method's length goes first so that no two
/// (method, payload) pairs hash the same bytes.
pub(crate) fn payload_digest(method: &str, payload: &[u8]) -> PayloadDigest {
    let mut hasher = Sha256::new();
    hasher.update((method.len() as u64).to_be_bytes());
    hasher.update(method.as_bytes());
    hasher.update(payload);
    hasher.finalize().into()
}

/// The identity key of a call whose operator is deterministic: the digest of its method and
/// payload, so that equal calls share one execution and one cached result.
pub fn content_key(method: &str, payload: &[u8]) -> Bytes {
    Bytes::copy_from_slice(&payload_digest(method, payload))
}

/// Bounds of an instance's result cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CachePolicy {
    /// Results held at most; 0 turns the cache off.
    pub max_entries: u64,
    /// Bytes of results held at most (each result counts at least `max_bytes / max_entries`).
    pub max_bytes: u64,
    /// How long a result stays after it was stored.
    pub ttl: Duration,
}

#[derive(Clone)]
struct Cached {
    digest: PayloadDigest,
    payload: Bytes,
}

/// The cache's counters since the instance started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CacheStats {
    pub(crate) hits: u64,
    pub(crate) evictions: u64,
    pub(crate) entries: u64,
    pub(crate) bytes: u64,
}

#[derive(Default)]
struct Counters {
    hits: AtomicU64,
    evictions: AtomicU64,
    bytes: AtomicU64,
}

/// See the module documentation.
pub(crate) struct ResultCache {
    cache: Option<moka::sync::Cache<RequestKey, Cached>>,
    /// Results larger than this are not stored (they would push out everything else).
    max_result_bytes: u64,
    counters: Arc<Counters>,
}

impl ResultCache {
    pub(crate) fn new(policy: CachePolicy) -> ResultCache {
        let counters = Arc::new(Counters::default());
        if policy.max_entries == 0 || policy.max_bytes == 0 {
            return ResultCache {
                cache: None,
                max_result_bytes: 0,
                counters,
            };
        }
        let min_weight = policy.max_bytes.div_ceil(policy.max_entries).max(1);
        let weight = move |size: u64| size.max(min_weight).min(u32::MAX as u64) as u32;
        let on_removal = counters.clone();
        let cache = moka::sync::Cache::builder()
            .max_capacity(policy.max_bytes)
            .weigher(move |key: &RequestKey, value: &Cached| weight(entry_bytes(key, value)))
            .time_to_live(policy.ttl)
            .eviction_listener(move |key, value: Cached, cause| {
                on_removal
                    .bytes
                    .fetch_sub(entry_bytes(&key, &value), Ordering::Relaxed);
                if matches!(cause, RemovalCause::Size | RemovalCause::Expired) {
                    on_removal.evictions.fetch_add(1, Ordering::Relaxed);
                }
            })
            .build();
        ResultCache {
            cache: Some(cache),
            max_result_bytes: policy.max_bytes.min(u32::MAX as u64),
            counters,
        }
    }

    /// The result stored for `key` if it was computed from the same method and payload.
    /// `Err(())` when the key is held by a different payload.
    pub(crate) fn get(
        &self,
        key: &RequestKey,
        digest: &PayloadDigest,
    ) -> Result<Option<Bytes>, ()> {
        let Some(found) = self.cache.as_ref().and_then(|cache| cache.get(key)) else {
            return Ok(None);
        };
        if found.digest != *digest {
            return Err(());
        }
        self.counters.hits.fetch_add(1, Ordering::Relaxed);
        Ok(Some(found.payload))
    }

    /// Stores a successful result.
    pub(crate) fn put(&self, key: RequestKey, digest: PayloadDigest, payload: Bytes) {
        let Some(cache) = &self.cache else {
            return;
        };
        let value = Cached { digest, payload };
        if entry_bytes(&key, &value) > self.max_result_bytes {
            return;
        }
        self.counters
            .bytes
            .fetch_add(entry_bytes(&key, &value), Ordering::Relaxed);
        cache.insert(key, value);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        if let Some(cache) = &self.cache {
            // Applies pending evictions, so that the figures are within the bounds.
            cache.run_pending_tasks();
        }
        CacheStats {
            hits: self.counters.hits.load(Ordering::Relaxed),
            evictions: self.counters.evictions.load(Ordering::Relaxed),
            entries: self.cache.as_ref().map_or(0, |cache| cache.entry_count()),
            bytes: self.counters.bytes.load(Ordering::Relaxed),
        }
    }
}

/// What an entry holds in memory, near enough: its key, method, digest and result.
fn entry_bytes(key: &RequestKey, value: &Cached) -> u64 {
    (key.method.len() + key.key.len() + value.digest.len() + value.payload.len()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u64) -> RequestKey {
        RequestKey {
            method: "m".to_string(),
            key: Bytes::from(n.to_string()),
        }
    }

    fn cache(max_entries: u64, max_bytes: u64, ttl: Duration) -> ResultCache {
        ResultCache::new(CachePolicy {
            max_entries,
            max_bytes,
            ttl,
        })
    }

    #[test]
    fn a_key_held_by_another_payload_is_not_answered() {
        let cache = cache(100, 1 << 20, Duration::from_secs(60));
        let digest = payload_digest("m", b"payload");
        cache.put(key(1), digest, Bytes::from_static(b"result"));
        assert_eq!(
            cache.get(&key(1), &digest),
            Ok(Some(Bytes::from_static(b"result")))
        );
        assert_eq!(cache.get(&key(1), &payload_digest("m", b"other")), Err(()));
        assert_eq!(cache.get(&key(2), &digest), Ok(None));
        assert_eq!(cache.stats().hits, 1);
    }

    #[test]
    fn the_digest_tells_method_and_payload_apart() {
        assert_ne!(payload_digest("ab", b"c"), payload_digest("a", b"bc"));
        assert_eq!(content_key("m", b"x"), content_key("m", b"x"));
        assert_ne!(content_key("m", b"x"), content_key("n", b"x"));
    }

    #[test]
    fn a_flood_of_distinct_keys_stays_within_entries_and_bytes() {
        // Small results: the entry bound binds.
        let small = cache(1_000, 1 << 20, Duration::from_secs(60));
        // Large results: the byte bound binds.
        let large = cache(1_000, 64 * 1024, Duration::from_secs(60));
        for n in 0..20_000 {
            let digest = payload_digest("m", &n.to_string().into_bytes());
            small.put(key(n), digest, Bytes::from(vec![0u8; 16]));
            large.put(key(n), digest, Bytes::from(vec![0u8; 1024]));
        }
        let small = small.stats();
        assert!(small.entries <= 1_000, "{small:?}");
        assert!(
            small.entries >= 500,
            "the cache still holds results: {small:?}"
        );
        assert!(small.evictions >= 19_000, "{small:?}");
        let large = large.stats();
        assert!(large.bytes <= 64 * 1024, "{large:?}");
        assert!(large.entries >= 30, "{large:?}");
    }

    #[test]
    fn results_leave_after_their_time_to_live() {
        let cache = cache(100, 1 << 20, Duration::from_millis(50));
        let digest = payload_digest("m", b"p");
        cache.put(key(1), digest, Bytes::from_static(b"r"));
        assert!(matches!(cache.get(&key(1), &digest), Ok(Some(_))));
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(cache.get(&key(1), &digest), Ok(None));
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.bytes), (0, 0), "{stats:?}");
    }

    #[test]
    fn a_disabled_cache_holds_nothing() {
        let cache = cache(0, 1 << 20, Duration::from_secs(60));
        let digest = payload_digest("m", b"p");
        cache.put(key(1), digest, Bytes::from_static(b"r"));
        assert_eq!(cache.get(&key(1), &digest), Ok(None));
    }
}
