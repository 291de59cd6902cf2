//! Rate-limiter benchmarks, each figure printed beside a baseline measured in the same run.
//!
//! 1. Utilisation: back-to-back acquisitions per bucket with eMAG's quotas; achieved rate and
//!    the most grants in any sliding 1 s window, beside governor's token bucket with
//!    burst = quota (the 23-in-a-second failure) and beside governor GCRA burst 1 driven by
//!    check-then-sleep (the throughput lost to wake-up latency).
//! 2. Processes: 4 processes sharing one `host` file, 2 groups of 2 processes sharing one
//!    Redis key, and (baseline) 4 processes each with its own `local` limiter.
//! 3. Cost of an uncontended acquire (huge quota: nothing waits): local beside governor's
//!    `check()`, host beside a SQLite-transaction design, and the Redis round trip.
//!
//! Durations: MF_BENCH_SECS (utilisation, default 4), MF_BENCH_PROC_SECS (processes,
//! default 3). The 20 s run: `MF_BENCH_SECS=20 cargo bench --bench ratelimit`.

use std::net::TcpListener;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use magflow_emag::ratelimit::{BackendKind, Quota, RateLimiter, RateLimiterConfig, SecretUrl};
use magflow_emag::Bucket;

const CHILD_ENV: &str = "MF_RL_BENCH_CHILD";
const SEC: u64 = 1_000_000_000;

fn mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * SEC + ts.tv_nsec as u64
}

fn env_secs(name: &str, default: f64) -> f64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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

/// Grants per second over the run: (n - 1) / (last - first).
fn rate(times: &[u64]) -> f64 {
    if times.len() < 2 {
        return 0.0;
    }
    let span = (times[times.len() - 1] - times[0]) as f64 / 1e9;
    (times.len() - 1) as f64 / span
}

fn run_threads(threads: usize, secs: f64, acquire: impl Fn() + Sync) -> Vec<u64> {
    let times = Mutex::new(Vec::new());
    let end = mono_ns() + (secs * 1e9) as u64;
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut mine = Vec::new();
                while mono_ns() < end {
                    acquire();
                    mine.push(mono_ns());
                }
                times.lock().unwrap().extend(mine);
            });
        }
    });
    let mut v = times.into_inner().unwrap();
    v.sort_unstable();
    v
}

fn report(label: &str, quota: Quota, times: &mut [u64], secs: f64) {
    let r = rate(times);
    let max1 = max_in_window(times, SEC);
    let max60 = max_in_window(times, 60 * SEC);
    println!(
        "  {label:<44} rate {r:7.3}/s = {:6.2}% of {}/s | max in any 1 s: {max1:3} (quota {}) | \
         max in any 60 s: {max60:4} (quota {}{})",
        100.0 * r / f64::from(quota.per_second),
        quota.per_second,
        quota.per_second,
        quota.per_minute,
        if secs < 60.0 { ", run < 60 s" } else { "" }
    );
}

fn utilisation() {
    let secs = env_secs("MF_BENCH_SECS", 4.0);
    println!("\n== 1. utilisation: {secs} s back to back, 4 threads per bucket (eMAG quotas)");
    for (bucket, quota) in [
        (Bucket::Orders, Quota::ORDERS),
        (Bucket::Other, Quota::OTHER),
    ] {
        println!(" bucket {bucket}:");
        let rl = RateLimiter::default();
        let mut t = run_threads(4, secs, || {
            rl.acquire_blocking(bucket, None).unwrap();
        });
        report(
            "magflow RateLimiter (GCRA burst 1, 1% margin)",
            quota,
            &mut t,
            secs,
        );

        let per_s = NonZeroU32::new(quota.per_second).unwrap();
        let naive = governor::RateLimiter::direct(governor::Quota::per_second(per_s));
        let mut t = run_threads(4, secs, || wait_governor(&naive));
        report(
            "baseline: governor token bucket, burst=quota",
            quota,
            &mut t,
            secs,
        );

        let burst1 = governor::RateLimiter::direct(
            governor::Quota::per_second(per_s).allow_burst(NonZeroU32::new(1).unwrap()),
        );
        let mut t = run_threads(4, secs, || wait_governor(&burst1));
        report(
            "baseline: governor burst 1, check-then-sleep",
            quota,
            &mut t,
            secs,
        );
    }
}

