//! Cost of recording one request in the monitor, single-threaded and with 8 threads at
//! once, beside two baselines measured in the same run: an atomic increment (the floor of
//! any shared counter) and a push onto a `Mutex<Vec>` (the naive "keep every sample").
//! Prints medians of several runs and the ratio to the baselines. Goal: <= 200 ns/record.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use magflow_emag::monitor::{Monitor, MonitorConfig};
use magflow_emag::{Bucket, ErrorKind, Outcome, RequestEvent, RequestObserver};

const RUNS: usize = 7;
const PER_RUN: usize = 1_000_000;
const THREADS: usize = 8;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// ns per operation of `op(thread, i)` run `PER_RUN` times over `threads` threads (wall
/// time / operations: with more threads than cores this is the aggregate cost).
fn measure(threads: usize, op: &(dyn Fn(usize, usize) + Sync)) -> f64 {
    let per_thread = PER_RUN / threads;
    let runs = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for t in 0..threads {
                    s.spawn(move || {
                        for i in 0..per_thread {
                            op(t, i);
                        }
                    });
                }
            });
            start.elapsed().as_nanos() as f64 / (per_thread * threads) as f64
        })
        .collect();
    median(runs)
}

const ROUTES: [(&str, &str); 4] = [
    ("order", "read"),
    ("order", "acknowledge"),
    ("product_offer", "read"),
    ("awb", "save"),
];

fn event(i: usize) -> RequestEvent<'static> {
    let (resource, action) = ROUTES[i % ROUTES.len()];
    RequestEvent {
        resource,
        action,
        bucket: Bucket::for_resource(resource),
        http_status: Some(200),
        outcome: if i % 50 == 0 {
            Outcome::Error(ErrorKind::Network)
        } else {
            Outcome::Success
        },
        latency: Duration::from_micros(20_000 + (i as u64 * 7919) % 400_000),
        attempt: 0,
    }
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("monitor record cost ({RUNS} runs of {PER_RUN} records, median; {cores} cores)");
    for threads in [1, THREADS] {
        let monitor = Monitor::new(MonitorConfig::default()).expect("default config");
        let counter = AtomicU64::new(0);
        let vec = Mutex::new(Vec::<u64>::with_capacity(PER_RUN));

        let atomic = measure(threads, &|_, _| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let pushed = measure(threads, &|_, i| {
            let mut v = vec.lock().unwrap_or_else(|e| e.into_inner());
            if v.len() >= PER_RUN {
                v.clear(); // keep memory flat across runs (amortized, cheap)
            }
            v.push(black_box(i as u64));
        });
        // Events are built beforehand: their construction is the caller's cost.
        let events: Vec<RequestEvent<'static>> = (0..256).map(event).collect();
        let observed = measure(threads, &|_, i| monitor.observe(&events[i % events.len()]));
        let recorded = measure(threads, &|_, i| {
            let _ = monitor.record(black_box(20.0 + (i % 400) as f64), i % 50 != 0);
        });

        let m = monitor.metrics();
        let expected = (2 * RUNS * (PER_RUN / threads) * threads) as u64;
        assert_eq!(m.requests_total, expected, "counts add up exactly");

        println!("  {threads} thread(s):");
        println!("    baseline atomic fetch_add      {atomic:>7.1} ns/op");
        println!("    baseline Mutex<Vec>::push      {pushed:>7.1} ns/op");
        println!(
            "    Monitor::observe (RequestEvent) {observed:>6.1} ns/record  ({:.1}x atomic, {:.2}x Mutex<Vec>)",
            observed / atomic,
            observed / pushed
        );
        println!(
            "    Monitor::record(ms, ok)        {recorded:>7.1} ns/record  ({:.1}x atomic, {:.2}x Mutex<Vec>)",
            recorded / atomic,
            recorded / pushed
        );
        let start = Instant::now();
        let _ = black_box(monitor.health());
        println!(
            "    (a read: health() merging the window took {:.0} us)",
            start.elapsed().as_secs_f64() * 1e6
        );
    }
}
