//! Prometheus text exposition: every line is valid format-0.0.4 syntax, families are
//! declared before their samples, counters are cumulative, label values are escaped.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use magflow_emag::monitor::{ManualClock, Monitor, MonitorConfig};
use magflow_emag::{Bucket, ErrorKind, Outcome, RequestEvent, RequestObserver};

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s
            .parse::<f64>()
            .map_err(|e| format!("bad value {s:?}: {e}")),
    }
}

type Sample = (String, BTreeMap<String, String>, f64);

/// Parse `name{l="v",...} value` with the format's escapes; errors name the problem.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line:?}"))?;
    let name = &line[..name_end];
    if !is_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            // label name
            let start = chars.peek().map(|(i, _)| *i).ok_or("unterminated labels")?;
            if after[start..].starts_with('}') {
                chars.next();
                break;
            }
            let eq = after[start..].find('=').ok_or("label without =")? + start;
            let lname = &after[start..eq];
            if !is_name(lname) || lname.contains(':') {
                return Err(format!("bad label name {lname:?}"));
            }
            while chars.peek().is_some_and(|(i, _)| *i <= eq) {
                chars.next();
            }
            if chars.next().map(|(_, c)| c) != Some('"') {
                return Err("label value not quoted".into());
            }
            let mut value = String::new();
            loop {
                match chars.next().ok_or("unterminated label value")?.1 {
                    '\\' => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    '"' => break,
                    '\n' => return Err("raw newline in label value".into()),
                    c => value.push(c),
                }
            }
            if labels.insert(lname.to_owned(), value).is_some() {
                return Err(format!("duplicate label {lname}"));
            }
            match chars.next().map(|(_, c)| c) {
                Some(',') => continue,
                Some('}') => break,
                other => return Err(format!("expected , or }} after a label, got {other:?}")),
            }
        }
        let consumed = chars.peek().map_or(after.len(), |(i, _)| *i);
        rest = &after[consumed..];
    }
    let value = rest
        .strip_prefix(' ')
        .ok_or_else(|| format!("no space before the value: {line:?}"))?;
    if value.contains(' ') {
        return Err(format!("timestamps are not emitted: {line:?}"));
    }
    Ok((name.to_owned(), labels, parse_value(value)?))
}

/// Check the whole text and return its samples.
fn check_exposition(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut helps = HashSet::new();
    let mut samples = Vec::new();
    let mut seen_series = HashSet::new();
    for line in text.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let (name, _) = help.split_once(' ').expect("HELP has a text");
            assert!(is_name(name), "{line}");
            assert!(helps.insert(name.to_owned()), "HELP twice for {name}");
        } else if let Some(ty) = line.strip_prefix("# TYPE ") {
            let (name, kind) = ty.split_once(' ').expect("TYPE has a kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(helps.contains(name), "HELP precedes TYPE for {name}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "TYPE twice: {name}"
            );
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "unexpected line {line:?}"
            );
            let sample = parse_sample(line).unwrap_or_else(|e| panic!("{e} in {line:?}"));
            let name = &sample.0;
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| types.get(*f).map(String::as_str) == Some("histogram"))
                })
                .unwrap_or(name);
            let kind = types
                .get(family)
                .unwrap_or_else(|| panic!("sample before its TYPE: {line}"));
            if kind == "counter" {
                assert!(name.ends_with("_total"), "counter {name} ends in _total");
                assert!(sample.2 >= 0.0);
            }
            assert!(
                seen_series.insert(format!("{name}{:?}", sample.1)),
                "duplicate series {line}"
            );
            samples.push(sample);
        }
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.2)
}

fn fed_monitor() -> (Monitor, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::default());
    let m = Monitor::with_clock(MonitorConfig::default(), clock.clone()).unwrap();
    let ev = |resource: &'static str, outcome, status, ms| RequestEvent {
        resource,
        action: "read",
        bucket: Bucket::for_resource(resource),
        http_status: status,
        outcome,
        latency: Duration::from_millis(ms),
        attempt: 0,
    };
    m.observe(&ev("order", Outcome::Success, Some(200), 40));
    m.observe(&ev("order", Outcome::Success, Some(200), 300));
    m.observe(&ev(
        "order",
        Outcome::Error(ErrorKind::RateLimited),
        Some(429),
        5,
    ));
    m.observe(&ev(
        "product_offer",
        Outcome::Error(ErrorKind::Timeout),
        None,
        45_000,
    ));
    m.record_rate_limit_usage(Bucket::Orders, 0.25).unwrap();
    m.record_sync("orders", true, Duration::from_secs(3), 42);
    m.record_sync("orders", false, Duration::from_secs(1), 0);
    (m, clock)
}

