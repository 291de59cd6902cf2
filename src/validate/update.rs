//! `order/save` (spec §10.8, §10.10, §10.11, §16 rules 9-14): the status matrix with its 48 h
//! and RT + 5 days conditions, what may be saved at all, line edits, storno.
//!
//! Without the current order only what the sent order itself proves is reported.

use chrono::{DateTime, TimeDelta, Utc};

use super::check::{self, Optional, Required};
use super::doc::{Doc, Fields, Key, Kind};
use super::order::{is_object, reason_field, storno_flag};
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

/// What every sent line is checked for.
const LINE: Fields<4> = Fields::new([Key::Id, Key::Quantity, Key::SalePrice, Key::Status]);

/// What a new line, or a line compared with the current order, also needs (read only then:
/// values not needed are not touched, which matters for large bulks of Python objects).
const LINE_MORE: Fields<4> = Fields::new([
    Key::ProductId,
    Key::Name,
    Key::PartNumber,
    Key::ExtPartNumber,
]);

/// A line of the current order.
const CURRENT_LINE: Fields<8> = Fields::new([
    Key::Id,
    Key::ProductId,
    Key::Quantity,
    Key::SalePrice,
    Key::Status,
    Key::Name,
    Key::PartNumber,
    Key::ExtPartNumber,
]);

/// Tolerance when comparing prices (eMAG keeps 4 decimals).
const PRICE_EPSILON: f64 = 0.00005;

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

struct CurrentLine<D> {
    id: i64,
    fields: [Option<D>; 8],
    sent: bool,
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
                .filter_map(|l| {
                    let fields = l.gather(&CURRENT_LINE);
                    let id = fields[0].as_ref().and_then(values::int)?;
                    Some(CurrentLine {
                        id,
                        fields,
                        sent: false,
                    })
                })
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

/// Line ids seen so far: a small inline buffer, a vector beyond it.
struct SeenIds {
    small: [i64; 16],
    n: usize,
    more: Vec<i64>,
}

impl SeenIds {
    fn new() -> Self {
        SeenIds {
            small: [0; 16],
            n: 0,
            more: Vec::new(),
        }
    }

    /// `true` when `id` was not seen before.
    fn insert(&mut self, id: i64) -> bool {
        if self.small[..self.n].contains(&id) || self.more.contains(&id) {
            return false;
        }
        if self.n < self.small.len() {
            self.small[self.n] = id;
            self.n += 1;
        } else {
            self.more.push(id);
        }
        true
    }
}

/// What the sent lines do to the current ones.
#[derive(Default)]
struct Effect {
    changed: bool,
    reduced: bool,
    increased: bool,
    /// The first line reduced or removed, for messages.
    first_reduced: Option<i64>,
}

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

