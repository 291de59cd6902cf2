//! Cancellations: the order id and one of the 32 documented `reason_cancellation` codes
//! (spec §10.6: 1-3 and 15-43; codes 4-14 do not exist).

use std::fmt;

use super::check::{self, Required};
use super::doc::Doc;
use super::values::show;
use super::{FieldPath, Report, MAX_ORDER_ID};
use crate::codes::is_valid_cancellation_reason;

/// The message for a reason that is not a documented code (it names "cancellation reason").
pub(crate) fn invalid_reason(shown: &dyn fmt::Display) -> String {
    format!(
        "{shown} is not a valid cancellation reason; use one of the 32 documented codes 1-3 or 15-43"
    )
}

fn order_id_range(r: &mut Report, order_id: i64) {
    if !(1..=MAX_ORDER_ID).contains(&order_id) {
        r.push(
            &FieldPath::named("order_id"),
            format_args!("must be an integer from 1 to {MAX_ORDER_ID}, got {order_id}"),
        );
    }
}

pub(crate) fn check_ints(r: &mut Report, order_id: i64, reason: i64) {
    order_id_range(r, order_id);
    if !is_valid_cancellation_reason(reason) {
        r.push(
            &FieldPath::named("reason_cancellation"),
            invalid_reason(&reason),
        );
    }
}

pub(crate) fn check_doc<D: Doc>(r: &mut Report, order_id: &D, reason: &D) {
    let id_path = FieldPath::named("order_id");
    check::int_range(
        r,
        &id_path,
        Some(order_id.clone()),
        1,
        MAX_ORDER_ID,
        Required,
    );
    let reason_path = FieldPath::named("reason_cancellation");
    match super::values::int(reason) {
        Some(code) if is_valid_cancellation_reason(code) => {}
        _ if super::values::is_null(reason) => r.push(
            &reason_path,
            "is required: a cancellation reason code (1-3 or 15-43)",
        ),
        _ => r.push(&reason_path, invalid_reason(&show(reason))),
    }
}
