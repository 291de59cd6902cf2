//! The rate limiter, local and host backends: the sliding-window property with scaled-up
//! quotas, the start burst, timeouts, try_acquire, 429 holds, stats, and state shared through
//! a file by real processes.

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use magflow_emag::ratelimit::{
    scheduled_start_offset, BackendKind, Quota, RateLimiter, RateLimiterConfig,
};
use magflow_emag::{runtime, Bucket, ErrorKind, Limiter};

fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The most grants in any closed window `[t, t + span]` (windows starting at a grant are the
/// worst case).
fn max_in_window(times: &mut [u64], span_ns: u64) -> usize {
    times.sort_unstable();
    let mut best = 0;
    let mut j = 0;
    for i in 0..times.len() {
        if j < i {
            j = i;
        }
        while j < times.len() && times[j] - times[i] <= span_ns {
            j += 1;
        }
        best = best.max(j - i);
    }
    best
}

fn quota(per_second: u32) -> Quota {
    Quota {
        per_second,
        per_minute: per_second * 60,
    }
}

fn limiter(orders: u32, other: u32) -> RateLimiter {
    RateLimiter::local(quota(orders), quota(other))
}

/// `threads` threads acquire back to back until `total` grants were made (bounded by count,
/// not by time, so a slow machine makes the test slower, never vacuous); the grant instants.
fn hammer(limiter: &RateLimiter, bucket: Bucket, threads: usize, total: usize) -> Vec<u64> {
    let times = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            let times = times.clone();
            s.spawn(move || loop {
                limiter.acquire_blocking(bucket, None).unwrap();
                let mut t = times.lock().unwrap();
                if t.len() >= total {
                    break;
                }
                t.push(mono_ns());
            });
        }
    });
    let v = times.lock().unwrap().clone();
    v
}

