//! Validation: every rule with a failing and a passing case, bad shapes, every cancellation
//! code, the full status matrix against a current order with timestamps inside and outside
//! the 48 h and RT + 5 days windows, bulks, offers, AWBs and the request guards.

use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Europe::Bucharest;
use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::validate::{
    self, ensure, request_guards as guards, validate_awb_with, validate_bulk_order_update,
    validate_offer_with, validate_order_cancellation, validate_order_cancellation_doc,
    validate_order_data, validate_order_for_update, validate_order_for_update_with, OfferMode,
    Options,
};
use magflow_emag::ErrorKind;
use serde_json::{json, Value};

// ---- helpers ---------------------------------------------------------------------------------

fn line(id: i64, product_id: i64, qty: i64, price: &str) -> Value {
    json!({
        "id": id, "product_id": product_id, "mkt_id": 10_000_000 + product_id, "name": "Casti audio",
        "status": 1, "part_number": format!("PN{product_id}"), "ext_part_number": format!("EXT{product_id}"),
        "part_number_key": "D5DD9BBBM", "currency": "RON", "vat": "0.2100", "quantity": qty,
        "initial_qty": qty, "storno_qty": 0, "sale_price": price, "original_price": price,
        "created": "2025-08-01 10:00:00", "modified": "2025-08-01 10:00:00", "details": [],
        "recycle_warranties": [], "serial_numbers": "", "product_voucher_split": []
    })
}

/// A valid order as read: type 3, in progress, cash on delivery, two lines.
fn order() -> Value {
    json!({
        "id": 300000123, "status": 2, "is_complete": 1, "type": 3, "payment_mode": "COD",
        "payment_mode_id": 1, "delivery_mode": "courier",
        "details": {"locker_id": null, "locker_name": null, "locker_delivery_eligible": 1},
        "date": "2025-08-01 10:00:00", "modified": "2025-08-01 12:00:00", "payment_status": 0,
        "cashed_co": 0, "cashed_cod": 0, "shipping_tax": "19.99", "shipping_tax_voucher_split": [],
        "customer": {"id": 1234567, "name": "Ana Popescu", "email": "0f3c9e@marketplace.emag.ro",
                     "phone_1": "0722123456", "phone_2": "", "legal_entity": 0},
        "products": [line(171000001, 1001, 2, "49.9900"), line(171000002, 1002, 1, "12.5000")],
        "attachments": [], "vouchers": [], "is_storno": false, "reason_cancellation": null,
        "enforced_vendor_courier_accounts": null
    })
}

fn with(mut v: Value, f: impl FnOnce(&mut Value)) -> Value {
    f(&mut v);
    v
}

#[track_caller]
fn expect(errors: &[String], path: &str, needle: &str) {
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(needle)),
        "expected a message `{path}: ...{needle}...`, got {errors:#?}"
    );
}

#[track_caller]
fn expect_none(errors: &[String], path: &str) {
    assert!(
        !errors.iter().any(|e| e.starts_with(&format!("{path}: "))),
        "expected no message on {path}, got {errors:#?}"
    );
}

#[track_caller]
fn valid(errors: Vec<String>) {
    assert!(errors.is_empty(), "expected valid, got {errors:#?}");
}

fn data(v: &Value) -> Vec<String> {
    validate_order_data(v)
}

