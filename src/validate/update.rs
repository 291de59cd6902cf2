//! `order/save` (spec §10.8, §10.10, §10.11, §16 rules 9-14): the status matrix with its 48 h
//! and RT + 5 days conditions, what may be saved at all, line edits, storno.
//!
//! Without the current order only what the sent order itself proves is reported.

use chrono::{DateTime, TimeDelta, Utc};

use super::check::{self, Optional, Required};
use super::doc::{Doc, Fields, Key, Kind};
use super::order::{is_object, reason_field, storno_flag};
use super::update_lines::{self, CurrentLine, Effect};
use super::values::{self, show};
use super::{FieldPath, Options, Report, MAX_ORDER_ID};
use crate::codes::{self, OrderStatus, TransitionRule};

const ORDER: Fields<8> = Fields::new([
    Key::Id,
    Key::Status,
    Key::Type,
    Key::Products,
    Key::ReasonCancellation,
    Key::CancellationReason,
    Key::IsStorno,
    Key::PaymentModeId,
]);

const CURRENT: Fields<7> = Fields::new([
    Key::Id,
    Key::Status,
    Key::Type,
    Key::Products,
    Key::Modified,
    Key::PaymentModeId,
    Key::ReasonCancellation,
]);

fn status_name(code: i64) -> String {
    format!(
        "{code} ({})",
        codes::order_status_text(code, codes::Lang::En).to_lowercase()
    )
}

/// What is known of the current order.
struct Current<D> {
    id: Option<i64>,
    status: Option<i64>,
    kind: Option<i64>,
    payment_mode: Option<i64>,
    modified: Option<DateTime<Utc>>,
    modified_text: Option<String>,
    lines: Option<Vec<CurrentLine<D>>>,
}

fn read_current<D: Doc>(r: &mut Report, current: &D, options: &Options) -> Option<Current<D>> {
    if current.kind() != Kind::Map {
        r.push(
            &FieldPath::named("current"),
            format_args!(
                "must be an object (the order as read), got {}",
                show(current)
            ),
        );
        return None;
    }
    let [id, status, kind, products, modified, payment_mode, _reason] = current.gather(&CURRENT);
    let modified_text = values::present(modified).and_then(|m| m.with_str(str::to_owned));
    let modified = modified_text
        .as_deref()
        .filter(|t| values::is_emag_datetime(t))
        .and_then(|t| crate::time::parse_local(t, options.tz).ok());
    let lines = values::present(products)
        .filter(|p| p.kind() == Kind::List)
        .map(|p| {
            (0..p.list_len())
                .filter_map(|i| p.item(i))
                .filter(|l| l.kind() == Kind::Map)
                .filter_map(|l| CurrentLine::read(&l))
                .collect()
        });
    Some(Current {
        id: id.as_ref().and_then(values::int),
        status: status
            .as_ref()
            .and_then(values::int)
            .filter(|s| (0..=5).contains(s)),
        kind: kind.as_ref().and_then(values::int),
        payment_mode: payment_mode.as_ref().and_then(values::int),
        modified,
        modified_text,
        lines,
    })
}

/// Check an `order/save` of `order`, against the `current` order as read when given.
pub(crate) fn check_update<D: Doc>(
    r: &mut Report,
    order: &D,
    current: Option<&D>,
    options: &Options,
) {
    if !is_object(r, "order", order) {
        return;
    }
    let mut cur = current.and_then(|c| read_current(r, c, options));
    let [id, status, kind, products, reason, legacy_reason, is_storno, payment_mode] =
        order.gather(&ORDER);
    let root = FieldPath::ROOT;
    check_id_and_type(r, id, kind, cur.as_ref(), options);
    let status = check_status(r, status, cur.as_ref(), options);
    check_reason(r, status, reason, legacy_reason, cur.as_ref());
    let storno = check_storno(r, is_storno, status, cur.as_ref());
    let payment_mode = check::int_in(
        r,
        &root.key("payment_mode_id"),
        payment_mode,
        Optional,
        |m| (1..=3).contains(&m),
        "1, 2 or 3",
    );
    let card = payment_mode.or(cur.as_ref().and_then(|c| c.payment_mode)) == Some(3);

    let products_path = root.key("products");
    let Some(products) = check::list(r, &products_path, products, Optional, "product lines") else {
        if storno && values::present(order.get(Key::Products)).is_none() {
            r.push(
                &root.key("is_storno"),
                "a partial return (is_storno) needs the product lines, with at least one lower quantity or a line set to status 0",
            );
        }
        return;
    };
    let cur_lines = cur.as_mut().and_then(|c| c.lines.as_mut());
    let effect = update_lines::check_lines(r, &products_path, &products, storno, cur_lines);
    if let Some(c) = cur.as_ref() {
        judge_lines(r, c, &effect, card, storno);
    }
}

