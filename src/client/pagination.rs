//! Pagination: pages of up to 100 until a short page, and order reads over more than one
//! month split into one-month windows (eMAG refuses longer `*After`/`*Before` pairs).

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::{Client, RawItems, Request};
use crate::error::{Error, Result};
use crate::lenient;
use crate::limits;
use crate::time::{add_month, EMAG_FORMAT};

/// The default and largest page size.
pub const PAGE_SIZE: u64 = limits::MAX_ITEMS_PER_PAGE;

/// A date window `(after, before)` on one filter pair.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    after_key: &'static str,
    before_key: &'static str,
    after: String,
    before: String,
}

/// Walks every page of a read, window by window. Call [`Pager::next_page`] until it returns
/// `None`; the position ([`Pager::position`]) can be saved and resumed.
pub struct Pager {
    client: Client,
    resource: String,
    filters: Map<String, Value>,
    windows: Vec<Window>,
    window: usize,
    page: u64,
    per_page: u64,
    done: bool,
}

impl Pager {
    pub(crate) fn new(client: Client, resource: &str, filters: Value) -> Result<Self> {
        let filters = match filters {
            Value::Null => Map::new(),
            Value::Object(m) => m,
            other => {
                return Err(Error::invalid_argument(format!(
                    "filters must be an object, got {}",
                    json_type(&other)
                )))
            }
        };
        let per_page = match filters.get("itemsPerPage") {
            None => PAGE_SIZE,
            Some(v) => {
                let max = limits::max_items_per_page(resource);
                match lenient::uint(v) {
                    Some(n) if (1..=max).contains(&n) => n,
                    _ => {
                        return Err(Error::validation(vec![format!(
                            "itemsPerPage: must be an integer from 1 to {max}, got {v}"
                        )]))
                    }
                }
            }
        };
        let page = match filters.get("currentPage") {
            None => 1,
            Some(v) => match lenient::uint(v) {
                Some(n) if n >= 1 => n,
                _ => {
                    return Err(Error::validation(vec![format!(
                        "currentPage: must be an integer >= 1, got {v}"
                    )]))
                }
            },
        };
        let windows = if resource.trim_matches('/') == "order" {
            order_windows(&filters)?
        } else {
            Vec::new()
        };
        Ok(Pager {
            client,
            resource: resource.trim_matches('/').to_owned(),
            filters,
            windows,
            window: 0,
            page,
            per_page,
            done: false,
        })
    }

    /// `(window index, next page number)`: where the walk stands.
    pub fn position(&self) -> (usize, u64) {
        (self.window, self.page)
    }

    /// Resume at `(window, page)` as returned by [`Pager::position`] earlier.
    pub fn seek(&mut self, window: usize, page: u64) {
        self.window = window;
        self.page = page.max(1);
        self.done = self.window >= self.windows.len().max(1);
    }

    /// How many date windows the walk has (0 when no split was needed).
    pub fn window_count(&self) -> usize {
        self.windows.len()
    }

    /// The page size in use.
    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// The filters the next request will send.
    pub fn next_filters(&self) -> Map<String, Value> {
        let mut f = self.filters.clone();
        if let Some(w) = self.windows.get(self.window) {
            f.insert(w.after_key.to_owned(), Value::from(w.after.clone()));
            f.insert(w.before_key.to_owned(), Value::from(w.before.clone()));
        }
        f.insert("currentPage".to_owned(), Value::from(self.page));
        f.insert("itemsPerPage".to_owned(), Value::from(self.per_page));
        f
    }

    /// The next page, or `None` when every page of every window was read.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Value>>> {
        match self.next_page_raw().await? {
            Some(items) => items.to_values().map(Some),
            None => Ok(None),
        }
    }

    /// [`Pager::next_page`] with each item kept as the JSON text eMAG sent.
    pub async fn next_page_raw(&mut self) -> Result<Option<RawItems>> {
        if self.done {
            return Ok(None);
        }
        let data = Value::Object(self.next_filters());
        let results = self
            .client
            .request_raw(Request::post(&self.resource, "read", Some(data)))
            .await?;
        let items = results.items(&format!("{}/read", self.resource))?;
        if (items.len() as u64) < self.per_page {
            // A short page ends this window.
            self.window += 1;
            self.page = 1;
            if self.window >= self.windows.len() {
                self.done = true;
            }
        } else {
            self.page += 1;
        }
        Ok(Some(items))
    }

    /// Every item of every page.
    pub async fn collect(mut self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }
}

