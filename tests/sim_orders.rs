//! Orders over real HTTP: every filter, acknowledge, the status matrix with the clock,
//! cancellation reasons, line edits, storno, AWB -> finalized, attachments, unlock-courier.

mod sim_support;

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};
use sim_support::{config, id, Api, NOW};

fn ids(v: &Value) -> HashSet<u64> {
    v.as_array().unwrap().iter().map(id).collect()
}

fn truth_ids(api: &Api, pred: impl Fn(&Value) -> bool) -> HashSet<u64> {
    api.sim
        .orders()
        .iter()
        .filter(|o| pred(o))
        .map(id)
        .collect()
}

async fn read_all(api: &Api, filters: Value) -> HashSet<u64> {
    let mut out = HashSet::new();
    for page in 1.. {
        let mut f = filters.clone();
        f["currentPage"] = json!(page);
        f["itemsPerPage"] = json!(100);
        let r = api.ok("order/read", f).await;
        if r.as_array().unwrap().is_empty() {
            break;
        }
        out.extend(ids(&r));
    }
    out
}

#[tokio::test]
async fn order_json_is_faithful() {
    let api = Api::start(config(300, 40));
    let orders = api.sim.orders();
    let statuses: HashSet<i64> = orders
        .iter()
        .map(|o| o["status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, HashSet::from([0, 1, 2, 3, 4, 5]));
    assert!(orders.iter().any(|o| o["type"] == 2) && orders.iter().any(|o| o["type"] == 3));
    let modes: HashSet<i64> = orders
        .iter()
        .map(|o| o["payment_mode_id"].as_i64().unwrap())
        .collect();
    assert_eq!(modes, HashSet::from([1, 2, 3]));
    assert!(orders
        .iter()
        .any(|o| !o["vouchers"].as_array().unwrap().is_empty()));
    assert!(orders
        .iter()
        .any(|o| o["delivery_mode"] == "pickup" && o["details"]["locker_id"].is_string()));
    // Dates spread over months.
    let months: HashSet<String> = orders
        .iter()
        .map(|o| o["date"].as_str().unwrap()[..7].to_owned())
        .collect();
    assert!(months.len() >= 4, "{months:?}");
    for o in &orders {
        for key in [
            "id",
            "status",
            "type",
            "payment_mode_id",
            "date",
            "modified",
            "customer",
            "products",
            "shipping_tax",
            "vouchers",
            "attachments",
            "is_complete",
            "details",
        ] {
            assert!(o.get(key).is_some(), "order lacks {key}");
        }
        let c = &o["customer"];
        assert!(c["name"].as_str().unwrap().contains(' '));
        let phone = c["phone_1"].as_str().unwrap();
        assert!(phone.starts_with("07") && phone.len() == 10, "{phone}");
        assert!(c["billing_locality_id"].is_string() && c["shipping_street"].is_string());
        let lines = o["products"].as_array().unwrap();
        assert!(!lines.is_empty());
        for l in lines {
            assert!(l["id"].as_u64().unwrap() > 9_999_999);
            assert!(l["quantity"].as_i64().unwrap() > 0);
            assert!(l["sale_price"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
        }
        assert!(o["modified"].as_str() >= o["date"].as_str());
        if o["status"] == 0 {
            assert!(magflow_emag::codes::is_valid_cancellation_reason(
                o["reason_cancellation"].as_i64().unwrap()
            ));
        }
    }
    // The read document equals the ground truth.
    let first = api.ok("order/read", json!({"itemsPerPage": 1})).await;
    assert_eq!(first[0], api.sim.order(id(&first[0])).unwrap());
}

#[tokio::test]
async fn every_filter() {
    let api = Api::start(config(400, 20));
    let t3 = |o: &Value| o["type"] == 3;
    // type defaults to 3 on read.
    assert_eq!(read_all(&api, json!({})).await, truth_ids(&api, t3));
    assert_eq!(
        read_all(&api, json!({"type": 2})).await,
        truth_ids(&api, |o| o["type"] == 2)
    );
    // id
    let some = api.find_order(|o| o["type"] == 3 && o["status"] == 4);
    assert_eq!(
        ids(&api.ok("order/read", json!({"id": id(&some)})).await),
        HashSet::from([id(&some)])
    );
    // status single and list
    assert_eq!(
        read_all(&api, json!({"status": 1})).await,
        truth_ids(&api, |o| t3(o) && o["status"] == 1)
    );
    assert_eq!(
        read_all(&api, json!({"status": [0, 5]})).await,
        truth_ids(&api, |o| t3(o) && (o["status"] == 0 || o["status"] == 5))
    );
    // payment_mode_id single and list
    assert_eq!(
        read_all(&api, json!({"payment_mode_id": 3})).await,
        truth_ids(&api, |o| t3(o) && o["payment_mode_id"] == 3)
    );
    assert_eq!(
        read_all(&api, json!({"payment_mode_id": [1, 2]})).await,
        truth_ids(&api, |o| t3(o) && o["payment_mode_id"] != 3)
    );
    // is_complete
    assert_eq!(
        read_all(&api, json!({"is_complete": 0})).await,
        truth_ids(&api, |o| t3(o) && o["is_complete"] == 0)
    );
    // created window (<= one month) and createdAfter alone on read.
    let (after, before) = ("2025-08-01 00:00:00", "2025-08-31 23:59:59");
    let in_window = |key: &str, o: &Value| {
        let d = o[key].as_str().unwrap();
        d >= after && d <= before
    };
    assert_eq!(
        read_all(
            &api,
            json!({"createdAfter": after, "createdBefore": before})
        )
        .await,
        truth_ids(&api, |o| t3(o) && in_window("date", o))
    );
    assert_eq!(
        read_all(&api, json!({"createdAfter": after})).await,
        truth_ids(&api, |o| t3(o) && o["date"].as_str().unwrap() >= after)
    );
    assert_eq!(
        read_all(
            &api,
            json!({"modifiedAfter": after, "modifiedBefore": before})
        )
        .await,
        truth_ids(&api, |o| t3(o) && in_window("modified", o))
    );
    // Window rules.
    assert!(api
        .err("order/read", json!({"createdBefore": before}))
        .await
        .contains("createdAfter"));
    assert!(api
        .err(
            "order/read",
            json!({"createdAfter": "2025-06-01 00:00:00", "createdBefore": "2025-07-02 00:00:00"})
        )
        .await
        .contains("one month"));
    assert!(api
        .err("order/read", json!({"modifiedBefore": before}))
        .await
        .contains("modifiedAfter"));
    // count is stricter: After needs Before too.
    assert!(api
        .err("order/count", json!({"createdAfter": after}))
        .await
        .contains("createdBefore"));
    let c = api
        .ok(
            "order/count",
            json!({"createdAfter": after, "createdBefore": before, "type": 3}),
        )
        .await;
    assert_eq!(
        c["noOfItems"].as_u64().unwrap() as usize,
        truth_ids(&api, |o| t3(o) && in_window("date", o)).len()
    );
    let all = api.ok("order/count", json!({})).await;
    assert_eq!(all["noOfItems"], 400);
    let s = api
        .ok("order/count", json!({"status": [1, 2], "type": 3}))
        .await;
    assert_eq!(
        s["noOfItems"].as_u64().unwrap() as usize,
        truth_ids(&api, |o| t3(o) && (o["status"] == 1 || o["status"] == 2)).len()
    );
    // Bad values.
    api.err("order/read", json!({"status": 9})).await;
    api.err("order/read", json!({"payment_mode_id": [1, 4]}))
        .await;
    api.err("order/read", json!({"is_complete": 3})).await;
    api.err("order/read", json!({"id": 0})).await;
}

#[tokio::test]
async fn acknowledge_moves_1_to_2_idempotently() {
    let api = Api::start(config(200, 30));
    let order = api.find_order(|o| o["type"] == 3 && o["status"] == 1);
    let oid = id(&order);
    let offers_before = api.sim.offers();
    let r = api
        .send(api.post(&format!("order/acknowledge/{oid}")))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["isError"], false);
    assert_eq!(api.sim.order(oid).unwrap()["status"], 2);
    // Again: still fine, still 2.
    api.ok(&format!("order/acknowledge/{oid}"), json!({})).await;
    assert_eq!(api.sim.order(oid).unwrap()["status"], 2);
    // Stock left the warehouse for the acknowledged lines.
    let line = &order["products"][0];
    let pid = line["product_id"].as_u64().unwrap();
    let before = offers_before
        .iter()
        .find(|o| o["id"] == pid)
        .map(|o| o["general_stock"].as_i64().unwrap());
    let after = api
        .sim
        .offers()
        .iter()
        .find(|o| o["id"] == pid)
        .map(|o| o["general_stock"].as_i64().unwrap());
    if let (Some(b), Some(a)) = (before, after) {
        assert_eq!(a, (b - line["quantity"].as_i64().unwrap()).max(0));
    }
    // Unknown, cancelled and type 2 orders are refused.
    assert!(api
        .err("order/acknowledge/1", json!({}))
        .await
        .contains("does not exist"));
    let cancelled = api.find_order(|o| o["type"] == 3 && o["status"] == 0);
    api.err(&format!("order/acknowledge/{}", id(&cancelled)), json!({}))
        .await;
    let t2 = api.find_order(|o| o["type"] == 2 && o["status"] == 1);
    assert!(api
        .err(&format!("order/acknowledge/{}", id(&t2)), json!({}))
        .await
        .contains("type 2"));
    // Saving 1 -> 2 is refused: only acknowledge does it.
    let new = api.find_order(|o| o["type"] == 3 && o["status"] == 1);
    let mut o = new.clone();
    o["status"] = json!(2);
    assert!(api
        .err("order/save", json!([o]))
        .await
        .contains("acknowledge"));
}

fn with_status(o: &Value, status: i64) -> Value {
    let mut o = o.clone();
    o["status"] = json!(status);
    o
}

#[tokio::test]
async fn status_matrix_and_48h_rules() {
    let api = Api::start(config(300, 30));
    let api = &api;
    let save = |o: Value| async move { api.call("order/save", json!([o])).await };
    // 2 -> 3 -> 4, then 4 -> 3 within 48 h.
    let o = api.find_order(|o| o["type"] == 3 && o["status"] == 2);
    let oid = id(&o);
    assert_eq!(save(with_status(&o, 3)).await["isError"], false);
    assert_eq!(save(with_status(&o, 4)).await["isError"], false);
    assert_eq!(api.sim.order(oid).unwrap()["status"], 4);
    assert_eq!(
        save(with_status(&o, 3)).await["isError"],
        false,
        "4 -> 3 within 48 h"
    );
    assert_eq!(save(with_status(&o, 4)).await["isError"], false);
    // After 49 hours, 4 -> 3 and 4 -> 0 are refused; 4 -> 4 still fine.
    api.sim
        .advance_clock(Duration::from_secs(49 * 3600))
        .unwrap();
    let m = api.err("order/save", json!([with_status(&o, 3)])).await;
    assert!(m.contains("48 hours"), "{m}");
    let mut cancel = with_status(&o, 0);
    cancel["reason_cancellation"] = json!(1);
    assert!(api
        .err("order/save", json!([cancel]))
        .await
        .contains("48 hours"));
    assert_eq!(save(with_status(&o, 4)).await["isError"], false);
    // 4 -> 5 within RT + 5 days, refused after.
    assert_eq!(save(with_status(&o, 5)).await["isError"], false);
    assert_eq!(api.sim.order(oid).unwrap()["status"], 5);
    // 5 -> anything: refused (a returned order cannot be saved at all).
    api.err("order/save", json!([with_status(&o, 5)])).await;
    let o2 = api.find_order(|o| o["type"] == 3 && o["status"] == 3);
    assert_eq!(save(with_status(&o2, 4)).await["isError"], false);
    api.sim
        .advance_clock(Duration::from_secs(20 * 86_400))
        .unwrap();
    assert!(api
        .err("order/save", json!([with_status(&o2, 5)]))
        .await
        .contains("return period"));

    // Cancel: reason required and valid; reactivation within 48 h only.
    let o3 = api.find_order(|o| o["type"] == 3 && o["status"] == 2 && id(o) != oid);
    assert!(api
        .err("order/save", json!([with_status(&o3, 0)]))
        .await
        .contains("reason_cancellation"));
    let mut bad = with_status(&o3, 0);
    bad["reason_cancellation"] = json!(7);
    assert!(api.err("order/save", json!([bad])).await.contains("reason"));
    let mut good = with_status(&o3, 0);
    good["reason_cancellation"] = json!("43");
    assert_eq!(save(good).await["isError"], false);
    let saved = api.sim.order(id(&o3)).unwrap();
    assert_eq!(
        (
            saved["status"].clone(),
            saved["reason_cancellation"].clone()
        ),
        (json!(0), json!(43))
    );
    assert_eq!(
        save(with_status(&o3, 2)).await["isError"],
        false,
        "0 -> 2 within 48 h"
    );
    let mut again = with_status(&o3, 0);
    again["reason_cancellation"] = json!(2);
    assert_eq!(save(again).await["isError"], false);
    api.sim
        .advance_clock(Duration::from_secs(48 * 3600 + 60))
        .unwrap();
    assert!(api
        .err("order/save", json!([with_status(&o3, 3)]))
        .await
        .contains("48 hours"));

    // The whole matrix from a fresh order in each status, the clock reset to the seed time.
    api.sim
        .set_now(chrono::NaiveDateTime::parse_from_str(NOW, "%Y-%m-%d %H:%M:%S").unwrap());
    for from in [2i64, 3] {
        for to in [1i64, 2, 3, 4, 5] {
            let o = api.find_order(|o| o["type"] == 3 && o["status"] == from);
            let expected = magflow_emag::codes::transition_rule(from, to)
                .unwrap()
                .as_str()
                == "yes";
            let r = api.call("order/save", json!([with_status(&o, to)])).await;
            assert_eq!(r["isError"], !expected, "{from} -> {to}: {r}");
            if expected {
                // Put it back where it was for the next probe, when the matrix allows.
                let _ = api.call("order/save", json!([with_status(&o, from)])).await;
            }
        }
    }
    // Type 2 is read-only; a bad id is refused; the request is all-or-nothing.
    let t2 = api.find_order(|o| o["type"] == 2 && o["status"] == 2);
    assert!(api
        .err("order/save", json!([with_status(&t2, 3)]))
        .await
        .contains("type 3"));
    let ok = api.find_order(|o| o["type"] == 3 && o["status"] == 2);
    let m = api
        .err(
            "order/save",
            json!([with_status(&ok, 3), {"id": 5, "status": 3}]),
        )
        .await;
    assert!(m.contains("does not exist"));
    assert_eq!(
        api.sim.order(id(&ok)).unwrap()["status"],
        2,
        "nothing applied"
    );
}

#[tokio::test]
async fn product_edits_card_rules_and_storno() {
    let api = Api::start(config(600, 50));
    // A non-card order in status 2 with one line: add a line, change quantity, remove it.
    let o = api.find_order(|o| o["type"] == 3 && o["status"] == 2 && o["payment_mode_id"] == 1);
    let oid = id(&o);
    let mut edited = o.clone();
    edited["products"][0]["quantity"] = json!(o["products"][0]["quantity"].as_i64().unwrap() + 1);
    edited["products"].as_array_mut().unwrap().push(json!({"product_id": 10003, "name": "Discount intern", "status": 1, "sale_price": "5.0000", "quantity": 1}));
    api.ok("order/save", json!([edited])).await;
    let now = api.sim.order(oid).unwrap();
    assert_eq!(
        now["products"].as_array().unwrap().len(),
        o["products"].as_array().unwrap().len() + 1
    );
    // Price and immutable fields cannot change.
    let mut price = now.clone();
    price["products"][0]["sale_price"] = json!("1.0000");
    assert!(api
        .err("order/save", json!([price]))
        .await
        .contains("sale_price"));
    let mut pid = now.clone();
    pid["products"][0]["product_id"] = json!(1);
    assert!(api
        .err("order/save", json!([pid]))
        .await
        .contains("product_id"));
    let mut neg = now.clone();
    neg["products"][0]["quantity"] = json!(-1);
    assert!(api
        .err("order/save", json!([neg]))
        .await
        .contains("negative"));
    // Card orders cannot lose quantity or lines.
    let card = api.find_order(|o| {
        o["type"] == 3
            && o["status"] == 2
            && o["payment_mode_id"] == 3
            && o["products"][0]["quantity"].as_i64().unwrap() > 1
    });
    let mut lower = card.clone();
    lower["products"][0]["quantity"] = json!(1);
    assert!(api.err("order/save", json!([lower])).await.contains("card"));
    // Lines cannot change in status 4 without is_storno, nor in 0.
    let fin = api.find_order(|o| {
        o["type"] == 3
            && o["status"] == 4
            && o["products"].as_array().unwrap().len() >= 2
            && o["products"][0]["quantity"].as_i64().unwrap() >= 2
    });
    let fid = id(&fin);
    let mut s4 = fin.clone();
    s4["products"][0]["quantity"] = json!(1);
    assert!(
        api.err("order/save", json!([s4.clone()]))
            .await
            .contains("is_storno"),
        "scenario 4"
    );
    // Scenario 5: is_storno without a change.
    let mut s5 = fin.clone();
    s5["is_storno"] = json!(true);
    assert!(api
        .err("order/save", json!([s5]))
        .await
        .contains("is_storno"));
    // Scenario 7: a line id repeated with a negative quantity.
    let mut s7 = fin.clone();
    s7["is_storno"] = json!(true);
    let mut extra = fin["products"][1].clone();
    extra["quantity"] = json!(-1);
    s7["products"].as_array_mut().unwrap().push(extra);
    api.err("order/save", json!([s7])).await;
    // Scenario 1: partial reversal accepted; read-back shows the lower quantity.
    s4["is_storno"] = json!(true);
    api.ok("order/save", json!([s4])).await;
    let back = api.sim.order(fid).unwrap();
    assert_eq!(back["products"][0]["quantity"], 1);
    assert_eq!(back["status"], 4);
    // Scenario 3 then all lines reversed => status 5.
    let mut all = back.clone();
    all["is_storno"] = json!(true);
    for l in all["products"].as_array_mut().unwrap() {
        l["status"] = json!(0);
    }
    api.ok("order/save", json!([all])).await;
    assert_eq!(api.sim.order(fid).unwrap()["status"], 5);
    // Scenario 6: is_storno on status 3.
    let s3 = api.find_order(|o| o["type"] == 3 && o["status"] == 3);
    let mut s6 = s3.clone();
    s6["is_storno"] = json!(true);
    assert!(api
        .err("order/save", json!([s6]))
        .await
        .contains("status 4"));
}

#[tokio::test]
async fn awb_finalizes_attachments_and_unlock_courier() {
    let api = Api::start(config(300, 20));
    let o = api.find_order(|o| {
        o["type"] == 3 && o["status"] == 3 && o["enforced_vendor_courier_accounts"].is_null()
    });
    let oid = id(&o);
    let party = |name: &str| {
        json!({"name": name, "contact": "Ion Popescu", "phone1": "0722123456",
        "locality_id": 4537, "street": "Str. Memorandumului nr. 12"})
    };
    let awb = json!({"order_id": oid, "sender": party("Magazin SRL"), "receiver": party("Ion Popescu"),
        "is_oversize": 0, "envelope_number": 0, "parcel_number": 1, "cod": 120.5, "weight": 2});
    let r = api.ok("awb/save", awb.clone()).await;
    assert_eq!(api.sim.order(oid).unwrap()["status"], 4);
    let emag_id = r[0]["emag_id"].as_i64().unwrap();
    assert!(r[0]["awb"][0]["awb_number"]
        .as_str()
        .unwrap()
        .starts_with("2EMG"));
    let read = api.ok("awb/read", json!({"emag_id": emag_id})).await;
    assert_eq!(read[0]["order_id"], oid);
    assert_eq!(read[0]["courier"]["courier_name"], "SAMEDAY");
    // One-element list form too; invalid AWBs refused.
    let o2 = api.find_order(|o| {
        o["type"] == 3 && o["status"] == 2 && o["enforced_vendor_courier_accounts"].is_null()
    });
    let mut awb2 = awb.clone();
    awb2["order_id"] = json!(id(&o2));
    api.ok("awb/save", json!([awb2.clone()])).await;
    let mut bad = awb2.clone();
    bad["envelope_number"] = json!(0);
    bad["parcel_number"] = json!(0);
    bad["receiver"]["phone1"] = json!("12");
    let m = api.err("awb/save", bad).await;
    assert!(m.contains("envelope_number") && m.contains("phone1"), "{m}");
    let unacked = api.find_order(|o| o["type"] == 3 && o["status"] == 1);
    let mut awb3 = awb.clone();
    awb3["order_id"] = json!(id(&unacked));
    api.err("awb/save", awb3).await;
    // enforced_vendor_courier_accounts = [] blocks AWBs until unlock-courier.
    let blocked = api.find_order(|o| {
        o["type"] == 3
            && (o["status"] == 2 || o["status"] == 3)
            && o["enforced_vendor_courier_accounts"] == json!([])
    });
    let mut awb4 = awb.clone();
    awb4["order_id"] = json!(id(&blocked));
    assert!(api
        .err("awb/save", awb4.clone())
        .await
        .contains("enforced_vendor_courier_accounts"));
    api.ok(&format!("order/{}/unlock-courier", id(&blocked)), json!({}))
        .await;
    api.ok("awb/save", awb4).await;

    // Attachments: invoice, warranty per line, validation.
    let inv = json!([{"order_id": oid, "order_type": 3, "name": "Factura 123", "url": "https://shop.example.ro/f/123.pdf", "type": 1}]);
    api.ok("order/attachments/save", inv).await;
    let line = o["products"][0]["id"].clone();
    api.ok("order/attachments/save", json!([{"order_id": oid, "order_type": 3, "url": "https://x.example/w.pdf", "type": 3, "order_product_id": line}])).await;
    let att = api.sim.order(oid).unwrap()["attachments"].clone();
    assert_eq!(att.as_array().unwrap().len(), 2);
    assert!(api
        .err(
            "order/attachments/save",
            json!([{"order_id": oid, "url": "https://x.example/a.pdf"}])
        )
        .await
        .contains("order_type"));
    assert!(api
        .err(
            "order/attachments/save",
            json!([{"order_id": oid, "order_type": 3, "url": "not a url"}])
        )
        .await
        .contains("url"));
    assert!(api
        .err(
            "order/attachments/save",
            json!([{"order_id": oid, "order_type": 3, "url": "https://x.example/w.pdf", "type": 3}])
        )
        .await
        .contains("order_product_id"));
    // Type 2 orders accept attachments.
    let t2 = api.find_order(|o| o["type"] == 2);
    api.ok(
        "order/attachments/save",
        json!([{"order_id": id(&t2), "order_type": 2, "url": "https://x.example/f.pdf"}]),
    )
    .await;
}
