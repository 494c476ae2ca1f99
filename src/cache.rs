//! A short-lived cache of public answers (the article list and search), so a popular page is
//! not a database query for every reader.
//!
//! Entries live `ttl` at most and are dropped at once when this instance publishes or
//! unpublishes; another instance's change shows here within `ttl`. An answer computed while a
//! change happened is not stored (the generation it began with is stale).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// Most answers kept; when full, the cache starts afresh.
const MAX_ENTRIES: usize = 2048;

struct Entry {
    body: Bytes,
    stored: Instant,
}

/// Cached public answers, by request path and query.
pub struct PublicCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PublicCache {
    /// A cache keeping answers for `ttl` (zero: keeps nothing).
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The stored answer for `key`, if fresh.
    pub fn get(&self, key: &str) -> Option<Bytes> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| e.stored.elapsed() < self.ttl)
            .map(|e| e.body.clone())
    }

    /// Marks the start of a computation; pass the mark to [`PublicCache::put`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores an answer computed since `generation`, unless public content changed meanwhile.
    pub fn put(&self, key: String, body: Bytes, generation: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Checked under the lock that `invalidate` also takes: no stale answer slips in.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                body,
                stored: Instant::now(),
            },
        );
    }

    /// Drops every answer: public content changed.
    pub fn invalidate(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
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
}
