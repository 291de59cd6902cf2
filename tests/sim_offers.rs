//! Offers and the other resources over real HTTP.

mod sim_support;

use serde_json::{json, Value};
use sim_support::{config, id, Api};

fn offer_update(o: &Value, stock: i64) -> Value {
    json!({"id": o["id"], "status": 1, "sale_price": o["sale_price"], "vat_id": 1,
           "stock": [{"warehouse_id": 1, "value": stock}], "handling_time": [{"warehouse_id": 1, "value": 2}]})
}

#[tokio::test]
async fn product_offer_read_count_filters() {
    let api = Api::start(config(100, 120));
    let truth = api.sim.offers();
    let r = api
        .ok("product_offer/read", json!({"itemsPerPage": 100}))
        .await;
    assert_eq!(r.as_array().unwrap().len(), 100);
    let first = &r[0];
    for key in [
        "id",
        "part_number_key",
        "name",
        "brand",
        "sale_price",
        "general_stock",
        "estimated_stock",
        "status",
        "vat_id",
        "ean",
        "validation_status",
        "offer_validation_status",
        "handling_time",
        "images",
    ] {
        assert!(first.get(key).is_some(), "offer lacks {key}");
    }
    assert!(first.get("stock").is_none(), "reads do not show stock[]");
    let c = api.ok("product_offer/count", json!({})).await;
    assert_eq!(c["noOfItems"], 120);
    assert_eq!(c["noOfPages"], 2);
    let active = api.ok("product_offer/count", json!({"status": 1})).await;
    assert_eq!(
        active["noOfItems"].as_u64().unwrap() as usize,
        truth.iter().filter(|o| o["status"] == 1).count()
    );
    let pnk = truth[5]["part_number_key"].clone();
    let by_pnk = api
        .ok("product_offer/read", json!({"part_number_key": pnk}))
        .await;
    assert_eq!(by_pnk.as_array().unwrap().len(), 1);
    let low = api
        .ok("product_offer/read", json!({"general_stock": 5}))
        .await;
    assert!(low
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["general_stock"].as_i64().unwrap() <= 5));
    // Filtering one product lists the GPSR sets; unfiltered reads give a flag.
    let one = api
        .ok("product_offer/read", json!({"id": truth[0]["id"]}))
        .await;
    assert!(one[0]["manufacturer"].is_array());
    assert!(r[0]["manufacturer"].is_boolean());
}

#[tokio::test]
async fn product_offer_save_updates_and_creates() {
    let api = Api::start(config(0, 10));
    let truth = api.sim.offers();
    let o = &truth[0];
    api.ok("product_offer/save", json!([offer_update(o, 42)]))
        .await;
    let now = api.sim.offers();
    assert_eq!(now[0]["stock"][0]["value"], 42);
    assert_eq!(now[0]["general_stock"], 42);
    // Update: required keys and price window.
    let m = api
        .err(
            "product_offer/save",
            json!([{"id": o["id"], "sale_price": 10}]),
        )
        .await;
    assert!(
        m.contains("status") && m.contains("vat_id") && m.contains("stock"),
        "{m}"
    );
    let mut cheap = offer_update(o, 1);
    cheap["sale_price"] = json!(0.0001);
    assert!(api
        .err("product_offer/save", json!([cheap]))
        .await
        .contains("min_sale_price"));
    let mut digits = offer_update(o, 1);
    digits["sale_price"] = json!("12.123456");
    assert!(api
        .err("product_offer/save", json!([digits]))
        .await
        .contains("decimals"));
    // Create: a new product with its offer; documentation error => isError true AND saved.
    let new = json!({"id": 777, "category_id": 2725, "name": "Telefon test", "part_number": "TST 777", "brand": "Test",
        "status": 1, "sale_price": 100, "min_sale_price": 50, "max_sale_price": 200, "vat_id": 1,
        "stock": [{"warehouse_id": 1, "value": 5}], "ean": ["5940000007774"]});
    let v = api.call("product_offer/save", json!([new.clone()])).await;
    assert_eq!(v["isError"], true);
    assert!(v["messages"][0].as_str().unwrap().contains("saved"));
    let saved = api
        .sim
        .offers()
        .into_iter()
        .find(|x| x["id"] == 777)
        .expect("saved despite isError");
    assert_eq!(saved["part_number"], "TST777");
    // The same part number or EAN on another product is refused.
    let mut dup = new.clone();
    dup["id"] = json!(778);
    let m = api.err("product_offer/save", json!([dup])).await;
    assert!(m.contains("part_number") && m.contains("ean"), "{m}");
    // Status 2 only on updates; min < max required.
    let mut eol = new.clone();
    eol["id"] = json!(779);
    eol["part_number"] = json!("X779");
    eol["ean"] = json!([]);
    eol["status"] = json!(2);
    eol["min_sale_price"] = json!(300);
    let m = api.err("product_offer/save", json!([eol])).await;
    assert!(
        m.contains("status 2") && m.contains("min_sale_price"),
        "{m}"
    );
}

