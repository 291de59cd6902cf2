//! Monitor metrics: percentiles, window expiry (on a manual clock), breakdown, rate limits,
//! sync, health bands, configuration errors and exact counts under 8 threads.

use std::sync::Arc;
use std::time::Duration;

use magflow_emag::monitor::{HealthStatus, ManualClock, Monitor, MonitorConfig};
use magflow_emag::{Bucket, ErrorKind, Outcome, RequestEvent, RequestObserver};

fn monitor(config: MonitorConfig) -> (Monitor, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let m = Monitor::with_clock(config, clock.clone()).unwrap();
    (m, clock)
}

fn default_monitor() -> (Monitor, Arc<ManualClock>) {
    monitor(MonitorConfig::default())
}

fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn close(actual: f64, expected: f64, rel: f64) -> bool {
    (actual - expected).abs() <= expected.abs() * rel
}

#[test]
fn percentiles_of_a_uniform_distribution() {
    let (m, _) = default_monitor();
    for v in 1..=1000u64 {
        m.record_request("order", "read", ms(v), true);
    }
    let l = m.metrics().latency_ms;
    assert_eq!(l.samples, 1000);
    let (p50, p95, p99) = (l.p50.unwrap(), l.p95.unwrap(), l.p99.unwrap());
    assert!(close(p50, 500.0, 0.011), "p50 {p50}");
    assert!(close(p95, 950.0, 0.011), "p95 {p95}");
    assert!(close(p99, 990.0, 0.011), "p99 {p99}");
    assert_eq!(l.max, Some(1000.0));
    assert_eq!(l.min, Some(1.0));
    assert!(close(l.mean.unwrap(), 500.5, 1e-9), "mean {:?}", l.mean);
}

#[test]
fn percentiles_of_a_bimodal_distribution() {
    let (m, _) = default_monitor();
    for i in 0..1000 {
        let v = if i % 10 == 0 { 5000 } else { 100 };
        m.record_request("order", "read", ms(v), true);
    }
    let l = m.metrics().latency_ms;
    assert!(close(l.p50.unwrap(), 100.0, 0.011), "{l:?}");
    assert!(close(l.p95.unwrap(), 5000.0, 0.011), "{l:?}");
    assert!(close(l.p99.unwrap(), 5000.0, 0.011), "{l:?}");
    assert!(close(l.mean.unwrap(), 590.0, 1e-9), "{l:?}");
    assert_eq!(l.max, Some(5000.0));
}

#[test]
fn empty_window_has_no_latency_and_zero_rates() {
    let (m, _) = default_monitor();
    let x = m.metrics();
    assert_eq!((x.requests, x.errors), (0, 0));
    assert_eq!(x.error_rate, 0.0);
    assert_eq!(x.latency_ms.p95, None);
    assert_eq!(x.latency_ms.mean, None);
    assert_eq!(x.latency_ms.min, None);
    assert!(x.endpoints.is_empty());
}

#[test]
fn window_expires_old_slots() {
    let config = {
        let mut o = MonitorConfig::default();
        o.window_seconds = 60;
        o.slot_seconds = Some(10);
        o
    };
    let (m, clock) = monitor(config);
    m.record(100.0, false).unwrap();
    clock.advance(Duration::from_secs(30));
    m.record(200.0, true).unwrap();
    assert_eq!(m.metrics().requests, 2);
    // The first slot [0, 10) leaves the window when time reaches 60 s.
    clock.set(Duration::from_millis(59_999));
    assert_eq!(m.metrics().requests, 2);
    clock.set(Duration::from_secs(60));
    let x = m.metrics();
    assert_eq!((x.requests, x.errors), (1, 0));
    assert_eq!(x.latency_ms.max, Some(200.0));
    // The fastest request (100 ms) left with its slot.
    assert_eq!(x.latency_ms.min, Some(200.0));
    // The ring slot of t=0 is reused at t=60 s without the old content.
    m.record(300.0, true).unwrap();
    let x = m.metrics();
    assert_eq!(x.requests, 2);
    assert_eq!(x.latency_ms.max, Some(300.0));
    clock.advance(Duration::from_secs(600));
    let x = m.metrics();
    assert_eq!(x.requests, 0);
    // Counters since start are not windowed.
    assert_eq!((x.requests_total, x.errors_total), (3, 1));
}