fn check_id_and_type<D: Doc>(
    r: &mut Report,
    id: Option<D>,
    kind: Option<D>,
    cur: Option<&Current<D>>,
    options: &Options,
) {
    let root = FieldPath::ROOT;
    let id_path = root.key("id");
    let id = check::int_range(r, &id_path, id, 1, MAX_ORDER_ID, Required);
    if let (Some(id), Some(cur_id)) = (id, cur.and_then(|c| c.id)) {
        if id != cur_id {
            r.push(
                &id_path,
                format_args!("{id} does not match the current order's id {cur_id}"),
            );
        }
    }

    // type: only type 3 orders are saved.
    let type_path = root.key("type");
    let sent_kind = check::int_in(
        r,
        &type_path,
        kind,
        if options.require_type {
            Required
        } else {
            Optional
        },
        |t| t == 2 || t == 3,
        "3 (only orders fulfilled by the seller can be saved)",
    );
    let cur_kind = cur.and_then(|c| c.kind);
    match (sent_kind, cur_kind) {
        (Some(2), _) | (_, Some(2)) => r.push(
            &type_path,
            "orders of type 2 (fulfilled by eMAG) are never saved; only attachments can be uploaded for them",
        ),
        (Some(t), Some(c)) if t != c && (c == 2 || c == 3) => {
            r.push(&type_path, format_args!("cannot be changed (the order is type {c}), got {t}"))
        }
        _ => {}
    }
}

/// The sent status, and its move from the current one by the matrix.
fn check_status<D: Doc>(
    r: &mut Report,
    status: Option<D>,
    cur: Option<&Current<D>>,
    options: &Options,
) -> Option<i64> {
    let status_path = FieldPath::ROOT.key("status");
    let status = check::int_range(r, &status_path, status, 0, 5, Required);
    if status == Some(1) {
        r.push(
            &status_path,
            "an order is never saved in status 1 (new): order/acknowledge moves a new order to 2 (in progress)",
        );
    } else if let (Some(to), Some(c)) = (status, cur) {
        if let Some(from) = c.status {
            transition(r, &status_path, from, to, c, options);
        }
    }
    status
}

/// `reason_cancellation` (named `cancellation_reason` before 4.4.7): a known code, and sent
/// when cancelling.
fn check_reason<D: Doc>(
    r: &mut Report,
    status: Option<i64>,
    reason: Option<D>,
    legacy_reason: Option<D>,
    cur: Option<&Current<D>>,
) {
    let root = FieldPath::ROOT;
    let (reason, reason_path) = match (values::present(reason), values::present(legacy_reason)) {
        (None, Some(legacy)) => (Some(legacy), root.key("cancellation_reason")),
        (reason, _) => (reason, root.key("reason_cancellation")),
    };
    let reason_sent = reason
        .as_ref()
        .is_some_and(|v| v.with_str(|s| s.trim().is_empty()) != Some(true));
    reason_field(r, &reason_path, reason);
    if status == Some(0) && !reason_sent && cur.and_then(|c| c.status) != Some(0) {
        r.push(
            &root.key("reason_cancellation"),
            "is required when cancelling (status 0): a cancellation reason code 1-3 or 15-43",
        );
    }
}

/// `is_storno`: a partial return keeps a finalized order in status 4.
fn check_storno<D: Doc>(
    r: &mut Report,
    is_storno: Option<D>,
    status: Option<i64>,
    cur: Option<&Current<D>>,
) -> bool {
    let storno_path = FieldPath::ROOT.key("is_storno");
    let storno = storno_flag(r, &storno_path, is_storno);
    if storno {
        if status.is_some_and(|s| s != 4) {
            r.push(
                &storno_path,
                "a partial return (is_storno) keeps the order in status 4 (finalized); use status 5 for a full return",
            );
        }
        if let Some(c) = cur.and_then(|c| c.status).filter(|c| *c != 4) {
            r.push(
                &storno_path,
                format_args!(
                    "only a finalized order (status 4) can be partially returned; the order is in status {}",
                    status_name(c)
                ),
            );
        }
    }
    storno
}

