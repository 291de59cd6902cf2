//! eMAG's callbacks end to end (issue 20), against the simulator at eMAG's real limits.
//!
//! 1. Latency: new orders arrive at 2 per second; each is announced by the simulator's
//!    callback to a loopback receiver ([`CallbackReceiver::handle`]) whose worker stores and
//!    acknowledges it. Measured: from the order's creation (the simulator sends its callback
//!    at once) to the order being readable from the store; p50 and p99. Goal: p99 <= 1 s.
//!    Baseline: the same arrivals found by an incremental sync polling every 60 s: each
//!    order waits for the next poll (polls at 0, 60, 120 s... from the first arrival) plus
//!    that sync's duration, measured by running one incremental sync for real at the end.
//! 2. Burst: callbacks for N new orders recorded first, then the worker started: time until
//!    all are stored and acknowledged, against the quota minimum for N reads plus N
//!    acknowledgements (12/s). Goal: <= 1.05x.
//!
//! Run: `cargo bench --bench callbacks_e2e` (CALLBACK_ORDERS=20 and CALLBACK_BURST=60 by
//! default, short; the sizes: CALLBACK_ORDERS=200 CALLBACK_BURST=500).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use magflow_emag::callbacks::{CallbackReceiver, WorkerOptions};
use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::sync::{sync_orders, SyncOptions};
use magflow_emag::{runtime, Client, ClientConfig, Credentials, RateLimiter, Store};

const TOKEN: &str = "bench-callback-token-0123456789";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn serve_on(listener: TcpListener, receiver: Arc<CallbackReceiver>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        let receiver = receiver.clone();
        std::thread::spawn(move || {
            let Ok(clone) = stream.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(clone);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                return;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let target = request_line.split_whitespace().nth(1).unwrap_or("");
            let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
            let answer = receiver.handle(query);
            let _ = write!(
                stream,
                "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                answer.status,
                answer.body.len(),
                answer.body
            );
        });
    }
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

struct Rig {
    sim: Simulator,
    store: Arc<Store>,
    client: Client,
    receiver: Arc<CallbackReceiver>,
    _dir: tempfile::TempDir,
}

fn start_rig() -> Result<Rig, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(Store::open(dir.path().join("bench.db"))?);
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!(
        "http://{}/emag/callback?token={TOKEN}",
        listener.local_addr()?
    );
    let sim = Simulator::start_blocking(SimConfig {
        orders: 0,
        offers: 50,
        seed: 9,
        enforce_rate_limits: true,
        callback_url: Some(url),
        callback_interval_seconds: 600.0,
        ..SimConfig::default()
    })?;
    let config = ClientConfig::new(Credentials::new(sim.username(), sim.password())?)
        .with_base_url(sim.url())
        .with_limiter(Arc::new(RateLimiter::default()));
    let client = Client::new(config)?;
    let options = WorkerOptions::default();
    let receiver = Arc::new(CallbackReceiver::new(
        store.clone(),
        client.clone(),
        TOKEN,
        options,
    )?);
    let served = receiver.clone();
    std::thread::spawn(move || serve_on(listener, served));
    Ok(Rig {
        sim,
        store,
        client,
        receiver,
        _dir: dir,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = env_usize("CALLBACK_ORDERS", 20);
    let burst = env_usize("CALLBACK_BURST", 60);

    // 1. Latency at 2 orders per second.
    let rig = start_rig()?;
    rig.receiver.start();
    let started = Instant::now();
    let mut arrivals: Vec<(i64, f64)> = Vec::new();
    let mut latencies = Vec::new();
    let mut pending: Vec<(i64, Instant)> = Vec::new();
    let mut next = Instant::now();
    while latencies.len() < n {
        if arrivals.len() < n && Instant::now() >= next {
            let created = Instant::now();
            let id = rig.sim.new_order()["id"].as_i64().ok_or("no id")?;
            arrivals.push((id, created.duration_since(started).as_secs_f64()));
            pending.push((id, created));
            next += Duration::from_millis(500);
        }
        let mut i = 0;
        while i < pending.len() {
            let (id, created) = pending[i];
            if rig.store.get_order_text(id, None)?.is_some() {
                latencies.push(created.elapsed().as_secs_f64());
                pending.swap_remove(i);
            } else {
                i += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    rig.receiver.stop();
    // The baseline: one real incremental sync after a first one, its duration added to the
    // wait for the next 60 s poll of each arrival.
    runtime::block_on(sync_orders(
        &rig.client,
        &rig.store,
        &SyncOptions::default(),
    ))?;
    let sync_started = Instant::now();
    runtime::block_on(sync_orders(
        &rig.client,
        &rig.store,
        &SyncOptions::default(),
    ))?;
    let sync_s = sync_started.elapsed().as_secs_f64();
    let first = arrivals.first().map_or(0.0, |a| a.1);
    let polled: Vec<f64> = arrivals
        .iter()
        .map(|(_, at)| {
            let since = at - first;
            (60.0 - since % 60.0) % 60.0 + sync_s
        })
        .collect();
    println!("callbacks_e2e: {n} new orders at 2/s, eMAG's limits (orders 12/s)");
    println!(
        "  callback -> readable   p50 {:>7.3} s  p99 {:>7.3} s  max {:>7.3} s (goal p99 <= 1 s)",
        percentile(latencies.clone(), 50.0),
        percentile(latencies.clone(), 99.0),
        percentile(latencies, 100.0)
    );
    println!(
        "  baseline: sync /60 s   p50 {:>7.3} s  p99 {:>7.3} s (incremental sync {:.3} s)",
        percentile(polled.clone(), 50.0),
        percentile(polled, 99.0),
        sync_s
    );
    drop(rig);

    // 2. A burst: every callback recorded, then drained at the quota.
    let rig = start_rig()?;
    let ids: Vec<i64> = (0..burst)
        .map(|_| rig.sim.new_order()["id"].as_i64().unwrap_or(0))
        .collect();
    while rig.store.callback_stats()?.pending < burst as u64 {
        std::thread::sleep(Duration::from_millis(5));
    }
    rig.sim.reset_stats();
    let started = Instant::now();
    rig.receiver.start();
    while rig.store.callback_stats()?.pending > 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let wall = started.elapsed().as_secs_f64();
    rig.receiver.stop();
    let stats = rig.sim.stats();
    let reads = stats["routes"]["order/read"].as_u64().unwrap_or(0);
    let acks = stats["routes"]["order/acknowledge"].as_u64().unwrap_or(0);
    let min = (2 * burst).saturating_sub(1) as f64 / 12.0;
    let stored = rig.store.count_orders(None)?;
    let acknowledged = ids
        .iter()
        .filter(|id| rig.sim.order(**id as u64).is_some_and(|o| o["status"] == 2))
        .count();
    println!(
        "  burst of {burst}: {wall:>7.2} s wall, {reads} reads + {acks} acknowledgements, {stored} stored, \
         {acknowledged} acknowledged | baseline: quota minimum {min:.2} s | ratio {:.3} (goal <= 1.05) | 429s: {}",
        wall / min.max(f64::EPSILON),
        stats["responses_429"]
    );
    Ok(())
}
