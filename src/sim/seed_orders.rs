//! The generated orders: dates and statuses over the history, lines, vouchers, Romanian
//! customers. Deterministic: every draw happens in a fixed order from the seed's generator.

use chrono::{NaiveDateTime, TimeDelta};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::{json, Value};

use super::clock;
use super::refdata::{self, PLACES};
use super::seed::{generate, money, phone, pick, round2, round4, Product};
use super::state::{Order, State};

struct Person {
    first: &'static str,
    last: &'static str,
    gender: &'static str,
}

fn person(rng: &mut SmallRng) -> Person {
    let female = rng.random_bool(0.5);
    Person {
        first: if female {
            refdata::FEMALE_FIRST[rng.random_range(0..refdata::FEMALE_FIRST.len())]
        } else {
            refdata::MALE_FIRST[rng.random_range(0..refdata::MALE_FIRST.len())]
        },
        last: refdata::LAST[rng.random_range(0..refdata::LAST.len())],
        gender: if female { "F" } else { "M" },
    }
}

fn street(rng: &mut SmallRng) -> String {
    format!(
        "{} nr. {}{}",
        pick(rng, refdata::STREETS),
        rng.random_range(1..180),
        if rng.random_bool(0.4) {
            format!(
                ", bl. {}, ap. {}",
                rng.random_range(1..60),
                rng.random_range(1..120)
            )
        } else {
            String::new()
        }
    )
}

/// A customer's company details: a legal entity's (one customer in eight), or the person's name.
struct Legal {
    legal: bool,
    company: String,
    code: Value,
    reg: Value,
    bank: Value,
    iban: Value,
    vat_payer: i64,
}

fn legal_details(rng: &mut SmallRng, name: &str) -> Legal {
    let legal = rng.random_bool(0.12);
    let (company, code, reg, bank, iban, vat_payer) = if legal {
        let bank = pick(rng, refdata::BANKS);
        (
            format!("SC {} SRL", pick(rng, refdata::COMPANIES)),
            Value::from(format!("RO{}", rng.random_range(10_000_000..49_999_999))),
            Value::from(format!(
                "J{:02}/{}/{}",
                rng.random_range(1..41),
                rng.random_range(100..9999),
                rng.random_range(2005..2024)
            )),
            Value::from(bank.0),
            Value::from(format!(
                "RO{:02}{}{:016}",
                rng.random_range(10..99),
                bank.1,
                rng.random_range(0..9_999_999_999_999_999u64)
            )),
            1,
        )
    } else {
        (
            name.to_owned(),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            0,
        )
    };
    Legal {
        legal,
        company,
        code,
        reg,
        bank,
        iban,
        vat_payer,
    }
}

fn customer(rng: &mut SmallRng, when: NaiveDateTime, pickup: Option<(&str, &str)>) -> Value {
    let p = person(rng);
    let name = format!("{} {}", p.first, p.last);
    let ro_places: Vec<&refdata::Place> = PLACES.iter().filter(|pl| pl.country == "RO").collect();
    let billing = *pick(rng, &ro_places);
    let shipping = if rng.random_bool(0.85) {
        billing
    } else {
        *pick(rng, &ro_places)
    };
    let billing_street = street(rng);
    let shipping_street = match pickup {
        Some((locker_id, locker_name)) => format!("{locker_name} [{locker_id}]"),
        None => {
            if std::ptr::eq(shipping, billing) {
                billing_street.clone()
            } else {
                street(rng)
            }
        }
    };
    let phone_1 = phone(rng);
    let l = legal_details(rng, &name);
    json!({
        "id": rng.random_range(1_000_000..2_147_483_647i64),
        "name": name,
        "email": format!("{:032x}@marketplace.emag.ro", rng.random::<u128>()),
        "company": l.company,
        "gender": p.gender,
        "code": l.code,
        "registration_number": l.reg,
        "bank": l.bank,
        "iban": l.iban,
        "fax": null,
        "legal_entity": i64::from(l.legal),
        "is_vat_payer": l.vat_payer,
        "phone_1": phone_1,
        "phone_2": "",
        "phone_3": "",
        "billing_name": name,
        "billing_phone": phone_1,
        "billing_country": "RO",
        "billing_suburb": billing.county,
        "billing_city": billing.name,
        "billing_locality_id": billing.emag_id.to_string(),
        "billing_street": billing_street,
        "billing_postal_code": billing.zipcode,
        "shipping_country": "RO",
        "shipping_suburb": shipping.county,
        "shipping_city": shipping.name,
        "shipping_locality_id": shipping.emag_id.to_string(),
        "shipping_street": shipping_street,
        "shipping_postal_code": shipping.zipcode,
        "shipping_contact": name,
        "shipping_phone": phone_1,
        "created": clock::format(when),
        "modified": clock::format(when),
    })
}

