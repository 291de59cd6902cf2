//! Orders: `order/read`, `order/count`, `order/acknowledge/{id}`, `order/save` (the status
//! matrix with the 48 h and RT + 5 days rules against the simulated clock, line edits, storno),
//! `order/{id}/unlock-courier` and `order/attachments/save`.

use std::collections::{HashMap, HashSet};

use chrono::{Months, NaiveDateTime, TimeDelta};
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, boolean, int, int_list, num, opt_int, Reply};
use super::state::{Order, State};
use crate::codes::{self, OrderStatus, TransitionRule};

const MAX_ORDER_ID: i64 = 4_294_967_295;

/// The parsed filters of `order/read` and `order/count` (spec §10.9).
struct Filter {
    id: Option<u64>,
    status: Option<Vec<i64>>,
    payment_mode_id: Option<Vec<i64>>,
    is_complete: Option<i64>,
    kind: Option<i64>,
    created: (Option<NaiveDateTime>, Option<NaiveDateTime>),
    modified: (Option<NaiveDateTime>, Option<NaiveDateTime>),
}

fn date_filter(f: &Map<String, Value>, key: &str) -> Result<Option<NaiveDateTime>, String> {
    match f.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(v) => envelope::text(v)
            .and_then(|s| clock::parse(&s))
            .map(Some)
            .ok_or_else(|| format!("{key} must be a date formatted YYYY-mm-dd HH:ii:ss")),
    }
}

/// The pairing and one-month rules of a date pair. `after_alone` is allowed on read only.
fn window(
    f: &Map<String, Value>,
    after_key: &str,
    before_key: &str,
    after_alone: bool,
    errors: &mut Vec<String>,
) -> (Option<NaiveDateTime>, Option<NaiveDateTime>) {
    let after = date_filter(f, after_key).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let before = date_filter(f, before_key).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    match (after, before) {
        (None, Some(_)) => errors.push(format!(
            "{before_key} can be used only together with {after_key}"
        )),
        (Some(_), None) if !after_alone => errors.push(format!(
            "{after_key} can be used only together with {before_key}"
        )),
        (Some(a), Some(b)) => {
            if b < a {
                errors.push(format!("{before_key} must not be earlier than {after_key}"));
            } else if a
                .checked_add_months(Months::new(1))
                .is_some_and(|limit| b > limit)
            {
                errors.push(format!(
                    "The interval between {after_key} and {before_key} must not exceed one month"
                ));
            }
        }
        _ => {}
    }
    (after, before)
}

fn parse_filter(f: &Map<String, Value>, is_count: bool) -> Result<Filter, Vec<String>> {
    let mut errors = Vec::new();
    let id = match opt_int(f, "id") {
        Ok(Some(id)) if (1..=MAX_ORDER_ID).contains(&id) => Some(id as u64),
        Ok(Some(_)) => {
            errors.push(format!("id must be between 1 and {MAX_ORDER_ID}"));
            None
        }
        Ok(None) => None,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let mut list = |key: &str, allowed: &[i64]| match f.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => match int_list(v) {
            Some(values) if values.iter().all(|x| allowed.contains(x)) => Some(values),
            _ => {
                errors.push(format!(
                    "{key} must be one of {allowed:?} or a list of them"
                ));
                None
            }
        },
    };
    let status = list("status", &[0, 1, 2, 3, 4, 5]);
    let payment_mode_id = list("payment_mode_id", &[1, 2, 3]);
    let mut one = |key: &str, allowed: &[i64]| match opt_int(f, key) {
        Ok(Some(v)) if allowed.contains(&v) => Some(v),
        Ok(None) => None,
        _ => {
            errors.push(format!("{key} must be one of {allowed:?}"));
            None
        }
    };
    let is_complete = one("is_complete", &[0, 1]);
    let kind = one("type", &[2, 3]);
    // order/read defaults `type` to 3; order/count documents no default (spec §10.9).
    let kind = if is_count { kind } else { kind.or(Some(3)) };
    let created = window(f, "createdAfter", "createdBefore", !is_count, &mut errors);
    let modified = window(f, "modifiedAfter", "modifiedBefore", !is_count, &mut errors);
    if errors.is_empty() {
        Ok(Filter {
            id,
            status,
            payment_mode_id,
            is_complete,
            kind,
            created,
            modified,
        })
    } else {
        Err(errors)
    }
}

