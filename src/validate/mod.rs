//! Validation: catch before sending what eMAG would reject, and what would corrupt the ERP's
//! data when reading, with messages a person can act on. Every message names the field path
//! and the problem: `products[2].quantity: must be > 0, got -1`.
//!
//! Every validator returns a `Vec<String>` (empty = valid); [`ensure`] turns one into
//! `Result<(), Error::Validation>`. The validators are generic over [`Doc`], a read-only
//! document model implemented for `&serde_json::Value` here and for Python objects by the
//! Python binding, so all rules live here once.
//!
//! ```
//! use magflow_emag::validate::{ensure, validate_order_cancellation, validate_order_data};
//! use serde_json::json;
//! let order = json!({"id": 1, "status": 9});
//! let errors = validate_order_data(&order);
//! assert!(errors.iter().any(|e| e == "status: must be an integer from 0 to 5, got 9"));
//! assert!(ensure(validate_order_cancellation(123, 1)).is_ok());
//! assert!(validate_order_cancellation(123, 4)[0].contains("cancellation reason"));
//! ```
//!
//! Files: `doc.rs` (the document model), `values.rs` (lenient readers, date and email checks),
//! `check.rs` (one-message field checks), `order.rs` (an order as read), `update.rs`
//! (`order/save`: the status matrix, line edits, storno), `cancellation.rs`, `bulk.rs`,
//! `offer.rs` (`product_offer/save`, `offer/save`), `awb.rs`, `request_guards.rs` (request limits the
//! client refuses before sending).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

mod awb;
mod bulk;
mod cancellation;
mod check;
pub mod doc;
mod offer;
mod order;
mod product;
pub mod request_guards;
mod update;
mod update_lines;
mod values;

pub use doc::{Doc, Fields, Key, Kind};
pub use offer::OfferMode;

pub use crate::limits::{MAX_ORDER_ID, MAX_PRODUCT_ID};
/// Default customer return period in days (the simulator's default too); the RT of "RT + 5
/// days" for 4 -> 5.
pub const DEFAULT_RETURN_PERIOD_DAYS: i64 = 14;

/// The path of a field inside a document, rendered as `products[2].quantity`. Built on the
/// stack while walking; rendered only when a message is built.
#[derive(Debug, Clone, Copy)]
pub struct FieldPath<'a> {
    parent: Option<&'a FieldPath<'a>>,
    seg: Seg,
}

#[derive(Debug, Clone, Copy)]
enum Seg {
    Root,
    Name(&'static str),
    Index(usize),
}

impl<'a> FieldPath<'a> {
    /// The document itself: its fields render as `id`, `products[0].id`.
    pub const ROOT: FieldPath<'static> = FieldPath {
        parent: None,
        seg: Seg::Root,
    };

    /// A top-level name (`"order"`, `"current"`).
    pub const fn named(name: &'static str) -> FieldPath<'static> {
        FieldPath {
            parent: None,
            seg: Seg::Name(name),
        }
    }

    /// The member `name` of this path.
    pub fn key(&'a self, name: &'static str) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            seg: Seg::Name(name),
        }
    }

    /// Item `index` of this path.
    pub fn index(&'a self, index: usize) -> FieldPath<'a> {
        FieldPath {
            parent: Some(self),
            seg: Seg::Index(index),
        }
    }

    /// Whether this is [`FieldPath::ROOT`].
    fn is_root(&self) -> bool {
        matches!(self.seg, Seg::Root) && self.parent.is_none()
    }
}

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parent_written = match self.parent {
            Some(p) if !p.is_root() => {
                p.fmt(f)?;
                true
            }
            _ => false,
        };
        match self.seg {
            Seg::Root => Ok(()),
            Seg::Name(n) if parent_written => write!(f, ".{n}"),
            Seg::Name(n) => f.write_str(n),
            Seg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Collects messages `path: problem`.
#[derive(Debug, Default)]
pub(crate) struct Report {
    errors: Vec<String>,
}

impl Report {
    pub(crate) fn new() -> Self {
        Report { errors: Vec::new() }
    }

    /// Add `path: problem`.
    pub(crate) fn push(&mut self, path: &FieldPath<'_>, problem: impl fmt::Display) {
        self.errors.push(format!("{path}: {problem}"));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub(crate) fn into_errors(self) -> Vec<String> {
        self.errors
    }
}

/// The context of time-dependent and mode-dependent rules.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// The time to judge the 48 h and RT + 5 days rules and the dates of offers and return
    /// AWBs by; `None` = the current time.
    pub now: Option<DateTime<Utc>>,
    /// The platform's time zone: eMAG's timestamps carry none (default Europe/Bucharest).
    pub tz: Tz,
    /// The customer's return period (RT) in days, for 4 -> 5 within RT + 5 days (default 14).
    pub return_period_days: i64,
    /// Which save an offer is checked for (default [`OfferMode::Auto`]).
    pub offer_mode: OfferMode,
    /// Whether an order without `type` gets "type: is required" (default true). The legacy
    /// ERP's validators did not require it; a `type` that is sent is checked either way.
    pub require_type: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: None,
            tz: chrono_tz::Europe::Bucharest,
            return_period_days: DEFAULT_RETURN_PERIOD_DAYS,
            offer_mode: OfferMode::Auto,
            require_type: true,
        }
    }
}

