//! The realistic order the validation and typed-model benches measure, and their timing
//! helpers. Not a bench target itself (Cargo only discovers `benches/*.rs`).

#![allow(dead_code)]

use std::time::Instant;

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
pub fn realistic_order() -> Value {
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

pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Median orders/s of `rounds` rounds of `n` calls.
pub fn measure(rounds: usize, n: usize, mut f: impl FnMut()) -> f64 {
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
