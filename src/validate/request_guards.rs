//! Request guards the client applies before sending: what eMAG would refuse anyway
//! (spec §4, §10.9, §16 rules 4-5 and 15), refused locally with a clear validation error:
//! bulks of at most [`MAX_BULK_ENTITIES`] entities, at most [`MAX_INPUT_ELEMENTS`] input elements, `itemsPerPage` within its bound,
//! and order date filters paired and at most one calendar month apart.

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::lenient;
use crate::limits::{max_items_per_page, MAX_BULK_ENTITIES, MAX_INPUT_ELEMENTS};
use crate::phpform;
use crate::time::{add_month, EMAG_FORMAT};

/// The date filter pairs of `order/read` and `order/count` (spec §10.9).
pub const ORDER_DATE_PAIRS: [(&str, &str); 2] = [
    ("createdAfter", "createdBefore"),
    ("modifiedAfter", "modifiedBefore"),
];

/// Whether `before` is at most one calendar month after `after` (Jan 31 + 1 month = Feb 28/29),
/// the longest span eMAG accepts for a date filter pair.
pub fn within_one_month(after: NaiveDateTime, before: NaiveDateTime) -> bool {
    before <= add_month(after)
}

fn date_filter(
    filters: &Map<String, Value>,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<NaiveDateTime> {
    match filters.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(v) => {
            let parsed = v
                .as_str()
                .and_then(|s| NaiveDateTime::parse_from_str(s.trim(), EMAG_FORMAT).ok());
            if parsed.is_none() {
                errors.push(format!(
                    "{key}: must be a date YYYY-mm-dd HH:ii:ss, got {v}"
                ));
            }
            parsed
        }
    }
}

/// The order date filter rules (spec §10.9): a `*Before` needs its `*After`; on `count` an
/// `*After` needs its `*Before` too; the two dates of a pair in order and at most one calendar
/// month apart. Messages are appended to `errors`.
pub fn check_order_date_filters(
    action: &str,
    filters: &Map<String, Value>,
    errors: &mut Vec<String>,
) {
    for (after_key, before_key) in ORDER_DATE_PAIRS {
        let after = date_filter(filters, after_key, errors);
        let before = date_filter(filters, before_key, errors);
        let after_sent = after.is_some()
            || filters
                .get(after_key)
                .is_some_and(|v| !v.is_null() && v != "");
        let before_sent = before.is_some()
            || filters
                .get(before_key)
                .is_some_and(|v| !v.is_null() && v != "");
        match (after, before) {
            (Some(a), Some(b)) => {
                if b < a {
                    errors.push(format!(
                        "{before_key}: must not be earlier than {after_key}"
                    ));
                } else if !within_one_month(a, b) {
                    errors.push(format!(
                        "{before_key}: {after_key}..{before_key} spans more than one month ({} to {}); \
                         eMAG accepts at most one calendar month per date pair (the client's order \
                         iterators split longer ranges into monthly windows)",
                        a.format(EMAG_FORMAT),
                        b.format(EMAG_FORMAT)
                    ));
                }
            }
            _ if before_sent && !after_sent => errors.push(format!(
                "{before_key}: can be used only together with {after_key}"
            )),
            _ if after_sent && !before_sent && action == "count" => errors.push(format!(
                "{after_key}: order/count needs {before_key} too (at most one month later)"
            )),
            _ => {}
        }
    }
}

/// The deepest nesting of arrays and objects accepted in data sent to eMAG (and in any JSON
/// the bindings convert): serde_json's own parser stops at 128 levels too, and eMAG's
/// documented payloads nest at most five deep.
pub const MAX_JSON_DEPTH: usize = 128;

/// How deeply `value` nests (a scalar is 0, `[]` is 1), counted without recursion so that a
/// hostile value cannot overflow the stack; stops counting past `limit`.
pub fn json_depth(value: &Value, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        let depth = depth + 1;
        deepest = deepest.max(depth);
        if deepest > limit {
            return deepest;
        }
        stack.extend(children.map(|c| (c, depth)));
    }
    deepest
}

/// Refuse data nested deeper than [`MAX_JSON_DEPTH`] (an invalid argument, not a validation
/// message: no eMAG payload is shaped like that).
pub fn check_depth(data: &Value) -> Result<()> {
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH {
        return Err(Error::invalid_argument(format!(
            "data: nests deeper than {MAX_JSON_DEPTH} levels of lists and objects"
        )));
    }
    Ok(())
}