/// The ids handed out so far (each order, line and voucher id grows from the last).
struct Ids {
    order: u64,
    line: i64,
    voucher: i64,
}

pub(super) fn seed_orders(
    state: &mut State,
    rng: &mut SmallRng,
    count: usize,
    products: &[Product],
    now: NaiveDateTime,
    history_days: u32,
) {
    let plan = draw_dates(rng, count, now, history_days);
    let mut ids = Ids {
        order: 300_000_000,
        line: 171_000_000,
        voucher: 2_000_000,
    };
    for (date, status) in plan {
        let Some(order) = one_order(rng, &mut ids, date, status, products, now) else {
            continue;
        };
        state.orders.push(order);
    }
    state.next_line_id = ids.line + 1;
    state.orders.reverse(); // newest first
    state.rebuild_index();
}

/// Each order's date and status, drawn first so that ids grow with dates as eMAG's do.
fn draw_dates(
    rng: &mut SmallRng,
    count: usize,
    now: NaiveDateTime,
    history_days: u32,
) -> Vec<(NaiveDateTime, i64)> {
    let span = i64::from(history_days) * 86_400;
    let mut plan: Vec<(NaiveDateTime, i64)> = (0..count)
        .map(|_| {
            let status = match rng.random_range(0..100) {
                0..=9 => 1,
                10..=19 => 2,
                20..=27 => 3,
                28..=77 => 4,
                78..=91 => 0,
                _ => 5,
            };
            // Open orders are recent; closed ones anywhere in the history.
            let age = match status {
                1 => rng.random_range(60..2 * 86_400),
                2 | 3 => rng.random_range(3_600..5 * 86_400),
                _ => rng.random_range(3 * 86_400..span.max(3 * 86_400 + 1)),
            };
            (now - TimeDelta::seconds(age), status)
        })
        .collect();
    plan.sort_by_key(|(d, _)| *d);
    plan
}

/// What one order is made of, drawn in the generator's fixed order (the seed's output
/// depends on that order).
struct Draw {
    id: u64,
    status: i64,
    kind: i64,
    payment_mode_id: i64,
    pickup: bool,
    locker: Option<(String, String)>,
    date: NaiveDateTime,
    modified: NaiveDateTime,
    lines: Vec<Value>,
    vouchers: Vec<Value>,
    shipping_tax: f64,
    shipping_split: Vec<Value>,
    total: f64,
}

fn one_order(
    rng: &mut SmallRng,
    ids: &mut Ids,
    date: NaiveDateTime,
    status: i64,
    products: &[Product],
    now: NaiveDateTime,
) -> Option<Order> {
    ids.order += rng.random_range(1..40);
    let kind = if rng.random_bool(0.9) { 3 } else { 2 };
    let payment_mode_id = match rng.random_range(0..10) {
        0..=5 => 1,
        6..=8 => 3,
        _ => 2,
    };
    let vat_rate = if date
        >= NaiveDateTime::parse_from_str("2025-08-01 00:00:00", clock::FORMAT).unwrap_or(date)
    {
        0.21
    } else {
        0.19
    };
    let pickup = rng.random_bool(0.3);
    let locker = pickup.then(|| draw_locker(rng));
    let modified = match status {
        1 => date,
        2 | 3 => date + TimeDelta::seconds(rng.random_range(600..86_400)),
        4 => date + TimeDelta::seconds(rng.random_range(86_400..3 * 86_400)),
        0 => date + TimeDelta::seconds(rng.random_range(600..2 * 86_400)),
        _ => date + TimeDelta::seconds(rng.random_range(5 * 86_400..14 * 86_400)),
    }
    .min(now);
    let (mut lines, mut total) = order_lines(rng, ids, products, date, vat_rate);
    // Shipping: free above 200 RON, otherwise 15.99 or 19.99 with VAT.
    let shipping_tax = if total > 200.0 {
        0.0
    } else {
        *pick(rng, &[15.99, 19.99])
    };
    let (vouchers, shipping_split) = order_vouchers(
        rng,
        ids,
        &mut lines,
        &mut total,
        date,
        vat_rate,
        shipping_tax,
    );
    let draw = Draw {
        id: ids.order,
        status,
        kind,
        payment_mode_id,
        pickup,
        locker,
        date,
        modified,
        lines,
        vouchers,
        shipping_tax,
        shipping_split,
        total: round2(total.max(0.0)),
    };
    let Value::Object(doc) = order_doc(rng, draw) else {
        return None;
    };
    let mut order = Order::from_doc(doc, date, modified);
    match status {
        4 => order.finalized_at = Some(modified),
        5 => order.finalized_at = Some(modified - TimeDelta::days(4).min(modified - date)),
        0 => order.cancelled_at = Some(modified),
        _ => {}
    }
    Some(order)
}

