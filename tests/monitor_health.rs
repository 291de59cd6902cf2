//! Health sees a broken integration (issue 15, item 6): an authentication failure, or a run of
//! failed requests, makes the status critical at once; one success lifts it.

use std::time::Duration;

use magflow_emag::monitor::{
    HealthStatus, Monitor, MonitorConfig, CRITICAL_CAP, CRITICAL_FAILURE_STREAK,
};
use magflow_emag::{Bucket, ErrorKind, Outcome, RequestEvent, RequestObserver};

fn event(outcome: Outcome, http_status: Option<u16>) -> RequestEvent<'static> {
    RequestEvent {
        resource: "vat",
        action: "read",
        bucket: Bucket::Other,
        http_status,
        outcome,
        latency: Duration::from_millis(20),
        attempt: 0,
    }
}

#[test]
fn one_authentication_failure_is_critical_until_a_success() {
    let monitor = Monitor::new(MonitorConfig::default()).unwrap();
    for _ in 0..50 {
        monitor.observe(&event(Outcome::Success, Some(200)));
    }
    assert_eq!(monitor.health().status, HealthStatus::Healthy);
    monitor.observe(&event(Outcome::Error(ErrorKind::Authentication), Some(401)));
    let health = monitor.health();
    assert_eq!(health.status, HealthStatus::Critical, "{health:?}");
    assert!(health.health_score <= CRITICAL_CAP);
    assert!(health.metrics.authentication_failing);
    monitor.observe(&event(Outcome::Success, Some(200)));
    assert_eq!(monitor.health().status, HealthStatus::Healthy);
}

#[test]
fn a_run_of_failures_is_critical_even_after_a_long_healthy_history() {
    let monitor = Monitor::new(MonitorConfig::default()).unwrap();
    for _ in 0..1000 {
        monitor.observe(&event(Outcome::Success, Some(200)));
    }
    for i in 1..=CRITICAL_FAILURE_STREAK {
        monitor.observe(&event(Outcome::Error(ErrorKind::Network), None));
        let health = monitor.health();
        assert_eq!(health.metrics.consecutive_failures, i);
        let critical = health.status == HealthStatus::Critical;
        assert_eq!(
            critical,
            i >= CRITICAL_FAILURE_STREAK,
            "after {i} failures: {health:?}"
        );
    }
    monitor.observe(&event(Outcome::Success, Some(200)));
    assert_ne!(monitor.health().status, HealthStatus::Critical);
}

#[test]
fn every_call_failing_reaches_critical() {
    // Before: with every request failing the score stayed at 60 ("warning") for ever.
    let monitor = Monitor::new(MonitorConfig::default()).unwrap();
    for _ in 0..100 {
        monitor.record(30.0, false).unwrap();
    }
    let health = monitor.health();
    assert_eq!(health.status, HealthStatus::Critical, "{health:?}");
    assert!(monitor.prometheus().contains("status=\"critical\""));
}
