//! The process's per-account limiters ([`RateLimiter::for_account`]).
//!
//! An account's limiter must outlive its clients for as long as its state matters: a program
//! that makes a new client per request (a web handler, a cron step) must still be paced by the
//! grants of the client before. It matters until the limiter is back at rest
//! ([`RateLimiter::at_rest`]: no slot reserved ahead, no 429 hold, the last grant one interval
//! ago), at most a second or so after the last request or the length of a 429 hold; a new
//! limiter would then decide exactly the same. So the registry holds each account's limiter,
//! and drops those that no client holds any more and that are at rest. It checks whenever it
//! has doubled since the last check (amortised O(1) per lookup), so it holds the accounts in
//! use plus those used in the last moments, not every account ever seen (200,000 usernames
//! used to take 171 MB).
//!
//! A `BTreeMap` rather than a hash map: its nodes are reached through pointers to their start,
//! so what it still holds at exit is "still reachable" for valgrind; a hash table is reached
//! through a pointer into its middle, which memcheck reports as "possibly lost".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::gcra::now_ns;
use super::RateLimiter;
use crate::platform::Platform;

/// (platform code, API user).
type Key = (String, String);

/// Below this many entries the registry is not swept.
const SWEEP_FLOOR: usize = 64;

struct Registry {
    limiters: BTreeMap<Key, RateLimiter>,
    /// Sweep when the registry reaches this size.
    sweep_at: usize,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    limiters: BTreeMap::new(),
    sweep_at: SWEEP_FLOOR,
});

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// Drop the limiters no client holds (the registry's is the only reference) that are at
    /// rest.
    fn sweep(&mut self) {
        let now = now_ns();
        self.limiters
            .retain(|_, limiter| Arc::strong_count(&limiter.inner) > 1 || !limiter.at_rest(now));
        self.sweep_at = (self.limiters.len() * 2).max(SWEEP_FLOOR);
    }
}

/// The limiter of this account, created on first use.
pub(super) fn for_account(platform: Platform, username: &str) -> RateLimiter {
    let key = (platform.code().to_owned(), username.to_owned());
    let mut registry = registry();
    if let Some(limiter) = registry.limiters.get(&key) {
        return limiter.clone();
    }
    if registry.limiters.len() >= registry.sweep_at {
        registry.sweep();
    }
    registry.limiters.entry(key).or_default().clone()
}

#[cfg(test)]
fn is_registered(platform: Platform, username: &str) -> bool {
    registry()
        .limiters
        .contains_key(&(platform.code().to_owned(), username.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ratelimit::Bucket;

    #[test]
    fn clients_of_one_account_share_even_one_after_the_other() {
        let a = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        let b = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        assert!(a.try_acquire_blocking(Bucket::Other).unwrap());
        drop(a);
        drop(b);
        // A client made right after the others were dropped (a client per request) is still
        // paced by their grant.
        let c = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        assert!(!c.try_acquire_blocking(Bucket::Other).unwrap());
    }

    #[test]
    fn limiters_no_client_holds_and_at_rest_are_dropped() {
        let held = RateLimiter::for_account(Platform::FdRo, "registry-held");
        let busy = RateLimiter::for_account(Platform::FdRo, "registry-busy");
        // A 429 hold keeps the limiter's state meaningful for an hour.
        busy.on_rate_limited(Bucket::Orders, std::time::Duration::from_secs(3600));
        drop(busy);
        for i in 0..20_000 {
            drop(RateLimiter::for_account(
                Platform::EmagBg,
                &format!("registry-cycle-{i}"),
            ));
        }
        let registry = registry();
        let cycled = registry
            .limiters
            .keys()
            .filter(|(_, user)| user.starts_with("registry-cycle-"))
            .count();
        // Bounded by the sweep threshold (other tests add a few accounts of their own), not
        // by the 20,000 accounts seen.
        assert!(
            cycled <= 2 * SWEEP_FLOOR + 64,
            "{cycled} cycled accounts kept"
        );
        drop(registry);
        assert!(is_registered(Platform::FdRo, "registry-held"));
        assert!(is_registered(Platform::FdRo, "registry-busy"));
        drop(held);
    }

    #[test]
    fn a_limiter_at_rest_is_like_a_new_one() {
        let limiter = RateLimiter::default();
        assert!(limiter.at_rest(now_ns()));
        assert!(limiter.try_acquire_blocking(Bucket::Orders).unwrap());
        assert!(!limiter.at_rest(now_ns()));
        // One interval later (12/s plus the margin) it is at rest again.
        let later = now_ns() + 200_000_000;
        assert!(limiter.at_rest(later));
    }
}
