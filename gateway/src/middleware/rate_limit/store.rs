//! Where rate-limit counters live: Redis (shared by every replica) or this process (one replica).
//!
//! Both count fixed windows: the first hit on a key starts its window, later hits add to it, and the
//! window's remaining time is how long a refused client must wait. In Redis the increment, the
//! expiry and the read of the remaining time are one Lua script, so concurrent replicas cannot lose
//! a hit or leave a key without expiry.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use redis::aio::ConnectionManager;

/// A window's count after this hit, and the time left in the window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub(crate) count: u64,
    pub(crate) resets_in: Duration,
}

#[derive(Debug)]
pub(crate) enum Store {
    /// Shared by every replica pointing at the same Redis.
    Redis(RedisStore),
    /// This process only.
    Memory(MemoryStore),
}

impl Store {
    /// Counts one hit on `key` in a window of `window`; `None` when the store could not answer
    /// (the request is then let through: a limiter outage must not take the API down with it).
    pub(crate) async fn hit(&self, key: &str, window: Duration) -> Option<Hit> {
        match self {
            Self::Redis(store) => store.hit(key, window).await,
            Self::Memory(store) => Some(store.hit(key, window)),
        }
    }
}

const SCRIPT: &str = r"
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
";

pub(crate) struct RedisStore {
    connection: ConnectionManager,
    script: redis::Script,
    /// Unix seconds of the last "Redis is not answering" warning, so an outage logs once a minute,
    /// not once a request.
    last_warning: AtomicU64,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store that connects on first use and reconnects by itself.
    pub(crate) fn new(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        // Short timeouts: a slow Redis must cost a request milliseconds, not its whole budget.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1);
        Ok(Self {
            connection: client.get_connection_manager_lazy(config)?,
            script: redis::Script::new(SCRIPT),
            last_warning: AtomicU64::new(0),
        })
    }

    async fn hit(&self, key: &str, window: Duration) -> Option<Hit> {
        let window_ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        let mut connection = self.connection.clone();
        let answer: redis::RedisResult<(u64, i64)> = self
            .script
            .key(key)
            .arg(window_ms)
            .invoke_async(&mut connection)
            .await;
        match answer {
            Ok((count, ttl_ms)) => Some(Hit {
                count,
                resets_in: Duration::from_millis(u64::try_from(ttl_ms).unwrap_or(window_ms)),
            }),
            Err(error) => {
                self.warn(&error);
                None
            }
        }
    }

    fn warn(&self, error: &redis::RedisError) {
        let now = chrono::Utc::now().timestamp().unsigned_abs();
        let last = self.last_warning.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 60
            && self
                .last_warning
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(%error, "rate-limit store (Redis) did not answer; requests pass unlimited");
        }
    }
}

/// Counters in this process.
///
/// Every hit costs O(1) whatever the number of clients: windows expire from per-length queues
/// (each key always uses the same window length, so each queue is in expiry order and only its
/// front is ever looked at), never by scanning the map. Memory is bounded by [`MAX_KEYS`]: past
/// it the oldest open window is dropped, so a flood of distinct keys can cost a few early restarts
/// of other windows but never unbounded memory.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    state: Mutex<Windows>,
}

/// The most windows kept at once (tens of bytes each).
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
struct Windows {
    /// Key → (window end, count).
    open: HashMap<String, (Instant, u64)>,
    /// Per window length (one per configured limit, so a handful), the keys in the order their
    /// windows end. A key is queued again when its window restarts; the stale entry is recognised
    /// by its end no longer matching `open`.
    queues: Vec<(Duration, VecDeque<(Instant, String)>)>,
    /// Queue entries looked at so far (the unit of work; tests check it stays constant per hit).
    #[cfg(test)]
    touched: u64,
}

impl MemoryStore {
    fn hit(&self, key: &str, window: Duration) -> Hit {
        self.hit_at(key, window, Instant::now())
    }

    fn hit_at(&self, key: &str, window: Duration, now: Instant) -> Hit {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.expire(now);
        if !state.open.contains_key(key) && state.open.len() >= MAX_KEYS {
            state.evict_one();
        }
        if let Some(entry) = state.open.get_mut(key)
            && entry.0 > now
        {
            entry.1 += 1;
            return Hit {
                count: entry.1,
                resets_in: entry.0 - now,
            };
        }
        let ends = now + window;
        state.open.insert(key.to_owned(), (ends, 1));
        state.queue(window).push_back((ends, key.to_owned()));
        Hit {
            count: 1,
            resets_in: window,
        }
    }
}

