//! Typed models survive eMAG's schema drift and write back every field they read.

use magflow_emag::models::{Offer, Order};
use magflow_emag::ErrorKind;
use serde_json::{json, Value};

fn drifting_order() -> Value {
    json!({
        "id": "4012345678",
        "status": 2,
        "type": 3,
        "payment_mode_id": "3",
        "is_complete": null,
        "date": "2025-10-26 03:30:00",
        "modified": "2025-10-27 10:00:00",
        "shipping_tax": "19.99",
        "cashed_co": "N/A",
        "cancellation_reason": 15,
        "new_field_from_2026": {"nested": [1, 2, 3]},
        "shipping_tax_voucher_split": [{"voucher_id": 7, "value": "-4.20", "vat_value": -0.8, "vat": "0.19"}],
        "customer": {"id": 99, "name": "Ion Popescu", "phone_1": 40722111222_i64, "billing_county_code": "B", "legal_entity": "0"},
        "products": [
            {"id": 171958974, "product_id": "55", "quantity": "2", "sale_price": "12.1234", "status": 1,
             "part_number": "ABC-1", "recycle_warranties": [{"quantity": 1, "product_name": "Taxa SGR metal"}],
             "future": true},
            "garbage line"
        ],
        "vouchers": [],
        "enforced_vendor_courier_accounts": null
    })
}

#[test]
fn reads_leniently() {
    let order = Order::from_value(drifting_order()).unwrap();
    assert_eq!(order.id, Some(4012345678));
    assert_eq!(order.payment_mode_id, Some(3));
    assert_eq!(order.order_type, Some(3));
    assert_eq!(order.is_complete, None);
    assert_eq!(order.shipping_tax, Some(19.99));
    assert_eq!(order.cashed_co, None);
    assert_eq!(order.reason_cancellation, Some(15), "old key name accepted");
    assert_eq!(
        order.products.len(),
        1,
        "the unreadable line is not in the typed view"
    );
    assert_eq!(order.products[0].quantity, Some(2));
    assert_eq!(order.products[0].sale_price, Some(12.1234));
    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.phone_1.as_deref(), Some("40722111222"));
    assert_eq!(customer.legal_entity, Some(0));
    assert!(order.extra.contains_key("new_field_from_2026"));
    assert_eq!(order.shipping_tax_voucher_split[0].value, Some(-4.2));
}

#[test]
fn writes_back_every_field_read() {
    let original = drifting_order();
    let order = Order::from_value(original.clone()).unwrap();
    let back = order.to_value().unwrap();
    let back = back.as_object().unwrap();
    for key in original.as_object().unwrap().keys() {
        let key = if key == "cancellation_reason" {
            "reason_cancellation"
        } else {
            key.as_str()
        };
        if original.get(key).is_some_and(Value::is_null) {
            continue;
        }
        assert!(back.contains_key(key), "{key} lost on write-back");
    }
    assert_eq!(
        back["cashed_co"],
        json!("N/A"),
        "unreadable originals are kept"
    );
    assert_eq!(back["new_field_from_2026"], json!({"nested": [1, 2, 3]}));
    assert_eq!(back["products"].as_array().unwrap().len(), 1);
    assert_eq!(back["products"][0]["future"], json!(true));
    assert_eq!(
        back["products"][0]["recycle_warranties"][0]["product_name"],
        json!("Taxa SGR metal")
    );
    assert_eq!(back["customer"]["billing_county_code"], json!("B"));
    assert_eq!(back["vouchers"], json!([]));
}

#[test]
fn changes_are_written_and_set_fields_win_over_originals() {
    let mut order = Order::from_value(drifting_order()).unwrap();
    order.status = Some(3);
    order.cashed_co = Some(10.5);
    let back = order.to_value().unwrap();
    assert_eq!(back["status"], json!(3));
    assert_eq!(back["cashed_co"], json!(10.5));
}

#[test]
fn non_objects_are_refused_clearly() {
    assert!(Order::from_value(json!([1, 2])).is_err());
    assert!(Order::from_value(json!("order")).is_err());
    assert!(Offer::from_value(json!(null)).is_err());
    let offer = Offer::from_value(
        json!({"id": "12", "sale_price": "51.6477", "stock": [{"warehouse_id": 1, "value": 3}]}),
    )
    .unwrap();
    assert_eq!(offer.id, Some(12));
    assert_eq!(offer.sale_price, Some(51.6477));
    assert!(offer.extra.contains_key("stock"));
}

#[test]
fn text_and_value_decode_alike() {
    let original = drifting_order();
    let from_value = Order::from_value(original.clone()).unwrap();
    let from_text: Order = original.to_string().parse().unwrap();
    assert_eq!(from_text, from_value);
    assert_eq!(from_text.unread(), from_value.unread());
    assert_eq!(
        from_text.to_value().unwrap(),
        from_value.to_value().unwrap()
    );
    // The same order of keys too (map equality ignores it; the text written back does not).
    assert_eq!(
        from_text.to_value().unwrap().to_string(),
        from_value.to_value().unwrap().to_string()
    );
    // Escaped keys and strings read the same as plain ones.
    let escaped: Order = r#"{"\u0069d": "7", "cust\u006fmer": {"name": "A\"B"}}"#
        .parse()
        .unwrap();
    assert_eq!(escaped.id, Some(7));
    assert_eq!(
        escaped.customer.as_ref().unwrap().name.as_deref(),
        Some("A\"B")
    );
}

#[test]
fn unreadable_text_is_an_invalid_argument() {
    for text in [
        "[1, 2]",
        "\"order\"",
        "{\"id\": ",
        "not json",
        "{} trailing",
    ] {
        let err = text.parse::<Order>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{text}: {err}");
    }
    let err = Order::from_value(json!([1])).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert!(err.to_string().contains("order"), "{err}");
}

#[test]
fn old_reason_name_is_read_only_when_the_new_one_is_absent() {
    let both =
        Order::from_value(json!({"reason_cancellation": null, "cancellation_reason": 15})).unwrap();
    assert_eq!(both.reason_cancellation, None);
    assert_eq!(
        both.extra["cancellation_reason"],
        json!(15),
        "kept as an unknown field"
    );
    let old_unreadable = Order::from_value(json!({"cancellation_reason": "n/a"})).unwrap();
    assert_eq!(old_unreadable.reason_cancellation, None);
    assert_eq!(
        old_unreadable.to_value().unwrap()["reason_cancellation"],
        json!("n/a"),
        "the original is written back under the new name"
    );
}
