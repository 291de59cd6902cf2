//! Fault injection, the gateway's 429 and the stats windows, over real HTTP.

mod sim_support;

use std::time::Duration;

use magflow_emag::sim::{Fault, SimConfig};
use serde_json::json;
use sim_support::{config, Api};

#[tokio::test]
async fn each_fault_kind() {
    let mut cfg = config(20, 5);
    cfg.fault_hold_seconds = 3.0;
    let api = Api::start(cfg);
    let read = || {
        api.post("order/read")
            .header("content-type", "application/json")
            .body("{}")
    };

    api.sim.inject(Fault::Http500, 1, None, None);
    let r = api.send(read()).await;
    assert_eq!(r.status, 500);
    assert!(r.text.contains("500 Internal Server Error"));
    assert_eq!(
        api.send(read()).await.status,
        200,
        "count=1: the next request is normal"
    );

    api.sim.inject(Fault::Http503, 2, None, None);
    assert_eq!(api.send(read()).await.status, 503);
    assert_eq!(api.send(read()).await.status, 503);
    assert_eq!(api.send(read()).await.status, 200);

    api.sim.inject(Fault::IsError, 1, None, None);
    let r = api.send(read()).await;
    assert_eq!((r.status, r.json()["isError"].clone()), (200, json!(true)));

    api.sim.inject(Fault::RateLimit, 1, None, None);
    let r = api.send(read()).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.text, "{\"message\":\"API rate limit exceeded\"}");
    assert_eq!(r.headers["retry-after"], "1");
    assert!(r.headers.contains_key("x-ratelimit-limit-3second"));

    api.sim.inject(Fault::MalformedJson, 1, None, None);
    let r = api.send(read()).await;
    assert_eq!(r.status, 200);
    assert!(
        serde_json::from_str::<serde_json::Value>(&r.text).is_err(),
        "truncated: {}",
        r.text
    );

    api.sim.inject(Fault::Reset, 1, None, None);
    let err = read().send().await.expect_err("the connection is dropped");
    assert!(!err.is_timeout(), "{err}");
    assert_eq!(api.send(read()).await.status, 200);

    api.sim.inject(Fault::Timeout, 1, None, None);
    let err = read()
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("held past the timeout");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(api.send(read()).await.status, 200);

    let stats = api.sim.stats();
    for kind in [
        "http_500",
        "http_503",
        "is_error",
        "rate_limit",
        "malformed_json",
        "reset",
        "timeout",
    ] {
        assert!(
            stats["faults_injected"][kind].as_u64().unwrap() >= 1,
            "{kind}: {stats}"
        );
    }
}

#[tokio::test]
async fn faults_match_resource_and_action() {
    let api = Api::start(config(5, 5));
    api.sim
        .inject(Fault::Http503, 1, Some("product_offer"), Some("save"));
    assert_eq!(api.form("product_offer/read", &json!({})).await.status, 200);
    assert_eq!(api.form("order/read", &json!({})).await.status, 200);
    assert_eq!(
        api.form("product_offer/save", &json!([{"id": 1}]))
            .await
            .status,
        503
    );
    assert_eq!(
        api.form("product_offer/save", &json!([{"id": 1}]))
            .await
            .status,
        200
    );
    api.sim.inject(Fault::IsError, 5, Some("order"), None);
    assert_eq!(api.call("vat/read", json!({})).await["isError"], false);
    assert_eq!(api.call("order/count", json!({})).await["isError"], true);
    assert_eq!(api.sim.stats()["faults_pending"], 4);
}

#[tokio::test]
async fn random_faults_are_seeded() {
    let run = |seed| async move {
        let mut cfg = config(3, 0);
        cfg.fault_rate = 0.5;
        cfg.fault_seed = seed;
        cfg.fault_kinds = vec![Fault::IsError, Fault::Http503];
        let api = Api::start(cfg);
        let mut outcomes = Vec::new();
        for _ in 0..30 {
            let r = api.form("vat/read", &json!({})).await;
            outcomes.push(if r.status == 503 {
                2
            } else if r.json()["isError"] == true {
                1
            } else {
                0
            });
        }
        outcomes
    };
    let a = run(11).await;
    assert_eq!(a, run(11).await);
    assert!(a.contains(&0) && a.contains(&1) && a.contains(&2), "{a:?}");
    assert_ne!(a, run(12).await);
}

#[tokio::test]
async fn gateway_429_and_stats_windows() {
    // Scale 1/60: orders 1/s and 12/min, other 1/s and 3/min.
    let api = Api::start(SimConfig {
        enforce_rate_limits: true,
        rate_limit_scale: 1.0 / 60.0,
        ..config(5, 2)
    });
    let mut ok = 0;
    let mut refused = 0;
    for _ in 0..20 {
        let r = api.form("order/read", &json!({})).await;
        match r.status {
            200 => ok += 1,
            429 => {
                refused += 1;
                assert_eq!(r.text, "{\"message\":\"API rate limit exceeded\"}");
                assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
                assert_eq!(r.headers["server"], "kong/0.12.1");
                assert!(r.headers.contains_key("x-ratelimit-remaining-3second"));
                assert!(r.headers.get("retry-after").is_none());
            }
            s => panic!("unexpected status {s}"),
        }
    }
    assert!((1..=12).contains(&ok), "{ok}");
    assert_eq!(ok + refused, 20);
    // Invalid requests count too (a bad filter is admitted and answered isError).
    let s = api.sim.stats();
    assert_eq!(s["requests_total"], 20);
    assert_eq!(s["responses_429"], refused);
    assert_eq!(s["routes"]["order/read"], 20);
    assert_eq!(
        s["max_in_any_minute"]["orders"], 20,
        "arrivals, served or refused"
    );
    assert!(s["max_in_any_second"]["orders"].as_u64().unwrap() >= 1);
    assert_eq!(s["max_in_any_minute"]["other"], 0);
    assert_eq!(s["limits"]["orders"]["per_minute"], 12);
    // The other bucket is shared by every non-order resource: 3 per minute.
    let mut other_ok = 0;
    for path in [
        "vat/read",
        "category/read",
        "locality/read",
        "addresses/read",
        "vat/read",
    ] {
        let r = api.form(path, &json!({"itemsPerPage": 0})).await; // invalid on purpose for some
        if r.status != 429 {
            other_ok += 1;
        }
    }
    assert!(other_ok <= 3, "{other_ok}");
    api.sim.reset_stats();
    assert_eq!(api.sim.stats()["requests_total"], 0);
    // Switch off: no more 429.
    api.sim.set_enforce_rate_limits(false);
    for _ in 0..5 {
        assert_eq!(api.form("vat/read", &json!({})).await.status, 200);
    }
}
