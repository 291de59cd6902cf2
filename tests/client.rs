//! The client against the simulator, over real HTTP on 127.0.0.1.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use magflow_emag::client::api::Resource;
use magflow_emag::sim::{Fault, SimConfig, Simulator};
use magflow_emag::{
    BlockingClient, BodyMode, Bucket, Client, ClientConfig, Credentials, ErrorKind, Outcome,
    RequestEvent, RequestObserver, RetryPolicy,
};
use serde_json::{json, Value};

// ---- a log capture, to prove credentials never reach the logs --------------------------------

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!("{} {}", record.target(), record.args()));
        }
    }
    fn flush(&self) {}
}

fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        let _ = log::set_logger(capture);
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

// ---- helpers -------------------------------------------------------------------------------

const PASSWORD: &str = "s3cr3t-Pa55word";

fn sim(orders: usize, offers: usize) -> Simulator {
    Simulator::start_blocking(SimConfig {
        orders,
        offers,
        seed: 7,
        enforce_rate_limits: false,
        password: PASSWORD.to_owned(),
        fault_hold_seconds: 3.0,
        ..SimConfig::default()
    })
    .expect("simulator starts")
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy::from_secs(3, 0.001, 0.01, true, None).unwrap()
}

fn config(sim: &Simulator) -> ClientConfig {
    ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
        .with_base_url(sim.url())
        .without_rate_limit()
        .with_retry(fast_retry())
        .with_timeout(Duration::from_secs(1))
}

fn client(sim: &Simulator) -> BlockingClient {
    logs();
    BlockingClient::new(config(sim)).unwrap()
}