#[tokio::test]
async fn light_offer_save_and_offer_stock_patch() {
    let api = Api::start(config(0, 5));
    let o = api.sim.offers()[1].clone();
    let oid = id(&o);
    api.ok(
        "offer/save",
        json!([{"id": oid, "stock": [{"warehouse_id": 1, "value": 9}], "status": 0}]),
    )
    .await;
    let now = api.sim.offers()[1].clone();
    assert_eq!(
        (now["stock"][0]["value"].clone(), now["status"].clone()),
        (json!(9), json!(0))
    );
    assert!(api
        .err("offer/save", json!([{"id": 999_999, "status": 1}]))
        .await
        .contains("does not exist"));
    assert!(api
        .err("offer/save", json!([{"id": oid, "name": "x"}]))
        .await
        .contains("product_offer/save"));
    // PATCH offer_stock/{id}: 204, 404, 400.
    let patch = |path: String, body: &'static str| {
        api.http
            .patch(api.url(&path))
            .basic_auth(api.sim.username(), Some(api.sim.password()))
            .header("content-type", "application/json")
            .body(body)
    };
    let r = api
        .send(patch(format!("offer_stock/{oid}"), "{\"stock\": 17}"))
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(api.sim.offers()[1]["stock"][0]["value"], 17);
    let r = api
        .send(patch("offer_stock/424242".into(), "{\"stock\": 1}"))
        .await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!({"message": "This offer does not exist"}))
    );
    let r = api.send(patch(format!("offer_stock/{oid}"), "{nope")).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"message": "Invalid content"}))
    );
    let r = api
        .send(patch(format!("offer_stock/{oid}"), "{\"stock\": -4}"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["errors"][0]["field"], "stock");
    let r = api
        .send(
            api.http
                .patch(api.url(&format!("offer_stock/{oid}")))
                .body("{\"stock\": 1}"),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = api.send(api.post(&format!("offer_stock/{oid}"))).await;
    assert_eq!(r.status, 404, "POST on offer_stock is not a route");
}

#[tokio::test]
async fn other_resources() {
    let api = Api::start(config(400, 10));
    let cats = api.ok("category/read", json!({})).await;
    assert!(cats.as_array().unwrap().len() >= 10);
    let one = api.ok("category/read", json!({"id": cats[0]["id"]})).await;
    assert!(!one[0]["characteristics"].as_array().unwrap().is_empty());
    assert_eq!(
        api.ok("category/count", json!({})).await["noOfItems"],
        cats.as_array().unwrap().len()
    );
    let vats = api.ok("vat/read", json!({})).await;
    assert!(vats.as_array().unwrap().iter().any(|v| v["vat_id"] == 1));
    assert_eq!(api.ok("handling_time/read", json!({})).await[0]["id"], 0);
    // Localities: only the platform's country without a country filter.
    let ro = api.ok("locality/read", json!({})).await;
    assert!(ro
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["country_code"] == "RO"));
    let bg = api.ok("locality/read", json!({"country_code": "BG"})).await;
    assert!(
        !bg.as_array().unwrap().is_empty()
            && bg
                .as_array()
                .unwrap()
                .iter()
                .all(|l| l["country_code"] == "BG")
    );
    let cluj = api.ok("locality/read", json!({"name": "cluj"})).await;
    assert_eq!(cluj[0]["emag_id"], 4537);
    assert_eq!(
        api.ok("locality/count", json!({"region2": "Ilfov"})).await["noOfItems"],
        2
    );
    assert!(!api
        .ok("courier_accounts/read", json!({}))
        .await
        .as_array()
        .unwrap()
        .is_empty());
    assert!(api.ok("addresses/read", json!({})).await[0]["address_id"].is_string());
    // RMA read/count/save with the §12.3 matrix.
    let rmas = api.sim.rmas();
    assert!(!rmas.is_empty());
    let total = api.ok("rma/count", json!({})).await["noOfItems"]
        .as_u64()
        .unwrap();
    assert_eq!(total as usize, rmas.len());
    let new = rmas
        .iter()
        .find(|r| r["request_status"] == 2)
        .expect("a new return");
    let eid = new["emag_id"].clone();
    assert_eq!(
        api.ok("rma/read", json!({"emag_id": eid})).await[0]["emag_id"],
        eid
    );
    api.ok("rma/save", json!([{"emag_id": eid, "request_status": 3}]))
        .await;
    assert!(api
        .err("rma/save", json!([{"emag_id": eid, "request_status": 7}]))
        .await
        .contains("cannot change"));
    assert!(api
        .err("rma/save", json!([{"emag_id": eid, "request_status": 1}]))
        .await
        .contains("cannot change"));
    api.ok("rma/save", json!([{"emag_id": eid, "request_status": 6}]))
        .await;
    assert_eq!(
        api.sim.rmas().iter().find(|r| r["emag_id"] == eid).unwrap()["request_status"],
        6
    );
    // measurements/save validates and accepts.
    let oid = api.sim.offers()[0]["id"].clone();
    api.ok(
        "measurements/save",
        json!([{"id": oid, "length": 100, "width": 50.5, "height": 20, "weight": 350.25}]),
    )
    .await;
    api.err("measurements/save", json!([{"id": oid, "length": 100}]))
        .await;
}
