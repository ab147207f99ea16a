//! Short per-container caches (one Lambda container serves one request at a time, so these only spare
//! repeated reads across requests). Each use states its staleness bound next to its TTL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A map of values read at most `ttl` ago, at most `capacity` of them (the oldest go first when full).
#[derive(Debug, Clone)]
pub struct TtlCache<V> {
    ttl: Duration,
    capacity: usize,
    entries: Arc<Mutex<HashMap<String, (Instant, V)>>>,
}

impl<V: Clone> TtlCache<V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity: capacity.max(1),
            entries: Arc::default(),
        }
    }

    /// The value under `key` if it was read less than the TTL ago.
    pub fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        let (at, value) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn put(&self, key: &str, value: V) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(key) {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                if let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone())
                {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key.to_string(), (Instant::now(), value));
    }

    /// Forgets `key` (after this container changed it).
    pub fn forget(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_live_for_the_ttl_and_the_capacity_bounds_the_map() {
        let cache = TtlCache::new(Duration::from_millis(40), 2);
        cache.put("a", 1);
        cache.put("b", 2);
        assert_eq!((cache.get("a"), cache.get("b")), (Some(1), Some(2)));
        cache.put("c", 3);
        assert_eq!(cache.get("a"), None, "the oldest went first");
        assert_eq!((cache.get("b"), cache.get("c")), (Some(2), Some(3)));
        cache.forget("b");
        assert_eq!(cache.get("b"), None);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(cache.get("c"), None, "stale after the ttl");
    }
}