fn in_range(
    t: NaiveDateTime,
    (after, before): (Option<NaiveDateTime>, Option<NaiveDateTime>),
) -> bool {
    after.is_none_or(|a| t >= a) && before.is_none_or(|b| t <= b)
}

impl Filter {
    fn matches(&self, o: &Order) -> bool {
        self.id.is_none_or(|id| o.id == id)
            && self.status.as_ref().is_none_or(|s| s.contains(&o.status))
            && self
                .payment_mode_id
                .as_ref()
                .is_none_or(|p| p.contains(&o.payment_mode_id))
            && self.is_complete.is_none_or(|c| o.is_complete == c)
            && self.kind.is_none_or(|k| o.kind == k)
            && in_range(o.date, self.created)
            && in_range(o.modified, self.modified)
    }
}

pub(crate) fn read(state: &State, data: &Value, strict: bool) -> Reply {
    let f = match envelope::filters(data) {
        Ok(f) => f,
        Err(e) => return Reply::error(e),
    };
    let page = match envelope::page(&f, 100, Some(65_535), strict) {
        Ok(p) => p,
        Err(e) => return Reply::error(e),
    };
    let filter = match parse_filter(&f, false) {
        Ok(x) => x,
        Err(errors) => return Reply::errors(errors),
    };
    let skip = (page.current - 1).saturating_mul(page.per_page);
    let mut out = String::with_capacity(page.per_page.min(100) * 2500 + 2);
    out.push('[');
    let matching = state.orders.iter().filter(|o| filter.matches(o));
    for (n, order) in matching.skip(skip).take(page.per_page).enumerate() {
        if n > 0 {
            out.push(',');
        }
        out.push_str(&order.json());
    }
    out.push(']');
    Reply::envelope_raw(false, &[], &out)
}

pub(crate) fn count(state: &State, data: &Value) -> Reply {
    let f = match envelope::filters(data) {
        Ok(f) => f,
        Err(e) => return Reply::error(e),
    };
    let per_page = match envelope::page(&f, 100, Some(65_535), false) {
        Ok(p) => p.per_page,
        Err(e) => return Reply::error(e),
    };
    match parse_filter(&f, true) {
        Ok(filter) => {
            let total = state.orders.iter().filter(|o| filter.matches(o)).count();
            Reply::ok(envelope::count_results(total, per_page))
        }
        Err(errors) => Reply::errors(errors),
    }
}

/// `order/acknowledge/{id}`: 1 -> 2 (stock leaves the warehouse); 2, 3, 4 answer success
/// without change (idempotent); canceled or returned orders and type 2 are refused.
pub(crate) fn acknowledge(state: &mut State, id: u64, now: NaiveDateTime) -> Reply {
    let Some(order) = state.order_mut(id) else {
        return Reply::error(format!("Order {id} does not exist"));
    };
    if order.kind != 3 {
        return Reply::error(format!(
            "Order {id} is fulfilled by eMAG (type 2) and cannot be acknowledged"
        ));
    }
    match order.status {
        1 => {
            order.status = 2;
            order.touch(now);
            let lines = order.lines();
            for (_, product_id, qty, status) in lines {
                if status == 1 {
                    state.adjust_stock(product_id, -qty);
                }
            }
            Reply::ok(json!([]))
        }
        2..=4 => Reply::ok(json!([])),
        status => Reply::error(format!(
            "Order {id} is {} and cannot be acknowledged",
            codes::order_status_text(status, codes::Lang::En).to_lowercase()
        )),
    }
}

/// `order/{id}/unlock-courier`: lifts the order's courier restriction [inference].
pub(crate) fn unlock_courier(state: &mut State, id: u64, now: NaiveDateTime) -> Reply {
    let Some(order) = state.order_mut(id) else {
        return Reply::error(format!("Order {id} does not exist"));
    };
    order
        .doc
        .insert("enforced_vendor_courier_accounts".into(), Value::Null);
    order.touch(now);
    Reply::ok(json!([]))
}

/// A validated change to one order, applied only when the whole request is valid.
struct Plan {
    id: u64,
    status: i64,
    reason: Option<i64>,
    lines: Option<Vec<Value>>,
    storno: bool,
    is_complete: Option<i64>,
    /// `(product_id, delta)` for the warehouse (negative = taken out).
    stock: Vec<(i64, i64)>,
}

fn line_num(line: &Map<String, Value>, key: &str) -> Option<f64> {
    line.get(key).and_then(num)
}

fn same_text(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a.and_then(envelope::text), b.and_then(envelope::text)) {
        (Some(x), Some(y)) => x.trim() == y.trim(),
        (None, None) => true,
        _ => false,
    }
}

