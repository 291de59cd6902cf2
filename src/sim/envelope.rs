//! The wire: the three accepted body forms of `data` (spec §3.2), the
//! `{isError, messages, results}` envelope, lenient readers for values that arrive as strings
//! from form bodies, and pagination.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::phpform;

/// PHP's `max_input_vars` on eMAG.
pub(crate) use crate::limits::MAX_INPUT_ELEMENTS as MAX_INPUT_VARS;
pub(crate) const MAX_INPUT_VARS_MESSAGE: &str = "Maximum input vars of 4000 exceeded";
/// Bulk save cap.
pub(crate) use crate::limits::MAX_BULK_ENTITIES as MAX_BULK;

/// A finished answer, before the server adds the common headers.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
}

fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

impl Reply {
    /// The envelope with already-serialized `results`.
    pub(crate) fn envelope_raw(is_error: bool, messages: &[String], results_json: &str) -> Reply {
        let mut body = String::with_capacity(results_json.len() + 64);
        body.push_str(if is_error {
            "{\"isError\":true,\"messages\":["
        } else {
            "{\"isError\":false,\"messages\":["
        });
        for (i, m) in messages.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(&json_string(m));
        }
        body.push_str("],\"results\":");
        body.push_str(results_json);
        body.push('}');
        Reply {
            status: 200,
            body: Bytes::from(body),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    pub(crate) fn ok(results: Value) -> Reply {
        Reply::envelope_raw(false, &[], &results.to_string())
    }

    pub(crate) fn error(message: impl Into<String>) -> Reply {
        Reply::errors(vec![message.into()])
    }

    pub(crate) fn errors(messages: Vec<String>) -> Reply {
        Reply::envelope_raw(true, &messages, "[]")
    }

    /// A non-envelope `{"message": ...}` body with an HTTP status (gateway answers).
    pub(crate) fn message(status: u16, message: &str) -> Reply {
        Reply {
            status,
            body: Bytes::from(format!("{{\"message\":{}}}", json_string(message))),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_status(mut self, status: u16) -> Reply {
        self.status = status;
        self
    }
}

/// Which of the three accepted forms a body used (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyForm {
    Empty,
    Form,
    Json,
    JsonData,
}

/// Decode a request body into the value of `data` and its number of input elements.
///
/// `application/json` (or, without a form content type, a body starting with `{`/`[`) is JSON:
/// an object with a `data` key is the `{"data": ...}` form, anything else is the bare payload.
/// Everything else is the documented form encoding.
pub(crate) fn parse_data(
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(Value, usize, BodyForm), String> {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return Ok((Value::Null, 0, BodyForm::Empty));
    }
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    let is_form = ct.contains("x-www-form-urlencoded");
    let looks_json = matches!(trimmed.first(), Some(b'{') | Some(b'['));
    if ct.contains("json") || (!is_form && looks_json) {
        let value: Value = serde_json::from_slice(trimmed)
            .map_err(|e| format!("Invalid JSON in request body: {e}"))?;
        let (data, form) = match value {
            Value::Object(mut map) if map.contains_key("data") => (
                map.remove("data").unwrap_or(Value::Null),
                BodyForm::JsonData,
            ),
            other => (other, BodyForm::Json),
        };
        let n = phpform::count_elements(&data);
        return Ok((data, n, form));
    }
    let text =
        std::str::from_utf8(trimmed).map_err(|_| "Request body is not valid UTF-8".to_owned())?;
    let (data, n) =
        phpform::decode(text).map_err(|e| format!("Invalid form body: {}", e.message()))?;
    Ok((data, n, BodyForm::Form))
}

// ---- lenient readers: form leaves are strings -------------------------------------------------

/// An integer from a number, a numeric string ("12", "12.0") or a bool.
pub(crate) fn int(v: &Value) -> Option<i64> {
    crate::lenient::int(v).or_else(|| v.as_bool().map(i64::from))
}

/// A decimal from a number or a numeric string.
pub(crate) use crate::lenient::num;

/// A string from a string or a number.
pub(crate) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A bool from true/false, 1/0, "1"/"0", "true"/"false".
pub(crate) fn boolean(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Null => None,
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => Some(false),
        other => int(other).map(|i| i != 0),
    }
}

/// An integer or a list of integers (filters like `status`).
pub(crate) fn int_list(v: &Value) -> Option<Vec<i64>> {
    match v {
        Value::Array(items) => items.iter().map(int).collect(),
        Value::Object(map) => map.values().map(int).collect(),
        other => int(other).map(|i| vec![i]),
    }
}

/// Optional integer field: absent/null -> Ok(None); present but not an integer -> Err.
pub(crate) fn opt_int(map: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => int(v)
            .map(Some)
            .ok_or_else(|| format!("{key} must be an integer")),
    }
}

/// Number of decimals a value was written with (for the "at most 4 decimals" rules).
pub(crate) fn decimals(v: &Value) -> usize {
    let s = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return 0,
    };
    match s.split_once('.') {
        Some((_, frac)) if !s.contains(['e', 'E']) => frac.trim_end_matches('0').len(),
        _ => 0,
    }
}