fn wait_governor(limiter: &governor::DefaultDirectRateLimiter) {
    use governor::clock::{Clock, DefaultClock};
    let clock = DefaultClock::default();
    loop {
        match limiter.check() {
            Ok(()) => return,
            Err(not_until) => std::thread::sleep(not_until.wait_time_from(clock.now())),
        }
    }
}

// ---- 2. processes ----------------------------------------------------------------------

fn child_main(spec: &str) {
    // backend|target|account|end_ns|out
    let parts: Vec<&str> = spec.split('|').collect();
    let config = match parts[0] {
        "host" => {
            let mut o = RateLimiterConfig::default();
            o.backend = BackendKind::Host;
            o.path = Some(PathBuf::from(parts[1]));
            o
        }
        "redis" => {
            let mut o = RateLimiterConfig::default();
            o.backend = BackendKind::Redis;
            o.redis_url = Some(SecretUrl::new(parts[1]));
            o.account = parts[2].to_owned();
            o
        }
        _ => RateLimiterConfig::default(),
    };
    let rl = RateLimiter::new(config).unwrap();
    let end: u64 = parts[3].parse().unwrap();
    let mut out = String::new();
    while mono_ns() < end {
        rl.acquire_blocking(Bucket::Orders, None).unwrap();
        out.push_str(&format!("{}\n", mono_ns()));
    }
    std::fs::write(parts[4], out).unwrap();
}

fn spawn_children(
    dir: &Path,
    label: &str,
    specs: &[(String, String, String)],
    secs: f64,
) -> Vec<u64> {
    let exe = std::env::current_exe().unwrap();
    let end = mono_ns() + ((secs + 0.3) * 1e9) as u64; // 0.3 s for the children to start
    let children: Vec<(Child, PathBuf)> = specs
        .iter()
        .enumerate()
        .map(|(i, (backend, target, account))| {
            let out = dir.join(format!("{label}-{i}.txt"));
            let child = Command::new(&exe)
                .env(
                    CHILD_ENV,
                    format!("{backend}|{target}|{account}|{end}|{}", out.display()),
                )
                .spawn()
                .unwrap();
            (child, out)
        })
        .collect();
    let mut all = Vec::new();
    for (mut child, out) in children {
        assert!(child.wait().unwrap().success(), "a bench child failed");
        let text = std::fs::read_to_string(out).unwrap();
        all.extend(text.lines().map(|l| l.parse::<u64>().unwrap()));
    }
    all.sort_unstable();
    all
}