fn plan_save(
    state: &State,
    e: &Map<String, Value>,
    now: NaiveDateTime,
) -> Result<Plan, Vec<String>> {
    let id = match e.get("id").and_then(int) {
        Some(id) if (1..=MAX_ORDER_ID).contains(&id) => id as u64,
        _ => return Err(vec!["id is required (an integer 1..4294967295)".into()]),
    };
    let order = state
        .order(id)
        .ok_or_else(|| vec![format!("Order {id} does not exist")])?;
    let fail = |m: String| Err(vec![format!("Order {id}: {m}")]);
    if order.kind != 3 {
        return fail("only orders of type 3 (fulfilled by seller) can be edited; type 2 orders accept only attachments".into());
    }
    if let Some(t) = e.get("type").filter(|v| !v.is_null()) {
        if int(t) != Some(order.kind) {
            return fail("type cannot be changed".into());
        }
    }
    let Some(new_status) = e.get("status").and_then(int) else {
        return fail("status is required".into());
    };
    let (Some(from), Some(to)) = (
        OrderStatus::from_code(order.status),
        OrderStatus::from_code(new_status),
    ) else {
        return fail(format!("status must be between 0 and 5, got {new_status}"));
    };
    let name = |s: i64| codes::order_status_text(s, codes::Lang::En);
    match codes::order_transition(from, to) {
        TransitionRule::Yes => {}
        TransitionRule::No => {
            return fail(format!(
                "the status cannot change from {} ({}) to {} ({})",
                order.status,
                name(order.status),
                new_status,
                name(new_status)
            ))
        }
        TransitionRule::AckOnly => {
            return fail(
                "a new order moves to in progress (2) only through order/acknowledge".into(),
            )
        }
        TransitionRule::Within48h => {
            let (since, what) = if order.status == 4 {
                (order.finalized_at, "finalization")
            } else {
                (order.cancelled_at, "cancellation")
            };
            if since.is_none_or(|t| now - t > TimeDelta::hours(48)) {
                return fail(format!(
                    "the status cannot change from {} to {} more than 48 hours after {what}",
                    order.status, new_status
                ));
            }
        }
        TransitionRule::WithinReturnTimePlus5Days => {
            let limit = TimeDelta::days(state.return_period_days + 5);
            if order.finalized_at.is_none_or(|t| now - t > limit) {
                return fail(format!(
                    "a finalized order can be returned only within the return period plus 5 days ({} days)",
                    state.return_period_days + 5
                ));
            }
        }
    }
    let reason = match e
        .get("reason_cancellation")
        .or_else(|| e.get("cancellation_reason"))
    {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(v) => match int(v) {
            Some(code) if codes::is_valid_cancellation_reason(code) => Some(code),
            _ => {
                return fail(format!(
                    "reason_cancellation {v} is not a valid cancellation reason (1-3, 15-43)"
                ))
            }
        },
    };
    if new_status == 0 && order.status != 0 && reason.is_none() {
        return fail("reason_cancellation is required when cancelling an order".into());
    }
    let storno = e.get("is_storno").and_then(boolean).unwrap_or(false);
    if storno && order.status != 4 {
        return fail("is_storno can be used only on finalized orders (status 4)".into());
    }
    if storno && new_status != 4 {
        return fail("a partial return (is_storno) keeps the order in status 4; use status 5 for a full return".into());
    }
    let is_complete = match e.get("is_complete").filter(|v| !v.is_null()).map(int) {
        None => None,
        Some(Some(v @ (0 | 1))) => Some(v),
        Some(_) => return fail("is_complete must be 0 or 1".into()),
    };
    let mut plan = Plan {
        id,
        status: new_status,
        reason,
        lines: None,
        storno,
        is_complete,
        stock: Vec::new(),
    };
    // Stock follows the order: cancelling returns it, reactivating takes it again.
    let active_lines = |o: &Order| {
        o.lines()
            .into_iter()
            .filter(|l| l.3 == 1)
            .collect::<Vec<_>>()
    };
    if order.status != 0 && new_status == 0 && order.status != 1 {
        plan.stock
            .extend(active_lines(order).into_iter().map(|l| (l.1, l.2)));
    }
    if order.status == 0 && new_status != 0 {
        plan.stock
            .extend(active_lines(order).into_iter().map(|l| (l.1, -l.2)));
    }
    match e.get("products") {
        None | Some(Value::Null) => {
            if storno {
                return fail("is_storno was sent without any reversed product".into());
            }
        }
        Some(sent) => {
            plan_lines(order, sent, &mut plan).map_err(|m| vec![format!("Order {id}: {m}")])?
        }
    }
    Ok(plan)
}

