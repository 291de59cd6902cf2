//! Simulator throughput: `order/read` requests per second over loopback with concurrent
//! keep-alive reqwest clients, rate limits off, printed beside a baseline measured in the same
//! run (a trivial axum handler returning a fixed small JSON envelope), plus the seed time of
//! 5,000 orders + 2,000 offers. Run: `cargo bench --bench sim_throughput`.

use std::time::{Duration, Instant};

use axum::routing::post;
use magflow_emag::runtime;
use magflow_emag::sim::{SimConfig, Simulator};

const CLIENTS: usize = 16;
const ROUND: Duration = Duration::from_secs(3);
const ROUNDS: usize = 3;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Requests per second completed by `CLIENTS` concurrent keep-alive clients in one round.
async fn load(url: String, body: &'static str, auth: (String, String)) -> f64 {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CLIENTS {
        let url = url.clone();
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut n = 0u64;
            while start.elapsed() < ROUND {
                let resp = client
                    .post(&url)
                    .basic_auth(&auth.0, Some(&auth.1))
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("request");
                assert!(resp.status().is_success());
                let bytes = resp.bytes().await.expect("body");
                assert!(bytes.starts_with(b"{\"isError\":false"));
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

async fn baseline_server() -> String {
    let app = axum::Router::new().route(
        "/api-3/order/read",
        post(|| async {
            (
                [("content-type", "application/json")],
                "{\"isError\":false,\"messages\":[],\"results\":[]}",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/api-3/order/read")
}

fn main() {
    // Seed time (5,000 orders + 2,000 offers), median of 5 starts.
    let mut seeds = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let sim = Simulator::start(SimConfig {
            orders: 5000,
            offers: 2000,
            seed: 7,
            ..SimConfig::default()
        })
        .expect("start");
        seeds.push(t.elapsed().as_secs_f64() * 1000.0);
        drop(sim);
    }
    let empty_start = {
        let t = Instant::now();
        let sim = Simulator::start(SimConfig::default()).expect("start");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        drop(sim);
        ms
    };
    println!("sim start, empty: {empty_start:.2} ms; with 5,000 orders + 2,000 offers: median {:.1} ms (5 starts)", median(seeds));

    let sim = Simulator::start(SimConfig {
        orders: 5000,
        offers: 2000,
        seed: 7,
        enforce_rate_limits: false,
        ..SimConfig::default()
    })
    .expect("start");
    let auth = (sim.username().to_owned(), sim.password().to_owned());
    let sim_url = format!("{}/order/read", sim.url());
    runtime::block_on(async move {
        let base_url = baseline_server().await;
        // Warm-up.
        load(base_url.clone(), "", auth.clone()).await;
        for (label, body) in [
            (
                "order/read, 10 orders per page",
                "data%5BitemsPerPage%5D=10",
            ),
            (
                "order/read, 100 orders per page",
                "data%5BitemsPerPage%5D=100",
            ),
            (
                "order/read, 1 order per page (status filter)",
                "data%5Bstatus%5D=4&data%5BitemsPerPage%5D=1",
            ),
        ] {
            let mut sim_rates = Vec::new();
            let mut base_rates = Vec::new();
            for _ in 0..ROUNDS {
                base_rates.push(load(base_url.clone(), "", auth.clone()).await);
                sim_rates.push(load(sim_url.clone(), body, auth.clone()).await);
            }
            let (s, b) = (median(sim_rates), median(base_rates));
            println!(
                "{label}: simulator {s:>8.0} req/s | baseline (fixed JSON axum handler) {b:>8.0} req/s | ratio {:.2} \
                 (median of {ROUNDS} x {}s rounds, {CLIENTS} keep-alive clients)",
                s / b,
                ROUND.as_secs()
            );
        }
    });
    drop(sim);
}