fn utc(local: &str) -> DateTime<Utc> {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S").unwrap();
    Bucharest
        .from_local_datetime(&naive)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

// ---- orders as read ----------------------------------------------------------------------------

#[test]
fn a_realistic_order_is_valid_and_every_simulator_order_too() {
    valid(data(&order()));
    let sim = Simulator::start(SimConfig {
        orders: 400,
        offers: 30,
        seed: 7,
        ..SimConfig::default()
    })
    .unwrap();
    let orders = sim.orders();
    assert_eq!(orders.len(), 400);
    for o in &orders {
        let errors = data(o);
        assert!(errors.is_empty(), "order {}: {errors:#?}", o["id"]);
    }
}

#[test]
fn order_ids_and_codes() {
    let cases: [(&str, Value, &str); 8] = [
        (
            "id",
            json!(0),
            "must be an integer from 1 to 4294967295, got 0",
        ),
        ("id", json!(4_294_967_296u64), "got 4294967296"),
        ("id", json!("abc"), "got \"abc\""),
        ("status", json!(6), "must be an integer from 0 to 5, got 6"),
        ("status", json!(-1), "got -1"),
        ("payment_mode_id", json!(4), "must be 1, 2 or 3"),
        ("type", json!(1), "must be 2 or 3"),
        ("type", json!(true), "got true"),
    ];
    for (key, value, needle) in cases {
        let errors = data(&with(order(), |o| o[key] = value.clone()));
        expect(&errors, key, needle);
    }
    for key in ["id", "status", "payment_mode_id", "type"] {
        let errors = data(&with(order(), |o| {
            o.as_object_mut().unwrap().remove(key);
        }));
        expect(&errors, key, "is required");
    }
    // Passing variants: the bounds, numeric strings (eMAG sends both), type 2, every status.
    for (key, value) in [
        ("id", json!(1)),
        ("id", json!(4_294_967_295u64)),
        ("id", json!("300000123")),
        ("type", json!(2)),
        ("payment_mode_id", json!(2)),
        ("status", json!("4")),
        ("status", json!(0)),
        ("status", json!(5.0)),
    ] {
        valid(data(&with(order(), |o| o[key] = value.clone())));
    }
}

#[test]
fn products_present_listed_and_well_formed() {
    let errors = data(&with(order(), |o| {
        o.as_object_mut().unwrap().remove("products");
    }));
    expect(&errors, "products", "is required");
    expect(
        &data(&with(order(), |o| o["products"] = json!([]))),
        "products",
        "must not be empty",
    );
    expect(
        &data(&with(order(), |o| o["products"] = json!("abc"))),
        "products",
        "must be a list",
    );
    expect(
        &data(&with(order(), |o| o["products"] = json!({"0": {}}))),
        "products",
        "must be a list",
    );
    let errors = data(&with(order(), |o| o["products"][1] = json!("x")));
    expect(&errors, "products[1]", "must be an object, got \"x\"");

    let cases: [(&str, Value, &str); 9] = [
        ("quantity", json!(-1), "must be > 0, got -1"),
        ("quantity", json!(0), "must be > 0, got 0"),
        ("quantity", json!("two"), "must be an integer > 0"),
        ("sale_price", json!(-0.01), "must be a number >= 0"),
        ("sale_price", json!("12,50"), "must be a number >= 0"),
        ("status", json!(2), "must be 0 or 1"),
        ("vat", json!(101), "must be a number from 0 to 100"),
        ("vat", json!("-1"), "from 0 to 100"),
        ("id", json!(0), "must be an integer >= 1"),
    ];
    for (key, value, needle) in cases {
        let errors = data(&with(order(), |o| o["products"][1][key] = value.clone()));
        expect(&errors, &format!("products[1].{key}"), needle);
    }
    for key in ["id", "quantity", "sale_price", "status"] {
        let errors = data(&with(order(), |o| {
            o["products"][0].as_object_mut().unwrap().remove(key);
        }));
        expect(&errors, &format!("products[0].{key}"), "is required");
    }
    // vat only when present; line ids above the documented 9999999 (real ones do); status 0.
    let ok = with(order(), |o| {
        o["products"][0].as_object_mut().unwrap().remove("vat");
        o["products"][1]["id"] = json!(9_171_958_974i64);
        o["products"][1]["status"] = json!(0);
        o["products"][1]["sale_price"] = json!(0);
        o["products"][1]["vat"] = json!(21);
    });
    valid(data(&ok));
}

#[test]
fn quantity_zero_only_on_a_storno() {
    let storno = with(order(), |o| {
        o["status"] = json!(4);
        o["is_storno"] = json!(true);
        o["products"][1]["quantity"] = json!(0);
    });
    valid(data(&storno));
    // Fully reversed lines read back as returned (5) with is_storno.
    valid(data(&with(storno.clone(), |o| o["status"] = json!(5))));
    let not_finalized = with(storno.clone(), |o| o["status"] = json!(3));
    expect(
        &data(&not_finalized),
        "products[1].quantity",
        "0 only in a partial return",
    );
    let no_flag = with(storno, |o| o["is_storno"] = json!(false));
    expect(
        &data(&no_flag),
        "products[1].quantity",
        "must be > 0, got 0",
    );
    // Never negative, even on a storno.
    let negative = with(order(), |o| {
        o["status"] = json!(4);
        o["is_storno"] = json!(1);
        o["products"][0]["quantity"] = json!(-1);
    });
    expect(&data(&negative), "products[0].quantity", "got -1");
}

#[test]
fn customer_name_phone_and_email() {
    let errors = data(&with(order(), |o| {
        o.as_object_mut().unwrap().remove("customer");
    }));
    expect(&errors, "customer", "is required");
    expect(
        &data(&with(order(), |o| o["customer"] = json!("Ana"))),
        "customer",
        "got \"Ana\"",
    );
    let errors = data(&with(order(), |o| {
        o["customer"].as_object_mut().unwrap().remove("name");
    }));
    expect(&errors, "customer.name", "is required");
    expect(
        &data(&with(order(), |o| o["customer"]["name"] = json!("  "))),
        "customer.name",
        "non-empty",
    );
    let errors = data(&with(order(), |o| {
        o["customer"].as_object_mut().unwrap().remove("phone_1");
    }));
    expect(&errors, "customer.phone_1", "is required");
    // phone1 (the spelling) is accepted in place of phone_1.
    valid(data(&with(order(), |o| {
        let c = o["customer"].as_object_mut().unwrap();
        c.remove("phone_1");
        c.insert("phone1".into(), json!("0722000111"));
    })));
    for bad in ["ana", "ana@", "ana@host", "ana popescu@x.ro", "a@@b.ro"] {
        let errors = data(&with(order(), |o| o["customer"]["email"] = json!(bad)));
        expect(
            &errors,
            "customer.email",
            "must be a plausible email address",
        );
    }
    expect(
        &data(&with(order(), |o| o["customer"]["email"] = json!(12))),
        "customer.email",
        "got 12",
    );
    // Absent, null or empty email: nothing to check.
    valid(data(&with(order(), |o| {
        o["customer"]["email"] = json!(null)
    })));
    valid(data(&with(order(), |o| o["customer"]["email"] = json!(""))));
}

#[test]
fn payment_status_is_required_for_card_payments() {
    let card = with(order(), |o| {
        o["payment_mode_id"] = json!(3);
        o.as_object_mut().unwrap().remove("payment_status");
    });
    expect(
        &data(&card),
        "payment_status",
        "required for online card payments",
    );
    valid(data(&with(card.clone(), |o| {
        o["payment_status"] = json!(1)
    })));
    expect(
        &data(&with(card, |o| o["payment_status"] = json!(2))),
        "payment_status",
        "must be 0 or 1",
    );
    // Optional for the other payment modes.
    valid(data(&with(order(), |o| {
        o.as_object_mut().unwrap().remove("payment_status");
    })));
}

#[test]
fn dates_in_emags_form() {
    for (path, set) in [
        ("date", "/date"),
        ("modified", "/modified"),
        ("products[0].created", "/products/0/created"),
        ("products[1].modified", "/products/1/modified"),
    ] {
        for bad in [
            "2025-08-01T10:00:00",
            "2025-02-30 10:00:00",
            "01.08.2025 10:00",
            "",
            "2025-08-01",
        ] {
            let errors = data(&with(order(), |o| {
                *o.pointer_mut(set).unwrap() = json!(bad)
            }));
            expect(&errors, path, "YYYY-mm-dd HH:ii:ss");
        }
        let errors = data(&with(order(), |o| {
            *o.pointer_mut(set).unwrap() = json!(20250801)
        }));
        expect(&errors, path, "got 20250801");
        valid(data(&with(order(), |o| {
            *o.pointer_mut(set).unwrap() = json!("2024-02-29 23:59:59")
        })));
        valid(data(&with(order(), |o| {
            *o.pointer_mut(set).unwrap() = Value::Null
        })));
    }
}

#[test]
fn voucher_values_are_negative() {
    let voucher = json!({"voucher_id": 2000001, "modified": "2025-08-01 10:00:00", "created": "2025-08-01 10:00:00",
        "status": 1, "sale_price": "-8.2645", "sale_price_vat": "-1.7355", "voucher_name": "Voucher 10 lei",
        "vat": "0.21", "issue_date": "2025-08-01"});
    let split = json!({"voucher_id": 2000001, "value": "-8.2645", "vat_value": "-1.7355", "vat": "0.21",
        "offered_by": "seller", "voucher_name": "Voucher 10 lei"});
    let good = with(order(), |o| {
        o["vouchers"] = json!([voucher]);
        o["products"][0]["product_voucher_split"] = json!([split]);
        o["shipping_tax_voucher_split"] =
            json!([{"voucher_id": 2000002, "value": "-16.5207", "vat_value": "0"}]);
    });
    valid(data(&good));
    let errors = data(&with(good.clone(), |o| {
        o["vouchers"][0]["sale_price"] = json!("8.2645")
    }));
    expect(
        &errors,
        "vouchers[0].sale_price",
        "must be a negative number",
    );
    let errors = data(&with(good.clone(), |o| {
        o["vouchers"][0]["sale_price_vat"] = json!(1)
    }));
    expect(&errors, "vouchers[0].sale_price_vat", "negative");
    let errors = data(&with(good.clone(), |o| {
        o["products"][0]["product_voucher_split"][0]["value"] = json!(0)
    }));
    expect(
        &errors,
        "products[0].product_voucher_split[0].value",
        "negative",
    );
    let errors = data(&with(good.clone(), |o| {
        o["shipping_tax_voucher_split"][0]["value"] = json!(3)
    }));
    expect(&errors, "shipping_tax_voucher_split[0].value", "negative");
    let errors = data(&with(good.clone(), |o| {
        o["vouchers"][0]["issue_date"] = json!("2025/08/01")
    }));
    expect(&errors, "vouchers[0].issue_date", "YYYY-mm-dd");
    expect(
        &data(&with(good, |o| o["vouchers"] = json!({}))),
        "vouchers",
        "must be a list",
    );
}

#[test]
fn other_order_fields() {
    let errors = data(&with(order(), |o| o["reason_cancellation"] = json!(4)));
    expect(&errors, "reason_cancellation", "cancellation reason");
    let errors = data(&with(order(), |o| o["reason_cancellation"] = json!("")));
    expect_none(&errors, "reason_cancellation");
    valid(data(&with(order(), |o| {
        o["status"] = json!(0);
        o["reason_cancellation"] = json!(15);
    })));
    expect(
        &data(&with(order(), |o| o["is_complete"] = json!(2))),
        "is_complete",
        "0 or 1",
    );
    expect(
        &data(&with(order(), |o| o["delivery_mode"] = json!("drone"))),
        "delivery_mode",
        "courier",
    );
    valid(data(&with(order(), |o| {
        o["delivery_mode"] = json!("pickup")
    })));
    expect(
        &data(&with(order(), |o| o["is_storno"] = json!("maybe"))),
        "is_storno",
        "true or false",
    );
    expect(
        &data(&with(order(), |o| o["shipping_tax"] = json!("free"))),
        "shipping_tax",
        "a number",
    );
}

#[test]
fn bad_shapes_give_messages_never_a_panic() {
    for garbage in [
        json!(null),
        json!("order"),
        json!(12),
        json!([order()]),
        json!(true),
        json!(1e300),
    ] {
        let errors = data(&garbage);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("order: must be an object, got "),
            "{errors:?}"
        );
    }
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!({"products": [deep]});
    }
    let nested = json!({
        "id": {"nested": [1, 2, {"x": null}]}, "status": [[[]]], "payment_mode_id": 1e308,
        "type": u64::MAX, "products": [null, [], {"id": -9.5, "quantity": 1e20, "sale_price": "NaN",
        "status": "1", "vat": "inf"}, deep], "customer": {"name": {"first": "Ana"}, "phone_1": [],
        "email": {"a": 1}}, "date": ["2025"], "vouchers": "none"
    });
    let errors = data(&nested);
    for path in [
        "id",
        "status",
        "payment_mode_id",
        "type",
        "products[0]",
        "products[1]",
        "products[2].id",
        "products[2].quantity",
        "products[2].sale_price",
        "products[2].vat",
        "customer.name",
        "customer.phone_1",
        "customer.email",
        "date",
        "vouchers",
    ] {
        assert!(
            errors.iter().any(|e| e.starts_with(&format!("{path}: "))),
            "{path}: {errors:#?}"
        );
    }
    expect(&errors, "type", "got a huge integer");
    expect(&errors, "payment_mode_id", "got 1e308");
    expect(&errors, "id", "got an object");
    // Long strings are shown shortened.
    let long = "x".repeat(10_000);
    let errors = data(&with(order(), |o| o["status"] = json!(long)));
    assert!(errors[0].len() < 200, "{}", errors[0]);
}

