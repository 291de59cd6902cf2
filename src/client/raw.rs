//! A successful answer's `results`, kept as the JSON text eMAG sent.
//!
//! Building a `serde_json::Value` of a page of orders costs more than the HTTP round trip on
//! loopback; a sync that stores the orders as read, or a binding that builds its own objects,
//! needs only the text. [`RawResults`] holds the body (shared with the transport, no copy) and
//! where `results` lies in it; [`RawResults::to_value`] gives the `Value` when one is wanted.

use std::ops::Range;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::{Error, Result};

/// The `results` of a successful answer, as text.
#[derive(Clone)]
pub struct RawResults {
    body: Bytes,
    results: Range<usize>,
}

impl std::fmt::Debug for RawResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResults")
            .field("bytes", &self.results.len())
            .finish()
    }
}

/// The envelope, borrowed: only `isError` and where `results` is are read.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "isError", borrow)]
    is_error: Option<&'a RawValue>,
    #[serde(borrow)]
    results: Option<&'a RawValue>,
}

/// The text of a body, when it is UTF-8.
fn body_text(body: &Bytes) -> Option<&str> {
    std::str::from_utf8(body).ok()
}

/// Whether an envelope's `isError` is exactly `false` (success is nothing else).
fn is_success(is_error: Option<&RawValue>) -> bool {
    is_error.map(RawValue::get) == Some("false")
}

/// Where `raw`, a value borrowed from `text`, lies in it.
fn range_in(text: &str, raw: &RawValue) -> Range<usize> {
    let start = raw.get().as_ptr() as usize - text.as_ptr() as usize;
    start..start + raw.get().len()
}

impl RawResults {
    /// `results` of a body whose envelope says `isError: false`; `None` for any other body
    /// (not JSON, not an object, `isError` missing or not `false`), which the full
    /// interpretation then explains. A missing `results` reads as `null`.
    pub fn from_success_body(body: Bytes) -> Option<RawResults> {
        let text = body_text(&body)?;
        let envelope: Envelope<'_> = serde_json::from_str(text).ok()?;
        if !is_success(envelope.is_error) {
            return None;
        }
        let results = envelope.results.map_or(0..0, |raw| range_in(text, raw));
        Some(RawResults { body, results })
    }

    /// Results already decoded (an answer the fast path did not take, e.g. 204 No Content).
    pub fn from_value(value: &Value) -> RawResults {
        let text = value.to_string();
        let len = text.len();
        RawResults {
            body: Bytes::from(text),
            results: 0..len,
        }
    }

    /// The JSON text of `results` (`null` when the answer had none).
    pub fn json(&self) -> &str {
        if self.results.is_empty() {
            return "null";
        }
        // Checked UTF-8 in `from_success_body`; `from_value` builds a String.
        std::str::from_utf8(&self.body[self.results.clone()]).unwrap_or("null")
    }

    /// `results` as a `Value`.
    pub fn to_value(&self) -> Result<Value> {
        serde_json::from_str(self.json())
            .map_err(|e| Error::internal(format!("results no longer parse: {e}")))
    }

    /// The items of a list of `results` (`null` is an empty list), each as its JSON text.
    /// `what` names the call in the error when `results` is not a list.
    pub fn items(&self, what: &str) -> Result<RawItems> {
        let text = self.json();
        let raw: Vec<&RawValue> = match serde_json::from_str::<Option<Vec<&RawValue>>>(text) {
            Ok(list) => list.unwrap_or_default(),
            Err(_) => {
                let kind = serde_json::from_str::<Value>(text)
                    .map(|v| super::pagination::json_type(&v))
                    .unwrap_or("unreadable JSON");
                return Err(Error::ApiResponse {
                    message: format!(
                        "{what} answered results of type {kind} where a list was expected"
                    ),
                    messages: Vec::new(),
                    status_code: Some(200),
                    response_data: None,
                    transient: false,
                });
            }
        };
        let body = body_text(&self.body).unwrap_or("");
        let ranges = raw.iter().map(|r| range_in(body, r)).collect();
        Ok(RawItems {
            body: self.body.clone(),
            ranges,
        })
    }
}

/// The items of a list answer, each kept as the JSON text eMAG sent.
#[derive(Clone)]
pub struct RawItems {
    body: Bytes,
    ranges: Vec<Range<usize>>,
}

impl std::fmt::Debug for RawItems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawItems")
            .field("items", &self.ranges.len())
            .finish()
    }
}

/// The envelope of a list answer, borrowed, its items found in the same pass.
#[derive(Deserialize)]
struct ListEnvelope<'a> {
    #[serde(rename = "isError", borrow)]
    is_error: Option<&'a RawValue>,
    #[serde(borrow, default)]
    results: Option<Vec<&'a RawValue>>,
}

