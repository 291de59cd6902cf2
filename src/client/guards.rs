//! Request guards the client applies before sending: what eMAG would refuse anyway
//! (spec §4, §16 rules 4-5), refused locally with a clear validation error.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::phpform;

/// At most this many entities in one bulk save.
pub const MAX_BULK_ENTITIES: usize = 50;
/// At most this many form input elements per request (PHP's `max_input_vars` on eMAG).
pub const MAX_INPUT_ELEMENTS: usize = 4000;
/// `itemsPerPage` bound for most reads.
pub const MAX_ITEMS_PER_PAGE: u64 = 100;
/// `itemsPerPage` bound for `invoice/read` and `customer-invoice/read`.
pub const MAX_ITEMS_PER_PAGE_INVOICES: u64 = 1000;

/// The `itemsPerPage` bound of a resource.
pub fn max_items_per_page(resource: &str) -> u64 {
    match resource.trim_matches('/') {
        "invoice" | "customer-invoice" => MAX_ITEMS_PER_PAGE_INVOICES,
        _ => MAX_ITEMS_PER_PAGE,
    }
}

/// Check a payload before it is sent.
pub fn check_payload(resource: &str, action: &str, data: &Value) -> Result<()> {
    let mut errors = Vec::new();
    if let Value::Array(items) = data {
        if action == "save" && items.len() > MAX_BULK_ENTITIES {
            errors.push(format!(
                "data: {} entities in one {resource}/save; eMAG accepts at most {MAX_BULK_ENTITIES} \
                 per request (the client's save helpers split bulks automatically)",
                items.len()
            ));
        }
    }
    if let Value::Object(map) = data {
        if let Some(v) = map.get("itemsPerPage") {
            let max = max_items_per_page(resource);
            match lenient_u64(v) {
                Some(n) if (1..=max).contains(&n) => {}
                _ => errors.push(format!(
                    "itemsPerPage: must be an integer from 1 to {max}, got {v}"
                )),
            }
        }
        if let Some(v) = map.get("currentPage") {
            match lenient_u64(v) {
                Some(n) if n >= 1 => {}
                _ => errors.push(format!("currentPage: must be an integer >= 1, got {v}")),
            }
        }
    }
    let elements = phpform::count_elements(data);
    if elements > MAX_INPUT_ELEMENTS {
        errors.push(format!(
            "data: {elements} input elements; eMAG accepts at most {MAX_INPUT_ELEMENTS} per request"
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

/// A non-negative integer sent as a number or a numeric string.
pub fn lenient_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limits() {
        assert!(check_payload("order", "read", &json!({"itemsPerPage": 100})).is_ok());
        assert!(check_payload("order", "read", &json!({"itemsPerPage": 101})).is_err());
        assert!(check_payload("order", "read", &json!({"itemsPerPage": "0"})).is_err());
        assert!(check_payload("invoice", "read", &json!({"itemsPerPage": 1000})).is_ok());
        assert!(check_payload("order", "read", &json!({"currentPage": 0})).is_err());
        let fifty: Vec<Value> = (0..50).map(|i| json!({"id": i})).collect();
        assert!(check_payload("product_offer", "save", &Value::Array(fifty.clone())).is_ok());
        let mut many = fifty;
        many.push(json!({"id": 51}));
        let err = check_payload("product_offer", "save", &Value::Array(many)).unwrap_err();
        assert!(err.validation_errors()[0].contains("at most 50"));
        let big: Vec<Value> = (0..4001).map(|i| json!(i)).collect();
        assert!(check_payload("category", "read", &json!({"x": big})).is_err());
    }
}