// ---- cancellations -----------------------------------------------------------------------------

#[test]
fn all_32_cancellation_codes_and_nothing_else() {
    let documented: Vec<i64> = (1..=3).chain(15..=43).collect();
    assert_eq!(documented.len(), 32);
    for code in &documented {
        valid(validate_order_cancellation(300000123, *code));
        valid(validate_order_cancellation_doc(
            &json!(300000123),
            &json!(code),
        ));
        valid(validate_order_cancellation_doc(
            &json!("300000123"),
            &json!(code.to_string()),
        ));
    }
    let rejected: Vec<i64> = [0, 44, -1, 45, 100, i64::MAX, i64::MIN]
        .into_iter()
        .chain(4..=14)
        .collect();
    for code in rejected {
        let errors = validate_order_cancellation(300000123, code);
        assert_eq!(errors.len(), 1, "{code}: {errors:?}");
        expect(&errors, "reason_cancellation", "cancellation reason");
        expect(
            &validate_order_cancellation_doc(&json!(1), &json!(code)),
            "reason_cancellation",
            "cancellation reason",
        );
    }
    for garbage in [
        json!("abc"),
        json!(1.5),
        json!([1]),
        json!({}),
        json!(1e30),
        json!(null),
        json!(true),
    ] {
        let errors = validate_order_cancellation_doc(&json!(1), &garbage);
        expect(&errors, "reason_cancellation", "cancellation reason");
    }
    expect(
        &validate_order_cancellation(0, 1),
        "order_id",
        "from 1 to 4294967295",
    );
    expect(
        &validate_order_cancellation(4_294_967_296, 1),
        "order_id",
        "got 4294967296",
    );
    expect(
        &validate_order_cancellation_doc(&json!("x"), &json!(1)),
        "order_id",
        "got \"x\"",
    );
    let err = ensure(validate_order_cancellation(1, 4)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert!(err.validation_errors()[0].contains("cancellation reason"));
    assert!(ensure(validate_order_cancellation(1, 43)).is_ok());
}

// ---- order/save --------------------------------------------------------------------------------

const T0: &str = "2025-08-01 12:00:00";

fn current(status: i64) -> Value {
    with(order(), |o| {
        o["status"] = json!(status);
        o["modified"] = json!(T0);
        if status == 0 {
            o["reason_cancellation"] = json!(1);
        }
    })
}

fn moved(cur: &Value, to: i64) -> Value {
    with(cur.clone(), |o| {
        o["status"] = json!(to);
        if to == 0 && o["reason_cancellation"].is_null() {
            o["reason_cancellation"] = json!(2);
        }
        if to != 0 {
            o["reason_cancellation"] = Value::Null;
        }
    })
}

fn status_errors(errors: Vec<String>) -> Vec<String> {
    errors
        .into_iter()
        .filter(|e| e.starts_with("status: "))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Rule {
    No,
    Yes,
    Ack,
    H48,
    Rt5,
}

/// The documented matrix (spec §10.8), rows current 0..=5, columns new 0..=5.
const MATRIX: [[Rule; 6]; 6] = {
    use Rule::*;
    [
        [Yes, No, H48, H48, H48, No],
        [No, No, Ack, No, No, No],
        [Yes, No, Yes, Yes, Yes, No],
        [Yes, No, No, Yes, Yes, No],
        [H48, No, No, H48, Yes, Rt5],
        [No, No, No, No, No, No],
    ]
};

#[test]
fn the_full_status_matrix_against_current() {
    let t0 = utc(T0);
    for from in 0..=5i64 {
        for to in 0..=5i64 {
            let rule = MATRIX[from as usize][to as usize];
            let cur = current(from);
            let new = moved(&cur, to);
            let at = |elapsed: Duration| {
                status_errors(validate_order_for_update(
                    &new,
                    Some(&cur),
                    Some(t0 + elapsed),
                ))
            };
            let case = format!("{from} -> {to} ({rule:?})");
            match rule {
                Rule::Yes => {
                    assert!(
                        at(Duration::hours(1)).is_empty(),
                        "{case}: {:?}",
                        at(Duration::hours(1))
                    );
                    assert!(at(Duration::days(400)).is_empty(), "{case}");
                }
                Rule::No | Rule::Ack => {
                    let errors = at(Duration::hours(1));
                    assert_eq!(errors.len(), 1, "{case}: {errors:?}");
                    if rule == Rule::Ack {
                        assert!(
                            errors[0].contains("only through order/acknowledge"),
                            "{case}: {errors:?}"
                        );
                    }
                    if to == 1 {
                        assert!(
                            errors[0].contains("never saved in status 1"),
                            "{case}: {errors:?}"
                        );
                    }
                }
                Rule::H48 => {
                    assert!(
                        at(Duration::hours(47)).is_empty(),
                        "{case}: {:?}",
                        at(Duration::hours(47))
                    );
                    assert!(at(Duration::hours(48)).is_empty(), "{case}");
                    let errors = at(Duration::hours(49));
                    assert_eq!(errors.len(), 1, "{case}: {errors:?}");
                    assert!(errors[0].contains("within 48 hours"), "{case}: {errors:?}");
                    assert!(errors[0].contains(T0), "{case}: {errors:?}");
                }
                Rule::Rt5 => {
                    assert!(at(Duration::days(18)).is_empty(), "{case}");
                    assert!(at(Duration::days(19)).is_empty(), "{case}");
                    let errors = at(Duration::days(20));
                    assert_eq!(errors.len(), 1, "{case}: {errors:?}");
                    assert!(
                        errors[0].contains("return period plus 5 days (19 days)"),
                        "{case}: {errors:?}"
                    );
                    // A longer return period moves the limit.
                    let options = {
                        let mut o = Options::at(t0 + Duration::days(20));
                        o.return_period_days = 30;
                        o
                    };
                    let errors = validate_order_for_update_with(&new, Some(&cur), &options);
                    assert!(status_errors(errors).is_empty(), "{case}");
                }
            }
            // Without current, only "status 1" can be claimed.
            let alone = status_errors(validate_order_for_update(
                &new,
                None,
                Some(t0 + Duration::days(400)),
            ));
            assert_eq!(
                alone.is_empty(),
                to != 1,
                "{case} without current: {alone:?}"
            );
            // Without a usable timestamp, a timed rule is never claimed.
            let undated = with(cur.clone(), |o| o["modified"] = json!("garbage"));
            let errors = status_errors(validate_order_for_update(
                &new,
                Some(&undated),
                Some(t0 + Duration::days(400)),
            ));
            if matches!(rule, Rule::H48 | Rule::Rt5) {
                assert!(errors.is_empty(), "{case} undated: {errors:?}");
            }
        }
    }
}

#[test]
fn the_48_hours_count_real_hours_across_a_dst_change() {
    // Finalized 2025-10-25 12:00 local (EEST); 48 real hours later is 2025-10-27 11:00 local
    // (EET, clocks went back one hour on the 26th).
    let cur = with(current(4), |o| o["modified"] = json!("2025-10-25 12:00:00"));
    let new = moved(&cur, 3);
    let at = |local: &str| {
        status_errors(validate_order_for_update(
            &new,
            Some(&cur),
            Some(utc(local)),
        ))
    };
    assert!(at("2025-10-27 11:00:00").is_empty());
    assert_eq!(at("2025-10-27 11:30:00").len(), 1);
}

#[test]
fn every_simulator_order_saved_as_read() {
    let sim = Simulator::start(SimConfig {
        orders: 300,
        seed: 11,
        ..SimConfig::default()
    })
    .unwrap();
    let now = utc(&sim.now_string());
    for o in sim.orders() {
        let errors = validate_order_for_update(&o, Some(&o), Some(now));
        let (kind, status) = (o["type"].as_i64().unwrap(), o["status"].as_i64().unwrap());
        if kind == 2 {
            expect(&errors, "type", "type 2");
        } else if status == 1 {
            expect(&errors, "status", "status 1");
        } else if status == 5 {
            expect(&errors, "status", "returned order");
        } else {
            assert!(
                errors.is_empty(),
                "order {} (status {status}): {errors:#?}",
                o["id"]
            );
        }
    }
}

#[test]
fn what_may_be_saved_at_all() {
    let cur = current(2);
    // id
    expect(
        &validate_order_for_update(
            &with(cur.clone(), |o| {
                o.as_object_mut().unwrap().remove("id");
            }),
            None,
            None,
        ),
        "id",
        "is required",
    );
    expect(
        &validate_order_for_update(&with(cur.clone(), |o| o["id"] = json!(5)), Some(&cur), None),
        "id",
        "does not match",
    );
    // type 2 never saved, whether it is the sent or the current type; type is required.
    let type2 = with(cur.clone(), |o| o["type"] = json!(2));
    expect(
        &validate_order_for_update(&type2, None, None),
        "type",
        "never saved",
    );
    expect(
        &validate_order_for_update(&cur, Some(&type2), None),
        "type",
        "never saved",
    );
    expect(
        &validate_order_for_update(
            &with(cur.clone(), |o| {
                o.as_object_mut().unwrap().remove("type");
            }),
            None,
            None,
        ),
        "type",
        "is required",
    );
    valid(validate_order_for_update(&cur, None, None));
    valid(validate_order_for_update(&cur, Some(&cur), None));
    // status required and 0-5
    expect(
        &validate_order_for_update(&with(cur.clone(), |o| o["status"] = json!(7)), None, None),
        "status",
        "from 0 to 5",
    );
    expect(
        &validate_order_for_update(
            &with(cur.clone(), |o| o["status"] = json!(null)),
            None,
            None,
        ),
        "status",
        "is required",
    );
    // A new or returned current order cannot be saved at all.
    expect(
        &validate_order_for_update(&current(1), Some(&current(1)), None),
        "status",
        "never saved in status 1",
    );
    expect(
        &validate_order_for_update(&current(5), Some(&current(5)), None),
        "status",
        "returned order (status 5) cannot be saved",
    );
    // Bad shapes of order and current.
    expect(
        &validate_order_for_update(&json!([1]), None, None),
        "order",
        "must be an object",
    );
    let errors = validate_order_for_update(&cur, Some(&json!("current")), None);
    expect(&errors, "current", "must be an object");
}

#[test]
fn cancelling_needs_a_valid_reason() {
    let cur = current(2);
    let cancel = with(cur.clone(), |o| o["status"] = json!(0));
    expect(
        &validate_order_for_update(&cancel, None, None),
        "reason_cancellation",
        "is required when cancelling",
    );
    expect(
        &validate_order_for_update(&cancel, Some(&cur), None),
        "reason_cancellation",
        "is required",
    );
    valid(validate_order_for_update(
        &with(cancel.clone(), |o| o["reason_cancellation"] = json!(19)),
        Some(&cur),
        None,
    ));
    // The pre-4.4.7 key is accepted.
    valid(validate_order_for_update(
        &with(cancel.clone(), |o| o["cancellation_reason"] = json!("3")),
        None,
        None,
    ));
    let errors = validate_order_for_update(
        &with(cancel.clone(), |o| o["reason_cancellation"] = json!(9)),
        None,
        None,
    );
    expect(&errors, "reason_cancellation", "cancellation reason");
    expect(
        &validate_order_for_update(
            &with(cancel.clone(), |o| o["cancellation_reason"] = json!(44)),
            None,
            None,
        ),
        "cancellation_reason",
        "cancellation reason",
    );
    // An order already cancelled saved again without a reason: eMAG keeps the one it has.
    let cancelled = with(current(0), |o| o["reason_cancellation"] = Value::Null);
    valid(validate_order_for_update(
        &cancelled,
        Some(&cancelled),
        None,
    ));
}

#[test]
fn storno_rules() {
    let cur = current(4);
    let reduce = |o: &mut Value| o["products"][0]["quantity"] = json!(1);
    // Scenario 1: a partial return that lowers a quantity.
    let s1 = with(cur.clone(), |o| {
        reduce(o);
        o["is_storno"] = json!(true);
    });
    valid(validate_order_for_update(&s1, Some(&cur), None));
    valid(validate_order_for_update(&s1, None, None));
    // Scenarios 2 and 3: quantity 0 or status 0.
    valid(validate_order_for_update(
        &with(s1.clone(), |o| o["products"][1]["quantity"] = json!(0)),
        Some(&cur),
        None,
    ));
    valid(validate_order_for_update(
        &with(cur.clone(), |o| {
            o["is_storno"] = json!(true);
            o["products"][1]["status"] = json!(0);
        }),
        Some(&cur),
        None,
    ));
    // Scenario 4: a finalized order modified without is_storno.
    let s4 = with(cur.clone(), reduce);
    expect(
        &validate_order_for_update(&s4, Some(&cur), None),
        "products",
        "send is_storno = true",
    );
    // Scenario 5: is_storno without any change (also when products are not sent).
    let s5 = with(cur.clone(), |o| o["is_storno"] = json!(true));
    expect(
        &validate_order_for_update(&s5, Some(&cur), None),
        "is_storno",
        "no line was reduced",
    );
    let no_lines = with(s5.clone(), |o| {
        o.as_object_mut().unwrap().remove("products");
    });
    expect(
        &validate_order_for_update(&no_lines, None, None),
        "is_storno",
        "needs the product lines",
    );
    // Scenario 6: is_storno on a status other than 4.
    let cur3 = current(3);
    let s6 = with(cur3.clone(), |o| {
        o["is_storno"] = json!(true);
        reduce(o);
    });
    expect(
        &validate_order_for_update(&s6, Some(&cur3), None),
        "is_storno",
        "keeps the order in status 4",
    );
    expect(
        &validate_order_for_update(&s6, Some(&cur3), None),
        "is_storno",
        "only a finalized order",
    );
    let s6b = with(s1.clone(), |o| o["status"] = json!(4));
    expect(
        &validate_order_for_update(&s6b, Some(&cur3), None),
        "is_storno",
        "the order is in status 3",
    );
    // Scenario 7: a negative quantity.
    let s7 = with(s1.clone(), |o| o["products"][0]["quantity"] = json!(-1));
    expect(
        &validate_order_for_update(&s7, Some(&cur), None),
        "products[0].quantity",
        "never negative",
    );
    expect(
        &validate_order_for_update(&s7, None, None),
        "products[0].quantity",
        "got -1",
    );
    // A storno only lowers: no new lines, no raised quantities.
    let add = with(s1.clone(), |o| {
        o["products"]
            .as_array_mut()
            .unwrap()
            .push(json!({"product_id": 5, "name": "X", "sale_price": "1", "quantity": 1}))
    });
    expect(
        &validate_order_for_update(&add, None, None),
        "products[2]",
        "cannot add lines",
    );
    let raise = with(cur.clone(), |o| {
        o["is_storno"] = json!(true);
        o["products"][0]["quantity"] = json!(1);
        o["products"][1]["quantity"] = json!(5);
    });
    expect(
        &validate_order_for_update(&raise, Some(&cur), None),
        "products",
        "can only lower",
    );
    // Full reversal is 4 -> 5, not a storno.
    expect(
        &validate_order_for_update(&with(s1, |o| o["status"] = json!(5)), None, None),
        "is_storno",
        "use status 5 for a full return",
    );
}

#[test]
fn line_edits() {
    let cur = current(2);
    let edit = |f: &dyn Fn(&mut Value)| with(cur.clone(), |o| f(o));
    // Lowering a quantity and removing lines: fine for cash on delivery...
    valid(validate_order_for_update(
        &edit(&|o| o["products"][0]["quantity"] = json!(1)),
        Some(&cur),
        None,
    ));
    valid(validate_order_for_update(
        &edit(&|o| o["products"][1]["status"] = json!(0)),
        Some(&cur),
        None,
    ));
    valid(validate_order_for_update(
        &edit(&|o| {
            o["products"].as_array_mut().unwrap().pop();
        }),
        Some(&cur),
        None,
    ));
    // ...never for card-online orders.
    let card_cur = with(cur.clone(), |o| {
        o["payment_mode_id"] = json!(3);
        o["payment_status"] = json!(1);
    });
    for f in [
        &(|o: &mut Value| o["products"][0]["quantity"] = json!(1)) as &dyn Fn(&mut Value),
        &|o: &mut Value| o["products"][1]["status"] = json!(0),
        &|o: &mut Value| {
            o["products"].as_array_mut().unwrap().pop();
        },
    ] {
        let errors = validate_order_for_update(&with(card_cur.clone(), f), Some(&card_cur), None);
        expect(&errors, "products", "paid online by card");
    }
    // Raising a quantity on a card order is fine.
    valid(validate_order_for_update(
        &with(card_cur.clone(), |o| {
            o["products"][0]["quantity"] = json!(3)
        }),
        Some(&card_cur),
        None,
    ));
    // Prices and product identifiers never change.
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][0]["sale_price"] = json!("39.99")),
            Some(&cur),
            None,
        ),
        "products[0].sale_price",
        "prices cannot be changed",
    );
    valid(validate_order_for_update(
        &edit(&|o| o["products"][0]["sale_price"] = json!(49.99)),
        Some(&cur),
        None,
    ));
    for key in ["product_id", "part_number", "ext_part_number"] {
        let errors = validate_order_for_update(
            &edit(&|o| o["products"][1][key] = json!("OTHER")),
            Some(&cur),
            None,
        );
        expect(&errors, &format!("products[1].{key}"), "cannot be changed");
    }
    valid(validate_order_for_update(
        &edit(&|o| o["products"][0]["product_id"] = json!("1001")),
        Some(&cur),
        None,
    ));
    // Lines must belong to the order and come once.
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][1]["id"] = json!(5)),
            Some(&cur),
            None,
        ),
        "products[1].id",
        "not a line of this order",
    );
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][1]["id"] = json!(171000001)),
            None,
            None,
        ),
        "products[1].id",
        "more than once",
    );
    expect(
        &validate_order_for_update(&edit(&|o| o["products"][1]["id"] = json!("x")), None, None),
        "products[1].id",
        "positive integer",
    );
    // Quantity 0 on an active line outside a storno.
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][0]["quantity"] = json!(0)),
            None,
            None,
        ),
        "products[0].quantity",
        "must be > 0, got 0",
    );
    // New lines.
    let new_line = json!({"product_id": 1003, "name": "Husa", "status": 1, "sale_price": "9.9000", "quantity": 1});
    let added = edit(&|o| o["products"].as_array_mut().unwrap().push(new_line.clone()));
    valid(validate_order_for_update(&added, Some(&cur), None));
    valid(validate_order_for_update(&added, None, None));
    for (key, needle) in [
        ("product_id", "is required"),
        ("name", "is required for a new line"),
        ("sale_price", "is required for a new line"),
        ("quantity", "is required for a new line"),
    ] {
        let errors = validate_order_for_update(
            &with(added.clone(), |o| {
                o["products"][2].as_object_mut().unwrap().remove(key);
            }),
            None,
            None,
        );
        expect(&errors, &format!("products[2].{key}"), needle);
    }
    expect(
        &validate_order_for_update(
            &with(added.clone(), |o| o["products"][2]["quantity"] = json!(0)),
            None,
            None,
        ),
        "products[2].quantity",
        "at least 1",
    );
    // Edits only in status 2 and 3.
    for status in [0, 4] {
        let c = current(status);
        let errors = validate_order_for_update(
            &with(c.clone(), |o| {
                o["products"].as_array_mut().unwrap().push(new_line.clone())
            }),
            Some(&c),
            None,
        );
        assert!(
            errors.iter().any(|e| e.starts_with("products: ")),
            "{status}: {errors:?}"
        );
    }
    let c0 = current(0);
    expect(
        &validate_order_for_update(
            &with(c0.clone(), |o| o["products"][0]["quantity"] = json!(1)),
            Some(&c0),
            None,
        ),
        "products",
        "only in status 2 (in progress) or 3 (prepared)",
    );
    valid(validate_order_for_update(
        &with(current(3), |o| o["products"][0]["quantity"] = json!(1)),
        Some(&current(3)),
        None,
    ));
    // Bad line shapes.
    expect(
        &validate_order_for_update(&edit(&|o| o["products"] = json!("all")), None, None),
        "products",
        "must be a list",
    );
    expect(
        &validate_order_for_update(&edit(&|o| o["products"][0] = json!(7)), None, None),
        "products[0]",
        "must be an object",
    );
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][0]["status"] = json!(3)),
            None,
            None,
        ),
        "products[0].status",
        "0 or 1",
    );
    expect(
        &validate_order_for_update(
            &edit(&|o| o["products"][0]["sale_price"] = json!(-1)),
            None,
            None,
        ),
        "products[0].sale_price",
        ">= 0",
    );
}

