//! The simulator's protocol over real HTTP: body forms, auth, envelope, pagination, limits,
//! bad input.

mod sim_support;

use std::time::Duration;

use serde_json::{json, Value};
use sim_support::{config, Api};

#[tokio::test]
async fn url_and_each_body_form() {
    let api = Api::start(config(30, 5));
    assert!(api.sim.url().starts_with("http://127.0.0.1:"));
    assert!(api.sim.url().ends_with("/api-3"));
    let filters = json!({"currentPage": 1, "itemsPerPage": 5, "status": [4, 0]});
    // 1. documented form encoding
    let form = api.form("order/read", &filters).await;
    assert_eq!(form.status, 200);
    assert!(form.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let form = form.json();
    // 2. bare JSON payload
    let bare = api.json("order/read", &filters).await.json();
    // 3. JSON {"data": ...}
    let wrapped = api
        .json("order/read", &json!({ "data": filters }))
        .await
        .json();
    assert_eq!(form["isError"], false);
    assert_eq!(form, bare);
    assert_eq!(form, wrapped);
    let results = form["results"].as_array().unwrap();
    assert!(!results.is_empty() && results.len() <= 5);
    assert!(results
        .iter()
        .all(|o| [4, 0].contains(&o["status"].as_i64().unwrap())));
    assert_eq!(form["messages"], json!([]));
}

#[tokio::test]
async fn auth_wrong_and_missing_credentials_get_403() {
    let api = Api::start(config(3, 0));
    let wrong = api
        .send(
            api.http
                .post(api.url("order/read"))
                .basic_auth(api.sim.username(), Some("nope")),
        )
        .await;
    assert_eq!(wrong.status, 403);
    let v = wrong.json();
    assert_eq!(v["isError"], true);
    assert_eq!(
        v["messages"],
        json!(["You are not allowed to use this API."])
    );
    let missing = api.send(api.http.post(api.url("order/read"))).await;
    assert_eq!(missing.status, 403);
    assert_eq!(missing.json()["isError"], true);
    let garbage = api
        .send(
            api.http
                .post(api.url("vat/read"))
                .header("authorization", "Basic !!!"),
        )
        .await;
    assert_eq!(garbage.status, 403);
}

#[tokio::test]
async fn pagination_bounds_and_pages() {
    let api = Api::start(config(250, 0));
    let all_type3 = api.sim.orders().iter().filter(|o| o["type"] == 3).count();
    // Default page size is 100.
    let page1 = api.ok("order/read", json!({})).await;
    assert_eq!(page1.as_array().unwrap().len(), 100.min(all_type3));
    let p = api
        .ok("order/read", json!({"currentPage": 2, "itemsPerPage": 100}))
        .await;
    assert_eq!(p.as_array().unwrap().len(), (all_type3 - 100).min(100));
    assert_ne!(p[0]["id"], page1[0]["id"]);
    // Beyond the end: an empty page, not an error.
    assert_eq!(
        api.ok("order/read", json!({"currentPage": 50})).await,
        json!([])
    );
    // Out of bounds.
    for bad in [
        json!({"itemsPerPage": 101}),
        json!({"itemsPerPage": 0}),
        json!({"currentPage": 0}),
        json!({"currentPage": 65536}),
        json!({"itemsPerPage": "many"}),
    ] {
        let m = api.err("order/read", bad.clone()).await;
        assert!(
            m.contains("itemsPerPage") || m.contains("currentPage"),
            "{bad}: {m}"
        );
    }
    assert!(api
        .err("product_offer/read", json!({"itemsPerPage": 500}))
        .await
        .contains("itemsPerPage"));
    // Counts.
    let count = api.ok("order/count", json!({"type": 3})).await;
    assert_eq!(count["noOfItems"], all_type3);
    assert_eq!(count["noOfPages"], all_type3.div_ceil(100));
}

#[tokio::test]
async fn input_vars_and_bulk_limits() {
    let api = Api::start(config(0, 60));
    // 4001 scalar leaves -> "Maximum input vars of 4000 exceeded".
    let many: Vec<Value> = (0..4001).map(|i| json!(i)).collect();
    let m = api
        .err("product_offer/read", json!({ "status": many }))
        .await;
    assert_eq!(m, "Maximum input vars of 4000 exceeded");
    // The same through JSON counts the same way.
    let r = api
        .json("product_offer/read", &json!({ "status": many }))
        .await
        .json();
    assert_eq!(
        r["messages"],
        json!(["Maximum input vars of 4000 exceeded"])
    );
    // 4000 is still fine (the filter itself then fails for another reason or not at all).
    let ok: Vec<Value> = (0..4000).map(|_| json!(1)).collect();
    let v = api
        .call("product_offer/read", json!({ "status": ok }))
        .await;
    assert_eq!(v["isError"], false);
    // 51 entities in a bulk save.
    let offers = api.sim.offers();
    let entity = |o: &Value| {
        json!({"id": o["id"], "status": 1, "sale_price": o["sale_price"], "vat_id": 1,
                                    "stock": [{"warehouse_id": 1, "value": 3}], "handling_time": [{"warehouse_id": 1, "value": 1}]})
    };
    let fifty_one: Vec<Value> = offers.iter().take(51).map(entity).collect();
    let m = api.err("product_offer/save", Value::Array(fifty_one)).await;
    assert!(m.contains("Maximum 50 entities"), "{m}");
    let fifty: Vec<Value> = offers.iter().take(50).map(entity).collect();
    api.ok("product_offer/save", Value::Array(fifty)).await;
    assert!(api
        .sim
        .offers()
        .iter()
        .take(50)
        .all(|o| o["stock"][0]["value"] == 3));
}

#[tokio::test]
async fn unknown_routes_methods_and_not_simulated() {
    let api = Api::start(config(1, 0));
    for path in ["nothing/read", "order/explode", "order", "api/x/y/z/w"] {
        let r = api.send(api.post(path)).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json(), json!({"message": "Invalid URL"}));
    }
    let outside = api
        .send(
            api.http
                .post(api.sim.url().replace("/api-3", "/api-2") + "/order/read"),
        )
        .await;
    assert_eq!(outside.status, 404);
    // Wrong method on a documented route.
    let get = api
        .send(
            api.http
                .get(api.url("order/read"))
                .basic_auth(api.sim.username(), Some(api.sim.password())),
        )
        .await;
    assert_eq!(get.status, 404);
    // Documented but not simulated: isError with "not simulated", never an empty 200.
    for path in [
        "invoice/read",
        "customer-invoice/read",
        "campaign_proposals/save",
        "message/read",
        "invoice/categories/read",
    ] {
        let m = api.err(path, json!({})).await;
        assert!(m.contains("not simulated"), "{path}: {m}");
    }
}