#[test]
fn requests_per_minute_use_the_covered_time() {
    let (m, clock) = default_monitor();
    clock.advance(Duration::from_secs(30));
    for _ in 0..60 {
        m.record(10.0, true).unwrap();
    }
    let x = m.metrics();
    assert_eq!(x.covered_seconds, 30.0);
    assert!(
        close(x.requests_per_minute, 120.0, 1e-9),
        "{}",
        x.requests_per_minute
    );
    clock.advance(Duration::from_secs(600));
    for _ in 0..60 {
        m.record(10.0, true).unwrap();
    }
    let x = m.metrics();
    // 630 s after start, slots of 10 s: the window covers slots 34..=63, i.e. 290 s.
    assert_eq!(x.covered_seconds, 290.0);
    assert!(close(x.requests_per_minute, 60.0 * 60.0 / 290.0, 1e-9));
}

#[test]
fn breakdown_by_resource_and_action() {
    let (m, _) = default_monitor();
    m.record_request("order", "read", ms(100), true);
    m.record_request("order", "read", ms(300), false);
    m.record_request("order", "read", ms(200), true);
    m.record_request("product_offer", "save", ms(50), true);
    m.record(10.0, true).unwrap(); // no route: totals only
    let x = m.metrics();
    assert_eq!(x.requests, 5);
    assert_eq!(x.endpoints.len(), 2);
    let order = &x.endpoints[0];
    assert_eq!(
        (order.resource.as_str(), order.action.as_str()),
        ("order", "read")
    );
    assert_eq!((order.requests, order.errors), (3, 1));
    assert!(close(order.error_rate, 1.0 / 3.0, 1e-9));
    assert!(close(order.latency_mean_ms, 200.0, 1e-9));
    assert_eq!(order.latency_max_ms, 300.0);
    let offer = &x.endpoints[1];
    assert_eq!(
        (
            offer.resource.as_str(),
            offer.action.as_str(),
            offer.requests
        ),
        ("product_offer", "save", 1)
    );
}

fn event<'a>(
    resource: &'a str,
    action: &'a str,
    status: Option<u16>,
    outcome: Outcome,
    attempt: u32,
) -> RequestEvent<'a> {
    RequestEvent {
        resource,
        action,
        bucket: Bucket::for_resource(resource),
        http_status: status,
        outcome,
        latency: ms(120),
        attempt,
    }
}

#[test]
fn observer_counts_outcomes_429s_and_retries() {
    let (m, _) = default_monitor();
    let observer: &dyn RequestObserver = &m;
    observer.observe(&event("order", "read", Some(200), Outcome::Success, 0));
    observer.observe(&event(
        "order",
        "read",
        Some(429),
        Outcome::Error(ErrorKind::RateLimited),
        0,
    ));
    observer.observe(&event("order", "read", Some(200), Outcome::Success, 1));
    observer.observe(&event(
        "product_offer",
        "read",
        None,
        Outcome::Error(ErrorKind::Network),
        0,
    ));
    m.record_429(Bucket::Other);
    let x = m.metrics();
    assert_eq!((x.requests, x.errors, x.retries), (4, 2, 1));
    assert_eq!(x.outcomes.get("success"), Some(&2));
    assert_eq!(x.outcomes.get("rate_limited"), Some(&1));
    assert_eq!(x.outcomes.get("network"), Some(&1));
    assert_eq!(x.rate_limited, 2);
    assert_eq!(x.rate_limits["orders"].rate_limited, 1);
    assert_eq!(x.rate_limits["other"].rate_limited, 1);
}