/// How many ended windows one hit removes at most, per window length: enough to keep up with
/// arrivals (each hit opens at most one window), few enough that no request pays for a backlog.
const EXPIRE_PER_HIT: usize = 2;

impl Windows {
    fn queue(&mut self, window: Duration) -> &mut VecDeque<(Instant, String)> {
        let index = match self.queues.iter().position(|(length, _)| *length == window) {
            Some(index) => index,
            None => {
                self.queues.push((window, VecDeque::new()));
                self.queues.len() - 1
            }
        };
        &mut self.queues[index].1
    }

    /// Drops up to [`EXPIRE_PER_HIT`] ended windows of each length.
    fn expire(&mut self, now: Instant) {
        for index in 0..self.queues.len() {
            for _ in 0..EXPIRE_PER_HIT {
                let queue = &mut self.queues[index].1;
                if queue.front().is_none_or(|(ends, _)| *ends > now) {
                    break;
                }
                if let Some((ends, key)) = queue.pop_front() {
                    self.forget(&key, ends);
                }
            }
        }
    }

    /// Drops the oldest window still open (the map is full). Amortised O(1): every queued entry is
    /// popped at most once.
    fn evict_one(&mut self) {
        for index in 0..self.queues.len() {
            while let Some((ends, key)) = self.queues[index].1.pop_front() {
                if self.forget(&key, ends) {
                    return;
                }
            }
        }
    }

    /// Removes `key` if its window is the one that ends at `ends` (not a later restart); whether it did.
    fn forget(&mut self, key: &str, ends: Instant) -> bool {
        #[cfg(test)]
        {
            self.touched += 1;
        }
        if self.open.get(key).is_some_and(|entry| entry.0 == ends) {
            self.open.remove(key);
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_windows_count_per_key_and_start_over() {
        let store = MemoryStore::default();
        assert_eq!(store.hit("a", Duration::from_secs(60)).count, 1);
        assert_eq!(store.hit("a", Duration::from_secs(60)).count, 2);
        assert_eq!(store.hit("b", Duration::from_secs(60)).count, 1);
        assert_eq!(store.hit("c", Duration::ZERO).count, 1);
        assert_eq!(
            store.hit("c", Duration::ZERO).count,
            1,
            "an ended window restarts"
        );
    }

    fn touched(store: &MemoryStore) -> u64 {
        store.state.lock().expect("lock").touched
    }

    fn open(store: &MemoryStore) -> usize {
        store.state.lock().expect("lock").open.len()
    }

    #[test]
    fn a_hit_does_constant_work_however_many_clients_there_are() {
        let store = MemoryStore::default();
        let start = Instant::now();
        let minute = Duration::from_secs(60);
        // Many distinct clients whose windows have not ended: nothing to expire, nothing to scan.
        for client in 0..20_000 {
            store.hit_at(&format!("global:{client}"), minute, start);
        }
        let before = touched(&store);
        for client in 0..1_000 {
            store.hit_at(&format!("late:{client}"), minute, start);
        }
        assert_eq!(
            touched(&store) - before,
            0,
            "live windows are never scanned"
        );

        // Once they have all ended, each hit removes a bounded number, never the whole backlog.
        let later = start + minute + Duration::from_secs(1);
        let before = touched(&store);
        store.hit_at("one more", minute, later);
        let work = touched(&store) - before;
        assert!(
            work <= EXPIRE_PER_HIT as u64,
            "one hit touched {work} entries"
        );
        // ... and enough hits clear them all (memory returns as clients leave).
        for client in 0..21_000 {
            store.hit_at(&format!("next:{client}"), minute, later);
        }
        assert_eq!(open(&store), 21_001, "only the live windows are kept");
    }

    #[test]
    fn memory_is_bounded_under_a_flood_of_distinct_keys() {
        let store = MemoryStore::default();
        let now = Instant::now();
        for client in 0..(MAX_KEYS + 500) {
            store.hit_at(&format!("flood:{client}"), Duration::from_secs(3600), now);
        }
        assert_eq!(open(&store), MAX_KEYS);
        let before = touched(&store);
        store.hit_at("newcomer", Duration::from_secs(3600), now);
        assert!(touched(&store) - before <= 1, "eviction is O(1)");
        assert_eq!(
            store
                .hit_at("newcomer", Duration::from_secs(3600), now)
                .count,
            2
        );
    }
}
