//! The typed decode of `models::Order` on the validation bench's realistic order (5 lines, a
//! 35-key customer, a voucher), single-threaded, in orders per second, beside baselines of
//! the same run on the same order:
//! - `Value::clone`: one deep copy of the order (the goal: a typed decode at least as fast);
//! - `serde_json::from_str::<Value>`: parsing the order's text into a `Value`;
//! - scanning the text with nothing built (`IgnoredAny`): the floor of any decode from text.
//!
//! The machine is shared, so the candidates take turns within each round and every ratio is
//! the median of the ratios of the same round (a slow spell hits both sides). Each figure
//! includes dropping what was made. `from_value` consumes its input, so its inputs are cloned
//! beforehand, in small batches that stay in the CPU cache, outside the timing.
//! `MF_BENCH_ROUNDS` (default 9) and `MF_BENCH_ORDERS` (default 20,000 per round and
//! candidate) change the run; `MF_BENCH_PROFILE=from_str` (or `from_value`) runs that loop
//! alone, for a profiler.

#![recursion_limit = "256"]

use std::hint::black_box;
use std::time::Instant;

use magflow_emag::models::Order;
use serde::Deserialize;
use serde_json::Value;

#[path = "support/order.rs"]
mod order;
use order::{env, realistic_order};

/// Orders cloned ahead of one timed batch (a few hundred KB: they stay in cache).
const BATCH: usize = 32;

/// Seconds spent on `n` calls of `f`.
fn timed(n: usize, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64()
}

/// Seconds spent in `from_value` over `n` inputs cloned outside the timing.
fn timed_from_value(n: usize, order: &Value) -> f64 {
    let mut spent = 0.0;
    for _ in 0..n.div_ceil(BATCH) {
        let inputs: Vec<Value> = (0..BATCH).map(|_| order.clone()).collect();
        let start = Instant::now();
        for input in inputs {
            black_box(Order::from_value(black_box(input)).ok());
        }
        spent += start.elapsed().as_secs_f64();
    }
    spent * n as f64 / (n.div_ceil(BATCH) * BATCH) as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

type Candidate<'a> = (&'static str, Box<dyn FnMut(usize) -> f64 + 'a>);

fn main() {
    let rounds = env("MF_BENCH_ROUNDS", 9).max(1);
    let n = env("MF_BENCH_ORDERS", 20_000).max(BATCH);
    let order = realistic_order();
    let text = order.to_string();
    let typed = Order::from_value(order.clone()).expect("decodes");
    assert_eq!(text.parse::<Order>().expect("decodes"), typed);
    assert_eq!(Order::deserialize(&order).expect("decodes"), typed);

    let from_str = |n| {
        timed(n, || {
            drop(black_box(black_box(&text).parse::<Order>().ok()))
        })
    };
    match std::env::var("MF_BENCH_PROFILE").as_deref() {
        Ok("from_str") => return println!("from_str {:.0} orders/s", n as f64 / from_str(n)),
        Ok("from_value") => {
            let spent = timed_from_value(n, &order);
            return println!("from_value {:.0} orders/s", n as f64 / spent);
        }
        _ => {}
    }

    let mut candidates: Vec<Candidate> = vec![
        (
            "baseline Value::clone",
            Box::new(|n| timed(n, || drop(black_box(black_box(&order).clone())))),
        ),
        (
            "baseline serde_json::from_str::<Value>",
            Box::new(|n| {
                timed(n, || {
                    drop(black_box(
                        serde_json::from_str::<Value>(black_box(&text)).ok(),
                    ))
                })
            }),
        ),
        (
            "floor: scanning the text (IgnoredAny)",
            Box::new(|n| {
                timed(n, || {
                    black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&text)).ok());
                })
            }),
        ),
        (
            "Order::from_value (the Value moved in)",
            Box::new(|n| timed_from_value(n, &order)),
        ),
        (
            "text.parse::<Order>() (straight from text)",
            Box::new(from_str),
        ),
        (
            "Order::deserialize(&Value) (copies strings)",
            Box::new(|n| {
                timed(n, || {
                    drop(black_box(Order::deserialize(black_box(&order)).ok()))
                })
            }),
        ),
        (
            "Value::clone + Order::from_value",
            Box::new(|n| {
                timed(n, || {
                    drop(black_box(Order::from_value(black_box(&order).clone()).ok()))
                })
            }),
        ),
    ];
    println!(
        "typed decode of models::Order, realistic order with 5 products ({} bytes of JSON), {rounds} rounds x {n}, single thread",
        text.len()
    );
    for (_, run) in candidates.iter_mut() {
        run(n / 10); // warm-up
    }
    // seconds[candidate][round]
    let mut seconds = vec![Vec::with_capacity(rounds); candidates.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in candidates.iter_mut().enumerate() {
            seconds[i].push(run(n));
        }
    }
    for (i, (name, _)) in candidates.iter().enumerate() {
        let rate = n as f64 / median(seconds[i].clone());
        let ratio = median((0..rounds).map(|r| seconds[0][r] / seconds[i][r]).collect());
        println!(
            "  {name:<44} {rate:>10.0} orders/s  ({:>6.2} us/order)  {ratio:>5.2}x Value::clone",
            1e6 / rate
        );
    }
    let ratio = |i: usize| median((0..rounds).map(|r| seconds[0][r] / seconds[i][r]).collect());
    let goal = |r: f64| if r >= 1.0 { "met" } else { "NOT met" };
    println!(
        "  goal (typed decode >= Value::clone, median of per-round ratios): from_value {}, from_str {}",
        goal(ratio(3)),
        goal(ratio(4))
    );
}