fn plan_lines(order: &Order, sent: &Value, plan: &mut Plan) -> Result<(), String> {
    let sent: Vec<&Map<String, Value>> = match sent {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| "each product must be an object".to_owned())
            })
            .collect::<Result<_, _>>()?,
        Value::Object(map) => map.values().filter_map(Value::as_object).collect(),
        _ => return Err("products must be a list".into()),
    };
    let current: Vec<Map<String, Value>> = order
        .doc
        .get("products")
        .and_then(Value::as_array)
        .map(|l| l.iter().filter_map(|v| v.as_object().cloned()).collect())
        .unwrap_or_default();
    let by_id: HashMap<i64, usize> = current
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.get("id").and_then(Value::as_i64).map(|id| (id, i)))
        .collect();
    let mut seen = HashSet::new();
    let mut result = current.clone();
    let mut changed = false;
    let mut reduced = false;
    let mut increased_or_added = false;
    let card = order.payment_mode_id == 3;
    for line in &sent {
        let qty = match line.get("quantity").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => match int(v) {
                Some(q) if q < 0 => return Err("a product quantity cannot be negative".into()),
                Some(q) => Some(q),
                None => return Err("quantity must be an integer".into()),
            },
        };
        let status = match line.get("status").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => match int(v) {
                Some(s @ (0 | 1)) => Some(s),
                _ => return Err("a product status must be 0 or 1".into()),
            },
        };
        match line.get("id").filter(|v| !v.is_null()).map(int) {
            Some(Some(line_id)) => {
                if !seen.insert(line_id) {
                    return Err(format!("product line {line_id} is sent more than once"));
                }
                let Some(&idx) = by_id.get(&line_id) else {
                    return Err(format!(
                        "product line {line_id} does not belong to this order"
                    ));
                };
                let cur = &current[idx];
                for key in ["product_id", "part_number", "ext_part_number"] {
                    if line.contains_key(key) && !same_text(line.get(key), cur.get(key)) {
                        return Err(format!("{key} of product line {line_id} cannot be changed"));
                    }
                }
                if let (Some(new), Some(old)) =
                    (line_num(line, "sale_price"), line_num(cur, "sale_price"))
                {
                    if (new - old).abs() > 0.00005 {
                        return Err(format!(
                            "the sale_price of product line {line_id} cannot be changed"
                        ));
                    }
                }
                let old_qty = cur.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                let old_status = cur.get("status").and_then(Value::as_i64).unwrap_or(1);
                let new_qty = qty.unwrap_or(old_qty);
                let mut new_status = status.unwrap_or(old_status);
                if new_qty == 0 {
                    new_status = 0;
                }
                let old_active = if old_status == 1 { old_qty } else { 0 };
                let new_active = if new_status == 1 { new_qty } else { 0 };
                if new_active < old_active {
                    reduced = true;
                }
                if new_active > old_active {
                    increased_or_added = true;
                }
                if new_qty != old_qty || new_status != old_status {
                    changed = true;
                    let target = &mut result[idx];
                    if plan.storno {
                        let storno_qty = target
                            .get("storno_qty")
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        target.insert(
                            "storno_qty".into(),
                            Value::from(storno_qty + (old_active - new_active).max(0)),
                        );
                    }
                    target.insert("quantity".into(), Value::from(new_qty));
                    target.insert("status".into(), Value::from(new_status));
                    if order.status == 2 || order.status == 3 {
                        let product_id = cur.get("product_id").and_then(Value::as_i64).unwrap_or(0);
                        plan.stock.push((product_id, old_active - new_active));
                    }
                }
            }
            Some(None) => return Err("a product line id must be an integer".into()),
            None => {
                // A new line: product_id, name, status, sale_price, quantity.
                let product_id = line.get("product_id").and_then(int).filter(|p| *p > 0);
                let name = line
                    .get("name")
                    .and_then(envelope::text)
                    .filter(|n| !n.trim().is_empty());
                let price = line.get("sale_price").and_then(num);
                let (Some(product_id), Some(name), Some(price)) = (product_id, name, price) else {
                    return Err("a new product line needs product_id, name, status, sale_price and quantity".into());
                };
                let q = qty.unwrap_or(0);
                if q < 1 {
                    return Err("a new product line needs a quantity of at least 1".into());
                }
                changed = true;
                increased_or_added = true;
                let mut new_line = line
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<_, _>>();
                // The line id is handed out when the request is applied.
                new_line.insert("id".into(), Value::Null);
                new_line.insert("product_id".into(), Value::from(product_id));
                new_line.insert("name".into(), Value::from(name));
                new_line.insert("status".into(), Value::from(status.unwrap_or(1)));
                new_line.insert("quantity".into(), Value::from(q));
                new_line.insert("initial_qty".into(), Value::from(q));
                new_line.insert("storno_qty".into(), Value::from(0));
                new_line.insert("sale_price".into(), Value::from(format!("{price:.4}")));
                new_line.insert("currency".into(), Value::from("RON"));
                result.push(new_line);
                if order.status == 2 || order.status == 3 {
                    plan.stock.push((product_id, -q));
                }
            }
        }
    }
    // Lines left out are removed (status 0), as the documentation describes.
    for (line_id, &idx) in &by_id {
        if seen.contains(line_id) {
            continue;
        }
        let cur = &current[idx];
        if cur.get("status").and_then(Value::as_i64) == Some(1) {
            changed = true;
            reduced = true;
            let qty = cur.get("quantity").and_then(Value::as_i64).unwrap_or(0);
            if order.status == 2 || order.status == 3 {
                let product_id = cur.get("product_id").and_then(Value::as_i64).unwrap_or(0);
                plan.stock.push((product_id, qty));
            }
            if let Some(target) = result.get_mut(idx) {
                target.insert("status".into(), Value::from(0));
                if plan.storno {
                    target.insert("storno_qty".into(), Value::from(qty));
                }
            }
        }
    }
    if !changed {
        if plan.storno {
            return Err("is_storno was sent without any reversed product".into());
        }
        return Ok(());
    }
    match order.status {
        2 | 3 => {
            if card && reduced {
                return Err("products cannot be removed and quantities cannot be lowered on orders paid online by card".into());
            }
            if result.iter().all(|l| l.get("status").and_then(Value::as_i64) != Some(1)) {
                return Err("an order must keep at least one active product; cancel the order instead".into());
            }
        }
        4 => {
            if !plan.storno {
                return Err("a finalized order cannot be modified without is_storno (partial return)".into());
            }
            if increased_or_added {
                return Err("a partial return can only reduce quantities".into());
            }
            if result.iter().all(|l| l.get("status").and_then(Value::as_i64) != Some(1)) {
                // Every line reversed: the order is returned.
                plan.status = 5;
            }
        }
        s => {
            return Err(format!(
                "products can be added, removed or changed only in status 2 (in progress) or 3 (prepared), not {s}"
            ))
        }
    }
    plan.lines = Some(result.into_iter().map(Value::Object).collect());
    Ok(())
}