fn tmp_path(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

fn host_config(path: &std::path::Path, orders: u32, other: u32) -> RateLimiterConfig {
    {
        let mut o = RateLimiterConfig::default();
        o.backend = BackendKind::Host;
        o.path = Some(path.to_path_buf());
        o.orders = quota(orders);
        o.other = quota(other);
        o
    }
}

#[test]
fn no_one_second_window_holds_more_than_the_quota() {
    let rl = limiter(200, 50);
    let mut times = hammer(&rl, Bucket::Orders, 4, 320);
    let max = max_in_window(&mut times, 1_000_000_000);
    assert!(max <= 200, "{max} grants in one second, quota 200");
}

#[test]
fn the_per_minute_quota_binds_when_it_is_stricter() {
    // 1000/s but only 6000/min: even spacing must follow the minute (100/s).
    let rl = RateLimiter::local(
        Quota {
            per_second: 1000,
            per_minute: 6000,
        },
        Quota::OTHER,
    );
    assert!(rl.interval(Bucket::Orders) >= Duration::from_millis(10));
    let mut times = hammer(&rl, Bucket::Orders, 2, 130);
    let max = max_in_window(&mut times, 1_000_000_000);
    assert!(max <= 100, "{max} in one second with 6000/min");
}

#[test]
fn the_first_second_never_gets_twice_the_quota() {
    let rl = limiter(100, 10);
    let start = mono_ns();
    let times = hammer(&rl, Bucket::Orders, 3, 110);
    let first_second = times
        .iter()
        .filter(|t| **t <= start + 1_000_000_000)
        .count();
    assert!(first_second <= 100, "{first_second} in the first second");

    // The failure this avoids: governor's token bucket with burst = quota lets about twice
    // the quota through in its first second.
    use governor::{Quota as GQuota, RateLimiter as GLimiter};
    let naive = GLimiter::direct(GQuota::per_second(std::num::NonZeroU32::new(100).unwrap()));
    let start = std::time::Instant::now();
    let mut granted = 0;
    while start.elapsed() < Duration::from_millis(1000) {
        if naive.check().is_ok() {
            granted += 1;
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    assert!(granted > 100, "the naive bucket gave {granted}");
}

#[test]
fn async_tasks_share_the_quota() {
    let rl = limiter(200, 50);
    let times = runtime::block_on(async {
        let mut handles = Vec::new();
        for _ in 0..16 {
            let rl = rl.clone();
            handles.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                for _ in 0..16 {
                    rl.acquire(Bucket::Orders, None).await.unwrap();
                    mine.push(mono_ns());
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        all
    });
    let mut times = times;
    assert_eq!(times.len(), 256);
    assert!(max_in_window(&mut times, 1_000_000_000) <= 200);
    assert_eq!(rl.stats().orders.requests as usize, times.len());
}

#[test]
fn a_timeout_fails_at_once_with_the_seconds_needed_and_consumes_nothing() {
    let rl = limiter(20, 2); // other: one per ~505 ms
    rl.acquire_blocking(Bucket::Other, None).unwrap();
    let err = rl
        .acquire_blocking(Bucket::Other, Some(Duration::from_millis(10)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let remaining = err.remaining_seconds().unwrap();
    assert!(
        remaining > 0.3 && remaining <= 0.506,
        "remaining {remaining}"
    );
    assert!(err.to_string().contains("nothing was consumed"), "{err}");
    // Nothing consumed: the next slot is still at most one interval away.
    let stats = rl.stats();
    assert!(stats.other.next_free_in_s <= 0.506, "{stats:?}");
    assert_eq!(stats.other.timeouts, 1);
    assert_eq!(stats.other.requests, 1);
    // The async face decides the same way.
    let err = runtime::block_on(rl.acquire(Bucket::Other, Some(Duration::ZERO))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    // A timeout long enough succeeds.
    rl.acquire_blocking(Bucket::Other, Some(Duration::from_secs(5)))
        .unwrap();
    assert_eq!(rl.stats().other.requests, 2);
}

#[test]
fn try_acquire_takes_a_free_permit_only() {
    let rl = limiter(1, 1);
    assert!(rl.try_acquire_blocking(Bucket::Orders).unwrap());
    assert!(!rl.try_acquire_blocking(Bucket::Orders).unwrap());
    assert!(!runtime::block_on(rl.try_acquire(Bucket::Orders)).unwrap());
    // The buckets are independent.
    assert!(rl.try_acquire_blocking(Bucket::Other).unwrap());
    let stats = rl.stats();
    assert_eq!(stats.orders.requests, 1);
    assert_eq!(stats.orders.available_now, 0);
}

#[test]
fn a_429_holds_the_bucket_for_every_clone() {
    let rl = limiter(1000, 1000);
    let clone = rl.clone();
    let as_hook: &dyn Limiter = &rl;
    as_hook.on_rate_limited(Bucket::Orders, Duration::from_secs(30));
    assert!(!clone.try_acquire_blocking(Bucket::Orders).unwrap());
    let err = clone
        .acquire_blocking(Bucket::Orders, Some(Duration::from_millis(100)))
        .unwrap_err();
    let remaining = err.remaining_seconds().unwrap();
    assert!(remaining > 25.0 && remaining <= 30.0, "{remaining}");
    assert!(clone.try_acquire_blocking(Bucket::Other).unwrap());
    assert_eq!(rl.stats().orders.rate_limited, 1);
    // A zero hint still holds (one second).
    rl.on_rate_limited(Bucket::Other, Duration::ZERO);
    assert!(!rl.try_acquire_blocking(Bucket::Other).unwrap());
}

#[test]
fn a_429_during_a_wait_voids_the_reserved_slot() {
    let rl = limiter(10, 10); // ~101 ms apart
    rl.acquire_blocking(Bucket::Orders, None).unwrap();
    let waiter = {
        let rl = rl.clone();
        std::thread::spawn(move || rl.acquire_blocking(Bucket::Orders, None))
    };
    std::thread::sleep(Duration::from_millis(20));
    let held_from = mono_ns();
    rl.on_rate_limited(Bucket::Orders, Duration::from_millis(400));
    waiter.join().unwrap().unwrap();
    assert!(
        mono_ns() >= held_from + 400_000_000,
        "the waiter went through during the hold"
    );
}

#[test]
fn stats_count_waits_and_usage_and_reset() {
    let rl = limiter(50, 5);
    for _ in 0..5 {
        rl.acquire_blocking(Bucket::Orders, None).unwrap();
    }
    let s = rl.stats();
    assert_eq!(s.backend, "local");
    assert_eq!(s.orders.requests, 5);
    assert!(s.orders.waits >= 3, "{s:?}");
    assert!(s.orders.total_wait_s > 0.05, "{s:?}");
    assert!((s.orders.usage_last_second - 5.0 / 50.0).abs() < 1e-9);
    assert!((s.orders.usage_last_minute - 5.0 / 3000.0).abs() < 1e-9);
    assert_eq!(s.other.requests, 0);
    assert_eq!(s.other.available_now, 1);
    assert_eq!(s.orders.per_second, 50);
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["orders"]["requests"], 5);
    rl.reset_stats();
    let s = rl.stats();
    assert_eq!((s.orders.requests, s.orders.waits), (0, 0));
    assert_eq!(s.orders.usage_last_second, 0.0);
}

#[test]
fn config_is_checked_and_defaults_are_emags() {
    let c = RateLimiterConfig::default();
    assert_eq!((c.orders.per_second, c.orders.per_minute), (12, 720));
    assert_eq!((c.other.per_second, c.other.per_minute), (3, 180));
    let rl = RateLimiter::default();
    let orders = rl.interval(Bucket::Orders).as_secs_f64();
    assert!(orders > 1.0 / 12.0 && orders <= 1.011 / 12.0, "{orders}");

    let bad = |json: &str| RateLimiter::new(RateLimiterConfig::from_json(json)?).map(|_| ());
    for json in [
        r#"{"backend":"host"}"#,
        r#"{"backend":"redis"}"#,
        r#"{"backend":"redis","redis_url":"http://x"}"#,
        r#"{"orders":{"per_second":0,"per_minute":10}}"#,
        r#"{"safety_margin":-0.5}"#,
        r#"{"backend":"cloud"}"#,
        r#"{"bogus":1}"#,
        r#"{"redis_timeout_s":0}"#,
    ] {
        let err = bad(json).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{json}: {err}");
    }
    let c =
        RateLimiterConfig::from_json(r#"{"orders":{"per_second":5,"per_minute":100}}"#).unwrap();
    assert_eq!(c.orders.per_minute, 100);
    assert_eq!(c.other, Quota::OTHER);
}

#[test]
fn redis_passwords_never_print() {
    let c = RateLimiterConfig::from_json(
        r#"{"backend":"redis","redis_url":"redis://user:hunter2@127.0.0.1:1/0","account":"shop"}"#,
    )
    .unwrap();
    let rl = RateLimiter::new(c.clone()).unwrap();
    for text in [format!("{c:?}"), format!("{rl:?}"), rl.describe()] {
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("***"), "{text}");
    }
    let err = RateLimiter::new(
        RateLimiterConfig::from_json(r#"{"backend":"redis","redis_url":"rediss://:hunter2@x/0"}"#)
            .unwrap(),
    )
    .unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[test]
fn scheduled_start_offsets_are_stable_spread_and_not_round() {
    let hour = Duration::from_secs(3600);
    let a = scheduled_start_offset("orders-sync", hour);
    assert_eq!(a, scheduled_start_offset("orders-sync", hour));
    let b = scheduled_start_offset("offers-sync", hour);
    assert_ne!(a, b);
    for offset in [a, b] {
        assert!(offset >= hour / 20 && offset <= hour, "{offset:?}");
        assert!(
            offset.subsec_millis() >= 100 || offset < Duration::from_secs(1),
            "{offset:?}"
        );
    }
}

// ---- host backend ------------------------------------------------------------------------

#[test]
fn host_limiters_on_one_path_share_quota_and_holds() {
    let (_dir, path) = tmp_path("rl.state");
    let a = RateLimiter::new(host_config(&path, 1, 1)).unwrap();
    let b = RateLimiter::new(host_config(&path, 1, 1)).unwrap();
    assert!(a.try_acquire_blocking(Bucket::Orders).unwrap());
    assert!(!b.try_acquire_blocking(Bucket::Orders).unwrap());
    b.on_rate_limited(Bucket::Other, Duration::from_secs(20));
    let err = a
        .acquire_blocking(Bucket::Other, Some(Duration::from_millis(50)))
        .unwrap_err();
    assert!(err.remaining_seconds().unwrap() > 15.0, "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
    assert_eq!(a.stats().backend, "host");
    assert!(format!("{a:?}").contains("rl.state"));
    // A limiter on another path is independent.
    let (_dir2, other_path) = tmp_path("other.state");
    let c = RateLimiter::new(host_config(&other_path, 1, 1)).unwrap();
    assert!(c.try_acquire_blocking(Bucket::Orders).unwrap());
}

#[test]
fn host_threads_on_two_handles_keep_the_window() {
    let (_dir, path) = tmp_path("rl.state");
    let a = RateLimiter::new(host_config(&path, 150, 10)).unwrap();
    let b = RateLimiter::new(host_config(&path, 150, 10)).unwrap();
    let (mut ta, tb) = std::thread::scope(|s| {
        let ha = s.spawn(|| hammer(&a, Bucket::Orders, 2, 100));
        let hb = s.spawn(|| hammer(&b, Bucket::Orders, 2, 100));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert!(!ta.is_empty() && !tb.is_empty());
    ta.extend(tb);
    let max = max_in_window(&mut ta, 1_000_000_000);
    assert!(max <= 150, "{max}");
}

#[test]
fn corrupt_or_foreign_host_files_are_refused_and_left_untouched() {
    let (_dir, path) = tmp_path("foreign");
    std::fs::write(&path, b"my precious data").unwrap();
    let err = RateLimiter::new(host_config(&path, 5, 5)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("not a magflow-emag"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"my precious data");

    // Right size, wrong header.
    std::fs::write(&path, vec![0xAB; 4096]).unwrap();
    let err = RateLimiter::new(host_config(&path, 5, 5)).unwrap_err();
    assert!(err.to_string().contains("unknown header"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), vec![0xAB; 4096]);

    // Empty (a creator that died before sizing it) or all zeros (died before the header):
    // initialised.
    std::fs::write(&path, b"").unwrap();
    RateLimiter::new(host_config(&path, 5, 5)).unwrap();
    std::fs::write(&path, vec![0; 4096]).unwrap();
    let rl = RateLimiter::new(host_config(&path, 5, 5)).unwrap();
    assert!(rl.try_acquire_blocking(Bucket::Orders).unwrap());

    // A directory that does not exist.
    let err =
        RateLimiter::new(host_config(&PathBuf::from("/nonexistent/dir/x"), 5, 5)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(
        err.to_string().contains("does the directory exist"),
        "{err}"
    );
}

#[test]
fn many_threads_creating_the_same_file_at_once_agree() {
    let (_dir, path) = tmp_path("race.state");
    let limiters: Vec<RateLimiter> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| RateLimiter::new(host_config(&path, 1, 1)).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let granted = limiters
        .iter()
        .filter(|l| l.try_acquire_blocking(Bucket::Orders).unwrap())
        .count();
    assert_eq!(granted, 1, "one shared state, one permit");
}

const CHILD_ENV: &str = "MF_RATELIMIT_TEST_CHILD";

/// Not a test on its own: the body of a child process spawned by
/// `host_file_is_shared_by_real_processes`.
#[test]
fn zz_host_child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split('|');
    let path = PathBuf::from(parts.next().unwrap());
    let out = PathBuf::from(parts.next().unwrap());
    let count: usize = parts.next().unwrap().parse().unwrap();
    let rl = RateLimiter::new(host_config(&path, 100, 10)).unwrap();
    let mut lines = String::new();
    for _ in 0..count {
        rl.acquire_blocking(Bucket::Orders, None).unwrap();
        lines.push_str(&format!("{}\n", mono_ns()));
    }
    std::fs::write(out, lines).unwrap();
}

#[test]
fn host_file_is_shared_by_real_processes() {
    let (dir, path) = tmp_path("shared.state");
    let exe = std::env::current_exe().unwrap();
    let end = 80; // grants per child: 160 in all, more than one second's quota
    let children: Vec<_> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("grants-{i}.txt"));
            let child = Command::new(&exe)
                .args([
                    "zz_host_child_process",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(
                    CHILD_ENV,
                    format!("{}|{}|{end}", path.display(), out.display()),
                )
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    let mut all = Vec::new();
    for (mut child, out) in children {
        assert!(child.wait().unwrap().success());
        let text = std::fs::read_to_string(out).unwrap();
        let mine: Vec<u64> = text.lines().map(|l| l.parse().unwrap()).collect();
        assert!(!mine.is_empty(), "a child got no grant");
        all.extend(mine);
    }
    let max = max_in_window(&mut all, 1_000_000_000);
    assert!(
        max <= 100,
        "{max} grants in one second across two processes"
    );
    assert_eq!(all.len(), 160);
}

#[test]
fn clients_of_one_account_share_the_default_limiter() {
    use magflow_emag::{ClientConfig, Credentials, Platform, RateLimiter};
    let a = RateLimiter::for_account(Platform::EmagRo, "shared-account-user");
    let b = RateLimiter::for_account(Platform::EmagRo, "shared-account-user");
    let other = RateLimiter::for_account(Platform::EmagBg, "shared-account-user");
    assert!(a.try_acquire_blocking(Bucket::Orders).unwrap());
    // Grants are spaced 1/12 s apart: the second client of the account must wait too.
    assert!(!b.try_acquire_blocking(Bucket::Orders).unwrap());
    assert!(other.try_acquire_blocking(Bucket::Orders).unwrap());
    // A client config without a limiter gets the account's shared one; opting out gets none.
    let creds = || Credentials::new("shared-account-user", "pw-123456").unwrap();
    assert!(ClientConfig::new(creds()).effective_limiter().is_some());
    assert!(ClientConfig::new(creds())
        .without_rate_limit()
        .effective_limiter()
        .is_none());
}