    // id
    let id_path = root.key("id");
    let id = check::int_range(r, &id_path, id, 1, MAX_ORDER_ID, Required);
    if let (Some(id), Some(cur_id)) = (id, cur.as_ref().and_then(|c| c.id)) {
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
    let cur_kind = cur.as_ref().and_then(|c| c.kind);
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

    // status
    let status_path = root.key("status");
    let status = check::int_range(r, &status_path, status, 0, 5, Required);
    let cur_status = cur.as_ref().and_then(|c| c.status);
    if status == Some(1) {
        r.push(
            &status_path,
            "an order is never saved in status 1 (new): order/acknowledge moves a new order to 2 (in progress)",
        );
    } else if let (Some(to), Some(c)) = (status, cur.as_ref()) {
        if let Some(from) = c.status {
            transition(r, &status_path, from, to, c, options);
        }
    }

    // reason_cancellation (named cancellation_reason before 4.4.7)
    let (reason, reason_path) = match (values::present(reason), values::present(legacy_reason)) {
        (None, Some(legacy)) => (Some(legacy), root.key("cancellation_reason")),
        (reason, _) => (reason, root.key("reason_cancellation")),
    };
    let reason_sent = reason
        .as_ref()
        .is_some_and(|v| v.with_str(|s| s.trim().is_empty()) != Some(true));
    reason_field(r, &reason_path, reason);
    if status == Some(0) && !reason_sent && cur_status != Some(0) {
        r.push(
            &root.key("reason_cancellation"),
            "is required when cancelling (status 0): a cancellation reason code 1-3 or 15-43",
        );
    }

    // is_storno
    let storno_path = root.key("is_storno");
    let storno = storno_flag(r, &storno_path, is_storno);
    if storno {
        if status.is_some_and(|s| s != 4) {
            r.push(
                &storno_path,
                "a partial return (is_storno) keeps the order in status 4 (finalized); use status 5 for a full return",
            );
        }
        if let Some(c) = cur_status.filter(|c| *c != 4) {
            r.push(
                &storno_path,
                format_args!(
                    "only a finalized order (status 4) can be partially returned; the order is in status {}",
                    status_name(c)
                ),
            );
        }
    }

    let payment_mode = check::int_in(
        r,
        &root.key("payment_mode_id"),
        payment_mode,
        Optional,
        |m| (1..=3).contains(&m),
        "1, 2 or 3",
    );
    let card = payment_mode.or(cur.as_ref().and_then(|c| c.payment_mode)) == Some(3);

    // products
    let products_path = root.key("products");
    let Some(products) = check::list(r, &products_path, products, Optional, "product lines") else {
        if storno && values::present(order.get(Key::Products)).is_none() {
            r.push(
                &storno_path,
                "a partial return (is_storno) needs the product lines, with at least one lower quantity or a line set to status 0",
            );
        }
        return;
    };
    let mut effect = Effect::default();
    let mut seen = SeenIds::new();
    let mut cur_lines = cur.as_mut().and_then(|c| c.lines.as_mut());
    check::each_object(r, &products_path, &products, |r, ip, _, line| {
        check_line(
            r,
            ip,
            &line,
            storno,
            &mut seen,
            cur_lines.as_deref_mut(),
            &mut effect,
        );
    });
    let Some(c) = cur.as_ref() else { return };
    if let Some(lines) = c.lines.as_ref() {
        // Lines left out are removed, as eMAG applies them.
        for line in lines.iter().filter(|l| !l.sent) {
            let status = line.fields[4].as_ref().and_then(values::int).unwrap_or(1);
            let qty = line.fields[2].as_ref().and_then(values::int).unwrap_or(0);
            if status == 1 && qty > 0 {
                effect.changed = true;
                effect.reduced = true;
                effect.first_reduced.get_or_insert(line.id);
            }
        }
    }
    let Some(cur_status) = c.status else { return };
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
            &storno_path,
            "a partial return (is_storno) needs at least one line with a lower quantity or set to status 0; no line was reduced",
        );
    }
}