// ---- bulk -------------------------------------------------------------------------------------

#[test]
fn bulk_errors_per_order_id() {
    let good = current(2);
    let bad = with(current(2), |o| {
        o["id"] = json!(77);
        o["status"] = json!(1);
    });
    let no_id = with(current(3), |o| {
        o.as_object_mut().unwrap().remove("id");
    });
    let orders = json!([good.clone(), bad, "nonsense", no_id, good]);
    let out = validate_bulk_order_update(&orders);
    let keys: Vec<&str> = out.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["77", "[2]", "[3]", "300000123"]);
    expect(&out[0].1, "status", "status 1");
    expect(&out[1].1, "order", "must be an object");
    expect(&out[2].1, "id", "is required");
    expect(&out[3].1, "id", "sent more than once");
    assert!(validate_bulk_order_update(&json!([current(2), current(3)]))
        .iter()
        .any(|(k, _)| k == "300000123"));
    assert!(validate_bulk_order_update(&json!([])).is_empty());
    let not_a_list = validate_bulk_order_update(&json!({"id": 1}));
    assert_eq!(not_a_list.len(), 1);
    assert_eq!(not_a_list[0].0, "orders");
    assert!(not_a_list[0].1[0].contains("must be a list"));
    // More than 50 is fine here: the client's save helpers split bulks.
    let many: Vec<Value> = (1..=120)
        .map(|i| with(current(2), |o| o["id"] = json!(i)))
        .collect();
    assert!(validate_bulk_order_update(&Value::Array(many)).is_empty());
}