/// What the lines did, judged by the current order's status (spec §10.10, §10.11).
fn judge_lines<D>(r: &mut Report, c: &Current<D>, effect: &Effect, card: bool, storno: bool) {
    let Some(cur_status) = c.status else { return };
    let products_path = FieldPath::ROOT.key("products");
    if effect.changed {
        match cur_status {
            2 | 3 => {
                if card && effect.reduced {
                    r.push(
                        &products_path,
                        format_args!(
                            "on orders paid online by card (payment_mode_id 3) quantities cannot be lowered and lines cannot be removed (line {})",
                            effect.first_reduced.unwrap_or_default()
                        ),
                    );
                }
            }
            4 => {
                if !storno {
                    r.push(
                        &products_path,
                        "a finalized order (status 4) changes its lines only as a partial return: send is_storno = true",
                    );
                } else if effect.increased {
                    r.push(
                        &products_path,
                        "a partial return (is_storno) can only lower quantities or cancel lines, not add lines or raise quantities",
                    );
                }
            }
            s => r.push(
                &products_path,
                format_args!(
                    "lines can be added, removed or changed only in status 2 (in progress) or 3 (prepared); the order is in status {}",
                    status_name(s)
                ),
            ),
        }
    }
    if storno && cur_status == 4 && c.lines.is_some() && !effect.reduced {
        r.push(
            &FieldPath::ROOT.key("is_storno"),
            "a partial return (is_storno) needs at least one line with a lower quantity or set to status 0; no line was reduced",
        );
    }
}

/// The movement `from` -> `to` by the matrix of §10.8, with the timed conditions judged
/// against `current.modified` (see [`super::validate_order_for_update_with`]).
fn transition<D>(
    r: &mut Report,
    p: &FieldPath<'_>,
    from: i64,
    to: i64,
    c: &Current<D>,
    options: &Options,
) {
    let (Some(f), Some(t)) = (OrderStatus::from_code(from), OrderStatus::from_code(to)) else {
        return;
    };
    let elapsed = || c.modified.map(|m| options.now().signed_duration_since(m));
    let since = || {
        format!(
            "{} (current.modified)",
            c.modified_text.as_deref().unwrap_or_default()
        )
    };
    match codes::order_transition(f, t) {
        TransitionRule::Yes => {}
        TransitionRule::AckOnly => r.push(
            p,
            "a new order moves to 2 (in progress) only through order/acknowledge, not order/save",
        ),
        TransitionRule::No if from == 1 => r.push(
            p,
            "a new order (status 1) cannot be saved; acknowledge it first (order/acknowledge moves it to 2)",
        ),
        TransitionRule::No if from == 5 => r.push(p, "a returned order (status 5) cannot be saved"),
        TransitionRule::No => r.push(
            p,
            format_args!("cannot change from {} to {}", status_name(from), status_name(to)),
        ),
        TransitionRule::Within48h => {
            if let Some(e) = elapsed().filter(|e| *e > TimeDelta::hours(48)) {
                let what = if from == 4 { "finalization" } else { "cancellation" };
                r.push(
                    p,
                    format_args!(
                        "from {} to {} only within 48 hours of {what}; the order entered status {from} at or before {}, {} hours ago",
                        status_name(from),
                        status_name(to),
                        since(),
                        e.num_hours()
                    ),
                );
            }
        }
        TransitionRule::WithinReturnTimePlus5Days => {
            let days = options.return_period_days.saturating_add(5);
            let limit = TimeDelta::try_days(days).unwrap_or(TimeDelta::MAX);
            if let Some(e) = elapsed().filter(|e| *e > limit) {
                r.push(
                    p,
                    format_args!(
                        "a finalized order can be returned (5) only within the return period plus 5 days ({days} days) of finalization; it was finalized at or before {}, {} days ago",
                        since(),
                        e.num_days()
                    ),
                );
            }
        }
    }
}
