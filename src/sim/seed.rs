//! The deterministic generator: the same `seed` and clock start give the same orders, offers
//! and returns. Fast (one pass, no per-order hashing; JSON serialized lazily on first read).

use std::collections::{BTreeMap, HashMap};

use chrono::{NaiveDateTime, TimeDelta};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::clock;
use super::refdata::{self, CATEGORIES};
use super::state::{Offer, Rma, State};

pub(super) fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn money(v: f64) -> Value {
    Value::from(format!("{v:.4}"))
}

pub(super) fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

pub(super) fn round2(v: f64) -> f64 {
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

pub(super) fn phone(rng: &mut SmallRng) -> String {
    format!(
        "{}{:07}",
        pick(rng, refdata::PHONE_PREFIXES),
        rng.random_range(0..10_000_000u32)
    )
}

pub(super) struct Product {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) part_number: String,
    pub(super) ext_part_number: String,
    pub(super) price: f64,
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
    super::seed_orders::seed_orders(&mut state, &mut rng, orders, &products, now, history_days);
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
        let d = draw_offer(rng, i, now, history_days);
        let Value::Object(doc) = offer_doc(rng, &d) else {
            continue;
        };
        products.push(Product {
            id: d.id as i64,
            name: d.name.clone(),
            part_number: d.pnk_code.clone(),
            ext_part_number: d.part_number.clone(),
            price: d.sale,
        });
        state.offers.insert(d.id, offer(d, doc));
    }
    if products.is_empty() {
        products = fallback_products(rng);
    }
    products
}

/// What one seeded offer is made of, drawn in the generator's fixed order.
struct OfferDraw {
    id: u64,
    cat: &'static refdata::Category,
    brand: &'static str,
    variant: &'static str,
    name: String,
    part_number: String,
    sale: f64,
    status: i64,
    validation_status: i64,
    offer_validation_status: i64,
    stock: i64,
    recommended: Option<f64>,
    created: NaiveDateTime,
    pnk_code: String,
    ownership: i64,
    number_of_offers: i32,
    rank: i32,
    best: f64,
    manufacturer: Vec<Value>,
}

fn draw_offer(rng: &mut SmallRng, i: usize, now: NaiveDateTime, history_days: u32) -> OfferDraw {
    let id = 10_000 + i as u64;
    let cat = pick(rng, &CATEGORIES);
    let brand = *pick(rng, &cat.brands);
    let variant = *pick(rng, &cat.variants);
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
    OfferDraw {
        id,
        cat,
        brand,
        variant,
        name,
        part_number,
        sale,
        status,
        validation_status,
        offer_validation_status,
        stock,
        recommended,
        created,
        pnk_code,
        ownership,
        number_of_offers,
        rank,
        best,
        manufacturer,
    }
}

/// The offer's JSON as `product_offer/read` sends it (its draws keep the generator's order).
fn offer_doc(rng: &mut SmallRng, d: &OfferDraw) -> Value {
    let (id, name, variant) = (d.id, &d.name, d.variant);
    json!({
        "id": id,
        "part_number_key": d.pnk_code,
        "number_of_offers": d.number_of_offers,
        "buy_button_rank": d.rank,
        "best_offer_sale_price": money(d.best),
        "best_offer_recommended_price": d.recommended.map(money).unwrap_or(Value::Null),
        "ownership": d.ownership,
        "category_id": d.cat.id,
        "vendor_category_id": null,
        "brand": d.brand,
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
        "doc_errors": if d.validation_status == 8 { json!([{"error_code": 101, "message": "Imaginile nu respecta standardele"}]) } else { Value::Null },
        "created": clock::format(d.created),
    })
}

fn offer(d: OfferDraw, doc: serde_json::Map<String, Value>) -> Offer {
    Offer {
        id: d.id,
        status: d.status,
        sale_price: d.sale,
        min_sale_price: Some(round4(d.sale * 0.7)),
        max_sale_price: Some(round4(d.sale * 1.5)),
        recommended_price: d.recommended,
        vat_id: 1,
        stock: vec![(1, d.stock)],
        part_number: d.part_number,
        part_number_key: d.pnk_code,
        eans: vec![ean13(d.id)],
        validation_status: d.validation_status,
        offer_validation_status: d.offer_validation_status,
        translation_validation_status: None,
        manufacturer: d.manufacturer,
        eu_representative: Vec::new(),
        doc,
    }
}

/// Orders without seeded offers still reference plausible products.
fn fallback_products(rng: &mut SmallRng) -> Vec<Product> {
    (0..20u64)
        .map(|i| {
            let cat = &CATEGORIES[i as usize % CATEGORIES.len()];
            let brand = cat.brands[i as usize % cat.brands.len()];
            Product {
                id: 90_000 + i as i64,
                name: format!("{} {} M{}, {}", cat.noun, brand, 10 + i, cat.variants[0]),
                part_number: pnk(90_000 + i),
                ext_part_number: format!("EXT-{:05}", 90_000 + i),
                price: round4(rng.random_range(20.0..2000.0)),
            }
        })
        .collect()
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
