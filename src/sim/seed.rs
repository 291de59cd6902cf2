//! The deterministic generator: the same `seed` and clock start give the same orders, offers
//! and returns. Fast (one pass, no per-order hashing; JSON serialized lazily on first read).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::clock;
use super::refdata::{self, CATEGORIES, PLACES};
use super::state::{Offer, Order, Rma, State};

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn money(v: f64) -> Value {
    Value::from(format!("{v:.4}"))
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// An EAN-13 with a valid check digit, unique per `n` (GS1 Romania prefix 594).
fn ean13(n: u64) -> String {
    let body = format!("594{:09}", n % 1_000_000_000);
    let sum: u32 = body
        .bytes()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// A part number key (PNK): 9 characters mixing letters and digits, unique per `n`.
fn pnk(n: u64) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGITS: &[u8] = b"0123456789";
    let mut x = n.wrapping_mul(2_654_435_761).wrapping_add(0x9E37_79B9);
    let mut out = String::with_capacity(9);
    // Pattern like D5DD9BBBM: letter, digit, letters, digit, letters; the last 4 encode n.
    for (i, is_digit) in [false, true, false, false, true].into_iter().enumerate() {
        let set = if is_digit { DIGITS } else { ALPHA };
        out.push(char::from(set[(x % set.len() as u64) as usize]));
        x /= set.len() as u64;
        let _ = i;
    }
    let mut m = n;
    for _ in 0..4 {
        out.push(char::from(ALPHA[(m % 24) as usize]));
        m /= 24;
    }
    out
}

fn phone(rng: &mut SmallRng) -> String {
    format!(
        "{}{:07}",
        pick(rng, refdata::PHONE_PREFIXES),
        rng.random_range(0..10_000_000u32)
    )
}

struct Product {
    id: i64,
    name: String,
    part_number: String,
    ext_part_number: String,
    price: f64,
}

/// Seed the state.
pub(crate) fn generate(
    orders: usize,
    offers: usize,
    seed: u64,
    now: NaiveDateTime,
    history_days: u32,
    return_period_days: u32,
) -> State {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut state = State {
        orders: Vec::with_capacity(orders),
        order_index: HashMap::new(),
        offers: BTreeMap::new(),
        awbs: Vec::new(),
        rmas: Vec::new(),
        next_line_id: 0,
        next_awb_id: 0,
        next_reservation_id: 0,
        next_attachment_id: 1,
        return_period_days: i64::from(return_period_days),
    };
    let products = seed_offers(&mut state, &mut rng, offers, now, history_days);
    seed_orders(&mut state, &mut rng, orders, &products, now, history_days);
    seed_rmas(&mut state, &mut rng);
    state.next_awb_id = 400_000_000 + i64::try_from(orders).unwrap_or(0) * 3;
    state.next_reservation_id = 800_000_000 + i64::try_from(orders).unwrap_or(0) * 3;
    state
}

fn seed_offers(
    state: &mut State,
    rng: &mut SmallRng,
    count: usize,
    now: NaiveDateTime,
    history_days: u32,
) -> Vec<Product> {
    let mut products = Vec::with_capacity(count.max(1));
    for i in 0..count {
        let id = 10_000 + i as u64;
        let cat = pick(rng, CATEGORIES);
        let brand = *pick(rng, cat.brands);
        let variant = *pick(rng, cat.variants);
        let model = format!(
            "{}{}",
            (b'A' + rng.random_range(0..26u8)) as char,
            rng.random_range(10..99)
        );
        let name = format!("{} {} {}, {}", cat.noun, brand, model, variant);
        let part_number = format!(
            "{}-{}{:05}",
            &brand.to_ascii_uppercase().replace(['\'', ' '], "")[..brand.len().min(3)],
            model,
            i
        );
        let sale = round4(rng.random_range(15.0..4500.0f64) / 1.21);
        let status = match rng.random_range(0..100) {
            0..=84 => 1,
            85..=94 => 0,
            _ => 2,
        };
        let validation_status = *pick(rng, &[9, 9, 9, 9, 9, 9, 11, 3, 1, 8, 12]);
        let offer_validation_status = if rng.random_range(0..20) == 0 { 2 } else { 1 };
        let stock = if rng.random_range(0..10) == 0 {
            0
        } else {
            rng.random_range(1..200)
        };
        let recommended = (rng.random_range(0..3) == 0).then(|| round4(sale * 1.15));
        let created = now - TimeDelta::days(rng.random_range(30..i64::from(history_days) + 400));
        let pnk_code = pnk(id);
        let ownership = if rng.random_range(0..4) == 0 { 2 } else { 1 };
        let number_of_offers = rng.random_range(1..8);
        let rank = rng.random_range(1..=number_of_offers);
        let best = if rank == 1 {
            sale
        } else {
            round4(sale * rng.random_range(0.85..1.0))
        };
        let manufacturer = if rng.random_range(0..3) > 0 {
            vec![
                json!({"name": format!("{brand} Europe"), "address": "Str. Industriei 10, Bucuresti", "email": format!("contact@{}.example", brand.to_ascii_lowercase().replace(['\'', ' '], ""))}),
            ]
        } else {
            Vec::new()
        };
        let doc = json!({
            "id": id,
            "part_number_key": pnk_code,
            "number_of_offers": number_of_offers,
            "buy_button_rank": rank,
            "best_offer_sale_price": money(best),
            "best_offer_recommended_price": recommended.map(money).unwrap_or(Value::Null),
            "ownership": ownership,
            "category_id": cat.id,
            "vendor_category_id": null,
            "brand": brand,
            "name": name,
            "description": format!("<p>{name}. Produs nou, in ambalajul original, cu garantie.</p>"),
            "url": format!("https://shop.example.ro/p/{id}"),
            "currency": "RON",
            "warranty": 24,
            "images": [{"url": format!("https://s13emagst.akamaized.net/products/{}/{}/images/res_{:x}.jpg", id / 1000, id, id * 7919), "display_type": 1}],
            "characteristics": [{"id": 6506, "value": variant}],
            "family": {"id": 0, "name": null},
            "handling_time": [{"warehouse_id": 1, "value": rng.random_range(0..3)}],
            "genius_eligibility": i64::from(rng.random_range(0..3) > 0),
            "genius_eligibility_type": 1,
            "genius_computed": i64::from(rng.random_range(0..2) > 0),
            "safety_information": "",
            "doc_errors": if validation_status == 8 { json!([{"error_code": 101, "message": "Imaginile nu respecta standardele"}]) } else { Value::Null },
            "created": clock::format(created),
        });
        let Value::Object(doc) = doc else { continue };
        products.push(Product {
            id: id as i64,
            name: name.clone(),
            part_number: pnk_code.clone(),
            ext_part_number: part_number.clone(),
            price: sale,
        });
        state.offers.insert(
            id,
            Offer {
                id,
                status,
                sale_price: sale,
                min_sale_price: Some(round4(sale * 0.7)),
                max_sale_price: Some(round4(sale * 1.5)),
                recommended_price: recommended,
                vat_id: 1,
                stock: vec![(1, stock)],
                part_number,
                part_number_key: pnk_code,
                eans: vec![ean13(id)],
                validation_status,
                offer_validation_status,
                translation_validation_status: None,
                manufacturer,
                eu_representative: Vec::new(),
                doc,
            },
        );
    }
    if products.is_empty() {
        // Orders without seeded offers still reference plausible products.
        for i in 0..20u64 {
            let cat = &CATEGORIES[i as usize % CATEGORIES.len()];
            let brand = cat.brands[i as usize % cat.brands.len()];
            products.push(Product {
                id: 90_000 + i as i64,
                name: format!("{} {} M{}, {}", cat.noun, brand, 10 + i, cat.variants[0]),
                part_number: pnk(90_000 + i),
                ext_part_number: format!("EXT-{:05}", 90_000 + i),
                price: round4(rng.random_range(20.0..2000.0)),
            });
        }
    }
    products
}

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
    let street = |rng: &mut SmallRng| {
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
            name.clone(),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            0,
        )
    };
    json!({
        "id": rng.random_range(1_000_000..2_147_483_647i64),
        "name": name,
        "email": format!("{:032x}@marketplace.emag.ro", rng.random::<u128>()),
        "company": company,
        "gender": p.gender,
        "code": code,
        "registration_number": reg,
        "bank": bank,
        "iban": iban,
        "fax": null,
        "legal_entity": i64::from(legal),
        "is_vat_payer": vat_payer,
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

fn seed_orders(
    state: &mut State,
    rng: &mut SmallRng,
    count: usize,
    products: &[Product],
    now: NaiveDateTime,
    history_days: u32,
) {
    let span = i64::from(history_days) * 86_400;
    // Draw the dates first, so ids grow with dates as eMAG's do.
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
    let mut order_id: u64 = 300_000_000;
    let mut line_id: i64 = 171_000_000;
    let mut voucher_id: i64 = 2_000_000;
    for (date, status) in plan {
        order_id += rng.random_range(1..40);
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
        let locker = pickup.then(|| {
            let n = rng.random_range(1000..9999);
            (
                format!("EMGRO{n}"),
                format!(
                    "easybox {} {}",
                    pick(rng, &["Kaufland", "Lidl", "Mega Image", "Profi", "OMV"]),
                    n
                ),
            )
        });
        let modified = match status {
            1 => date,
            2 | 3 => date + TimeDelta::seconds(rng.random_range(600..86_400)),
            4 => date + TimeDelta::seconds(rng.random_range(86_400..3 * 86_400)),
            0 => date + TimeDelta::seconds(rng.random_range(600..2 * 86_400)),
            _ => date + TimeDelta::seconds(rng.random_range(5 * 86_400..14 * 86_400)),
        }
        .min(now);
        // Lines.
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
            line_id += rng.random_range(1..5);
            let qty = *pick(rng, &[1, 1, 1, 1, 2, 2, 3]);
            total += p.price * (1.0 + vat_rate) * qty as f64;
            lines.push(json!({
                "id": line_id,
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
        // Shipping: free above 200 RON, otherwise 15.99 or 19.99 with VAT.
        let shipping_tax = if total > 200.0 {
            0.0
        } else {
            *pick(rng, &[15.99, 19.99])
        };
        let mut vouchers = Vec::new();
        let mut shipping_split = Vec::new();
        if rng.random_bool(0.2) {
            voucher_id += rng.random_range(1..50);
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
            total -= gross;
        }
        if shipping_tax > 0.0 && rng.random_bool(0.1) {
            voucher_id += 1;
            let net = round4(shipping_tax / (1.0 + vat_rate));
            shipping_split.push(json!({"voucher_id": voucher_id, "value": money(-net), "vat_value": money(-round4(shipping_tax - net)), "voucher_name": "Transport gratuit"}));
        } else {
            total += shipping_tax;
        }
        let total = round2(total.max(0.0));
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
        let doc = json!({
            "id": order_id,
            "status": status,
            "is_complete": is_complete,
            "type": kind,
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
            "modified": clock::format(modified),
            "payment_status": i64::from(paid),
            "cashed_co": if payment_mode_id == 3 { total } else { 0.0 },
            "cashed_cod": if payment_mode_id == 1 && paid { total } else { 0.0 },
            "shipping_tax": format!("{shipping_tax:.2}"),
            "shipping_tax_voucher_split": shipping_split,
            "customer": customer(rng, date, locker.as_ref().map(|(a, b)| (a.as_str(), b.as_str()))),
            "products": lines,
            "attachments": [],
            "vouchers": vouchers,
            "is_storno": false,
            "reason_cancellation": reason,
            "enforced_vendor_courier_accounts": enforced,
            "emag_club": i64::from(rng.random_bool(0.3)),
            "weekend_delivery": 0,
            "maximum_date_for_shipment": clock::format(date + TimeDelta::days(2)),
        });
        let Value::Object(doc) = doc else { continue };
        let mut order = Order::from_doc(doc, date, modified);
        match status {
            4 => order.finalized_at = Some(modified),
            5 => order.finalized_at = Some(modified - TimeDelta::days(4).min(modified - date)),
            0 => order.cancelled_at = Some(modified),
            _ => {}
        }
        state.orders.push(order);
    }
    state.next_line_id = line_id + 1;
    state.orders.reverse(); // newest first
    state.rebuild_index();
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

fn seed_rmas(state: &mut State, rng: &mut SmallRng) {
    let mut emag_id = 500_000i64;
    let mut rmas = Vec::new();
    for order in state
        .orders
        .iter()
        .filter(|o| o.status == 5 || (o.status == 4 && o.id % 17 == 0))
    {
        let Some((line_id, product_id, qty, _)) = order.lines().first().copied() else {
            continue;
        };
        emag_id += rng.random_range(1..30);
        let request_status = if order.status == 5 {
            7
        } else {
            *pick(rng, &[2, 2, 3, 6, 4, 5])
        };
        let customer = order.doc.get("customer").cloned().unwrap_or(Value::Null);
        let date = order.modified;
        let name = order
            .doc
            .get("products")
            .and_then(|p| p.get(0))
            .and_then(|l| l.get("name"))
            .cloned()
            .unwrap_or(Value::Null);
        let doc = json!({
            "emag_id": emag_id,
            "order_id": order.id,
            "type": order.kind,
            "customer_name": customer.get("name"),
            "customer_company": customer.get("company"),
            "customer_phone": customer.get("phone_1"),
            "products": [{
                "id": line_id - 170_000_000,
                "product_emag_id": 10_000_000 + product_id,
                "product_id": product_id,
                "quantity": qty,
                "product_name": name,
                "return_reason": *pick(rng, &[8, 11, 14, 23]),
                "observations": "Produsul nu corespunde descrierii",
                "diagnostic": null,
                "reject_reason": null,
                "refund_value": null,
            }],
            "awbs": [],
            "pickup_country": "RO",
            "pickup_suburb": customer.get("shipping_suburb"),
            "pickup_city": customer.get("shipping_city"),
            "pickup_address": customer.get("shipping_street"),
            "pickup_zipcode": customer.get("shipping_postal_code"),
            "pickup_locality_id": customer.get("shipping_locality_id").and_then(|v| v.as_str()).and_then(|s| s.parse::<i64>().ok()),
            "pickup_method": *pick(rng, &[1, 1, 2, 3]),
            "return_reason": 8,
            "observations": "",
            "return_type": *pick(rng, &[1, 3, 3, 5]),
            "return_address_id": null,
            "return_tax_value": null,
            "customer_account_iban": null,
            "customer_account_bank": null,
            "customer_account_beneficiary": null,
            "date": clock::format(date),
            "request_status": request_status,
        });
        let Value::Object(doc) = doc else { continue };
        rmas.push(Rma {
            emag_id,
            order_id: order.id,
            request_status,
            kind: order.kind,
            date,
            doc,
        });
    }
    state.rmas = rmas;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean_check_digit_and_pnk_shape() {
        assert_eq!(ean13(1).len(), 13);
        // 594000000001 -> check digit by the EAN-13 rule.
        let e = ean13(1);
        let digits: Vec<u32> = e.bytes().map(|b| u32::from(b - b'0')).collect();
        let sum: u32 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * if i % 2 == 0 { 1 } else { 3 })
            .sum();
        assert_eq!(sum % 10, 0);
        let k = pnk(12345);
        assert_eq!(k.len(), 9);
        assert!(
            k.chars().any(|c| c.is_ascii_digit()) && k.chars().any(|c| c.is_ascii_alphabetic())
        );
        assert_ne!(pnk(1), pnk(2));
    }

    #[test]
    fn deterministic() {
        let now = clock::parse("2025-09-15 12:00:00").unwrap();
        let a = generate(50, 20, 7, now, 180, 14);
        let b = generate(50, 20, 7, now, 180, 14);
        let ja: Vec<_> = a.orders.iter().map(|o| o.json()).collect();
        let jb: Vec<_> = b.orders.iter().map(|o| o.json()).collect();
        assert_eq!(ja, jb);
        let c = generate(50, 20, 8, now, 180, 14);
        assert_ne!(ja[0], c.orders[0].json());
    }
}