#[test]
fn rate_limit_usage_is_latest_and_peak_within_the_window() {
    let (m, clock) = default_monitor();
    m.record_rate_limit_usage(Bucket::Orders, 0.5).unwrap();
    m.record_rate_limit_usage(Bucket::Orders, 0.9).unwrap();
    m.record_rate_limit_usage(Bucket::Orders, 0.3).unwrap();
    let x = m.metrics();
    assert_eq!(x.rate_limits["orders"].usage, 0.3);
    assert_eq!(x.rate_limits["orders"].peak_usage, 0.9);
    assert_eq!(x.rate_limits["other"].usage, 0.0);
    clock.advance(Duration::from_secs(301));
    let x = m.metrics();
    assert_eq!(x.rate_limits["orders"].usage, 0.0);
    assert_eq!(x.rate_limits["orders"].peak_usage, 0.0);
    for bad in [f64::NAN, -0.1, f64::INFINITY] {
        let err = m.record_rate_limit_usage(Bucket::Other, bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn sync_success_rate_over_the_last_hour() {
    let (m, clock) = default_monitor();
    for i in 0..20 {
        m.record_sync("orders", i != 0, Duration::from_secs(2), 10);
    }
    let s = m.metrics().sync;
    assert_eq!((s.runs, s.successes, s.failures, s.items), (20, 19, 1, 200));
    assert!(close(s.success_rate.unwrap(), 0.95, 1e-12));
    let last = s.last.unwrap();
    assert_eq!((last.kind.as_str(), last.success), ("orders", true));
    assert_eq!(last.at, "2026-01-01T00:00:00.000Z");
    clock.advance(Duration::from_secs(3601));
    let s = m.metrics().sync;
    assert_eq!((s.runs, s.success_rate), (0, None));
    assert!(s.last.is_some(), "the last run is kept beyond the window");
}

#[test]
fn no_traffic_is_healthy() {
    let (m, clock) = default_monitor();
    clock.advance(Duration::from_secs(5));
    let h = m.health();
    assert_eq!(h.status, HealthStatus::Healthy);
    assert_eq!(h.health_score, 100.0);
    assert!(h.alerts.is_empty());
    assert_eq!(h.timestamp, "2026-01-01T00:00:05.000Z");
    let json = serde_json::to_value(&h).unwrap();
    for key in ["status", "health_score", "metrics", "alerts", "timestamp"] {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["status"], "healthy");
}

fn requests(m: &Monitor, n: usize, failures: usize, latency_ms: u64) {
    for i in 0..n {
        m.record_request("order", "read", ms(latency_ms), i >= failures);
    }
}

#[test]
fn health_bands_follow_the_documented_weights() {
    // 5 % errors: the errors component (40) loses half.
    let (m, _) = default_monitor();
    requests(&m, 100, 5, 100);
    let h = m.health();
    assert_eq!((h.health_score, h.status), (80.0, HealthStatus::Degraded));

    // 10 % errors: the errors component is gone.
    let (m, _) = default_monitor();
    requests(&m, 100, 10, 100);
    let h = m.health();
    assert_eq!((h.health_score, h.status), (60.0, HealthStatus::Warning));

    // Every request fails and is slow (p95 >= 3 s): errors and latency are gone.
    let (m, _) = default_monitor();
    requests(&m, 100, 100, 4000);
    let h = m.health();
    assert_eq!((h.health_score, h.status), (40.0, HealthStatus::Critical));

    // p95 at the threshold (2 s) loses half the latency weight (20).
    let (m, _) = default_monitor();
    requests(&m, 100, 0, 2000);
    let score = m.health().health_score;
    assert!((89.0..=90.2).contains(&score), "{score}");

    // One failure out of one request: scaled by confidence 1/20.
    let (m, _) = default_monitor();
    requests(&m, 1, 1, 100);
    let h = m.health();
    assert_eq!((h.health_score, h.status), (98.0, HealthStatus::Healthy));

    // Sync at 90 % success: the sync component (25) is gone.
    let (m, _) = default_monitor();
    for i in 0..10 {
        m.record_sync("orders", i != 0, Duration::from_secs(1), 1);
    }
    assert_eq!(m.health().health_score, 75.0);

    // Quota at 90 % (halfway between 80 % and 100 %) and a 429: rate-limit component at 0.5.
    let (m, _) = default_monitor();
    m.record_rate_limit_usage(Bucket::Orders, 0.9).unwrap();
    assert_eq!(m.health().health_score, 92.5);
    m.record_429(Bucket::Orders);
    assert_eq!(m.health().health_score, 92.5);
    m.record_rate_limit_usage(Bucket::Orders, 1.0).unwrap();
    assert_eq!(m.health().health_score, 85.0);
}

#[test]
fn status_bands_have_inclusive_lower_bounds() {
    assert_eq!(HealthStatus::from_score(100.0), HealthStatus::Healthy);
    assert_eq!(HealthStatus::from_score(90.0), HealthStatus::Healthy);
    assert_eq!(HealthStatus::from_score(89.9), HealthStatus::Degraded);
    assert_eq!(HealthStatus::from_score(70.0), HealthStatus::Degraded);
    assert_eq!(HealthStatus::from_score(69.9), HealthStatus::Warning);
    assert_eq!(HealthStatus::from_score(50.0), HealthStatus::Warning);
    assert_eq!(HealthStatus::from_score(49.9), HealthStatus::Critical);
    assert_eq!(HealthStatus::from_score(0.0), HealthStatus::Critical);
}

#[test]
fn bad_input_is_an_invalid_argument() {
    let (m, _) = default_monitor();
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(
            m.record(bad, true).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert_eq!(m.metrics().requests, 0, "refused input is not counted");

    let bad_configs = [
        r#"{"window_seconds": 0}"#,
        r#"{"window_seconds": 60, "slot_seconds": 7}"#,
        r#"{"window_seconds": 60, "slot_seconds": 0}"#,
        r#"{"window_seconds": 100000, "slot_seconds": 1}"#,
        r#"{"history_limit": 0}"#,
        r#"{"sync_window_seconds": 0}"#,
        r#"{"thresholds": {"error_rate": 0}}"#,
        r#"{"thresholds": {"error_rate": 1.5}}"#,
        r#"{"thresholds": {"sync_success_rate": 1.0}}"#,
        r#"{"thresholds": {"p95_latency_ms": -5}}"#,
        r#"{"thresholds": {"clear_ratio": 0}}"#,
        r#"{"window": 60}"#,
        r#"{"window_seconds": "60"}"#,
        r#"not json"#,
    ];
    for json in bad_configs {
        let err = MonitorConfig::from_json(json).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{json}: {err}");
    }
    let c =
        MonitorConfig::from_json(r#"{"window_seconds": 60, "thresholds": {"error_rate": 0.1}}"#)
            .unwrap();
    assert_eq!((c.window_seconds, c.thresholds.error_rate), (60, 0.1));
    assert_eq!(c.thresholds.p95_latency_ms, 2000.0);
    assert_eq!(c.effective_slot_seconds(), 2);
    assert_eq!(MonitorConfig::default().effective_slot_seconds(), 10);
}

#[test]
fn reset_forgets_everything() {
    let (m, clock) = default_monitor();
    requests(&m, 50, 50, 100);
    m.record_sync("orders", false, Duration::from_secs(1), 0);
    assert!(!m.health().alerts.is_empty());
    clock.advance(Duration::from_secs(10));
    m.reset();
    let x = m.metrics();
    assert_eq!((x.requests, x.requests_total, x.sync.runs), (0, 0, 0));
    assert_eq!(x.uptime_seconds, 0.0);
    assert!(m.active_alerts().is_empty());
    assert!(m.alert_history().is_empty());
    assert!(!m.prometheus().contains("magflow_emag_requests_total{"));
}

#[test]
fn eight_threads_add_up_exactly() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 20_000;
    let (m, clock) = default_monitor();
    let m = Arc::new(m);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let m = m.clone();
            let clock = clock.clone();
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    let resource = if i % 2 == 0 { "order" } else { "product_offer" };
                    let outcome = if i % 10 == 0 {
                        Outcome::Error(ErrorKind::Network)
                    } else {
                        Outcome::Success
                    };
                    m.observe(&RequestEvent {
                        resource,
                        action: "read",
                        bucket: Bucket::for_resource(resource),
                        http_status: Some(200),
                        outcome,
                        latency: ms(1 + (i % 500) as u64),
                        attempt: 0,
                    });
                    if t == 0 && i % 1000 == 0 {
                        clock.advance(Duration::from_millis(100)); // slots rotate meanwhile
                    }
                }
            });
        }
    });
    let total = (THREADS * PER_THREAD) as u64;
    let x = m.metrics();
    assert_eq!(x.requests, total);
    assert_eq!(x.requests_total, total);
    assert_eq!(x.errors, total / 10);
    assert_eq!(x.latency_ms.samples, total);
    assert_eq!(x.endpoints.iter().map(|e| e.requests).sum::<u64>(), total);
    assert_eq!(x.endpoints[0].requests, total / 2);
    assert_eq!(x.endpoints[0].errors, total / 10);
    assert_eq!(x.outcomes["success"] + x.outcomes["network"], total);
}

#[test]
fn routes_beyond_the_bound_are_folded_not_lost() {
    let (m, _) = default_monitor();
    for i in 0..300 {
        m.record_request(&format!("resource{i}"), "read", ms(1), true);
    }
    let x = m.metrics();
    assert_eq!(x.requests, 300);
    assert_eq!(x.endpoints.iter().map(|e| e.requests).sum::<u64>(), 300);
    let other = x.endpoints.iter().find(|e| e.resource == "_other").unwrap();
    assert_eq!(other.requests, 300 - 256); // 256 routes of its own, then the fold
    assert_eq!(x.endpoints.len(), 257);
}

#[test]
fn the_system_clock_moves_forward_and_stamps_utc() {
    use magflow_emag::monitor::{Clock, SystemClock};
    let c = SystemClock::new();
    let a = c.monotonic();
    std::thread::sleep(Duration::from_millis(30));
    let b = c.monotonic();
    assert!(b > a, "{a:?} then {b:?}");
    let year = c.utc().format("%Y").to_string().parse::<i32>().unwrap();
    assert!(year >= 2024);
}