// ---- offers -----------------------------------------------------------------------------------

fn today_options(mode: OfferMode) -> Options {
    {
        let mut o = Options::at(utc("2025-08-10 12:00:00"));
        o.offer_mode = mode;
        o
    }
}

fn offer_update() -> Value {
    json!({"id": 1001, "status": 1, "sale_price": "99.5000", "vat_id": 1,
           "stock": [{"warehouse_id": 1, "value": 12}], "handling_time": [{"warehouse_id": 1, "value": 1}]})
}

fn offer_create() -> Value {
    with(offer_update(), |o| {
        let m = o.as_object_mut().unwrap();
        for (k, v) in [
            ("category_id", json!(506)),
            ("name", json!("Casti audio Sony")),
            ("part_number", json!("WH-1000XM5")),
            ("brand", json!("Sony")),
            ("min_sale_price", json!(80)),
            ("max_sale_price", json!(150)),
            ("description", json!("<p>Casti</p>")),
            ("warranty", json!(24)),
            ("ean", json!(["5941234567890"])),
            (
                "images",
                json!([{"display_type": 1, "url": "https://img.example/1.jpg"}]),
            ),
            ("characteristics", json!([{"id": 12, "value": "Negru"}])),
            ("supply_lead_time", json!(14)),
            ("family", json!({"id": 0})),
            (
                "manufacturer",
                json!([{"name": "Sony", "address": "Tokyo", "email": "eu@sony.example"}]),
            ),
            ("start_date", json!("2025-08-20")),
            ("green_tax", json!("0.5000")),
        ] {
            m.insert(k.into(), v);
        }
    })
}