#[tokio::test]
async fn bad_input_is_answered_never_hangs() {
    let api = Api::start(config(5, 2));
    let post = |body: &'static str, ct: &'static str| {
        api.post("order/read").header("content-type", ct).body(body)
    };
    for (body, ct) in [
        ("{\"currentPage\": ", "application/json"),
        ("[1,2", "application/json"),
        ("data[a=1", "application/x-www-form-urlencoded"),
        ("data%5B%5D%5B=%ZZ", "application/x-www-form-urlencoded"),
    ] {
        let r = api.send(post(body, ct)).await;
        assert_eq!(r.status, 200, "{body}");
        assert_eq!(r.json()["isError"], true, "{body}: {}", r.text);
    }
    // A body that is neither form nor JSON carries no `data`: a read with the defaults.
    let r = api
        .send(post("\u{0}\u{1}garbage", "application/octet-stream"))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json()["isError"].is_boolean());
    // Wrong types.
    for data in [
        json!({"status": "new"}),
        json!({"id": "abc"}),
        json!({"type": 7}),
        json!([1, 2, 3]),
        json!({"createdAfter": "yesterday"}),
    ] {
        api.err("order/read", data).await;
    }
    assert!(api.err("order/save", json!("x")).await.contains("data"));
    assert!(api.err("order/save", json!([1])).await.contains("object"));
    // Deep nesting is refused, not a stack overflow.
    let deep = "data".to_owned() + &"[a]".repeat(200) + "=1";
    let r = api
        .send(
            api.post("order/read")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(deep),
        )
        .await;
    assert_eq!(r.json()["isError"], true);
    // A body announced but never finished: the server answers (or closes) instead of hanging.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(api.sim.addr())
        .await
        .unwrap();
    s.write_all(b"POST /api-3/order/read HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server must not hang on a truncated body");
    // The server is still healthy.
    api.ok("vat/read", json!({})).await;
}

#[tokio::test]
async fn start_is_fast_and_deterministic() {
    let a = Api::start(config(200, 50));
    let b = Api::start(config(200, 50));
    assert_eq!(a.sim.orders(), b.sim.orders());
    assert_eq!(a.sim.offers(), b.sim.offers());
    let mut other = config(200, 50);
    other.seed = 8;
    let c = Api::start(other);
    assert_ne!(a.sim.orders(), c.sim.orders());
    assert_ne!(a.sim.url(), b.sim.url());
    // Dropping stops the server.
    let url = a.url("vat/read");
    drop(a);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(http.post(url).send().await.is_err());
}

#[test]
fn config_json_is_checked() {
    use magflow_emag::sim::SimConfig;
    assert!(SimConfig::from_json("{\"orders\": 3, \"seed\": 1}").is_ok());
    assert!(SimConfig::from_json("").is_ok());
    assert!(SimConfig::from_json("{\"oders\": 3}").is_err());
    assert!(SimConfig::from_json("{\"rate_limit_scale\": 0}").is_err());
    assert!(SimConfig::from_json("{\"fault_rate\": 2}").is_err());
    let c = SimConfig::from_json("{\"password\": \"hunter2\"}").unwrap();
    assert!(!format!("{c:?}").contains("hunter2"));
}
