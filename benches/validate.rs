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

use magflow_emag::models::Order;
use magflow_emag::validate::{validate_bulk_order_update, validate_order_data};
use serde_json::{json, Value};

#[path = "support/order.rs"]
mod order;
use order::{env, measure, realistic_order};

/// Visit every key and value once (the walk baseline); returns something that depends on all.
fn walk(v: &Value) -> usize {
    match v {
        Value::Object(m) => m.iter().map(|(k, v)| k.len() + walk(v)).sum(),
        Value::Array(a) => a.iter().map(walk).sum::<usize>() + 1,
        _ => 1,
    }
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