/// The windows an order read needs: one per calendar month when a `*After`/`*Before` pair spans
/// more than one month, none otherwise.
fn order_windows(filters: &Map<String, Value>) -> Result<Vec<Window>> {
    for (after_key, before_key) in [
        ("modifiedAfter", "modifiedBefore"),
        ("createdAfter", "createdBefore"),
    ] {
        let (Some(a), Some(b)) = (filters.get(after_key), filters.get(before_key)) else {
            continue;
        };
        let parse = |v: &Value, key: &str| -> Result<NaiveDateTime> {
            let text = v.as_str().ok_or_else(|| {
                Error::validation(vec![format!(
                    "{key}: must be a \"YYYY-mm-dd HH:ii:ss\" string"
                )])
            })?;
            NaiveDateTime::parse_from_str(text, EMAG_FORMAT).map_err(|_| {
                Error::validation(vec![format!(
                    "{key}: {text:?} is not \"YYYY-mm-dd HH:ii:ss\""
                )])
            })
        };
        let start = parse(a, after_key)?;
        let end = parse(b, before_key)?;
        if end < start {
            return Err(Error::validation(vec![format!(
                "{before_key}: must not be earlier than {after_key}"
            )]));
        }
        if crate::validate::request_guards::within_one_month(start, end) {
            return Ok(Vec::new());
        }
        let mut windows = Vec::new();
        let mut from = start;
        while from <= end {
            let to = (add_month(from) - chrono::Duration::seconds(1)).min(end);
            windows.push(Window {
                after_key,
                before_key,
                after: from.format(EMAG_FORMAT).to_string(),
                before: to.format(EMAG_FORMAT).to_string(),
            });
            from = to + chrono::Duration::seconds(1);
        }
        return Ok(windows);
    }
    Ok(Vec::new())
}

/// A count answer as a number: eMAG's `count` actions answer a number, a numeric string, or an
/// object such as `{"noOfItems": "123", "noOfPages": 2}`.
pub fn count_from_results(results: &Value) -> Result<u64> {
    let found = match results {
        Value::Object(o) => ["noOfItems", "count", "total", "total_results"]
            .iter()
            .find_map(|k| o.get(*k))
            .and_then(lenient::uint),
        other => lenient::uint(other),
    };
    found.ok_or_else(|| Error::ApiResponse {
        message: format!("a count answer was expected, got {results}"),
        messages: Vec::new(),
        status_code: Some(200),
        response_data: None,
        transient: false,
    })
}

/// The JSON type of a value, for messages.
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn windows_split_by_calendar_month() {
        let f =
            json!({"modifiedAfter":"2025-01-31 10:00:00","modifiedBefore":"2025-04-15 00:00:00"});
        let w = order_windows(f.as_object().unwrap()).unwrap();
        let pairs: Vec<(&str, &str)> = w
            .iter()
            .map(|w| (w.after.as_str(), w.before.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("2025-01-31 10:00:00", "2025-02-28 09:59:59"),
                ("2025-02-28 10:00:00", "2025-03-28 09:59:59"),
                ("2025-03-28 10:00:00", "2025-04-15 00:00:00"),
            ]
        );
        let short =
            json!({"createdAfter":"2025-01-01 00:00:00","createdBefore":"2025-01-20 00:00:00"});
        assert!(order_windows(short.as_object().unwrap())
            .unwrap()
            .is_empty());
        let alone = json!({"modifiedAfter":"2020-01-01 00:00:00"});
        assert!(order_windows(alone.as_object().unwrap())
            .unwrap()
            .is_empty());
        let reversed =
            json!({"modifiedAfter":"2025-02-01 00:00:00","modifiedBefore":"2025-01-01 00:00:00"});
        assert!(order_windows(reversed.as_object().unwrap()).is_err());
        let garbage = json!({"modifiedAfter":"yesterday","modifiedBefore":"2025-01-01 00:00:00"});
        assert!(order_windows(garbage.as_object().unwrap()).is_err());
    }

    #[test]
    fn count_shapes() {
        assert_eq!(count_from_results(&json!(12)).unwrap(), 12);
        assert_eq!(count_from_results(&json!("12")).unwrap(), 12);
        assert_eq!(
            count_from_results(&json!({"noOfItems":"7","noOfPages":1})).unwrap(),
            7
        );
        assert!(count_from_results(&json!([1])).is_err());
    }
}
