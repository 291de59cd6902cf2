//! Pages as the engines write them: orders parsed once into their columns (possibly on
//! another thread), and offers checked for an id.

use chrono::SecondsFormat;
use chrono_tz::Tz;
use serde_json::Value;

use super::UpsertCounts;
use crate::client::RawItems;
use crate::error::Result;
use crate::jsonview::JsonView;
use crate::models::lenient::{as_f64, as_i64};

/// One order ready to store: its key and the columns the ERP queries (the hash of its text is
/// computed when it is written), all owned, so a page can be prepared on one thread and written on another.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedOrder {
    /// Position of the order's text in the page.
    pub item: usize,
    /// eMAG's order id.
    pub id: i64,
    /// `status`.
    pub status: Option<i64>,
    /// `type`.
    pub kind: Option<i64>,
    /// `payment_mode_id`.
    pub payment_mode_id: Option<i64>,
    /// `date` as eMAG wrote it.
    pub date: Option<String>,
    /// `modified` as eMAG wrote it.
    pub modified: Option<String>,
    /// `date` in UTC (ISO 8601).
    pub created_at: Option<String>,
    /// `modified` in UTC (ISO 8601).
    pub modified_at: Option<String>,
    /// Active lines' quantity x price plus shipping.
    pub total: Option<f64>,
    /// `customer.name`.
    pub customer_name: Option<String>,
    /// Number of lines.
    pub products_count: Option<i64>,
}

impl PreparedOrder {
    /// The columns of one order read from its view (`None`: not an order with a positive
    /// integer id).
    pub fn from_view(item: usize, order: &JsonView<'_>, tz: Tz) -> Option<Self> {
        let int = |key: &str| order.member(key).and_then(JsonView::lenient_i64);
        let string = |key: &str| order.member(key).and_then(JsonView::as_str);
        // `member` is None on anything but an object, so this also refuses non-objects.
        let id = int("id").filter(|id| *id > 0)?;
        Some(PreparedOrder {
            item,
            id,
            status: int("status"),
            kind: int("type"),
            payment_mode_id: int("payment_mode_id"),
            date: string("date").map(str::to_owned),
            modified: string("modified").map(str::to_owned),
            created_at: utc_of(order.member("date"), tz),
            modified_at: utc_of(order.member("modified"), tz),
            total: order_total(order),
            customer_name: order
                .member("customer")
                .and_then(|c| c.member("name"))
                .and_then(JsonView::as_str)
                .map(str::to_owned),
            products_count: order
                .member("products")
                .and_then(JsonView::as_list)
                .map(|p| p.len() as i64),
        })
    }
}

/// A page of orders ready to store: the texts as read, and for each order that could be
/// read its [`PreparedOrder`]; the others are described in `failures`.
#[derive(Debug, Clone)]
pub struct PreparedOrders {
    /// The orders' texts.
    pub items: RawItems,
    /// The orders that read, in page order.
    pub rows: Vec<PreparedOrder>,
    /// One message per item that is not an order with a positive integer id.
    pub failures: Vec<String>,
}

impl PreparedOrders {
    /// Parse each item once into a [`JsonView`], hand it to `inspect` (the sync validates
    /// there), and keep its columns. No `serde_json::Value` is built.
    pub fn new(
        items: RawItems,
        tz: Tz,
        mut inspect: impl FnMut(&PreparedOrder, &JsonView<'_>),
    ) -> PreparedOrders {
        let mut rows = Vec::with_capacity(items.len());
        let mut failures = Vec::new();
        for (index, text) in items.iter().enumerate() {
            let row = JsonView::parse(text)
                .ok()
                .and_then(|view| PreparedOrder::from_view(index, &view, tz).map(|r| (r, view)));
            match row {
                Some((row, view)) => {
                    inspect(&row, &view);
                    rows.push(row);
                }
                None => failures.push(format!(
                    "item {index}: not an order with a positive integer id"
                )),
            }
        }
        PreparedOrders {
            items,
            rows,
            failures,
        }
    }
}

fn order_total(order: &JsonView<'_>) -> Option<f64> {
    let products = order.member("products")?.as_list()?;
    let mut total = 0.0;
    for p in products {
        let active = p
            .member("status")
            .and_then(JsonView::lenient_i64)
            .unwrap_or(1)
            == 1;
        if active {
            let qty = p
                .member("quantity")
                .and_then(JsonView::lenient_f64)
                .unwrap_or(0.0);
            let price = p
                .member("sale_price")
                .and_then(JsonView::lenient_f64)
                .unwrap_or(0.0);
            total += qty * price;
        }
    }
    total += order
        .member("shipping_tax")
        .and_then(JsonView::lenient_f64)
        .unwrap_or(0.0);
    Some((total * 10_000.0).round() / 10_000.0)
}

/// The UTC ISO form of an eMAG timestamp, if it reads.
fn utc_of(v: Option<&JsonView<'_>>, tz: Tz) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let t = crate::time::parse_local(v?.as_str()?, tz).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return Some(t.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    // What `to_rfc3339_opts(Secs, true)` writes, without a formatter (two per order).
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// The offers of a page that have a positive integer id, each with its compact JSON text
/// (what is stored and hashed); the others are counted failed in `counts`.
pub(crate) fn offer_texts<'a>(
    offers: &'a [Value],
    counts: &mut UpsertCounts,
) -> Result<Vec<(i64, &'a Value, String)>> {
    let mut kept = Vec::with_capacity(offers.len());
    for (index, offer) in offers.iter().enumerate() {
        let Some(id) = offer.get("id").and_then(as_i64).filter(|id| *id > 0) else {
            counts.failed += 1;
            counts.failures.push(format!(
                "item {index}: not an offer with a positive integer id"
            ));
            continue;
        };
        kept.push((id, offer, serde_json::to_string(offer)?));
    }
    Ok(kept)
}

/// The columns the ERP queries of an offer.
pub(crate) struct OfferColumns<'a> {
    pub part_number_key: Option<&'a str>,
    pub name: Option<&'a str>,
    pub status: Option<i64>,
    pub sale_price: Option<f64>,
    pub general_stock: Option<i64>,
}

impl<'a> OfferColumns<'a> {
    pub fn of(offer: &'a Value) -> Self {
        OfferColumns {
            part_number_key: offer.get("part_number_key").and_then(Value::as_str),
            name: offer.get("name").and_then(Value::as_str),
            status: offer.get("status").and_then(as_i64),
            sale_price: offer.get("sale_price").and_then(as_f64),
            general_stock: offer.get("general_stock").and_then(as_i64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_columns_are_what_chrono_writes() {
        for (text, tz) in [
            ("2025-07-01 12:00:00", chrono_tz::Europe::Bucharest),
            ("2025-03-30 03:30:00", chrono_tz::Europe::Bucharest),
            ("2025-10-26 03:30:00", chrono_tz::Europe::Sofia),
            ("2025-01-01 00:00:00", chrono_tz::Europe::Budapest),
        ] {
            let view = JsonView::Str(text.into());
            let chrono = crate::time::parse_local(text, tz)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(utc_of(Some(&view), tz), Some(chrono), "{text}");
        }
        assert_eq!(
            utc_of(Some(&JsonView::Str("no".into())), chrono_tz::UTC),
            None
        );
        assert_eq!(utc_of(Some(&JsonView::Int(1)), chrono_tz::UTC), None);
    }
}