/// Check that a resource or action name is shaped like eMAG's own (`order`,
/// `order/attachments`, `smart-deals-price-check`): lowercase ASCII letters, digits, `_` and
/// `-`, with `/` between segments. Anything else (`..`, `?`, `%`, spaces, ...) could move
/// the request off the API path on the same host.
pub fn check_route_name(what: &str, name: &str) -> Result<()> {
    let trimmed = name.trim_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "{what}: {name:?} is not an eMAG {what} name (lowercase letters, digits, '_' and '-', \
             with '/' between segments, e.g. \"order\", \"order/attachments\")"
        )))
    }
}

/// Check a payload before it is sent.
pub fn check_payload(resource: &str, action: &str, data: &Value) -> Result<()> {
    check_route_name("resource", resource)?;
    check_route_name("action", action)?;
    check_depth(data)?;
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
            match lenient::uint(v) {
                Some(n) if (1..=max).contains(&n) => {}
                _ => errors.push(format!(
                    "itemsPerPage: must be an integer from 1 to {max}, got {v}"
                )),
            }
        }
        if let Some(v) = map.get("currentPage") {
            match lenient::uint(v) {
                Some(n) if n >= 1 => {}
                _ => errors.push(format!("currentPage: must be an integer >= 1, got {v}")),
            }
        }
        if resource.trim_matches('/') == "order" && matches!(action, "read" | "count") {
            check_order_date_filters(action, map, &mut errors);
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

    #[test]
    fn order_date_windows() {
        let ok = |action: &str, f: Value| check_payload("order", action, &f).is_ok();
        let month =
            json!({"createdAfter": "2025-01-31 10:00:00", "createdBefore": "2025-02-28 10:00:00"});
        assert!(ok("read", month.clone()));
        assert!(ok("count", month));
        let over =
            json!({"createdAfter": "2025-01-31 10:00:00", "createdBefore": "2025-02-28 10:00:01"});
        let err = check_payload("order", "read", &over).unwrap_err();
        assert!(
            err.validation_errors()[0].contains("more than one month"),
            "{err}"
        );
        assert!(ok("read", json!({"modifiedAfter": "2020-01-01 00:00:00"})));
        assert!(!ok(
            "count",
            json!({"modifiedAfter": "2020-01-01 00:00:00"})
        ));
        assert!(!ok(
            "read",
            json!({"modifiedBefore": "2020-01-01 00:00:00"})
        ));
        assert!(!ok(
            "read",
            json!({"modifiedAfter": "yesterday", "modifiedBefore": "2020-01-01 00:00:00"})
        ));
        assert!(!ok(
            "read",
            json!({"modifiedAfter": "2020-02-01 00:00:00", "modifiedBefore": "2020-01-01 00:00:00"})
        ));
        assert!(ok(
            "read",
            json!({"modifiedAfter": "", "modifiedBefore": null})
        ));
        // Other resources have no such rule.
        assert!(check_payload(
            "rma",
            "read",
            &json!({"modifiedBefore": "2020-01-01 00:00:00"})
        )
        .is_ok());
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let mut deep = json!([]);
        for _ in 0..1_000 {
            deep = Value::Array(vec![deep]);
        }
        let err = check_payload("order", "read", &json!({ "x": deep })).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument);
        assert!(err.to_string().contains("deeper than 128"), "{err}");
        let mut shallow = json!([]);
        for _ in 0..(MAX_JSON_DEPTH - 1) {
            shallow = Value::Array(vec![shallow]);
        }
        assert_eq!(json_depth(&shallow, MAX_JSON_DEPTH), MAX_JSON_DEPTH);
        assert!(check_depth(&shallow).is_ok());
        assert!(check_depth(&json!({ "x": shallow })).is_err());
    }

    #[test]
    fn route_names_must_look_like_emags() {
        for ok in [
            "order",
            "order/attachments",
            "smart-deals-price-check",
            "product_offer",
            "api-3",
        ] {
            assert!(check_route_name("resource", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "..",
            "../../etc",
            "order/../x",
            "order/./x",
            "Order",
            "a b",
            "a?b",
            "a#b",
            "a%2e",
            "a\\b",
            "a//b",
            "é",
        ] {
            let err = check_route_name("resource", bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
