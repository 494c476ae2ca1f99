//! Short-lived copies of answers and lookups, so a popular read is not a database query every
//! time.
//!
//! [`TtlCache`] is the one cache of the service: bounded, with a lifetime, dropped by key or
//! whole, and guarded so that a value computed before an invalidation is never stored after
//! it. [`PublicCache`] (article pages), [`crate::auth::AccountCache`] (checked accounts) and
//! [`crate::references::ReferenceCache`] (units, categories, holidays) are built on it.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Values by key, each kept at most `ttl` and at most `capacity` at once.
///
/// A value is stored with [`TtlCache::put`] and the mark [`TtlCache::generation`] gave
/// before it was computed: when anything was invalidated since, the value may predate the
/// change and is not stored. A zero `ttl` keeps nothing.
#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    generation: AtomicU64,
    entries: Mutex<HashMap<K, (Instant, V)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    /// A cache keeping up to `capacity` values for `ttl` each (zero: keeps nothing).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, (Instant, V)>> {
        // A panic while holding the lock leaves a map that is still whole.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `key`, if stored less than `ttl` ago.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if self.ttl.is_zero() {
            return None;
        }
        self.entries()
            .get(key)
            .filter(|(stored, _)| stored.elapsed() < self.ttl)
            .map(|(_, value)| value.clone())
    }

    /// Marks the start of a computation; pass the mark to [`TtlCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a value computed since `generation`, unless something was invalidated
    /// meanwhile. When full, expired values go first; if none has, the cache starts afresh.
    pub fn put(&self, key: K, value: V, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        // Checked under the lock that the invalidations also take: no stale value slips in.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, (stored, _)| stored.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (Instant::now(), value));
    }

    /// Drops the value of `key`: what it was computed from changed.
    pub fn invalidate<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }

    /// Drops every value.
    pub fn invalidate_all(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }
}

/// Most public answers kept.
const PUBLIC_ENTRIES: usize = 2048;

/// Recently answered public pages (the article list and search), by request path and query.
///
/// Entries live `ttl` at most and are dropped at once when this instance publishes or
/// unpublishes; another instance's change shows here within `ttl`. An answer computed while a
/// change happened is not stored (the generation it began with is stale).
#[derive(Debug)]
pub struct PublicCache(TtlCache<String, Bytes>);

impl PublicCache {
    /// A cache keeping answers for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self(TtlCache::new(ttl, PUBLIC_ENTRIES))
    }

    /// The stored answer for `key`, if fresh.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        self.0.get(key)
    }

    /// Marks the start of a computation; pass the mark to [`PublicCache::put`].
    pub fn generation(&self) -> u64 {
        self.0.generation()
    }

    /// Stores an answer computed since `generation`, unless public content changed meanwhile.
    pub fn put(&self, key: String, body: Bytes, generation: u64) {
        self.0.put(key, body, generation);
    }

    /// Drops every answer: public content changed.
    pub fn invalidate(&self) {
        self.0.invalidate_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_served_until_invalidated_and_a_stale_one_is_not_stored() {
        let cache = PublicCache::new(Duration::from_secs(60));
        let mark = cache.generation();
        cache.put("/a".into(), Bytes::from_static(b"1"), mark);
        assert_eq!(cache.get("/a"), Some(Bytes::from_static(b"1")));
        cache.invalidate();
        assert_eq!(cache.get("/a"), None);
        cache.put("/a".into(), Bytes::from_static(b"old"), mark);
        assert_eq!(cache.get("/a"), None, "computed before the change");
    }

    #[test]
    fn a_zero_lifetime_keeps_nothing_and_entries_expire() {
        let off = PublicCache::new(Duration::ZERO);
        off.put("/a".into(), Bytes::from_static(b"1"), off.generation());
        assert_eq!(off.get("/a"), None);
        let short = PublicCache::new(Duration::from_nanos(1));
        short.put("/a".into(), Bytes::from_static(b"1"), short.generation());
        std::thread::sleep(Duration::from_millis(1));
        assert_eq!(short.get("/a"), None);
    }

    #[test]
    fn one_key_is_dropped_and_the_others_stay() {
        let cache = TtlCache::new(Duration::from_secs(60), 10);
        cache.put("a".to_string(), 1, cache.generation());
        cache.put("b".to_string(), 2, cache.generation());
        cache.invalidate("a");
        assert_eq!(cache.get("a"), None);
        assert_eq!(cache.get("b"), Some(2));
    }

    #[test]
    fn a_full_cache_never_holds_more_than_its_capacity() {
        let cache = TtlCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.put(i, i, cache.generation());
            assert!(cache.entries().len() <= 3);
        }
        assert_eq!(cache.get(&9), Some(9));
        let mark = cache.generation();
        cache.put(9, 90, mark);
        assert_eq!(cache.get(&9), Some(90), "a stored key is replaced in place");
    }
}
