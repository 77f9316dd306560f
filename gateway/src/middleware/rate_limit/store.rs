//! Where rate-limit counters live: Redis (shared by every replica) or this process (one replica).
//!
//! Both count fixed windows: the first hit on a key starts its window, later hits add to it, and the
//! window's remaining time is how long a refused client must wait. In Redis the increment, the
//! expiry and the read of the remaining time are one Lua script, so concurrent replicas cannot lose
//! a hit or leave a key without expiry.

use std::{
    collections::HashMap,
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

/// A counter store.
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

/// Counters in Redis.
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
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
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
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    windows: Mutex<HashMap<String, (Instant, u64)>>,
}

/// Past this many keys, expired windows are swept on the next hit.
const SWEEP_AT: usize = 10_000;

impl MemoryStore {
    fn hit(&self, key: &str, window: Duration) -> Hit {
        let now = Instant::now();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (ends, _)| *ends > now);
        }
        let entry = windows.entry(key.to_owned()).or_insert((now + window, 0));
        if entry.0 <= now {
            *entry = (now + window, 0);
        }
        entry.1 += 1;
        Hit {
            count: entry.1,
            resets_in: entry.0 - now,
        }
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
}