fn offer(v: &Value, mode: OfferMode) -> Vec<String> {
    validate_offer_with(v, &today_options(mode))
}

#[test]
fn offer_modes_and_required_keys() {
    valid(offer(&offer_update(), OfferMode::Update));
    valid(offer(&offer_update(), OfferMode::Auto));
    valid(offer(&offer_create(), OfferMode::Create));
    valid(offer(&offer_create(), OfferMode::Auto));
    valid(validate::validate_offer(&offer_update()));
    for key in [
        "id",
        "status",
        "sale_price",
        "vat_id",
        "stock",
        "handling_time",
    ] {
        let errors = offer(
            &with(offer_update(), |o| {
                o.as_object_mut().unwrap().remove(key);
            }),
            OfferMode::Update,
        );
        expect(&errors, key, "is required");
    }
    // handling_time is required only in the offer-update list.
    valid(offer(
        &with(offer_update(), |o| {
            o.as_object_mut().unwrap().remove("handling_time");
        }),
        OfferMode::Auto,
    ));
    for key in [
        "category_id",
        "name",
        "part_number",
        "brand",
        "min_sale_price",
        "max_sale_price",
    ] {
        let errors = offer(
            &with(offer_create(), |o| {
                o.as_object_mut().unwrap().remove(key);
            }),
            OfferMode::Create,
        );
        expect(&errors, key, "is required");
    }
    // Light: id only, and nothing but offer keys.
    valid(offer(
        &json!({"id": 1001, "sale_price": 90}),
        OfferMode::Light,
    ));
    expect(
        &offer(&json!({"sale_price": 90}), OfferMode::Light),
        "id",
        "is required",
    );
    expect(
        &offer(&json!({"id": 1001, "brand": "Sony"}), OfferMode::Light),
        "offer",
        "does not take the key \"brand\"",
    );
    // Attach: exactly one of part_number_key and a single ean.
    let attach = json!({"id": 1002, "name": "Casti", "part_number_key": "D5DD9BBBM", "status": 1, "sale_price": 99,
                        "min_sale_price": 80, "max_sale_price": 150, "vat_id": 1, "stock": [{"warehouse_id": 1, "value": 3}]});
    valid(offer(&attach, OfferMode::Attach));
    let by_ean = with(attach.clone(), |o| {
        o.as_object_mut().unwrap().remove("part_number_key");
        o["ean"] = json!(["5941234567890"]);
    });
    valid(offer(&by_ean, OfferMode::Attach));
    expect(
        &offer(
            &with(by_ean.clone(), |o| {
                o["ean"] = json!(["5941234567890", "5941234567891"])
            }),
            OfferMode::Attach,
        ),
        "ean",
        "exactly one EAN",
    );
    expect(
        &offer(
            &with(attach.clone(), |o| o["ean"] = json!(["5941234567890"])),
            OfferMode::Attach,
        ),
        "part_number_key",
        "not both",
    );
    expect(
        &offer(
            &with(attach.clone(), |o| {
                o.as_object_mut().unwrap().remove("part_number_key");
            }),
            OfferMode::Attach,
        ),
        "part_number_key",
        "is required",
    );
    expect(
        &offer(
            &with(attach.clone(), |o| o["status"] = json!(2)),
            OfferMode::Attach,
        ),
        "status",
        "0 or 1",
    );
    expect(
        &offer(
            &with(attach, |o| o["part_number_key"] = json!("D5D-9")),
            OfferMode::Attach,
        ),
        "part_number_key",
        "letters and digits",
    );
    expect(
        &offer(
            &with(offer_create(), |o| {
                o["part_number_key"] = json!("D5DD9BBBM")
            }),
            OfferMode::Create,
        ),
        "part_number_key",
        "never send it for a new product",
    );
    expect(
        &offer(
            &with(offer_create(), |o| o["status"] = json!(2)),
            OfferMode::Create,
        ),
        "status",
        "only on updates",
    );
    valid(offer(
        &with(offer_update(), |o| o["status"] = json!(2)),
        OfferMode::Update,
    ));
    assert_eq!("offer/save".parse::<OfferMode>().unwrap(), OfferMode::Light);
    assert!("patch".parse::<OfferMode>().is_err());
}

