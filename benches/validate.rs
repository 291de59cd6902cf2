//! `validate_order_data` on a realistic order with 5 products (built like the simulator's
//! orders: 27 order keys, a 35-key customer, 21-key lines, a voucher), single-threaded, in
//! orders per second (median of several rounds), beside two baselines measured in the same
//! run on the same order:
//! - `Value::clone`: one deep copy of the order, the cheapest thing any consumer of the JSON
//!   does (a store, a queue);
//! - typed decode: `models::Order::from_value` of a clone, what reading it into the typed model
//!   costs;
//! - a walk: one visit of every key and value of the order, checking nothing: a floor for
//!   any validator that reads this tree (it must at least find its fields among the others).
//!
//! Goal: >= 2,000,000 orders/s. `MF_BENCH_ROUNDS` (default 7) and `MF_BENCH_ORDERS` (default
//! 400,000 per round) change the run.

#![recursion_limit = "256"]

use std::hint::black_box;
use std::time::Instant;

use magflow_emag::models::Order;
use magflow_emag::validate::{validate_bulk_order_update, validate_order_data};
use serde_json::{json, Value};

fn line(i: i64, vat: &str, voucher: bool) -> Value {
    let price = format!("{:.4}", 19.99 + 37.5 * i as f64);
    let split = if voucher {
        json!([{"voucher_id": 2_000_123, "value": "-8.2645", "vat_value": "-1.7355", "vat": "0.21",
                "offered_by": "seller", "voucher_name": "Voucher eMAG 10 lei"}])
    } else {
        json!([])
    };
    json!({
        "id": 171_958_970 + i, "product_id": 1000 + i, "mkt_id": 10_001_000 + i,
        "name": format!("Casti audio wireless model {i}"), "status": 1,
        "part_number": format!("WH-{i}XM5"), "ext_part_number": format!("WH-{i}XM5"),
        "part_number_key": format!("D5DD9BB{i}M"), "currency": "RON", "vat": vat,
        "quantity": 1 + i % 3, "initial_qty": 1 + i % 3, "storno_qty": 0,
        "sale_price": price, "original_price": price,
        "created": "2025-08-14 10:21:07", "modified": "2025-08-14 10:21:07",
        "details": [], "recycle_warranties": [], "serial_numbers": "",
        "product_voucher_split": split,
    })
}

/// A realistic order: 5 lines, card payment, a voucher, a 35-key customer.
fn realistic_order() -> Value {
    let lines: Vec<Value> = (0..5).map(|i| line(i, "0.2100", i == 0)).collect();
    json!({
        "id": 312_456_789, "status": 3, "is_complete": 1, "type": 3, "payment_mode": "ONLINE CARD",
        "payment_mode_id": 3, "detailed_payment_method": "Card online", "delivery_mode": "courier",
        "details": {"locker_id": null, "locker_name": null, "locker_delivery_eligible": 1,
                    "courier_external_office_id": null},
        "date": "2025-08-14 10:21:07", "modified": "2025-08-14 15:02:44", "payment_status": 1,
        "cashed_co": 512.37, "cashed_cod": 0, "shipping_tax": "0.00", "shipping_tax_voucher_split": [],
        "customer": {
            "id": 1_834_221_907, "name": "Ioana Constantinescu", "email": "7f1c2b9e0d4a4c1fa8b3e2d1c0b9a8f7@marketplace.emag.ro",
            "company": "Ioana Constantinescu", "gender": "F", "code": null, "registration_number": null,
            "bank": null, "iban": null, "fax": null, "legal_entity": 0, "is_vat_payer": 0,
            "phone_1": "0722123456", "phone_2": "", "phone_3": "", "billing_name": "Ioana Constantinescu",
            "billing_phone": "0722123456", "billing_country": "RO", "billing_suburb": "Cluj",
            "billing_city": "Cluj-Napoca", "billing_locality_id": "4537",
            "billing_street": "Strada Memorandumului nr. 28, bl. 4, ap. 12", "billing_postal_code": "400114",
            "shipping_country": "RO", "shipping_suburb": "Cluj", "shipping_city": "Cluj-Napoca",
            "shipping_locality_id": "4537", "shipping_street": "Strada Memorandumului nr. 28, bl. 4, ap. 12",
            "shipping_postal_code": "400114", "shipping_contact": "Ioana Constantinescu",
            "shipping_phone": "0722123456", "created": "2025-08-14 10:21:07", "modified": "2025-08-14 10:21:07"
        },
        "products": lines, "attachments": [],
        "vouchers": [{"voucher_id": 2_000_123, "modified": "2025-08-14 10:21:07", "created": "2025-08-14 10:21:07",
                      "status": 1, "sale_price": "-8.2645", "sale_price_vat": "-1.7355",
                      "voucher_name": "Voucher eMAG 10 lei", "vat": "0.21", "issue_date": "2025-08-14"}],
        "is_storno": false, "reason_cancellation": null, "enforced_vendor_courier_accounts": null,
        "emag_club": 1, "weekend_delivery": 0, "maximum_date_for_shipment": "2025-08-16 10:21:07"
    })
}