pub(crate) fn save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut plans = Vec::with_capacity(entities.len());
    let mut errors = Vec::new();
    let mut ids = HashSet::new();
    for e in &entities {
        match plan_save(state, e, now) {
            Ok(plan) => {
                if !ids.insert(plan.id) {
                    errors.push(format!("Order {} is sent more than once", plan.id));
                }
                plans.push(plan);
            }
            Err(mut m) => errors.append(&mut m),
        }
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    for plan in plans {
        apply(state, plan, now);
    }
    Reply::ok(json!([]))
}

fn apply(state: &mut State, plan: Plan, now: NaiveDateTime) {
    for &(product_id, delta) in &plan.stock {
        state.adjust_stock(product_id, delta);
    }
    let mut plan = plan;
    if let Some(lines) = plan.lines.as_mut() {
        for line in lines
            .iter_mut()
            .filter(|l| l.get("id").is_some_and(Value::is_null))
        {
            line["id"] = Value::from(state.next_line_id);
            state.next_line_id += 1;
        }
    }
    let Some(order) = state.order_mut(plan.id) else {
        return;
    };
    let previous = order.status;
    order.status = plan.status;
    if plan.status == 4 && previous != 4 {
        order.finalized_at = Some(now);
    }
    if plan.status == 0 && previous != 0 {
        order.cancelled_at = Some(now);
    }
    if plan.status == 0 {
        if let Some(reason) = plan.reason {
            order
                .doc
                .insert("reason_cancellation".into(), Value::from(reason));
        }
    } else if previous == 0 {
        order.doc.insert("reason_cancellation".into(), Value::Null);
    }
    if plan.storno {
        order.doc.insert("is_storno".into(), Value::Bool(true));
    }
    if let Some(c) = plan.is_complete {
        order.is_complete = c;
    }
    if let Some(lines) = plan.lines {
        let stamp = Value::from(clock::format(now));
        let lines = lines
            .into_iter()
            .map(|mut l| {
                if let Value::Object(m) = &mut l {
                    m.insert("modified".into(), stamp.clone());
                    m.entry("created").or_insert_with(|| stamp.clone());
                }
                l
            })
            .collect();
        order.doc.insert("products".into(), Value::Array(lines));
    }
    order.touch(now);
}