/// A pickup point: its id and name.
fn draw_locker(rng: &mut SmallRng) -> (String, String) {
    let n = rng.random_range(1000..9999);
    (
        format!("EMGRO{n}"),
        format!(
            "easybox {} {}",
            pick(rng, &["Kaufland", "Lidl", "Mega Image", "Profi", "OMV"]),
            n
        ),
    )
}

/// One to four lines of distinct products; returns them with the order's total with VAT.
fn order_lines(
    rng: &mut SmallRng,
    ids: &mut Ids,
    products: &[Product],
    date: NaiveDateTime,
    vat_rate: f64,
) -> (Vec<Value>, f64) {
    let n_lines = *pick(rng, &[1, 1, 1, 2, 2, 3, 4]);
    let mut lines = Vec::with_capacity(n_lines);
    let mut total = 0.0;
    let mut used = Vec::with_capacity(n_lines);
    for _ in 0..n_lines {
        let p = pick(rng, products);
        if used.contains(&p.id) {
            continue;
        }
        used.push(p.id);
        ids.line += rng.random_range(1..5);
        let qty = *pick(rng, &[1, 1, 1, 1, 2, 2, 3]);
        total += p.price * (1.0 + vat_rate) * qty as f64;
        lines.push(json!({
            "id": ids.line,
            "product_id": p.id,
            "mkt_id": 10_000_000 + p.id,
            "name": p.name,
            "status": 1,
            "part_number": p.part_number,
            "ext_part_number": p.ext_part_number,
            "part_number_key": p.part_number,
            "currency": "RON",
            "vat": format!("{vat_rate:.4}"),
            "quantity": qty,
            "initial_qty": qty,
            "storno_qty": 0,
            "sale_price": money(p.price),
            "original_price": money(p.price),
            "created": clock::format(date),
            "modified": clock::format(date),
            "details": [],
            "recycle_warranties": [],
            "serial_numbers": "",
            "product_voucher_split": [],
        }));
    }
    (lines, total)
}

/// A voucher on one order in five (split onto the first line), and free shipping on one in
/// ten of those that pay for it; `total` follows.
fn order_vouchers(
    rng: &mut SmallRng,
    ids: &mut Ids,
    lines: &mut [Value],
    total: &mut f64,
    date: NaiveDateTime,
    vat_rate: f64,
    shipping_tax: f64,
) -> (Vec<Value>, Vec<Value>) {
    let mut vouchers = Vec::new();
    let mut shipping_split = Vec::new();
    if rng.random_bool(0.2) {
        ids.voucher += rng.random_range(1..50);
        let voucher_id = ids.voucher;
        let gross = *pick(rng, &[10.0, 20.0, 25.0, 50.0]);
        let net = round4(gross / (1.0 + vat_rate));
        let vat_part = round4(gross - net);
        let name = format!("Voucher eMAG {} lei", gross as i64);
        vouchers.push(json!({
            "voucher_id": voucher_id,
            "modified": clock::format(date),
            "created": clock::format(date),
            "status": 1,
            "sale_price": money(-net),
            "sale_price_vat": money(-vat_part),
            "voucher_name": name,
            "vat": format!("{vat_rate:.2}"),
            "issue_date": date.format("%Y-%m-%d").to_string(),
        }));
        if let Some(Value::Object(first)) = lines.first_mut() {
            first.insert(
                "product_voucher_split".into(),
                json!([{"voucher_id": voucher_id, "value": money(-net), "vat_value": money(-vat_part),
                        "vat": format!("{vat_rate:.2}"), "offered_by": if rng.random_bool(0.5) { "emag" } else { "seller" },
                        "voucher_name": name}]),
            );
        }
        *total -= gross;
    }
    if shipping_tax > 0.0 && rng.random_bool(0.1) {
        ids.voucher += 1;
        let net = round4(shipping_tax / (1.0 + vat_rate));
        shipping_split.push(json!({"voucher_id": ids.voucher, "value": money(-net), "vat_value": money(-round4(shipping_tax - net)), "voucher_name": "Transport gratuit"}));
    } else {
        *total += shipping_tax;
    }
    (vouchers, shipping_split)
}