fn ids(items: &[Value]) -> BTreeSet<i64> {
    items.iter().filter_map(|o| o["id"].as_i64()).collect()
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn orders_iter_returns_exactly_the_simulators_orders_of_the_type_in_force() {
    let sim = sim(450, 0);
    let c = client(&sim);
    let truth = sim.orders();
    let of_type = |t: i64| {
        truth
            .iter()
            .filter(|o| o["type"] == json!(t))
            .cloned()
            .collect::<Vec<_>>()
    };
    // eMAG's order/read defaults to type 3.
    let default = c
        .run(|c| async move { c.orders().iter(Value::Null).await })
        .unwrap();
    assert_eq!(ids(&default), ids(&of_type(3)));
    assert_eq!(default.len(), of_type(3).len(), "no duplicates");
    let type2 = c
        .run(|c| async move { c.orders().iter(json!({"type": 2})).await })
        .unwrap();
    assert_eq!(ids(&type2), ids(&of_type(2)));
    assert!(default.len() > 100, "more than one page: {}", default.len());
    assert!(!type2.is_empty());
    let count = c
        .run(|c| async move { c.orders().count(json!({"type": 2})).await })
        .unwrap();
    assert_eq!(count as usize, type2.len());
    // What was read is what the simulator holds, field for field.
    let first = &type2[0];
    let same = truth.iter().find(|o| o["id"] == first["id"]).unwrap();
    assert_eq!(first, same);
}

#[test]
fn a_range_longer_than_a_month_is_read_in_monthly_windows() {
    let sim = sim(300, 0);
    let c = client(&sim);
    let now = sim.now();
    let after = (now - chrono::Duration::days(120))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let before = now.format("%Y-%m-%d %H:%M:%S").to_string();
    let filters = json!({"modifiedAfter": after, "modifiedBefore": before, "type": 3});
    let pager = c.client().orders().pages(filters.clone()).unwrap();
    assert!(
        pager.window_count() >= 4,
        "{} windows",
        pager.window_count()
    );
    let got = c
        .run(|c| async move { c.orders().iter(filters).await })
        .unwrap();
    let expected: BTreeSet<i64> = sim
        .orders()
        .iter()
        .filter(|o| o["type"] == json!(3))
        .filter(|o| {
            let m = o["modified"].as_str().unwrap_or("");
            m >= after.as_str() && m <= before.as_str()
        })
        .filter_map(|o| o["id"].as_i64())
        .collect();
    assert_eq!(ids(&got), expected);
    assert_eq!(got.len(), expected.len());
}

#[test]
fn every_body_mode_reaches_the_simulator() {
    let sim = sim(30, 30);
    for mode in [BodyMode::Form, BodyMode::Json, BodyMode::JsonData] {
        let c = BlockingClient::new(config(&sim).with_body_mode(mode)).unwrap();
        let page = c
            .run(|c| async move {
                c.orders()
                    .read(json!({"itemsPerPage": 5, "currentPage": 2, "type": 3}))
                    .await
            })
            .unwrap();
        assert_eq!(page.len(), 5, "{mode:?}");
        let offer = sim.offers()[0].clone();
        let id = offer["id"].as_i64().unwrap();
        let stock = match mode {
            BodyMode::Form => 11,
            BodyMode::Json => 12,
            BodyMode::JsonData => 13,
        };
        let saved = c
            .run(|c| async move {
                c.offers()
                    .save_light(json!([{"id": id, "stock": [{"warehouse_id": 1, "value": stock}]}]))
                    .await
            })
            .unwrap();
        assert_eq!(saved.len(), 1, "{mode:?}");
        let now = sim
            .offers()
            .into_iter()
            .find(|o| o["id"] == json!(id))
            .unwrap();
        assert_eq!(now["general_stock"], json!(stock), "{mode:?}: {now}");
    }
}

#[test]
fn every_listed_resource_answers() {
    let sim = sim(60, 20);
    let c = client(&sim);
    let order = sim
        .orders()
        .into_iter()
        .find(|o| o["status"] == json!(1) && o["type"] == json!(3))
        .unwrap();
    let order_id = order["id"].as_u64().unwrap();
    let offer_id = sim.offers()[0]["id"].as_u64().unwrap();
    c.run(|c| async move {
        let o = c.orders();
        o.acknowledge(order_id).await.unwrap();
        o.acknowledge(order_id).await.unwrap(); // idempotent
        let read = o.read(json!({"id": order_id})).await.unwrap();
        assert_eq!(read[0]["status"], json!(2));
        let mut full = read[0].clone();
        full["status"] = json!(3);
        o.save(json!([full])).await.unwrap();
        o.unlock_courier(order_id).await.unwrap();
        o.save_attachments(json!([{"order_id": order_id, "order_type": 3, "name": "Factura", "url": "https://example.com/f.pdf", "type": 1}]))
            .await
            .unwrap();

        let offers = c.offers();
        assert!(offers.count(Value::Null).await.unwrap() >= 20);
        assert!(!offers.read(json!({"itemsPerPage": 10})).await.unwrap().is_empty());
        assert_eq!(offers.iter(Value::Null).await.unwrap().len(), 20);
        offers.save_light(json!([{"id": offer_id, "status": 1}])).await.unwrap();
        offers
            .save_measurements(json!([{"id": offer_id, "length": 10, "width": 10, "height": 10, "weight": 250}]))
            .await
            .unwrap();
        c.stock().update(offer_id, 42).await.unwrap();

        assert!(!c.categories().read(Value::Null).await.unwrap().is_empty());
        assert!(c.categories().count(Value::Null).await.unwrap() > 0);
        assert!(!c.vat().read(Value::Null).await.unwrap().is_empty());
        assert!(!c.handling_time().read(Value::Null).await.unwrap().is_empty());
        assert!(!c.localities().read(Value::Null).await.unwrap().is_empty());
        assert!(c.localities().count(Value::Null).await.unwrap() > 0);
        assert!(!c.courier_accounts().read(Value::Null).await.unwrap().is_empty());
        assert!(!c.addresses().read(Value::Null).await.unwrap().is_empty());
        c.rma().read(Value::Null).await.unwrap();
        c.rma().count(Value::Null).await.unwrap();

        let awb = json!({"order_id": order_id, "is_oversize": 0, "envelope_number": 0, "parcel_number": 1, "cod": 0,
            "sender": {"name": "Magazin SRL", "contact": "Ana", "phone1": "0722000111", "locality_id": 8801, "street": "Str. Lunga 1"},
            "receiver": {"name": "Ion Pop", "contact": "Ion", "phone1": "0733000222", "locality_id": 8801, "street": "Str. Scurta 2", "legal_entity": 0}});
        let issued = c.awb().save(awb).await.unwrap();
        assert!(issued.is_object() || issued.is_array(), "{issued}");
        assert!(!c.awb().read(Value::Null).await.unwrap().is_empty());
    });
    assert_eq!(
        sim.order(order_id).unwrap()["status"],
        json!(4),
        "the first AWB finalizes the order"
    );
    let offer = sim
        .offers()
        .into_iter()
        .find(|o| o["id"] == json!(offer_id))
        .unwrap();
    assert_eq!(offer["general_stock"], json!(42));
    // Routes the simulator documents but does not simulate still reach it and answer an error.
    for (resource, action) in [
        ("invoice", "read"),
        ("customer-invoice", "read"),
        ("campaign_proposals", "save"),
    ] {
        let err = c.call(resource, action, Some(json!({}))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ApiResponse, "{resource}");
        assert!(err.message().contains("not simulated"), "{}", err.message());
    }
}

#[test]
fn limits_are_refused_before_sending() {
    let sim = sim(0, 0);
    let c = client(&sim);
    let err = c
        .call("order", "read", Some(json!({"itemsPerPage": 101})))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    let bulk: Vec<Value> = (1..=51).map(|i| json!({"id": i})).collect();
    let err = c
        .call("product_offer", "save", Some(Value::Array(bulk.clone())))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(sim.stats()["requests_total"], json!(0), "nothing was sent");
    // The save helpers split instead.
    let saved = c.run(|c| async move { c.resource("offer").save(Value::Array(bulk)).await });
    // offer/save refuses unknown ids, but it was sent as two requests of <= 50.
    assert!(saved.is_err());
    assert_eq!(
        sim.stats()["requests_total"],
        json!(1),
        "stops at the first failing chunk"
    );
}

#[test]
fn wrong_credentials_are_an_authentication_error_naming_both_causes() {
    let sim = sim(0, 0);
    logs();
    let bad = BlockingClient::new(
        ClientConfig::new(Credentials::new("sim-user", "wrong-password-xyz").unwrap())
            .with_base_url(sim.url())
            .without_rate_limit()
            .with_retry(fast_retry()),
    )
    .unwrap();
    let err = bad.call("vat", "read", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(
        err.message().contains("IP") && err.message().contains("password"),
        "{}",
        err.message()
    );
    assert!(!err.to_string().contains("wrong-password-xyz"));
    assert_eq!(sim.stats()["requests_total"], json!(1), "never retried");
}

fn fault_case(fault: Fault, retries: u32) -> (magflow_emag::Result<Value>, Value) {
    let sim = sim(10, 0);
    let policy = RetryPolicy::from_secs(retries, 0.001, 0.01, true, None).unwrap();
    let c = BlockingClient::new(config(&sim).with_retry(policy)).unwrap();
    sim.inject(fault, 1, Some("order"), Some("read"));
    let result =
        c.run(|c| async move { c.orders().read(json!({"type": 3})).await.map(Value::Array) });
    (result, sim.stats())
}

#[test]
fn each_fault_ends_in_the_right_error_or_a_successful_retry() {
    logs();
    let cases = [
        (Fault::Http500, ErrorKind::Network),
        (Fault::Http503, ErrorKind::Network),
        (Fault::Timeout, ErrorKind::Timeout),
        (Fault::Reset, ErrorKind::Network),
        (Fault::RateLimit, ErrorKind::RateLimited),
        (Fault::MalformedJson, ErrorKind::ApiResponse),
    ];
    for (fault, kind) in cases {
        let (without_retry, _) = fault_case(fault, 0);
        assert_eq!(without_retry.unwrap_err().kind(), kind, "{fault:?}");
        let (with_retry, stats) = fault_case(fault, 2);
        assert!(with_retry.is_ok(), "{fault:?} is retried: {with_retry:?}");
        assert_eq!(stats["requests_total"], json!(2), "{fault:?}");
    }
    // isError=true is eMAG's answer, not a transient failure: never retried.
    let (result, stats) = fault_case(Fault::IsError, 3);
    assert_eq!(result.unwrap_err().kind(), ErrorKind::ApiResponse);
    assert_eq!(stats["requests_total"], json!(1));
}

#[test]
fn awb_save_is_not_retried_once_sent() {
    let sim = sim(20, 0);
    let c = client(&sim);
    let order = sim
        .orders()
        .into_iter()
        .find(|o| o["type"] == json!(3))
        .unwrap();
    sim.inject(Fault::Http503, 1, Some("awb"), Some("save"));
    let awb = json!({"order_id": order["id"], "is_oversize": 0, "envelope_number": 1, "parcel_number": 0, "cod": 0});
    let err = c
        .run(|c| async move { c.awb().save(awb).await })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(
        sim.stats()["requests_total"],
        json!(1),
        "a repeat could issue a second AWB"
    );
}

#[test]
fn observers_see_every_attempt() {
    type Event = (String, String, Bucket, Option<u16>, Outcome, u32);
    #[derive(Default)]
    struct Seen(Mutex<Vec<Event>>);
    impl RequestObserver for Seen {
        fn observe(&self, e: &RequestEvent<'_>) {
            self.0.lock().unwrap().push((
                e.resource.to_owned(),
                e.action.to_owned(),
                e.bucket,
                e.http_status,
                e.outcome,
                e.attempt,
            ));
        }
    }
    let sim = sim(5, 0);
    let seen = Arc::new(Seen::default());
    let c = BlockingClient::new(config(&sim).with_observer(seen.clone())).unwrap();
    sim.inject(Fault::Http500, 1, Some("vat"), Some("read"));
    c.call("vat", "read", None).unwrap();
    let events = seen.0.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[0],
        (
            "vat".into(),
            "read".into(),
            Bucket::Other,
            Some(500),
            Outcome::Error(ErrorKind::Network),
            0
        )
    );
    assert_eq!(events[1].4, Outcome::Success);
    assert_eq!(events[1].5, 1);
}

#[test]
fn credentials_never_reach_logs_errors_or_debug_output() {
    let capture = logs();
    let sim = sim(10, 0);
    // Bodies are logged only by a client that asks for it.
    let quiet = client(&sim);
    quiet
        .call("order", "read", Some(json!({"itemsPerPage": 3})))
        .unwrap();
    let c = BlockingClient::new(config(&sim).with_wire_log(true)).unwrap();
    c.call("order", "read", Some(json!({"itemsPerPage": 2})))
        .unwrap();
    sim.inject(Fault::Http500, 1, None, None);
    let _ = c.call("vat", "read", None);
    let bad = BlockingClient::new(
        ClientConfig::new(Credentials::new("sim-user", "another-Secret-99").unwrap())
            .with_base_url(sim.url())
            .without_rate_limit(),
    )
    .unwrap();
    let err = bad.call("vat", "read", None).unwrap_err();
    // A secret inside the data itself is scrubbed from the wire log too.
    let _ = c.call(
        "order",
        "read",
        Some(json!({"itemsPerPage": 1, "note": PASSWORD})),
    );
    let lines = capture.0.lock().unwrap().join("\n");
    assert!(
        lines.contains("order/read"),
        "debug logging is on and captured"
    );
    // The wire log has the bodies: what was sent and (an excerpt of) what came back.
    let wire: Vec<&str> = lines
        .lines()
        .filter(|l| l.starts_with(magflow_emag::client::WIRE_TARGET))
        .collect();
    assert!(
        wire.iter()
            .any(|l| l.contains("\"itemsPerPage\":2") && l.contains("\"isError\":false")),
        "{wire:?}"
    );
    assert!(
        wire.iter().any(|l| l.contains("\"note\":\"***\"")),
        "{wire:?}"
    );
    assert!(
        !wire.iter().any(|l| l.contains("\"itemsPerPage\":3")),
        "a client without wire_log wrote bodies: {wire:?}"
    );
    let basic = Credentials::new(sim.username(), PASSWORD)
        .unwrap()
        .basic_token();
    for secret in [PASSWORD, "another-Secret-99", basic.as_str()] {
        assert!(!lines.contains(secret), "a secret reached the logs");
        assert!(!format!("{err} {err:?}").contains(secret));
        assert!(!format!("{c:?} {:?}", c.client().config()).contains(secret));
    }
}

#[test]
fn async_client_and_resource_handles() {
    let sim = sim(40, 0);
    let client = Client::new(config(&sim)).unwrap();
    let total = magflow_emag::runtime::block_on(async move {
        let res: Resource = client.resource("order");
        let (a, b) = tokio::join!(res.count(json!({"type": 3})), res.count(json!({"type": 2})));
        a.unwrap() + b.unwrap()
    });
    assert_eq!(total as usize, sim.orders().len());
}

#[test]
fn the_retry_budget_stops_a_retry_storm() {
    let sim = sim(5, 0);
    let policy = RetryPolicy::from_secs(1000, 0.0, 0.0, false, None).unwrap();
    let c = BlockingClient::new(config(&sim).with_retry(policy)).unwrap();
    sim.inject(Fault::Http503, 10_000, None, None);
    let err = c.call("vat", "read", None).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    // 500 tokens at 5 per retry: 100 retries, then it gives up.
    assert_eq!(sim.stats()["requests_total"], json!(101));
    assert_eq!(c.client().retry_budget_available(), 0);
}
