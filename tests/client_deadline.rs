//! A rate-limit hold never keeps a call past its own deadline (issue 15, item 4): a 429 with a
//! long `Retry-After` fails the call at once with `RateLimited` and the seconds to wait, the
//! held bucket refuses the account's next calls the same way instead of blocking them, and
//! holds are capped (server hints) or refused (callers' values) past `MAX_HOLD`.

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::ratelimit::{RateLimiter, MAX_HOLD};
use magflow_emag::sim::{Fault, SimConfig, Simulator};
use magflow_emag::{
    BlockingClient, Bucket, ClientConfig, Credentials, Error, ErrorKind, RetryPolicy,
};
use serde_json::json;

fn sim(retry_after: u64) -> Simulator {
    Simulator::start_blocking(SimConfig {
        orders: 5,
        seed: 2,
        enforce_rate_limits: false,
        fault_retry_after_seconds: retry_after,
        ..SimConfig::default()
    })
    .expect("simulator starts")
}

fn client(sim: &Simulator, limiter: &RateLimiter, retry: RetryPolicy) -> BlockingClient {
    let config = ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
        .with_base_url(sim.url())
        .with_limiter(Arc::new(limiter.clone()))
        .with_retry(retry)
        .with_timeout(Duration::from_secs(2));
    BlockingClient::new(config).unwrap()
}

fn remaining(err: &Error) -> f64 {
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    err.remaining_seconds()
        .expect("a rate-limit error says how long to wait")
}

#[test]
fn a_long_retry_after_fails_the_call_and_the_accounts_next_calls_at_once() {
    let sim = sim(40);
    let limiter = RateLimiter::default();
    let c = client(
        &sim,
        &limiter,
        RetryPolicy::from_secs(3, 0.01, 0.1, true, None).unwrap(),
    );
    sim.inject(Fault::RateLimit, 1, Some("vat"), Some("read"));
    let err = c
        .run(|c| async move { c.call("vat", "read", None).await })
        .unwrap_err();
    assert!(remaining(&err) >= 39.0, "{err}");
    assert_eq!(
        sim.stats()["requests_total"],
        json!(1),
        "not retried after 40 s"
    );

    // Every call of the account now finds the bucket held for ~40 s: refused before sending.
    let err = c
        .run(|c| async move { c.call("vat", "read", None).await })
        .unwrap_err();
    assert!(remaining(&err) > 30.0, "{err}");
    let again = client(
        &sim,
        &limiter,
        RetryPolicy::from_secs(0, 0.01, 0.1, true, None).unwrap(),
    );
    let err = again
        .run(|c| async move { c.call("vat", "read", None).await })
        .unwrap_err();
    assert!(remaining(&err) > 30.0, "{err}");
    assert_eq!(
        sim.stats()["requests_total"],
        json!(1),
        "nothing sent while held"
    );
    // The other bucket is not held.
    assert!(c
        .run(|c| async move { c.orders().count(json!({})).await })
        .is_ok());
}

#[test]
fn a_retry_after_within_the_deadline_is_waited_and_retried() {
    let sim = sim(1);
    let limiter = RateLimiter::default();
    let c = client(
        &sim,
        &limiter,
        RetryPolicy::from_secs(3, 0.01, 0.1, true, Some(10.0)).unwrap(),
    );
    sim.inject(Fault::RateLimit, 1, Some("vat"), Some("read"));
    assert!(c
        .run(|c| async move { c.call("vat", "read", None).await })
        .is_ok());
    assert_eq!(sim.stats()["requests_total"], json!(2));
}

#[test]
fn holds_are_capped_or_refused_past_the_maximum() {
    let limiter = RateLimiter::default();
    // A caller's absurd hold is refused and changes nothing.
    for wait in [
        MAX_HOLD + Duration::from_secs(1),
        Duration::from_secs(1_000_000_000_000),
    ] {
        let err = limiter.hold_blocking(Bucket::Other, wait).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{err}");
    }
    assert!(limiter.try_acquire_blocking(Bucket::Other).unwrap());
    // A server's hint (the hook) is capped at MAX_HOLD.
    magflow_emag::Limiter::on_rate_limited(
        &limiter,
        Bucket::Orders,
        Duration::from_secs(1_000_000),
    );
    let err = limiter
        .acquire_blocking(Bucket::Orders, Some(Duration::from_millis(10)))
        .unwrap_err();
    let held = remaining(&err);
    assert!(
        held <= MAX_HOLD.as_secs_f64() && held > MAX_HOLD.as_secs_f64() - 5.0,
        "{held}"
    );
}