/// The order's JSON as `order/read` sends it (the draws inside keep the generator's order).
fn order_doc(rng: &mut SmallRng, d: Draw) -> Value {
    let (status, payment_mode_id, total, date) = (d.status, d.payment_mode_id, d.total, d.date);
    let paid = match payment_mode_id {
        3 => true,
        1 => matches!(status, 4 | 5),
        _ => status >= 2 || status == 0,
    };
    let reason = (status == 0).then(|| {
        *pick(
            rng,
            &[1, 2, 3, 15, 19, 21, 23, 24, 25, 29, 31, 33, 35, 36, 38],
        )
    });
    let enforced = match rng.random_range(0..40) {
        0 => json!([]),
        1 => json!([1001]),
        _ => Value::Null,
    };
    let is_complete = if status == 1 && rng.random_bool(0.1) {
        0
    } else {
        1
    };
    let pickup = d.pickup;
    let locker = d.locker;
    json!({
        "id": d.id,
        "status": status,
        "is_complete": is_complete,
        "type": d.kind,
        "payment_mode": match payment_mode_id { 1 => "COD", 2 => "BANK TRANSFER", _ => "ONLINE CARD" },
        "payment_mode_id": payment_mode_id,
        "detailed_payment_method": match payment_mode_id { 1 => "Ramburs", 2 => "Ordin de plata", _ => if rng.random_bool(0.15) { "eCREDIT" } else { "Card online" } },
        "delivery_mode": if pickup { "pickup" } else { "courier" },
        "details": {
            "locker_id": locker.as_ref().map(|l| l.0.clone()),
            "locker_name": locker.as_ref().map(|l| l.1.clone()),
            "locker_delivery_eligible": i64::from(pickup || rng.random_bool(0.6)),
            "courier_external_office_id": null,
        },
        "date": clock::format(date),
        "modified": clock::format(d.modified),
        "payment_status": i64::from(paid),
        "cashed_co": if payment_mode_id == 3 { total } else { 0.0 },
        "cashed_cod": if payment_mode_id == 1 && paid { total } else { 0.0 },
        "shipping_tax": format!("{:.2}", d.shipping_tax),
        "shipping_tax_voucher_split": d.shipping_split,
        "customer": customer(rng, date, locker.as_ref().map(|(a, b)| (a.as_str(), b.as_str()))),
        "products": d.lines,
        "attachments": [],
        "vouchers": d.vouchers,
        "is_storno": false,
        "reason_cancellation": reason,
        "enforced_vendor_courier_accounts": enforced,
        "emag_club": i64::from(rng.random_bool(0.3)),
        "weekend_delivery": 0,
        "maximum_date_for_shipment": clock::format(date + TimeDelta::days(2)),
    })
}

/// One new order (status 1, type 3) dated `now`, for orders created at run time: a seeded
/// order (drawn with `salt`) given the id, dates, status and line ids of a new one.
pub(crate) fn one_new_order(id: u64, salt: u64, now: NaiveDateTime, first_line_id: i64) -> Order {
    let mut doc = generate(1, 5, salt, now, 1, 14)
        .orders
        .pop()
        .map(|o| o.doc)
        .unwrap_or_default();
    let stamp = Value::from(clock::format(now));
    doc.insert("id".into(), Value::from(id));
    doc.insert("status".into(), Value::from(1));
    doc.insert("type".into(), Value::from(3));
    doc.insert("date".into(), stamp.clone());
    doc.insert("modified".into(), stamp);
    doc.insert("reason_cancellation".into(), Value::Null);
    doc.insert(
        "maximum_date_for_shipment".into(),
        Value::from(clock::format(now + TimeDelta::days(2))),
    );
    if let Some(Value::Array(lines)) = doc.get_mut("products") {
        for (i, line) in lines.iter_mut().enumerate() {
            if let Value::Object(line) = line {
                line.insert("id".into(), Value::from(first_line_id + i as i64));
                line.insert("status".into(), Value::from(1));
            }
        }
    }
    Order::from_doc(doc, now, now)
}