impl Options {
    /// Options judging time-dependent rules at `now`.
    pub fn at(now: DateTime<Utc>) -> Self {
        Options {
            now: Some(now),
            ..Options::default()
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// Today's date in the platform's zone.
    pub(crate) fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.tz).date_naive()
    }
}

/// `Ok(())` for no messages, else an [`Error::Validation`] carrying them.
pub fn ensure(errors: Vec<String>) -> Result<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::validation(errors))
    }
}

/// Check an order as read (`order/read`): the shape the ERP relies on.
///
/// `id` 1..4294967295; `status` 0-5; `payment_mode_id` 1-3; `type` 2 or 3; `products` a
/// non-empty list, each line with `id` (no upper bound: real line ids exceed the documented
/// one), `quantity` > 0 (0 only on a storno: `is_storno` with status 4, or 5 once every line
/// was reversed), `sale_price` >= 0, `status` 0/1 and `vat` 0-100 when sent; `customer` with
/// `name` and a phone (`phone_1` as eMAG sends it, or `phone1`) and a plausible `email` when
/// sent; dates in `YYYY-mm-dd HH:ii:ss`; voucher values negative.
///
/// `payment_status` is documented as optional, but is **required here for card payments**
/// (`payment_mode_id` 3): an ERP must not treat an online order as paid or unpaid by default.
pub fn validate_order_data<D: Doc>(order: D) -> Vec<String> {
    validate_order_data_with(order, &Options::default())
}

/// [`validate_order_data`] with options (only `require_type` applies).
pub fn validate_order_data_with<D: Doc>(order: D, options: &Options) -> Vec<String> {
    let mut r = Report::new();
    order::check_order_data(&mut r, &order, options.require_type);
    r.into_errors()
}

/// Check an order before `order/save`, judged now; see [`validate_order_for_update_with`].
pub fn validate_order_for_update<D: Doc>(
    order: D,
    current: Option<D>,
    now: Option<DateTime<Utc>>,
) -> Vec<String> {
    let options = Options {
        now,
        ..Options::default()
    };
    validate_order_for_update_with(order, current, &options)
}

/// Check an order before `order/save`. `current` is the order as eMAG has it now (as read);
/// without it only what the order itself shows is checked, and nothing that cannot be proved
/// is claimed.
///
/// Always: `id` required; `type` 3 (type 2 orders are never saved); `status` 0-5 and never 1;
/// `reason_cancellation` required and valid when cancelling; `is_storno` only with status 4;
/// line quantities never negative and 0 only on a storno; new lines (without `id`) carry
/// `product_id`, `name`, `sale_price` and a `quantity` >= 1.
///
/// With `current`: the status matrix (1 -> 2 only through acknowledge; 1 and 5 never saved;
/// back from finalized or reactivating a cancelled order within 48 h; returned within RT + 5
/// days); line edits only in status 2 and 3 (on 4 only as a storno, which must lower
/// something and may add nothing); no quantity reduction or removal on card orders; prices,
/// `product_id`, `part_number` and `ext_part_number` unchanged; lines left out count as
/// removed (as eMAG applies them).
///
/// \[inference\] The time an order entered status 4 or 0 is not sent by eMAG; `current.modified`
/// stands for it when the current status is 4 or 0. A later change also moves `modified`, so
/// the elapsed time it gives is never longer than the true one: a violation reported from it
/// is certain, and none is reported without it.
pub fn validate_order_for_update_with<D: Doc>(
    order: D,
    current: Option<D>,
    options: &Options,
) -> Vec<String> {
    let mut r = Report::new();
    update::check_update(&mut r, &order, current.as_ref(), options);
    r.into_errors()
}