/// Set an order to finalized (the first AWB does this).
pub(crate) fn finalize(order: &mut Order, now: NaiveDateTime) {
    if order.status != 4 {
        order.status = 4;
        order.finalized_at = Some(now);
        order.touch(now);
    }
}

const ATTACHMENT_TYPES: [i64; 6] = [1, 3, 4, 8, 10, 11];

fn valid_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// `order/attachments/save` (spec §10.5): both order types accept attachments.
pub(crate) fn attachments_save(state: &mut State, data: &Value) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut errors = Vec::new();
    let mut planned = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let at = |m: &str| format!("data[{i}]: {m}");
        let Some(order_id) = e
            .get("order_id")
            .and_then(int)
            .filter(|v| (1..=MAX_ORDER_ID).contains(v))
        else {
            errors.push(at("order_id is required (an integer 1..4294967295)"));
            continue;
        };
        let Some(order) = state.order(order_id as u64) else {
            errors.push(at(&format!("order {order_id} does not exist")));
            continue;
        };
        match e.get("order_type").and_then(int) {
            Some(t @ (2 | 3)) if t == order.kind => {}
            Some(2 | 3) => {
                errors.push(at(&format!(
                    "order_type does not match order {order_id} (type {})",
                    order.kind
                )));
                continue;
            }
            _ => {
                errors.push(at("order_type is required (2 or 3)"));
                continue;
            }
        }
        let kind = match e.get("type").filter(|v| !v.is_null()).map(int) {
            None => 1,
            Some(Some(t)) if ATTACHMENT_TYPES.contains(&t) => t,
            Some(_) => {
                errors.push(at("type must be one of 1, 3, 4, 8, 10, 11"));
                continue;
            }
        };
        let url = e.get("url").and_then(envelope::text).unwrap_or_default();
        if url.is_empty() || url.len() > 1024 || !valid_url(&url) {
            errors.push(at("url is required: a valid URL of 1..1024 characters"));
            continue;
        }
        let name = e.get("name").and_then(envelope::text);
        if name
            .as_ref()
            .is_some_and(|n| n.chars().count() > 60 || n.is_empty())
        {
            errors.push(at("name must have 1..60 characters"));
            continue;
        }
        let line = match e.get("order_product_id").filter(|v| !v.is_null()).map(int) {
            None => None,
            Some(Some(l)) => Some(l),
            Some(None) => {
                errors.push(at("order_product_id must be an integer"));
                continue;
            }
        };
        if kind == 3 {
            match line {
                Some(l) if order.lines().iter().any(|x| x.0 == l) => {}
                Some(l) => {
                    errors.push(at(&format!(
                        "order_product_id {l} is not a product line of order {order_id}"
                    )));
                    continue;
                }
                None => {
                    errors.push(at("a warranty (type 3) needs order_product_id"));
                    continue;
                }
            }
        }
        planned.push((
            order_id as u64,
            kind,
            url,
            name,
            line,
            e.get("force_download").and_then(int).unwrap_or(0),
        ));
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    for (order_id, kind, url, name, line, force) in planned {
        let attachment_id = state.next_attachment_id;
        state.next_attachment_id += 1;
        let Some(order) = state.order_mut(order_id) else {
            continue;
        };
        let mut list = order
            .doc
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // One warranty per line: a new one replaces the old.
        if kind == 3 {
            list.retain(|a| {
                !(a.get("type").and_then(Value::as_i64) == Some(3)
                    && a.get("order_product_id").and_then(Value::as_i64) == line)
            });
        }
        list.push(json!({
            "id": attachment_id,
            "name": name,
            "url": url,
            "type": kind,
            "order_product_id": line,
            "force_download": force,
        }));
        order.doc.insert("attachments".into(), Value::Array(list));
        order.sync();
    }
    Reply::ok(json!([]))
}