impl RawItems {
    /// The items of a body whose envelope says `isError: false` and whose `results` is a list
    /// (or null or missing: no items), found in one pass over the body. `None` for any other
    /// body; [`RawResults::from_success_body`] and [`RawResults::items`] then say what it is.
    pub fn from_success_body(body: Bytes) -> Option<RawItems> {
        let text = body_text(&body)?;
        let envelope: ListEnvelope<'_> = serde_json::from_str(text).ok()?;
        if !is_success(envelope.is_error) {
            return None;
        }
        let ranges = envelope
            .results
            .unwrap_or_default()
            .iter()
            .map(|r| range_in(text, r))
            .collect();
        Some(RawItems { body, ranges })
    }

    /// Items from texts (each must be one JSON value); for callers that hold pages of their
    /// own, such as a file of saved answers.
    pub fn from_texts<S: AsRef<str>>(texts: &[S]) -> RawItems {
        let mut body = String::new();
        let mut ranges = Vec::with_capacity(texts.len());
        for t in texts {
            let start = body.len();
            body.push_str(t.as_ref());
            ranges.push(start..body.len());
        }
        RawItems {
            body: Bytes::from(body),
            ranges,
        }
    }

    /// Items from values, each as its compact serialization (for orders held as `Value`s).
    pub fn from_values(values: &[Value]) -> Result<RawItems> {
        let texts = values
            .iter()
            .map(serde_json::to_string)
            .collect::<serde_json::Result<Vec<String>>>()?;
        Ok(RawItems::from_texts(&texts))
    }

    /// How many items.
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Item `index` as JSON text.
    pub fn get(&self, index: usize) -> Option<&str> {
        let range = self.ranges.get(index)?.clone();
        // Every range was cut from checked UTF-8 at a JSON value's bounds.
        std::str::from_utf8(&self.body[range]).ok()
    }

    /// Every item as JSON text, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.ranges
            .iter()
            .map(|r| std::str::from_utf8(&self.body[r.clone()]).unwrap_or("null"))
    }

    /// Every item as a `Value`.
    pub fn to_values(&self) -> Result<Vec<Value>> {
        self.iter()
            .map(|t| {
                serde_json::from_str(t)
                    .map_err(|e| Error::internal(format!("an item no longer parses: {e}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(body: &str) -> Option<RawResults> {
        RawResults::from_success_body(Bytes::from(body.to_owned()))
    }

    #[test]
    fn takes_results_of_a_success_only() {
        let r = raw(r#"{"isError":false,"messages":[],"results":[{"id":1},{"id":2}]}"#).unwrap();
        assert_eq!(r.json(), r#"[{"id":1},{"id":2}]"#);
        let items = r.items("order/read").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items.get(1), Some(r#"{"id":2}"#));
        assert_eq!(items.to_values().unwrap()[0]["id"], 1);
        assert_eq!(raw(r#"{"isError":false}"#).unwrap().json(), "null");
        assert!(raw(r#"{"isError":false}"#)
            .unwrap()
            .items("x")
            .unwrap()
            .is_empty());
        for body in [
            r#"{"isError":true,"results":[]}"#,
            r#"{"isError":"false","results":[]}"#,
            r#"{"results":[]}"#,
            r#"[false]"#,
            "<html>maintenance</html>",
            r#"{"isError":false,"results":[1,}"#,
        ] {
            assert!(raw(body).is_none(), "{body}");
        }
        assert!(RawResults::from_success_body(Bytes::from_static(b"\xff\xfe")).is_none());
    }

    #[test]
    fn items_in_one_pass_agree_with_two() {
        for body in [
            r#"{"isError":false,"messages":[],"results":[{"id":1}, [2] ,"x"]}"#,
            r#"{"results":[],"isError":false}"#,
            r#"{"isError":false,"results":null}"#,
            r#"{"isError":false}"#,
        ] {
            let one = RawItems::from_success_body(Bytes::from(body.to_owned())).unwrap();
            let two = raw(body).unwrap().items("x").unwrap();
            assert_eq!(
                one.iter().collect::<Vec<_>>(),
                two.iter().collect::<Vec<_>>()
            );
        }
        for body in [
            r#"{"isError":false,"results":{"a":1}}"#,
            r#"{"isError":true,"results":[]}"#,
            "not json",
        ] {
            assert!(RawItems::from_success_body(Bytes::from(body.to_owned())).is_none());
        }
    }

    #[test]
    fn a_list_is_required_for_items() {
        let r = raw(r#"{"isError":false,"results":{"a":1}}"#).unwrap();
        let err = r.items("order/read").unwrap_err().to_string();
        assert!(err.contains("of type object"), "{err}");
    }

    #[test]
    fn texts_round_trip() {
        let items = RawItems::from_texts(&["{\"id\":1}", "[2]"]);
        assert_eq!(items.iter().collect::<Vec<_>>(), vec!["{\"id\":1}", "[2]"]);
        assert_eq!(RawResults::from_value(&Value::Null).json(), "null");
    }
}