struct RedisServer(Child);

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_redis(dir: &Path) -> Option<(RedisServer, String)> {
    let port = TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
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
            "--dir",
        ])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let server = RedisServer(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((server, format!("redis://127.0.0.1:{port}/0")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn processes(redis_url: Option<&str>) {
    let secs = env_secs("MF_BENCH_PROC_SECS", 3.0);
    let dir = tempfile::tempdir().unwrap();
    let q = Quota::ORDERS;
    println!("\n== 2. processes: orders bucket, {secs} s, each process back to back");
    let state = dir.path().join("host.state");
    let host: Vec<_> = (0..4)
        .map(|_| {
            (
                "host".to_owned(),
                state.display().to_string(),
                String::new(),
            )
        })
        .collect();
    let mut t = spawn_children(dir.path(), "host", &host, secs);
    report("4 processes, host backend (one file)", q, &mut t, secs);
    match redis_url {
        Some(url) => {
            // Two groups (as on two hosts) of two processes, one account key.
            let redis: Vec<_> = (0..4)
                .map(|_| ("redis".to_owned(), url.to_owned(), "bench".to_owned()))
                .collect();
            let mut t = spawn_children(dir.path(), "redis", &redis, secs);
            report("2 groups x 2 processes, redis backend", q, &mut t, secs);
        }
        None => println!("  redis: SKIPPED (redis-server not installed)"),
    }
    let local: Vec<_> = (0..4)
        .map(|_| ("local".to_owned(), String::new(), String::new()))
        .collect();
    let mut t = spawn_children(dir.path(), "local", &local, secs);
    report("baseline: 4 processes, own local limiters", q, &mut t, secs);
}

// ---- 3. cost -----------------------------------------------------------------------------

fn huge() -> Quota {
    Quota {
        per_second: 4_000_000_000,
        per_minute: 4_000_000_000,
    }
}

fn median_ns_per_call(rounds: usize, calls: usize, mut f: impl FnMut()) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    samples.sort_by(|a, b| a.total_cmp(b));
    samples[rounds / 2]
}

fn cost(redis_url: Option<&str>) {
    println!("\n== 3. uncontended acquire (huge quota, nothing waits), median of 7 rounds");
    let local = RateLimiter::local(huge(), huge());
    let ours = median_ns_per_call(7, 200_000, || {
        local.acquire_blocking(Bucket::Orders, None).unwrap();
    });
    let gov = governor::RateLimiter::direct(governor::Quota::per_second(
        NonZeroU32::new(4_000_000_000).unwrap(),
    ));
    let base = median_ns_per_call(7, 200_000, || {
        let _ = gov.check();
    });
    println!(
        "  local acquire: {:.3} us (goal <= 1 us) | baseline governor check(): {:.3} us | ratio {:.2}x",
        ours / 1e3,
        base / 1e3,
        ours / base
    );

    let dir = tempfile::tempdir().unwrap();
    let host = RateLimiter::new({
        let mut o = RateLimiterConfig::default();
        o.backend = BackendKind::Host;
        o.path = Some(dir.path().join("cost.state"));
        o.orders = huge();
        o.other = huge();
        o
    })
    .unwrap();
    let ours_host = median_ns_per_call(7, 200_000, || {
        host.acquire_blocking(Bucket::Orders, None).unwrap();
    });
    // The alternative design: the TAT in a SQLite row, one short IMMEDIATE transaction each.
    let db = rusqlite::Connection::open(dir.path().join("alt.sqlite")).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE tat(bucket TEXT PRIMARY KEY, tat INTEGER NOT NULL);
         INSERT INTO tat VALUES ('orders', 0);",
    )
    .unwrap();
    let sqlite = median_ns_per_call(7, 2_000, || {
        let tx =
            rusqlite::Transaction::new_unchecked(&db, rusqlite::TransactionBehavior::Immediate)
                .unwrap();
        let tat: i64 = tx
            .query_row("SELECT tat FROM tat WHERE bucket='orders'", [], |r| {
                r.get(0)
            })
            .unwrap();
        let now = mono_ns() as i64;
        tx.execute(
            "UPDATE tat SET tat=?1 WHERE bucket='orders'",
            [tat.max(now) + 15],
        )
        .unwrap();
        tx.commit().unwrap();
    });
    println!(
        "  host acquire (mmap CAS): {:.3} us (goal <= 20 us) | baseline SQLite transaction: {:.1} us | ratio {:.4}x",
        ours_host / 1e3,
        sqlite / 1e3,
        ours_host / sqlite
    );

    if let Some(url) = redis_url {
        let redis = RateLimiter::new({
            let mut o = RateLimiterConfig::default();
            o.backend = BackendKind::Redis;
            o.redis_url = Some(SecretUrl::new(url));
            o.account = "cost".to_owned();
            o.orders = huge();
            o.other = huge();
            o
        })
        .unwrap();
        redis.acquire_blocking(Bucket::Orders, None).unwrap(); // connect
        let ours_redis = median_ns_per_call(7, 1_000, || {
            redis.acquire_blocking(Bucket::Orders, None).unwrap();
        });
        println!(
            "  redis acquire (one EVALSHA round trip on loopback): {:.1} us | vs local: {:.0}x",
            ours_redis / 1e3,
            ours_redis / ours
        );
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        child_main(&spec);
        return;
    }
    // `cargo bench` passes "--bench"; a filter argument is not used.
    println!("ratelimit benchmarks (figure | baseline measured in the same run)");
    let dir = tempfile::tempdir().unwrap();
    let redis = start_redis(dir.path());
    let url = redis.as_ref().map(|(_, url)| url.clone());
    cost(url.as_deref());
    utilisation();
    processes(url.as_deref());
    drop(redis);
    let _ = Arc::new(());
}
