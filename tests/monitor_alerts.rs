//! Alerts: transitions only, hysteresis, minimum samples, history, callbacks (including a
//! panicking one and one that reads the monitor again).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use magflow_emag::monitor::{
    AlertEvent, AlertName, ManualClock, Monitor, MonitorConfig, Severity, Transition,
};
use magflow_emag::Bucket;

fn monitor(config: MonitorConfig) -> (Arc<Monitor>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let m = Monitor::with_clock(config, clock.clone()).unwrap();
    (Arc::new(m), clock)
}

/// Collect every event the callback receives.
fn recorder(m: &Monitor) -> Arc<Mutex<Vec<AlertEvent>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    m.on_alert(move |e| sink.lock().unwrap().push(e.clone()));
    seen
}

fn ok(m: &Monitor, n: usize) {
    for _ in 0..n {
        m.record_request("order", "read", Duration::from_millis(100), true);
    }
}

fn fail(m: &Monitor, n: usize) {
    for _ in 0..n {
        m.record_request("order", "read", Duration::from_millis(100), false);
    }
}

#[test]
fn error_rate_alert_raises_holds_and_clears_with_hysteresis() {
    let (m, _) = monitor(MonitorConfig::default());
    let seen = recorder(&m);

    // 10 failures out of 10: above the threshold but below min_samples (20).
    fail(&m, 10);
    assert!(m.evaluate().is_empty());
    assert!(seen.lock().unwrap().is_empty());

    // 10 of 20 -> raised, once.
    ok(&m, 10);
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(
        (e.state, e.alert.name),
        (Transition::Raised, AlertName::HighErrorRate)
    );
    assert_eq!(e.alert.severity, Severity::Critical);
    assert_eq!(e.alert.value, Some(0.5));
    assert_eq!(e.alert.threshold, 0.05);
    assert!(e.alert.message.contains("50.0%"), "{}", e.alert.message);
    assert!(m.evaluate().is_empty(), "no transition, no event");
    assert_eq!(m.active_alerts().len(), 1);

    // 10 of 220 = 4.5 %: below the threshold but above 80 % of it -> stays raised.
    ok(&m, 200);
    assert!(m.evaluate().is_empty());
    let active = m.active_alerts();
    assert_eq!(active.len(), 1);
    assert!(
        (active[0].value.unwrap() - 10.0 / 220.0).abs() < 1e-12,
        "value is refreshed"
    );

    // 10 of 260 = 3.8 % < 4 % -> cleared.
    ok(&m, 40);
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, Transition::Cleared);
    assert!(m.active_alerts().is_empty());

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].state, Transition::Raised);
    assert_eq!(seen[1].state, Transition::Cleared);
    assert!(seen[0].seq < seen[1].seq);
    assert_eq!(m.alert_history(), *seen);
}

#[test]
fn record_never_evaluates_but_every_read_does() {
    let (m, _) = monitor(MonitorConfig::default());
    let seen = recorder(&m);
    fail(&m, 100);
    assert!(
        seen.lock().unwrap().is_empty(),
        "record must not evaluate alerts"
    );
    let _ = m.metrics();
    assert_eq!(seen.lock().unwrap().len(), 1);

    let (m, _) = monitor(MonitorConfig::default());
    let seen = recorder(&m);
    fail(&m, 100);
    let h = m.health();
    assert_eq!(h.alerts.len(), 1, "health lists the alert it raised");
    assert_eq!(seen.lock().unwrap().len(), 1);

    let (m, _) = monitor(MonitorConfig::default());
    let seen = recorder(&m);
    fail(&m, 100);
    let text = m.prometheus();
    assert!(text.contains("magflow_emag_alert_active{alert=\"high_error_rate\"} 1"));
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
fn an_empty_window_clears_a_raised_alert() {
    let (m, clock) = monitor(MonitorConfig::default());
    fail(&m, 30);
    assert_eq!(m.evaluate().len(), 1);
    // Fewer than min_samples but some traffic: the alert holds.
    clock.advance(Duration::from_secs(300));
    ok(&m, 5);
    assert!(m.evaluate().is_empty());
    assert_eq!(m.active_alerts().len(), 1);
    // No traffic at all: cleared (no traffic is not a failure).
    clock.advance(Duration::from_secs(300));
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, Transition::Cleared);
    assert_eq!(events[0].alert.value, None);
}

#[test]
fn slow_responses_alert() {
    let (m, _) = monitor(MonitorConfig::default());
    for _ in 0..30 {
        m.record_request("order", "read", Duration::from_millis(2500), true);
    }
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].alert.name, AlertName::SlowResponses);
    assert_eq!(events[0].alert.severity, Severity::Warning);
    // p95 1700 ms: under 2000 but not under 1600 -> holds.
    for _ in 0..1000 {
        m.record_request("order", "read", Duration::from_millis(1700), true);
    }
    assert!(m.evaluate().is_empty());
    // p95 falls to 100 ms once fast answers are more than 95 % of the window.
    for _ in 0..25_000 {
        m.record_request("order", "read", Duration::from_millis(100), true);
    }
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, Transition::Cleared);
}