#[test]
fn exposition_is_valid_and_complete() {
    let (m, _) = fed_monitor();
    let text = m.prometheus();
    let s = check_exposition(&text);
    let req = "magflow_emag_requests_total";
    assert_eq!(
        value(
            &s,
            req,
            &[
                ("resource", "order"),
                ("action", "read"),
                ("outcome", "success")
            ]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            req,
            &[
                ("resource", "order"),
                ("action", "read"),
                ("outcome", "rate_limited")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            req,
            &[
                ("resource", "product_offer"),
                ("action", "read"),
                ("outcome", "timeout")
            ]
        ),
        Some(1.0)
    );
    let h = "magflow_emag_request_duration_seconds";
    let order = [("resource", "order"), ("action", "read")];
    let bucket = |le: &str| {
        value(
            &s,
            &format!("{h}_bucket"),
            &[order[0], order[1], ("le", le)],
        )
        .unwrap()
    };
    assert_eq!(bucket("0.05"), 2.0); // 5 ms and 40 ms
    assert_eq!(bucket("0.25"), 2.0);
    assert_eq!(bucket("0.5"), 3.0);
    assert_eq!(bucket("+Inf"), 3.0);
    assert_eq!(value(&s, &format!("{h}_count"), &order), Some(3.0));
    assert!((value(&s, &format!("{h}_sum"), &order).unwrap() - 0.345).abs() < 1e-9);
    let offer = [("resource", "product_offer"), ("action", "read")];
    assert_eq!(
        value(
            &s,
            &format!("{h}_bucket"),
            &[offer[0], offer[1], ("le", "30")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &s,
            &format!("{h}_bucket"),
            &[offer[0], offer[1], ("le", "+Inf")]
        ),
        Some(1.0)
    );
    // Buckets are cumulative (non-decreasing) in every series.
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    for (name, labels, v) in &s {
        if name.ends_with("_bucket") {
            let key = format!("{}/{}", labels["resource"], labels["action"]);
            let prev = last.insert(key, *v).unwrap_or(0.0);
            assert!(*v >= prev, "bucket counts decrease at {labels:?}");
        }
    }
    assert_eq!(
        value(
            &s,
            "magflow_emag_rate_limited_total",
            &[("bucket", "orders")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &s,
            "magflow_emag_rate_limited_total",
            &[("bucket", "other")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(
            &s,
            "magflow_emag_rate_limit_usage_ratio",
            &[("bucket", "orders")]
        ),
        Some(0.25)
    );
    let score = value(&s, "magflow_emag_health_score", &[]).unwrap();
    assert_eq!(score, m.health().health_score);
    let status_ones: f64 = s
        .iter()
        .filter(|x| x.0 == "magflow_emag_health_status")
        .map(|x| x.2)
        .sum();
    assert_eq!(status_ones, 1.0);
    assert_eq!(
        value(
            &s,
            "magflow_emag_sync_runs_total",
            &[("kind", "orders"), ("result", "failure")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "magflow_emag_sync_items_total", &[("kind", "orders")]),
        Some(42.0)
    );
    assert_eq!(value(&s, "magflow_emag_sync_success_ratio", &[]), Some(0.5));
    assert_eq!(
        value(
            &s,
            "magflow_emag_alert_active",
            &[("alert", "sync_failure")]
        ),
        Some(1.0)
    );
}

#[test]
fn counters_are_cumulative_while_gauges_are_windowed() {
    let (m, clock) = fed_monitor();
    clock.advance(Duration::from_secs(3600 * 2));
    let s = check_exposition(&m.prometheus());
    assert_eq!(
        value(
            &s,
            "magflow_emag_requests_total",
            &[
                ("resource", "order"),
                ("action", "read"),
                ("outcome", "success")
            ]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &s,
            "magflow_emag_rate_limit_usage_ratio",
            &[("bucket", "orders")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&s, "magflow_emag_window_requests_per_minute", &[]),
        Some(0.0)
    );
    assert_eq!(value(&s, "magflow_emag_sync_success_ratio", &[]), None);
    assert_eq!(value(&s, "magflow_emag_health_score", &[]), Some(100.0));
    assert_eq!(value(&s, "magflow_emag_uptime_seconds", &[]), Some(7200.0));
}

#[test]
fn label_values_are_escaped() {
    let m = Monitor::new(MonitorConfig::default()).unwrap();
    let nasty = "a\"b\\c\nd}e,f=g";
    m.record_request(nasty, "read", Duration::from_millis(1), true);
    m.record_sync(nasty, true, Duration::from_secs(1), 1);
    let text = m.prometheus();
    assert!(text.contains(r#"resource="a\"b\\c\nd}e,f=g""#), "{text}");
    let s = check_exposition(&text);
    assert_eq!(
        value(
            &s,
            "magflow_emag_requests_total",
            &[
                ("resource", nasty),
                ("action", "read"),
                ("outcome", "success")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&s, "magflow_emag_sync_items_total", &[("kind", nasty)]),
        Some(1.0)
    );
    assert_eq!(
        magflow_emag::monitor::escape_label_value("x\\\"\n"),
        "x\\\\\\\"\\n"
    );
}

#[test]
fn the_checker_rejects_broken_lines() {
    for bad in [
        "metric{a=\"b} 1",
        "metric{a=b} 1",
        "metric{a=\"b\"}1",
        "1metric 1",
        "metric{a=\"\\x\"} 1",
        "metric one",
    ] {
        assert!(parse_sample(bad).is_err(), "accepted {bad:?}");
    }
    assert!(parse_sample("metric{a=\"b\",c=\"d\"} 1.5").is_ok());
}