#[test]
fn offer_values() {
    let cases: [(&str, Value, &str); 26] = [
        ("id", json!(16_777_216), "from 1 to 16777215"),
        ("id", json!(0), "from 1 to 16777215"),
        ("sale_price", json!(0), "> 0 with at most 4 decimals"),
        ("sale_price", json!("99.12345"), "at most 4 decimals"),
        (
            "sale_price",
            json!(70),
            "within [min_sale_price 80, max_sale_price 150]",
        ),
        ("sale_price", json!(151), "within"),
        ("max_sale_price", json!(80), "greater than min_sale_price"),
        ("recommended_price", json!(90), "greater than sale_price"),
        ("status", json!(3), "got 3"),
        ("vat_id", json!(0), ">= 1"),
        ("stock", json!(5), "must be a list"),
        ("stock", json!([]), "must not be empty"),
        ("stock", json!([{"warehouse_id": 1, "value": 65_536}]), ""),
        (
            "handling_time",
            json!([{"warehouse_id": 1, "value": 256}]),
            "",
        ),
        ("warranty", json!(256), "from 0 to 255"),
        ("supply_lead_time", json!(4), "one of 2, 3, 5"),
        ("currency_type", json!("USD"), "\"EUR\" or \"PLN\""),
        ("start_date", json!("2025-08-10"), "from tomorrow"),
        ("start_date", json!("2025-10-10"), "60 days ahead"),
        ("start_date", json!(null), "never null"),
        ("category_id", json!(65_536), "from 1 to 65535"),
        ("name", json!(""), "1 to 255 characters"),
        (
            "part_number",
            json!("A B,C;D-1234567890123456789012"),
            "1 to 25 characters once spaces",
        ),
        ("ean", json!(["12345"]), "6 to 14 digits"),
        ("ean", json!("5941234567890"), "must be a list"),
        ("green_tax", json!(-1), ">= 0"),
    ];
    for (key, value, needle) in cases {
        let errors = offer(
            &with(offer_create(), |o| o[key] = value.clone()),
            OfferMode::Create,
        );
        let path = match (key, &value) {
            ("stock" | "handling_time", Value::Array(a)) if !a.is_empty() => {
                format!("{key}[0].value")
            }
            ("ean", Value::Array(_)) => "ean[0]".to_owned(),
            _ => key.to_owned(),
        };
        expect(&errors, &path, needle);
    }
    // Nested product keys.
    let nested: [(&str, Value, &str, &str); 10] = [
        (
            "images",
            json!([{"display_type": 3, "url": "https://x.example/a.png"}]),
            "images[0].display_type",
            "from 0 to 2",
        ),
        (
            "images",
            json!([{"url": "not a url"}]),
            "images[0].url",
            "valid http(s) URL",
        ),
        ("images", json!([{}]), "images[0].url", "is required"),
        (
            "characteristics",
            json!([{"id": 0, "value": "x"}]),
            "characteristics[0].id",
            "from 1 to 65535",
        ),
        (
            "characteristics",
            json!([{"id": 1}]),
            "characteristics[0].value",
            "is required",
        ),
        ("family", json!({"id": 5}), "family.name", "is required"),
        (
            "family",
            json!({"id": 5, "name": "F"}),
            "family.family_type_id",
            "is required",
        ),
        (
            "manufacturer",
            json!([{"name": "S", "address": "A"}]),
            "manufacturer[0].email",
            "is required",
        ),
        (
            "eu_representative",
            json!((0..11)
                .map(|_| json!({"name": "S", "address": "A", "email": "e@x.ro"}))
                .collect::<Vec<_>>()),
            "eu_representative",
            "at most 10",
        ),
        (
            "attachments",
            json!([{"id": 1}]),
            "attachments[0].url",
            "is required",
        ),
    ];
    for (key, value, path, needle) in nested {
        let errors = offer(
            &with(offer_create(), |o| o[key] = value.clone()),
            OfferMode::Create,
        );
        expect(&errors, path, needle);
    }
    // A foreign currency keeps start_date within the current month.
    let eur = with(offer_create(), |o| {
        o["currency_type"] = json!("EUR");
        o["start_date"] = json!("2025-09-02");
    });
    expect(
        &offer(&eur, OfferMode::Create),
        "start_date",
        "end of the current month (2025-08-31)",
    );
    valid(offer(
        &with(eur, |o| o["start_date"] = json!("2025-08-31")),
        OfferMode::Create,
    ));
    // Bad shapes.
    expect(
        &offer(&json!("offer"), OfferMode::Auto),
        "offer",
        "must be an object",
    );
    expect(
        &offer(
            &with(offer_update(), |o| o["stock"] = json!([1, {"value": 2}])),
            OfferMode::Update,
        ),
        "stock[0]",
        "must be an object",
    );
    expect(
        &offer(
            &with(offer_update(), |o| o["stock"] = json!([1, {"value": 2}])),
            OfferMode::Update,
        ),
        "stock[1].warehouse_id",
        "is required",
    );
}

// ---- AWB --------------------------------------------------------------------------------------

fn party() -> Value {
    json!({"name": "Magazin SRL", "contact": "Ion Pop", "phone1": "0722123456", "locality_id": 8801,
           "street": "Calea Victoriei nr. 100", "zipcode": "010071"})
}

fn awb() -> Value {
    json!({"order_id": 300000123, "sender": party(), "receiver": with(party(), |p| p["legal_entity"] = json!(0)),
           "is_oversize": 0, "envelope_number": 0, "parcel_number": 1, "cod": 149.99, "weight": 1.2,
           "insured_value": 0, "observation": "fragil", "locker_id": "EMGRO1234", "saturday_delivery": 0})
}

fn check_awb(v: &Value) -> Vec<String> {
    validate_awb_with(v, &Options::at(utc("2025-08-10 12:00:00")))
}