#[test]
fn rate_limit_warning_per_bucket() {
    let (m, _) = monitor(MonitorConfig::default());
    m.record_rate_limit_usage(Bucket::Orders, 0.85).unwrap();
    m.record_rate_limit_usage(Bucket::Other, 0.5).unwrap();
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].alert.name, AlertName::RateLimitWarning);
    assert_eq!(events[0].alert.subject.as_deref(), Some("orders"));
    m.record_rate_limit_usage(Bucket::Orders, 0.7).unwrap(); // above 0.64: holds
    assert!(m.evaluate().is_empty());
    m.record_rate_limit_usage(Bucket::Other, 0.95).unwrap();
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].alert.subject.as_deref(), Some("other"));
    assert_eq!(m.active_alerts().len(), 2);
    m.record_rate_limit_usage(Bucket::Orders, 0.6).unwrap();
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, Transition::Cleared);
    assert_eq!(events[0].alert.subject.as_deref(), Some("orders"));
}

#[test]
fn sync_failure_alert_with_inverted_hysteresis() {
    let (m, _) = monitor(MonitorConfig::default());
    m.record_sync("orders", false, Duration::from_secs(1), 0);
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].alert.name, AlertName::SyncFailure);
    assert_eq!(events[0].alert.value, Some(0.0));
    // 1 failure in 20 = 95 % success: not above 96 % -> holds.
    for _ in 0..19 {
        m.record_sync("orders", true, Duration::from_secs(1), 5);
    }
    assert!(m.evaluate().is_empty());
    // 1 in 30 = 96.7 % -> cleared.
    for _ in 0..10 {
        m.record_sync("orders", true, Duration::from_secs(1), 5);
    }
    let events = m.evaluate();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].state, Transition::Cleared);
}

#[test]
fn thresholds_are_configurable() {
    let config = MonitorConfig::from_json(
        r#"{"thresholds": {"error_rate": 0.5, "min_samples": 1, "clear_ratio": 1.0}}"#,
    )
    .unwrap();
    let (m, _) = monitor(config);
    fail(&m, 1);
    ok(&m, 1);
    assert!(m.evaluate().is_empty(), "50 % is not above 50 %");
    fail(&m, 1);
    assert_eq!(m.evaluate().len(), 1);
    ok(&m, 2); // 2/5 = 40 % < 50 % * 1.0 -> clears immediately
    assert_eq!(m.evaluate()[0].state, Transition::Cleared);
}

#[test]
fn history_is_bounded_and_keeps_the_latest() {
    let config = {
        let mut o = MonitorConfig::default();
        o.history_limit = 3;
        o
    };
    let (m, _) = monitor(config);
    for _ in 0..3 {
        m.record_rate_limit_usage(Bucket::Orders, 0.9).unwrap();
        m.evaluate();
        m.record_rate_limit_usage(Bucket::Orders, 0.1).unwrap();
        m.evaluate();
    }
    let h = m.alert_history();
    assert_eq!(h.len(), 3);
    let seqs: Vec<u64> = h.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![4, 5, 6]);
    assert_eq!(h[2].state, Transition::Cleared);
}

#[test]
fn a_panicking_callback_is_contained_and_others_still_run() {
    let (m, _) = monitor(MonitorConfig::default());
    m.on_alert(|_| panic!("callback bug"));
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    m.on_alert(move |_| {
        c.fetch_add(1, Ordering::SeqCst);
    });
    fail(&m, 30);
    assert_eq!(m.evaluate().len(), 1);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // The monitor still works afterwards.
    ok(&m, 1);
    assert_eq!(m.metrics().requests, 31);
}

#[test]
fn a_callback_may_read_the_monitor_again() {
    let (m, _) = monitor(MonitorConfig::default());
    let weak = Arc::downgrade(&m);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    m.on_alert(move |e| {
        if let Some(m) = weak.upgrade() {
            // Would deadlock if callbacks ran under a monitor lock.
            let h = m.health();
            m.record(1.0, true).unwrap();
            sink.lock().unwrap().push((e.state, h.metrics.requests));
        }
    });
    fail(&m, 30);
    m.evaluate();
    assert_eq!(*seen.lock().unwrap(), vec![(Transition::Raised, 30)]);
    assert_eq!(m.metrics().requests, 31);
}

#[test]
fn events_serialize_flat() {
    let (m, _) = monitor(MonitorConfig::default());
    fail(&m, 30);
    let events = m.evaluate();
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["state"], "raised");
    assert_eq!(json["name"], "high_error_rate");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["timestamp"], "2026-01-01T00:00:00.000Z");
    assert_eq!(json["since"], json["timestamp"]);
    assert!(json["subject"].is_null());
    assert_eq!(json["seq"], 1);
}