/// The filters object of a read/count: `data` must be an object (or absent).
pub(crate) fn filters(data: &Value) -> Result<Map<String, Value>, String> {
    match data {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map.clone()),
        // A form body `data=` (empty) decodes to an empty string.
        Value::String(s) if s.is_empty() => Ok(Map::new()),
        Value::Array(items) if items.is_empty() => Ok(Map::new()),
        _ => Err("data must be an object of filters".to_owned()),
    }
}

/// The entities of a save: a list, or a single object (treated as a one-element list).
pub(crate) fn entities(data: &Value) -> Result<Vec<Map<String, Value>>, String> {
    let items: Vec<&Value> = match data {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![data],
        Value::Null => return Err("data is required".to_owned()),
        _ => return Err("data must be a list of entities".to_owned()),
    };
    if items.is_empty() {
        return Err("data must contain at least one entity".to_owned());
    }
    if items.len() > MAX_BULK {
        return Err(format!(
            "Maximum {MAX_BULK} entities per request exceeded ({} sent)",
            items.len()
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Object(map) => Ok(map.clone()),
            _ => Err(format!("data[{i}] must be an object")),
        })
        .collect()
}

/// A save request planned entity by entity before anything is applied (eMAG's saves are
/// all-or-nothing): the plans, or the reply listing every entity's errors.
pub(crate) fn plan_entities<P>(
    data: &Value,
    mut plan: impl FnMut(usize, &Map<String, Value>) -> Result<P, Vec<String>>,
) -> Result<Vec<P>, Reply> {
    let entities = entities(data).map_err(Reply::error)?;
    let mut planned = Vec::with_capacity(entities.len());
    let mut errors = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        match plan(i, e) {
            Ok(p) => planned.push(p),
            Err(mut m) => errors.append(&mut m),
        }
    }
    if errors.is_empty() {
        Ok(planned)
    } else {
        Err(Reply::errors(errors))
    }
}

/// A page request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Page {
    pub(crate) current: usize,
    pub(crate) per_page: usize,
}

impl Page {
    pub(crate) fn slice<T>(self, items: &[T]) -> &[T] {
        let start = (self.current - 1).saturating_mul(self.per_page);
        if start >= items.len() {
            return &[];
        }
        let end = start.saturating_add(self.per_page).min(items.len());
        &items[start..end]
    }
}

/// Read `currentPage` (default 1; `max_page` where documented) and `itemsPerPage` (default
/// 100, 1..`max_items`; above it an error in strict mode, clamped otherwise).
pub(crate) fn page(
    filters: &Map<String, Value>,
    max_items: usize,
    max_page: Option<i64>,
    strict: bool,
) -> Result<Page, String> {
    let current = opt_int(filters, "currentPage")?.unwrap_or(1);
    if current < 1 {
        return Err("currentPage must be at least 1".to_owned());
    }
    if let Some(max) = max_page {
        if current > max {
            return Err(format!("currentPage must be between 1 and {max}"));
        }
    }
    let mut per_page = opt_int(filters, "itemsPerPage")?.unwrap_or(100);
    if per_page < 1 {
        return Err(format!("itemsPerPage must be between 1 and {max_items}"));
    }
    if per_page > max_items as i64 {
        if strict {
            return Err(format!("itemsPerPage must be between 1 and {max_items}"));
        }
        per_page = max_items as i64;
    }
    Ok(Page {
        current: usize::try_from(current).unwrap_or(usize::MAX),
        per_page: usize::try_from(per_page).unwrap_or(max_items),
    })
}

/// The result of a `count` action: `{noOfItems, noOfPages, itemsPerPage}` (eMAG's shape in
/// the field; the text does not specify it [inference]).
pub(crate) fn count_results(total: usize, per_page: usize) -> Value {
    let per_page = per_page.max(1);
    serde_json::json!({
        "noOfItems": total,
        "noOfPages": total.div_ceil(per_page),
        "itemsPerPage": per_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn three_body_forms() {
        let (d, n, f) = parse_data(
            Some("application/x-www-form-urlencoded"),
            b"data%5BcurrentPage%5D=1&data%5Bstatus%5D%5B0%5D=1",
        )
        .unwrap();
        assert_eq!(d, json!({"currentPage":"1","status":["1"]}));
        assert_eq!((n, f), (2, BodyForm::Form));
        let (d, _, f) = parse_data(Some("application/json"), br#"{"currentPage":1}"#).unwrap();
        assert_eq!((d, f), (json!({"currentPage":1}), BodyForm::Json));
        let (d, _, f) = parse_data(Some("application/json"), br#"{"data":[{"id":1}]}"#).unwrap();
        assert_eq!((d, f), (json!([{"id":1}]), BodyForm::JsonData));
        assert!(parse_data(Some("application/json"), b"{oops").is_err());
    }

    #[test]
    fn lenient_numbers() {
        assert_eq!(int(&json!("12")), Some(12));
        assert_eq!(int(&json!(" 12.0 ")), Some(12));
        assert_eq!(int(&json!("x")), None);
        assert_eq!(num(&json!("51.6477")), Some(51.6477));
        assert_eq!(decimals(&json!("51.64770")), 4);
        assert_eq!(decimals(&json!(1.23456)), 5);
        assert_eq!(int_list(&json!(["1", 2])), Some(vec![1, 2]));
    }
}
