//! The process's per-account limiters ([`RateLimiter::for_account`]).
//!
//! The registry holds each account's limiter weakly: the limiter lives as long as a client
//! (or any other clone) holds it, and its entry is removed when the last clone is dropped
//! (`Inner`'s `Drop` calls [`forget`]). So the registry holds only accounts in use (a
//! process that cycles through 200,000 usernames no longer keeps 200,000 limiters), and once
//! every client is freed it holds no memory at all, which valgrind sees as clean. A
//! `BTreeMap` rather than a hash map: its nodes are reached through pointers to their start
//! (a hash table is reached through a pointer into its middle, which memcheck reports as
//! "possibly lost" while a client is alive at exit).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::{Inner, RateLimiter};
use crate::platform::Platform;

/// (platform code, API user).
pub(super) type Key = (String, String);

static REGISTRY: Mutex<BTreeMap<Key, Weak<Inner>>> = Mutex::new(BTreeMap::new());

fn registry() -> MutexGuard<'static, BTreeMap<Key, Weak<Inner>>> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The live limiter of this account, or a new one registered for it.
pub(super) fn for_account(platform: Platform, username: &str) -> RateLimiter {
    let key = (platform.code().to_owned(), username.to_owned());
    let mut map = registry();
    if let Some(inner) = map.get(&key).and_then(Weak::upgrade) {
        return RateLimiter { inner };
    }
    let limiter = RateLimiter::registered(key.clone());
    map.insert(key, Arc::downgrade(&limiter.inner));
    limiter
}

/// Called when the last clone of a registered limiter is dropped: remove its entry, unless a
/// new limiter of the same account was registered meanwhile.
pub(super) fn forget(key: &Key) {
    let mut map = registry();
    if map.get(key).is_some_and(|weak| weak.strong_count() == 0) {
        map.remove(key);
    }
}

#[cfg(test)]
pub(super) fn is_registered(platform: Platform, username: &str) -> bool {
    registry().contains_key(&(platform.code().to_owned(), username.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::Bucket;

    #[test]
    fn clones_of_one_account_share_and_the_entry_goes_with_the_last() {
        let a = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        let b = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        assert!(Arc::ptr_eq(&a.inner, &b.inner));
        assert!(a.try_acquire_blocking(Bucket::Other).unwrap());
        drop(a);
        // b still holds it: the same limiter (its quota spent) is found again.
        assert!(is_registered(Platform::EmagRo, "registry-share"));
        let c = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        assert!(Arc::ptr_eq(&b.inner, &c.inner));
        assert!(!c.try_acquire_blocking(Bucket::Other).unwrap());
        drop(b);
        drop(c);
        assert!(!is_registered(Platform::EmagRo, "registry-share"));
        // A new one is fresh.
        let d = RateLimiter::for_account(Platform::EmagRo, "registry-share");
        assert!(d.try_acquire_blocking(Bucket::Other).unwrap());
    }

    #[test]
    fn the_registry_does_not_grow_with_accounts_no_longer_used() {
        for i in 0..20_000 {
            let name = format!("registry-cycle-{i}");
            let limiter = RateLimiter::for_account(Platform::EmagBg, &name);
            assert!(is_registered(Platform::EmagBg, &name));
            drop(limiter);
            assert!(!is_registered(Platform::EmagBg, &name), "{name}");
        }
        let map = registry();
        assert!(!map
            .keys()
            .any(|(_, user)| user.starts_with("registry-cycle-")));
    }

    #[test]
    fn a_limiter_not_from_the_registry_leaves_it_alone() {
        let held = RateLimiter::for_account(Platform::FdRo, "registry-other");
        drop(RateLimiter::default());
        drop(held.clone());
        assert!(is_registered(Platform::FdRo, "registry-other"));
    }
}
