//! End-to-end sync at eMAG's real limits: 12,000 orders from the simulator into a store.
//!
//! Goal: wall time <= 1.05x the quota minimum (the least time eMAG's 12 requests/s allow for
//! the requests made), with 0 answers 429. The baseline printed beside the figure is that
//! minimum, computed from the same run's request count. Then an incremental sync with nothing
//! new: it costs only the pages of its window.
//!
//! Run: `cargo bench --bench sync_e2e` (ORDERS=12000 by default). With `STORE=postgres` the
//! store is PostgreSQL (`MF_TEST_POSTGRES_URL`, else a throwaway cluster); `STORE=both` runs
//! the SQLite store and then PostgreSQL, each against its own simulator.

use std::time::Instant;

use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::sync::{sync_orders, SyncOptions};
use magflow_emag::{runtime, Client, ClientConfig, Credentials, RateLimiter, Store};

#[allow(dead_code)]
mod support;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let which = std::env::var("STORE").unwrap_or_else(|_| "sqlite".into());
    if which == "sqlite" || which == "both" {
        let dir = tempfile::tempdir()?;
        run("SQLite", &dir.path().join("bench.db").to_string_lossy())?;
    }
    if which == "postgres" || which == "both" {
        let server = support::PgServer::start()?;
        let url = server.with_schema(&format!("bench_e2e_{}", std::process::id()));
        run("PostgreSQL", &url)?;
    }
    Ok(())
}

fn run(engine: &str, location: &str) -> Result<(), Box<dyn std::error::Error>> {
    let orders: usize = std::env::var("ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000);
    let sim = Simulator::start_blocking(SimConfig {
        orders,
        seed: 42,
        enforce_rate_limits: true,
        ..SimConfig::default()
    })?;
    let config = ClientConfig::new(Credentials::new(sim.username(), sim.password())?)
        .with_base_url(sim.url())
        .with_limiter(std::sync::Arc::new(RateLimiter::default()));
    let client = Client::new(config)?;
    let store = Store::open(location)?;

    let started = Instant::now();
    let full = runtime::block_on(sync_orders(&client, &store, &SyncOptions::default()))?;
    let wall = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    println!("sync_e2e: {orders} orders at eMAG's limits (orders 12/s, 720/min) into {engine}");
    println!(
        "  full sync      {:>7.2} s wall for {} requests ({} orders stored) | baseline: quota minimum {:.2} s | ratio {:.3} (goal <= 1.05)",
        wall,
        full.requests,
        store.count_orders(None)?,
        full.rate_limit_min_s,
        wall / full.rate_limit_min_s.max(f64::EPSILON)
    );
    println!(
        "  gateway        429 answers: {} | busiest second (orders bucket): {} of 12 | busiest minute: {} of 720",
        stats["responses_429"], stats["max_in_any_second"]["orders"], stats["max_in_any_minute"]["orders"]
    );
    sim.reset_stats();
    let started = Instant::now();
    let again = runtime::block_on(sync_orders(&client, &store, &SyncOptions::default()))?;
    println!(
        "  incremental    {:>7.2} s wall, {} requests, {} pages, {} new | baseline: the full sync's {} requests",
        started.elapsed().as_secs_f64(),
        again.requests,
        again.pages,
        again.counts.created,
        full.requests
    );
    Ok(())
}
