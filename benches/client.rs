//! The Rust client's own overhead: the same sequential `order/read` calls through `Client`
//! and through a bare reqwest loop (same pool settings, form body, Basic auth, JSON parse and
//! the isError check) against the simulator with rate limits off. Prints medians and the ratio.
//!
//! Also the text path (`read_raw`) beside reqwest reading the answer's bytes and parsing
//! nothing: the floor of any client built on reqwest.
//!
//! Run: `cargo bench --bench client` (REQUESTS=2000 by default).

use std::time::Instant;

use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::{runtime, Client, ClientConfig, Credentials, RetryPolicy};
use serde_json::{json, Value};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The bare reqwest loop: `n` sequential reads of `per_page` orders; with `parse`, each body
/// is parsed into a `Value` and its `isError` checked. Returns requests per second.
async fn bare_reads(
    http: reqwest::Client,
    url: String,
    auth: String,
    n: usize,
    per_page: u32,
    parse: bool,
) -> f64 {
    let started = Instant::now();
    for _ in 0..n {
        let body = http
            .post(&url)
            .header("Authorization", &auth)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("data%5BitemsPerPage%5D={per_page}"))
            .send()
            .await
            .expect("send")
            .bytes()
            .await
            .expect("body");
        if parse {
            let v: Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["isError"], json!(false));
        } else {
            assert!(!body.is_empty());
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let sim = Simulator::start_blocking(SimConfig {
        orders: 500,
        seed: 1,
        enforce_rate_limits: false,
        ..SimConfig::default()
    })?;
    let config = ClientConfig::new(Credentials::new(sim.username(), sim.password())?)
        .with_base_url(sim.url())
        .without_rate_limit()
        .with_retry(RetryPolicy::none());
    let client = Client::new(config)?;
    let bare = reqwest::Client::new();
    let url = format!("{}/order/read", sim.url());
    let auth = format!(
        "Basic {}",
        Credentials::new(sim.username(), sim.password())?.basic_token()
    );
    for per_page in [1u32, 10] {
        let mut ours = Vec::new();
        let mut raw = Vec::new();
        for _ in 0..5 {
            let c = client.clone();
            ours.push(runtime::block_on(async move {
                let started = Instant::now();
                for _ in 0..n {
                    c.orders()
                        .read(json!({"itemsPerPage": per_page}))
                        .await
                        .expect("read");
                }
                n as f64 / started.elapsed().as_secs_f64()
            }));
            raw.push(runtime::block_on(bare_reads(
                bare.clone(),
                url.clone(),
                auth.clone(),
                n,
                per_page,
                true,
            )));
        }
        let (o, r) = (median(ours), median(raw));
        println!(
            "client, {n} sequential order/read ({per_page} per page): magflow-emag {o:.0} req/s | baseline bare reqwest {r:.0} req/s | ratio {:.2}",
            o / r
        );
    }
    // The text path against reqwest reading the bytes and nothing more: what reqwest itself
    // costs per request, below which no reqwest-based client can go.
    let (mut text, mut bytes_only) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let c = client.clone();
        text.push(runtime::block_on(async move {
            let started = Instant::now();
            for _ in 0..n {
                c.resource("order")
                    .read_raw(json!({"itemsPerPage": 10}))
                    .await
                    .expect("read_raw");
            }
            n as f64 / started.elapsed().as_secs_f64()
        }));
        bytes_only.push(runtime::block_on(bare_reads(
            bare.clone(),
            url.clone(),
            auth.clone(),
            n,
            10,
            false,
        )));
    }
    let (t, b) = (median(text), median(bytes_only));
    println!(
        "client, {n} sequential order/read (10 per page), results as text: magflow-emag read_raw {t:.0} req/s | baseline bare reqwest reading the bytes only {b:.0} req/s | ratio {:.2}",
        t / b
    );
    Ok(())
}