/// Visit every key and value once (the walk baseline); returns something that depends on all.
fn walk(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| k.len() + walk(v)).sum(),
        Value::Array(a) => a.iter().map(walk).sum::<usize>() + 1,
        _ => 1,
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median orders/s of `rounds` rounds of `n` calls.
fn measure(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..n / 10 {
        f();
    }
    let mut rates: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            n as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[rates.len() / 2]
}

fn main() {
    let rounds = env("MF_BENCH_ROUNDS", 7).max(1);
    let n = env("MF_BENCH_ORDERS", 400_000).max(1);
    let order = realistic_order();
    assert!(
        validate_order_data(&order).is_empty(),
        "{:?}",
        validate_order_data(&order)
    );
    assert!(Order::from_value(order.clone()).is_ok());
    let invalid = {
        let mut o = order.clone();
        o["products"][2]["quantity"] = json!(-1);
        o["customer"]["email"] = json!("not an email");
        o
    };
    assert_eq!(validate_order_data(&invalid).len(), 2);

    if std::env::var("MF_BENCH_PROFILE").is_ok() {
        // Only the validation loop (for a profiler).
        let rate = measure(rounds, n, || {
            black_box(validate_order_data(black_box(&order)));
        });
        println!("{rate:.0} orders/s");
        return;
    }
    println!(
        "validate_order_data, realistic order with 5 products ({} bytes of JSON), {rounds} rounds x {n}, single thread",
        order.to_string().len()
    );
    let validate = measure(rounds, n, || {
        black_box(validate_order_data(black_box(&order)));
    });
    // The same order as the sync validates it: a borrowed view of eMAG's text.
    let text = order.to_string();
    let view = magflow_emag::jsonview::JsonView::parse(&text).expect("view");
    assert!(validate_order_data(&view).is_empty());
    let validate_view = measure(rounds, n, || {
        black_box(validate_order_data(black_box(&view)));
    });
    let invalid_rate = measure(rounds, n / 4, || {
        black_box(validate_order_data(black_box(&invalid)));
    });
    let clone = measure(rounds, n / 4, || {
        black_box(black_box(&order).clone());
    });
    let typed = measure(rounds, n / 8, || {
        black_box(Order::from_value(black_box(&order).clone()).ok());
    });
    let walk_rate = measure(rounds, n, || {
        black_box(walk(black_box(&order)));
    });
    let bulk_orders = Value::Array((0..1000).map(|_| order.clone()).collect());
    let bulk = measure(rounds, (n / 1000).max(5), || {
        black_box(validate_bulk_order_update(black_box(&bulk_orders)));
    }) * 1000.0;

    let goal = 2_000_000.0;
    println!(
        "  validate_order_data (valid)        {:>12.0} orders/s  ({:.0} ns/order)  goal >= {goal:.0}: {}",
        validate,
        1e9 / validate,
        if validate >= goal { "met" } else { "NOT met" }
    );
    println!(
        "  validate_order_data on a JsonView  {:>12.0} orders/s  ({:.0} ns/order; as the sync checks each order)  goal >= {goal:.0}: {}",
        validate_view,
        1e9 / validate_view,
        if validate_view >= goal { "met" } else { "NOT met" }
    );
    println!(
        "  validate_order_data (2 errors)     {:>12.0} orders/s  ({:.0} ns/order; messages are built only on failure)",
        invalid_rate,
        1e9 / invalid_rate
    );
    println!(
        "  validate_bulk_order_update (1000)  {:>12.0} orders/s  ({:.0} ns/order)",
        bulk,
        1e9 / bulk
    );
    println!(
        "  baseline Value::clone              {:>12.0} orders/s  -> validation is {:.1}x the speed of one deep copy",
        clone,
        validate / clone
    );
    println!(
        "  baseline walk of every entry       {:>12.0} orders/s  ({:.0} ns/order) -> validation takes {:.1}x a bare walk of the tree",
        walk_rate,
        1e9 / walk_rate,
        walk_rate / validate
    );
    println!(
        "  baseline typed decode (Order)      {:>12.0} orders/s  -> validation is {:.1}x the speed of reading into models::Order",
        typed,
        validate / typed
    );
}
