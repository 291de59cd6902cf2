//! Utilisation measured where eMAG measures it: at the simulator's gateway, with eMAG's
//! quotas enforced. For each bucket, 4 tasks call back-to-back through one client for
//! MF_BENCH_SECS (default 20) seconds: achieved rate beside the quota, the gateway's 429s and
//! its busiest sliding second. Baseline in the same run: the same loop behind a token bucket
//! with burst = quota (governor; the old ERP limiter's design), which earns 429s.
//!
//! Run: `cargo bench --bench ratelimit_sim` (MF_BENCH_SECS=5 for a quick look).

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use magflow_emag::hooks::BoxFuture;
use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::{runtime, Bucket, Client, ClientConfig, Credentials, Limiter, RetryPolicy};
use serde_json::json;

/// governor's token bucket with burst = quota, as a client limiter (the baseline).
struct TokenBucket {
    orders: governor::DefaultDirectRateLimiter,
    other: governor::DefaultDirectRateLimiter,
}

impl Limiter for TokenBucket {
    fn acquire(&self, bucket: Bucket) -> BoxFuture<'_, magflow_emag::Result<()>> {
        Box::pin(async move {
            match bucket {
                Bucket::Orders => self.orders.until_ready().await,
                Bucket::Other => self.other.until_ready().await,
            }
            Ok(())
        })
    }
}

fn token_bucket() -> TokenBucket {
    let q = |n: u32| governor::Quota::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
    TokenBucket {
        orders: governor::RateLimiter::direct(q(12)),
        other: governor::RateLimiter::direct(q(3)),
    }
}

struct Run {
    rate: f64,
    ok: u64,
    errors: u64,
    responses_429: u64,
    max_second: u64,
}

fn run(sim: &Simulator, limiter: Option<Arc<dyn Limiter>>, bucket: Bucket, secs: f64) -> Run {
    let mut config = ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
        .with_base_url(sim.url())
        // No retries: every request the loop makes is one the gateway counts.
        .with_retry(RetryPolicy::none())
        .without_rate_limit();
    if let Some(l) = limiter {
        config = config.with_limiter(l);
    }
    let client = Client::new(config).expect("client");
    sim.reset_stats();
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let (ok, errors) = runtime::block_on(async move {
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let c = client.clone();
            tasks.push(tokio::spawn(async move {
                let (mut ok, mut err) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let r = match bucket {
                        Bucket::Orders => {
                            c.call("order", "read", Some(json!({"itemsPerPage": 1})))
                                .await
                        }
                        Bucket::Other => c.call("vat", "read", None).await,
                    };
                    if r.is_ok() {
                        ok += 1;
                    } else {
                        err += 1;
                    }
                }
                (ok, err)
            }));
        }
        let mut total = (0, 0);
        for t in tasks {
            let (o, e) = t.await.unwrap_or((0, 0));
            total.0 += o;
            total.1 += e;
        }
        total
    });
    let elapsed = started.elapsed().as_secs_f64();
    let stats = sim.stats();
    let name = match bucket {
        Bucket::Orders => "orders",
        Bucket::Other => "other",
    };
    Run {
        rate: ok as f64 / elapsed,
        ok,
        errors,
        responses_429: stats["responses_429"].as_u64().unwrap_or(0),
        max_second: stats["max_in_any_second"][name].as_u64().unwrap_or(0),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::var("MF_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20.0);
    let sim = Simulator::start_blocking(SimConfig {
        orders: 200,
        offers: 10,
        seed: 3,
        enforce_rate_limits: true,
        ..SimConfig::default()
    })?;
    println!("ratelimit_sim: {secs} s back-to-back per bucket, 4 tasks, at the simulator's gateway (eMAG's quotas)");
    for (bucket, quota) in [(Bucket::Orders, 12.0), (Bucket::Other, 3.0)] {
        let ours = run(
            &sim,
            Some(Arc::new(magflow_emag::RateLimiter::default())),
            bucket,
            secs,
        );
        let base = run(&sim, Some(Arc::new(token_bucket())), bucket, secs);
        println!(
            "  {:<6} ours: {:6.3}/s = {:5.1} % of {quota}/s (goal >= 98 %), {} ok, {} failed, 429s {}, busiest second {} of {quota}",
            if bucket == Bucket::Orders { "orders" } else { "other" },
            ours.rate,
            100.0 * ours.rate / quota,
            ours.ok,
            ours.errors,
            ours.responses_429,
            ours.max_second
        );
        println!(
            "         baseline token bucket (burst = quota): {:6.3}/s, {} failed, 429s {}, busiest second {}",
            base.rate, base.errors, base.responses_429, base.max_second
        );
    }
    Ok(())
}