/// Check a cancellation: `order_id` 1..4294967295 and `reason` one of the 32 documented codes
/// (1-3, 15-43); any other reason gets a message containing "cancellation reason".
pub fn validate_order_cancellation(order_id: i64, reason: i64) -> Vec<String> {
    let mut r = Report::new();
    cancellation::check_ints(&mut r, order_id, reason);
    r.into_errors()
}

/// [`validate_order_cancellation`] over document values (numbers, numeric strings, anything).
pub fn validate_order_cancellation_doc<D: Doc>(order_id: D, reason: D) -> Vec<String> {
    let mut r = Report::new();
    cancellation::check_doc(&mut r, &order_id, &reason);
    r.into_errors()
}

/// Errors of a bulk `order/save` per order: `(order id as a string, its messages)`, only for
/// orders that have some, unique keys in the order the orders came. See [`bulk`](self) rules
/// in [`validate_bulk_order_update_with`].
pub fn validate_bulk_order_update<D: Doc>(orders: D) -> Vec<(String, Vec<String>)> {
    validate_bulk_order_update_with(orders, &Options::default())
}

/// [`validate_bulk_order_update`] with options. Each order is checked as by
/// [`validate_order_for_update_with`] without a current order; an order sent again gets a
/// message saying so (under the same key). An order without a usable `id` is keyed by its position, `"[3]"`; input
/// that is not a list gets one entry keyed `"orders"`. Bulks are not limited to 50 here: the
/// client's save helpers split them.
pub fn validate_bulk_order_update_with<D: Doc>(
    orders: D,
    options: &Options,
) -> Vec<(String, Vec<String>)> {
    bulk::check_bulk(&orders, options)
}

/// Check an offer for `product_offer/save` (mode [`OfferMode::Auto`]); see [`OfferMode`].
pub fn validate_offer<D: Doc>(offer: D) -> Vec<String> {
    validate_offer_with(offer, &Options::default())
}

/// Check an offer for the save named by `options.offer_mode`.
pub fn validate_offer_with<D: Doc>(offer: D, options: &Options) -> Vec<String> {
    let mut r = Report::new();
    offer::check_offer(&mut r, &offer, options);
    r.into_errors()
}

/// Check an AWB for `awb/save`, judged today; see [`validate_awb_with`].
pub fn validate_awb<D: Doc>(awb: D) -> Vec<String> {
    validate_awb_with(awb, &Options::default())
}

/// Check an AWB for `awb/save`: sender and receiver (`name`, `contact`, `phone1`,
/// `locality_id`, `street`), `envelope_number`/`parcel_number` (not both 0), `cod`,
/// `insured_value`, `weight`, `is_oversize` and the other flags, locker fields, and for a
/// return AWB (`rma_id`) a `date` from tomorrow on (in `options.tz`).
pub fn validate_awb_with<D: Doc>(awb: D, options: &Options) -> Vec<String> {
    let mut r = Report::new();
    awb::check_awb(&mut r, &awb, options);
    r.into_errors()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render() {
        let root = FieldPath::ROOT;
        let products = root.key("products");
        let line = products.index(2);
        assert_eq!(line.key("quantity").to_string(), "products[2].quantity");
        assert_eq!(root.key("id").to_string(), "id");
        let named = FieldPath::named("current");
        assert_eq!(named.key("status").to_string(), "current.status");
        assert_eq!(named.to_string(), "current");
    }
}