#[test]
fn awb_rules() {
    valid(check_awb(&awb()));
    valid(validate::validate_awb(&awb()));
    for key in [
        "is_oversize",
        "envelope_number",
        "parcel_number",
        "cod",
        "sender",
        "receiver",
        "order_id",
    ] {
        let errors = check_awb(&with(awb(), |a| {
            a.as_object_mut().unwrap().remove(key);
        }));
        expect(&errors, key, "is required");
    }
    for key in ["name", "contact", "phone1", "locality_id", "street"] {
        let errors = check_awb(&with(awb(), |a| {
            a["receiver"].as_object_mut().unwrap().remove(key);
        }));
        expect(&errors, &format!("receiver.{key}"), "is required");
    }
    let cases: [(&str, Value, &str); 14] = [
        ("/envelope_number", json!(10_000), "from 0 to 9999"),
        ("/parcel_number", json!(1000), "from 0 to 999"),
        ("/cod", json!(-1), "from 0 to 999999999"),
        ("/cod", json!(1e10), "from 0 to 999999999"),
        (
            "/insured_value",
            json!(1_000_000_000),
            "from 0 to 999999999",
        ),
        ("/weight", json!(100_000), "from 0 to 99999"),
        ("/is_oversize", json!(2), "0 or 1"),
        ("/sameday_delivery", json!("yes"), "0 or 1"),
        ("/locker_id", json!("AB"), "3 to 255 characters"),
        (
            "/observation",
            json!("x".repeat(256)),
            "0 to 255 characters",
        ),
        ("/sender/name", json!("AB"), "3 to 255 characters"),
        ("/sender/phone1", json!("0722 123 456"), "8 to 11 digits"),
        (
            "/receiver/phone2",
            json!("+4072212345678"),
            "8 to 11 digits",
        ),
        ("/receiver/locality_id", json!(0), "from 1 to 4294967295"),
    ];
    for (pointer, value, needle) in cases {
        let errors = check_awb(&with(awb(), |a| {
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let target = if parent.is_empty() {
                &mut *a
            } else {
                a.pointer_mut(parent).unwrap()
            };
            target[key] = value.clone();
        }));
        let path = pointer.trim_start_matches('/').replace('/', ".");
        expect(&errors, &path, needle);
    }
    let errors = check_awb(&with(awb(), |a| a["parcel_number"] = json!(0)));
    expect(
        &errors,
        "parcel_number",
        "cannot be 0 when envelope_number is 0",
    );
    valid(check_awb(&with(awb(), |a| {
        a["parcel_number"] = json!(0);
        a["envelope_number"] = json!(1);
    })));
    valid(check_awb(&with(awb(), |a| {
        a["sender"]["phone1"] = json!("+40722123456")
    })));
    valid(check_awb(&with(awb(), |a| {
        a["receiver"]["phone2"] = json!("")
    })));
    expect(&check_awb(&json!(null)), "awb", "must be an object");
}

#[test]
fn return_awbs() {
    let ret = with(awb(), |a| {
        let m = a.as_object_mut().unwrap();
        m.remove("order_id");
        m.insert("rma_id".into(), json!(55));
        m.insert("date".into(), json!("2025-08-11"));
    });
    valid(check_awb(&ret));
    valid(check_awb(&with(ret.clone(), |a| {
        a["date"] = json!("2025-08-11 09:00:00")
    })));
    expect(
        &check_awb(&with(ret.clone(), |a| a["date"] = json!("2025-08-10"))),
        "date",
        "at least the day after issuing (2025-08-11)",
    );
    expect(
        &check_awb(&with(ret.clone(), |a| {
            a.as_object_mut().unwrap().remove("date");
        })),
        "date",
        "is required for a return AWB",
    );
    expect(
        &check_awb(&with(ret.clone(), |a| a["date"] = json!("tomorrow"))),
        "date",
        "YYYY-mm-dd",
    );
    expect(
        &check_awb(&with(ret.clone(), |a| a["pickup_and_return"] = json!(1))),
        "pickup_and_return",
        "return AWB",
    );
    expect(
        &check_awb(&with(ret.clone(), |a| a["dropoff_locker"] = json!(1))),
        "dropoff_locker",
        "orders only",
    );
    valid(check_awb(&with(ret, |a| a["pickup_and_return"] = json!(0))));
    // On an order AWB the same flags are fine and no date is needed.
    valid(check_awb(&with(awb(), |a| {
        a["pickup_and_return"] = json!(1);
        a["dropoff_locker"] = json!(1);
    })));
}

// ---- request guards ---------------------------------------------------------------------------

#[test]
fn request_guards_live_in_validate() {
    let fifty: Vec<Value> = (0..50).map(|i| json!({"id": i})).collect();
    assert!(guards::check_payload("order", "save", &Value::Array(fifty.clone())).is_ok());
    let mut many = fifty;
    many.push(json!({"id": 50}));
    let err = guards::check_payload("order", "save", &Value::Array(many)).unwrap_err();
    assert!(err.validation_errors()[0].contains("at most 50"));
    let wide: Vec<Value> = (0..4001).map(|i| json!(i)).collect();
    let err = guards::check_payload("category", "read", &json!({"ids": wide})).unwrap_err();
    assert!(err.validation_errors()[0].contains("4000"));
    assert!(guards::check_payload("order", "read", &json!({"itemsPerPage": 101})).is_err());
    assert!(guards::check_payload("order", "read", &json!({"itemsPerPage": 100})).is_ok());
    let month =
        json!({"modifiedAfter": "2025-01-31 00:00:00", "modifiedBefore": "2025-02-28 00:00:00"});
    assert!(guards::check_payload("order", "read", &month).is_ok());
    let longer =
        json!({"modifiedAfter": "2025-01-31 00:00:00", "modifiedBefore": "2025-03-01 00:00:00"});
    let err = guards::check_payload("order", "count", &longer).unwrap_err();
    assert!(
        err.validation_errors()[0].contains("more than one month"),
        "{err}"
    );
    // The client checks through the same function (the client::guards re-export is gone).
    assert!(
        magflow_emag::validate::request_guards::check_payload("order", "read", &longer).is_err()
    );
    let a = NaiveDateTime::parse_from_str("2024-01-31 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    let b = NaiveDateTime::parse_from_str("2024-02-29 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
    assert!(guards::within_one_month(a, b));
    assert!(!guards::within_one_month(a, b + Duration::seconds(1)));
}

#[test]
fn extreme_options_never_panic() {
    let far = chrono::NaiveDate::from_ymd_opt(262_000, 12, 31)
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc();
    let past = chrono::NaiveDate::from_ymd_opt(-262_000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    for now in [far, past] {
        for days in [i64::MAX, i64::MIN, 0, -5] {
            let options = {
                let mut o = Options::at(now);
                o.return_period_days = days;
                o
            };
            let cur = current(4);
            let _ = validate_order_for_update_with(&moved(&cur, 5), Some(&cur), &options);
            let _ = validate_order_for_update_with(&moved(&cur, 3), Some(&cur), &options);
            let _ = validate_offer_with(&offer_create(), &{
                let mut o = options.clone();
                o.offer_mode = OfferMode::Create;
                o
            });
            let _ = validate_awb_with(
                &with(awb(), |a| {
                    a["rma_id"] = json!(1);
                    a["date"] = json!("2025-08-11");
                }),
                &options,
            );
        }
    }
}

// ---- require_type = false (the legacy ERP's validators) -------------------------------------

#[test]
fn type_is_optional_when_not_required_but_still_checked_when_sent() {
    let lenient = {
        let mut o = Options::default();
        o.require_type = false;
        o
    };
    let untyped = with(order(), |o| {
        o.as_object_mut().unwrap().remove("type");
    });
    expect(&validate_order_data(&untyped), "type", "is required");
    expect_none(
        &validate::validate_order_data_with(&untyped, &lenient),
        "type",
    );
    let wrong = with(order(), |o| o["type"] = json!(7));
    expect(
        &validate::validate_order_data_with(&wrong, &lenient),
        "type",
        "2 or 3",
    );

    let update = json!({"id": 300000123, "status": 3});
    expect(
        &validate_order_for_update_with(&update, None, &Options::default()),
        "type",
        "is required",
    );
    assert!(validate_order_for_update_with(&update, None, &lenient).is_empty());
    let type2 = json!({"id": 300000123, "status": 3, "type": 2});
    expect(
        &validate_order_for_update_with(&type2, None, &lenient),
        "type",
        "never saved",
    );

    let bulk = json!([{"id": 1, "status": 3}, {"id": 2, "status": 1}]);
    let strict = validate_bulk_order_update(&bulk);
    assert_eq!(strict.len(), 2);
    let loose = validate::validate_bulk_order_update_with(&bulk, &lenient);
    assert_eq!(loose.len(), 1);
    assert_eq!(loose[0].0, "2");
    expect_none(&loose[0].1, "type");
}
