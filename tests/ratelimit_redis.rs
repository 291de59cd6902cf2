//! The redis backend against a real `redis-server` started on a free loopback port (with a
//! password, to check it never prints). Skipped, loudly, only when redis-server is missing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use magflow_emag::ratelimit::{Quota, RateLimiter, RateLimiterConfig, RedisFallback};
use magflow_emag::{runtime, Bucket, ErrorKind};

const PASSWORD: &str = "s3cret-pw";

struct Redis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Redis {
    fn url(&self) -> String {
        format!("redis://:{PASSWORD}@127.0.0.1:{}/0", self.port)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_redis() -> Option<Redis> {
    if Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        eprintln!(
            "\n*** SKIPPED: redis-server is not installed; the redis backend was NOT tested ***\n"
        );
        return None;
    }
    for _ in 0..5 {
        // The server's working directory lives as long as the server (kept in `Redis`).
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--requirepass",
                PASSWORD,
                "--dir",
            ])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut redis = Redis {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = redis.child.try_wait() {
                break; // the port was taken meanwhile: try another
            }
            if ping(port) {
                return Some(redis);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = redis.child.kill();
    }
    panic!("could not start redis-server");
}

fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let cmd = format!("AUTH {PASSWORD}\r\nPING\r\n");
    if s.write_all(cmd.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = String::new();
    while !got.contains("PONG") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => got.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
    }
    true
}

fn config(url: &str, account: &str, per_second: u32) -> RateLimiterConfig {
    RateLimiterConfig::from_json(&format!(
        r#"{{"backend":"redis","redis_url":"{url}","account":"{account}",
            "orders":{{"per_second":{per_second},"per_minute":{}}},
            "other":{{"per_second":{per_second},"per_minute":{}}}}}"#,
        per_second * 60,
        per_second * 60
    ))
    .unwrap()
}

fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn max_in_window(times: &mut [u64], span_ns: u64) -> usize {
    times.sort_unstable();
    let (mut best, mut j) = (0, 0);
    for i in 0..times.len() {
        j = j.max(i);
        while j < times.len() && times[j] - times[i] <= span_ns {
            j += 1;
        }
        best = best.max(j - i);
    }
    best
}

#[test]
fn redis_backend_end_to_end() {
    let Some(redis) = start_redis() else { return };
    let url = redis.url();

    // Two limiters (as two processes would) share one quota through Redis.
    let a = RateLimiter::new(config(&url, "shop", 100)).unwrap();
    let b = RateLimiter::new(config(&url, "shop", 100)).unwrap();
    let times = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|s| {
        for rl in [&a, &b, &a, &b] {
            let times = times.clone();
            s.spawn(move || {
                for _ in 0..40 {
                    rl.acquire_blocking(Bucket::Orders, None).unwrap();
                    times.lock().unwrap().push(mono_ns());
                }
            });
        }
    });
    let mut all = times.lock().unwrap().clone();
    let max = max_in_window(&mut all, 1_000_000_000);
    assert!(max <= 100, "{max} grants in one second through redis");
    assert_eq!(all.len(), 160);
    assert!(a.stats().orders.requests > 0 && b.stats().orders.requests > 0);
    assert_eq!(a.stats().backend, "redis");

    // try_acquire and timeouts, with a slow quota on another account.
    let slow_a = RateLimiter::new(config(&url, "slow", 1)).unwrap();
    let slow_b = RateLimiter::new(config(&url, "slow", 1)).unwrap();
    assert!(slow_a.try_acquire_blocking(Bucket::Other).unwrap());
    assert!(!slow_b.try_acquire_blocking(Bucket::Other).unwrap());
    let err = slow_b
        .acquire_blocking(Bucket::Other, Some(Duration::from_millis(20)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    let remaining = err.remaining_seconds().unwrap();
    assert!(remaining > 0.5 && remaining <= 1.02, "{remaining}");
    let s = slow_b.stats();
    assert_eq!(s.other.timeouts, 1);
    assert_eq!(s.other.available_now, 0);
    assert!(
        s.other.next_free_in_s > 0.0 && s.other.next_free_in_s <= 1.02,
        "{s:?}"
    );
    // Another account is independent.
    let other_account = RateLimiter::new(config(&url, "elsewhere", 1)).unwrap();
    assert!(other_account.try_acquire_blocking(Bucket::Other).unwrap());

    // A 429 seen by one process holds the bucket for the others.
    runtime::block_on(a.hold(Bucket::Orders, Duration::from_secs(30))).unwrap();
    assert!(!b.try_acquire_blocking(Bucket::Orders).unwrap());
    let err = b
        .acquire_blocking(Bucket::Orders, Some(Duration::from_millis(50)))
        .unwrap_err();
    assert!(err.remaining_seconds().unwrap() > 25.0, "{err}");
    // The hook's fire-and-forget form reaches Redis too.
    let fresh = RateLimiter::new(config(&url, "hook", 1000)).unwrap();
    let peer = RateLimiter::new(config(&url, "hook", 1000)).unwrap();
    magflow_emag::Limiter::on_rate_limited(&fresh, Bucket::Other, Duration::from_secs(30));
    assert!(!fresh.try_acquire_blocking(Bucket::Other).unwrap()); // at once, locally
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut peer_held = false;
    while Instant::now() < deadline {
        if peer.stats().other.next_free_in_s > 20.0 {
            peer_held = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(peer_held, "the 429 hold never reached the other process");
    assert!(!peer.try_acquire_blocking(Bucket::Other).unwrap());

    // Async acquire on the shared runtime.
    let waited = runtime::block_on(fresh.acquire(Bucket::Orders, None)).unwrap();
    assert!(waited < Duration::from_secs(5));

    // A wrong password is a network-kind error that does not print the password.
    let wrong = format!("redis://:wrong-{PASSWORD}@127.0.0.1:{}/0", redis.port);
    let rl = RateLimiter::new(config(&wrong, "shop", 10)).unwrap();
    let err = rl.acquire_blocking(Bucket::Orders, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert!(!err.to_string().contains(PASSWORD), "{err}");
}

#[test]
fn unreachable_redis_fails_closed_or_falls_back_to_local() {
    let port = free_port(); // nothing listens there
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{port}/0");
    let closed = RateLimiter::new(config(&url, "shop", 10)).unwrap();
    let err = closed.acquire_blocking(Bucket::Orders, None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(err.provably_not_sent());
    let text = err.to_string();
    assert!(
        text.contains("unreachable") && text.contains("***"),
        "{text}"
    );
    assert!(!text.contains(PASSWORD), "{text}");
    let err = closed.try_acquire_blocking(Bucket::Orders).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert!(!format!("{closed:?}").contains(PASSWORD));

    let mut c = config(&url, "shop", 1);
    c.redis_fallback = RedisFallback::Local;
    let fallback = RateLimiter::new(c).unwrap();
    fallback.acquire_blocking(Bucket::Orders, None).unwrap();
    // Limited locally meanwhile: the second permit is not free.
    assert!(!fallback.try_acquire_blocking(Bucket::Orders).unwrap());
    let s = fallback.stats();
    assert_eq!(s.backend, "redis (local fallback)");
    assert_eq!(s.orders.requests, 1);
    let _ = Quota::ORDERS;
}