fn check_line<D: Doc>(
    r: &mut Report,
    ip: &FieldPath<'_>,
    line: &D,
    storno: bool,
    seen: &mut SeenIds,
    cur_lines: Option<&mut Vec<CurrentLine<D>>>,
    effect: &mut Effect,
) {
    let [id, quantity, sale_price, status] = line.gather(&LINE);
    let id_path = ip.key("id");
    let line_id = match values::present(id) {
        None => None,
        Some(v) => match values::int(&v) {
            Some(i) if i >= 1 => Some(i),
            _ => {
                r.push(
                    &id_path,
                    format_args!(
                        "must be a positive integer (the eMAG line id), got {}",
                        show(&v)
                    ),
                );
                return;
            }
        },
    };
    let qty_path = ip.key("quantity");
    let qty_sent = quantity.as_ref().is_some_and(|v| !values::is_null(v));
    let qty = match values::present(quantity) {
        None => None,
        Some(v) => match values::int(&v) {
            Some(q) if q >= 0 => Some(q),
            Some(q) => {
                r.push(
                    &qty_path,
                    format_args!("must be > 0, got {q} (never negative)"),
                );
                None
            }
            None => {
                r.push(
                    &qty_path,
                    format_args!("must be an integer > 0, got {}", show(&v)),
                );
                None
            }
        },
    };
    let line_status = check::int_in(
        r,
        &ip.key("status"),
        status,
        Optional,
        |s| s == 0 || s == 1,
        "0 or 1 (0 cancelled, 1 active)",
    );
    let price_path = ip.key("sale_price");
    let price_sent = sale_price.as_ref().is_some_and(|v| !values::is_null(v));
    let price = check::num_where(
        r,
        &price_path,
        sale_price,
        Optional,
        |f| f >= 0.0,
        "a number >= 0",
    );

    let Some(line_id) = line_id else {
        // A new line: product_id, name, sale_price and a quantity >= 1 (spec §10.10).
        let [product_id, name, _, _] = line.gather(&LINE_MORE);
        check::int_range(r, &ip.key("product_id"), product_id, 1, i64::MAX, Required);
        match values::present(name) {
            Some(n) if values::has_text(&n) => {}
            Some(n) => r.push(
                &ip.key("name"),
                format_args!("must be a non-empty text, got {}", show(&n)),
            ),
            None => r.push(
                &ip.key("name"),
                "is required for a new line (a line without id)",
            ),
        }
        if !price_sent {
            r.push(
                &price_path,
                "is required for a new line (a line without id)",
            );
        }
        if !qty_sent {
            r.push(&qty_path, "is required for a new line (an integer >= 1)");
        } else if qty == Some(0) {
            r.push(
                &qty_path,
                "must be > 0, got 0 (a new line needs a quantity of at least 1)",
            );
        }
        if storno {
            r.push(ip, "a partial return (is_storno) cannot add lines");
        }
        effect.changed = true;
        effect.increased = true;
        return;
    };
    if !seen.insert(line_id) {
        r.push(
            &id_path,
            format_args!("line {line_id} is sent more than once"),
        );
        return;
    }
    // Quantity 0 on a line sent as active is wrong whatever the current order says.
    if qty == Some(0) && line_status == Some(1) && !storno {
        r.push(&qty_path, zero_message());
    }
    let Some(cur_lines) = cur_lines else { return };
    let Some(cur) = cur_lines.iter_mut().find(|l| l.id == line_id) else {
        r.push(
            &id_path,
            format_args!(
                "line {line_id} is not a line of this order (the current order has no such line)"
            ),
        );
        return;
    };
    cur.sent = true;
    let [product_id, _, part_number, ext_part_number] = line.gather(&LINE_MORE);
    let [_, cur_product_id, cur_qty, cur_price, cur_status, _, cur_part_number, cur_ext] =
        &cur.fields;
    for (key, sent, old) in [
        ("product_id", product_id, cur_product_id),
        ("part_number", part_number, cur_part_number),
        ("ext_part_number", ext_part_number, cur_ext),
    ] {
        if let (Some(a), Some(b)) = (values::present(sent), values::present(old.clone())) {
            if !same_scalar(&a, &b) {
                r.push(
                    &ip.key(key),
                    format_args!(
                        "cannot be changed (the line has {}), got {}",
                        show(&b),
                        show(&a)
                    ),
                );
            }
        }
    }
    if let (Some(new), Some(old)) = (price, cur_price.as_ref().and_then(values::num)) {
        if (new - old).abs() > PRICE_EPSILON {
            r.push(
                &price_path,
                format_args!("product prices cannot be changed (the line has {old}), got {new}"),
            );
        }
    }
    let old_qty = cur_qty.as_ref().and_then(values::int).unwrap_or(0);
    let old_status = cur_status.as_ref().and_then(values::int).unwrap_or(1);
    let new_qty = qty.unwrap_or(old_qty);
    let new_status = if new_qty == 0 {
        0
    } else {
        line_status.unwrap_or(old_status)
    };
    let old_active = if old_status == 1 { old_qty } else { 0 };
    let new_active = if new_status == 1 { new_qty } else { 0 };
    if new_active < old_active {
        effect.reduced = true;
        effect.first_reduced.get_or_insert(line_id);
    }
    if new_active > old_active {
        effect.increased = true;
    }
    if new_qty != old_qty || new_status != old_status {
        effect.changed = true;
    }
}

fn zero_message() -> &'static str {
    "must be > 0, got 0 (0 only in a partial return with is_storno; to remove a line send status 0 or leave it out)"
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

/// Two scalars are the same value: equal integers, or equal trimmed texts.
fn same_scalar<D: Doc>(a: &D, b: &D) -> bool {
    if let (Some(x), Some(y)) = (values::int(a), values::int(b)) {
        return x == y;
    }
    let text = |v: &D| v.with_str(|s| s.trim().to_owned());
    match (text(a), text(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
