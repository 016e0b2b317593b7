//! Login rate limiting: failed attempts counted per client address and per user
//! name over a sliding window; past the limit a login is refused before the
//! password is even checked. In memory, bounded; time is a parameter.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The limits.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    /// Failures counted over this window.
    pub window: Duration,
    /// At most this many failures per user name in the window.
    pub per_user: usize,
    /// At most this many failures per client address in the window.
    pub per_address: usize,
    /// At most this many keys remembered (the stalest go first).
    pub max_keys: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(15 * 60),
            per_user: 5,
            per_address: 20,
            max_keys: 10_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

/// Failed login attempts.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<Key, VecDeque<Instant>>>,
    limits: RateLimits,
}

impl LoginLimiter {
    #[must_use]
    pub fn new(limits: RateLimits) -> Self {
        Self {
            failures: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, VecDeque<Instant>>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keys(user: &str, address: Option<IpAddr>) -> Vec<(Key, bool)> {
        let mut keys = vec![(Key::User(user.to_owned()), true)];
        if let Some(address) = address {
            keys.push((Key::Address(address), false));
        }
        keys
    }

    /// `Err(wait)` when this user or address must wait before trying again.
    pub fn check(&self, user: &str, address: Option<IpAddr>, now: Instant) -> Result<(), Duration> {
        let mut failures = self.lock();
        let mut wait = Duration::ZERO;
        for (key, is_user) in Self::keys(user, address) {
            let limit = if is_user {
                self.limits.per_user
            } else {
                self.limits.per_address
            };
            if let Some(times) = failures.get_mut(&key) {
                prune(times, now, self.limits.window);
                if times.len() >= limit {
                    // Free again when the oldest counted failure leaves the window.
                    let oldest = times.front().copied().unwrap_or(now);
                    let until = (oldest + self.limits.window).saturating_duration_since(now);
                    wait = wait.max(until);
                }
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait) }
    }

    /// Count a failed attempt.
    pub fn record_failure(&self, user: &str, address: Option<IpAddr>, now: Instant) {
        let mut failures = self.lock();
        if failures.len() >= self.limits.max_keys {
            let window = self.limits.window;
            failures.retain(|_, times| {
                prune(times, now, window);
                !times.is_empty()
            });
            while failures.len() >= self.limits.max_keys {
                let stalest = failures
                    .iter()
                    .min_by_key(|(_, times)| times.back().copied())
                    .map(|(key, _)| key.clone());
                match stalest {
                    Some(key) => failures.remove(&key),
                    None => break,
                };
            }
        }
        for (key, _) in Self::keys(user, address) {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// A successful login forgets the user's failures (not the address's).
    pub fn record_success(&self, user: &str) {
        self.lock().remove(&Key::User(user.to_owned()));
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> LoginLimiter {
        LoginLimiter::new(RateLimits {
            window: Duration::from_secs(60),
            per_user: 3,
            per_address: 5,
            max_keys: 100,
        })
    }

    fn addr(last: u8) -> Option<IpAddr> {
        Some(IpAddr::from([192, 0, 2, last]))
    }

    #[test]
    fn a_user_is_blocked_after_too_many_failures_then_freed_by_time() {
        let limiter = limiter();
        let start = Instant::now();
        for i in 0..3 {
            assert!(limiter.check("admin", addr(1), start).is_ok(), "try {i}");
            limiter.record_failure("admin", addr(1), start + Duration::from_secs(i));
        }
        let wait = limiter
            .check("admin", addr(2), start + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            limiter
                .check("admin", addr(2), start + Duration::from_secs(61))
                .is_ok()
        );
    }

    #[test]
    fn an_address_is_blocked_whatever_the_user_names_tried() {
        let limiter = limiter();
        let now = Instant::now();
        for i in 0..5 {
            limiter.record_failure(&format!("user{i}"), addr(1), now);
        }
        assert!(limiter.check("someone", addr(1), now).is_err());
        assert!(limiter.check("someone", addr(2), now).is_ok());
    }

    #[test]
    fn success_forgets_the_user_failures() {
        let limiter = limiter();
        let now = Instant::now();
        for _ in 0..3 {
            limiter.record_failure("admin", addr(1), now);
        }
        limiter.record_success("admin");
        assert!(limiter.check("admin", addr(3), now).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let limiter = LoginLimiter::new(RateLimits {
            max_keys: 10,
            ..RateLimits::default()
        });
        let now = Instant::now();
        for i in 0..100_u8 {
            limiter.record_failure(
                &format!("u{i}"),
                None,
                now + Duration::from_millis(u64::from(i)),
            );
        }
        assert!(limiter.lock().len() <= 10);
    }
}
