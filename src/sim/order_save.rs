//! `order/save`: the status matrix with the 48 h and RT + 5 days rules against the simulated
//! clock, line edits and storno. Every order of a request is planned before any is applied.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, boolean, int, num, Reply};
use super::orders::MAX_ORDER_ID;
use super::state::{Order, State};
use crate::codes::{self, OrderStatus, TransitionRule};

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

/// Whether the status matrix allows `order` to move to `new_status` now.
fn check_transition(
    state: &State,
    order: &Order,
    new_status: i64,
    now: NaiveDateTime,
) -> Result<(), String> {
    let (Some(from), Some(to)) = (
        OrderStatus::from_code(order.status),
        OrderStatus::from_code(new_status),
    ) else {
        return Err(format!("status must be between 0 and 5, got {new_status}"));
    };
    let name = |s: i64| codes::order_status_text(s, codes::Lang::En);
    match codes::order_transition(from, to) {
        TransitionRule::Yes => Ok(()),
        TransitionRule::No => Err(format!(
            "the status cannot change from {} ({}) to {} ({})",
            order.status,
            name(order.status),
            new_status,
            name(new_status)
        )),
        TransitionRule::AckOnly => {
            Err("a new order moves to in progress (2) only through order/acknowledge".into())
        }
        TransitionRule::Within48h => {
            let (since, what) = if order.status == 4 {
                (order.finalized_at, "finalization")
            } else {
                (order.cancelled_at, "cancellation")
            };
            if since.is_none_or(|t| now - t > TimeDelta::hours(48)) {
                return Err(format!(
                    "the status cannot change from {} to {} more than 48 hours after {what}",
                    order.status, new_status
                ));
            }
            Ok(())
        }
        TransitionRule::WithinReturnTimePlus5Days => {
            let limit = TimeDelta::days(state.return_period_days + 5);
            if order.finalized_at.is_none_or(|t| now - t > limit) {
                return Err(format!(
                    "a finalized order can be returned only within the return period plus 5 days ({} days)",
                    state.return_period_days + 5
                ));
            }
            Ok(())
        }
    }
}

/// The cancellation reason sent (under either name), checked against the reference codes.
fn cancellation_reason(e: &Map<String, Value>) -> Result<Option<i64>, String> {
    match e
        .get("reason_cancellation")
        .or_else(|| e.get("cancellation_reason"))
    {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(v) => match int(v) {
            Some(code) if codes::is_valid_cancellation_reason(code) => Ok(Some(code)),
            _ => Err(format!(
                "reason_cancellation {v} is not a valid cancellation reason (1-3, 15-43)"
            )),
        },
    }
}

/// The order-level fields of one entity: status, reason, storno, completeness.
fn plan_fields(
    state: &State,
    order: &Order,
    id: u64,
    e: &Map<String, Value>,
    now: NaiveDateTime,
) -> Result<Plan, String> {
    if order.kind != 3 {
        return Err("only orders of type 3 (fulfilled by seller) can be edited; type 2 orders accept only attachments".into());
    }
    if let Some(t) = e.get("type").filter(|v| !v.is_null()) {
        if int(t) != Some(order.kind) {
            return Err("type cannot be changed".into());
        }
    }
    let Some(new_status) = e.get("status").and_then(int) else {
        return Err("status is required".into());
    };
    check_transition(state, order, new_status, now)?;
    let reason = cancellation_reason(e)?;
    if new_status == 0 && order.status != 0 && reason.is_none() {
        return Err("reason_cancellation is required when cancelling an order".into());
    }
    let storno = e.get("is_storno").and_then(boolean).unwrap_or(false);
    if storno && order.status != 4 {
        return Err("is_storno can be used only on finalized orders (status 4)".into());
    }
    if storno && new_status != 4 {
        return Err("a partial return (is_storno) keeps the order in status 4; use status 5 for a full return".into());
    }
    let is_complete = match e.get("is_complete").filter(|v| !v.is_null()).map(int) {
        None => None,
        Some(Some(v @ (0 | 1))) => Some(v),
        Some(_) => return Err("is_complete must be 0 or 1".into()),
    };
    Ok(Plan {
        id,
        status: new_status,
        reason,
        lines: None,
        storno,
        is_complete,
        stock: Vec::new(),
    })
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
    let fail = |m: String| vec![format!("Order {id}: {m}")];
    let mut plan = plan_fields(state, order, id, e, now).map_err(fail)?;
    // Stock follows the order: cancelling returns it, reactivating takes it again.
    let active_lines = |o: &Order| {
        o.lines()
            .into_iter()
            .filter(|l| l.3 == 1)
            .collect::<Vec<_>>()
    };
    if order.status != 0 && plan.status == 0 && order.status != 1 {
        plan.stock
            .extend(active_lines(order).into_iter().map(|l| (l.1, l.2)));
    }
    if order.status == 0 && plan.status != 0 {
        plan.stock
            .extend(active_lines(order).into_iter().map(|l| (l.1, -l.2)));
    }
    match e.get("products") {
        None | Some(Value::Null) => {
            if plan.storno {
                return Err(fail(
                    "is_storno was sent without any reversed product".into(),
                ));
            }
        }
        Some(sent) => plan_lines(order, sent, &mut plan).map_err(fail)?,
    }
    Ok(plan)
}

/// The lines sent: a list of objects, or an object of objects (the PHP form's shape).
fn sent_lines(sent: &Value) -> Result<Vec<&Map<String, Value>>, String> {
    match sent {
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| "each product must be an object".to_owned())
            })
            .collect(),
        Value::Object(map) => Ok(map.values().filter_map(Value::as_object).collect()),
        _ => Err("products must be a list".into()),
    }
}

/// A line's `quantity` and `status` as sent (absent: unchanged).
fn sent_qty_status(line: &Map<String, Value>) -> Result<(Option<i64>, Option<i64>), String> {
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
    Ok((qty, status))
}

/// The order's lines as the request leaves them, and what the edit did to them.
struct LineEdit {
    current: Vec<Map<String, Value>>,
    by_id: HashMap<i64, usize>,
    seen: HashSet<i64>,
    result: Vec<Map<String, Value>>,
    changed: bool,
    reduced: bool,
    increased_or_added: bool,
    /// Stock moves only for orders in progress or prepared.
    moves_stock: bool,
}

impl LineEdit {
    fn new(order: &Order) -> LineEdit {
        let current: Vec<Map<String, Value>> = order
            .doc
            .get("products")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(|v| v.as_object().cloned()).collect())
            .unwrap_or_default();
        let by_id = current
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.get("id").and_then(Value::as_i64).map(|id| (id, i)))
            .collect();
        LineEdit {
            result: current.clone(),
            current,
            by_id,
            seen: HashSet::new(),
            changed: false,
            reduced: false,
            increased_or_added: false,
            moves_stock: order.status == 2 || order.status == 3,
        }
    }

    /// An existing line sent again: only its quantity and status may change.
    fn edit(
        &mut self,
        line: &Map<String, Value>,
        line_id: i64,
        sent: (Option<i64>, Option<i64>),
        plan: &mut Plan,
    ) -> Result<(), String> {
        if !self.seen.insert(line_id) {
            return Err(format!("product line {line_id} is sent more than once"));
        }
        let Some(&idx) = self.by_id.get(&line_id) else {
            return Err(format!(
                "product line {line_id} does not belong to this order"
            ));
        };
        let cur = &self.current[idx];
        for key in ["product_id", "part_number", "ext_part_number"] {
            if line.contains_key(key) && !same_text(line.get(key), cur.get(key)) {
                return Err(format!("{key} of product line {line_id} cannot be changed"));
            }
        }
        if let (Some(new), Some(old)) = (line_num(line, "sale_price"), line_num(cur, "sale_price"))
        {
            if (new - old).abs() > 0.00005 {
                return Err(format!(
                    "the sale_price of product line {line_id} cannot be changed"
                ));
            }
        }
        let old_qty = cur.get("quantity").and_then(Value::as_i64).unwrap_or(0);
        let old_status = cur.get("status").and_then(Value::as_i64).unwrap_or(1);
        let new_qty = sent.0.unwrap_or(old_qty);
        let new_status = if new_qty == 0 {
            0
        } else {
            sent.1.unwrap_or(old_status)
        };
        let old_active = if old_status == 1 { old_qty } else { 0 };
        let new_active = if new_status == 1 { new_qty } else { 0 };
        self.reduced |= new_active < old_active;
        self.increased_or_added |= new_active > old_active;
        if new_qty == old_qty && new_status == old_status {
            return Ok(());
        }
        self.changed = true;
        let product_id = cur.get("product_id").and_then(Value::as_i64).unwrap_or(0);
        let target = &mut self.result[idx];
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
        if self.moves_stock {
            plan.stock.push((product_id, old_active - new_active));
        }
        Ok(())
    }

    /// A new line: product_id, name, status, sale_price, quantity.
    fn add(
        &mut self,
        line: &Map<String, Value>,
        sent: (Option<i64>, Option<i64>),
        plan: &mut Plan,
    ) -> Result<(), String> {
        let product_id = line.get("product_id").and_then(int).filter(|p| *p > 0);
        let name = line
            .get("name")
            .and_then(envelope::text)
            .filter(|n| !n.trim().is_empty());
        let price = line.get("sale_price").and_then(num);
        let (Some(product_id), Some(name), Some(price)) = (product_id, name, price) else {
            return Err(
                "a new product line needs product_id, name, status, sale_price and quantity".into(),
            );
        };
        let q = sent.0.unwrap_or(0);
        if q < 1 {
            return Err("a new product line needs a quantity of at least 1".into());
        }
        self.changed = true;
        self.increased_or_added = true;
        let mut new_line = line.clone();
        // The line id is handed out when the request is applied.
        new_line.insert("id".into(), Value::Null);
        new_line.insert("product_id".into(), Value::from(product_id));
        new_line.insert("name".into(), Value::from(name));
        new_line.insert("status".into(), Value::from(sent.1.unwrap_or(1)));
        new_line.insert("quantity".into(), Value::from(q));
        new_line.insert("initial_qty".into(), Value::from(q));
        new_line.insert("storno_qty".into(), Value::from(0));
        new_line.insert("sale_price".into(), Value::from(format!("{price:.4}")));
        new_line.insert("currency".into(), Value::from("RON"));
        self.result.push(new_line);
        if self.moves_stock {
            plan.stock.push((product_id, -q));
        }
        Ok(())
    }

    /// Lines left out are removed (status 0), as the documentation describes.
    fn remove_left_out(&mut self, plan: &mut Plan) {
        for (line_id, &idx) in &self.by_id {
            if self.seen.contains(line_id) {
                continue;
            }
            let cur = &self.current[idx];
            if cur.get("status").and_then(Value::as_i64) != Some(1) {
                continue;
            }
            self.changed = true;
            self.reduced = true;
            let qty = cur.get("quantity").and_then(Value::as_i64).unwrap_or(0);
            if self.moves_stock {
                let product_id = cur.get("product_id").and_then(Value::as_i64).unwrap_or(0);
                plan.stock.push((product_id, qty));
            }
            if let Some(target) = self.result.get_mut(idx) {
                target.insert("status".into(), Value::from(0));
                if plan.storno {
                    target.insert("storno_qty".into(), Value::from(qty));
                }
            }
        }
    }

    fn none_active(&self) -> bool {
        self.result
            .iter()
            .all(|l| l.get("status").and_then(Value::as_i64) != Some(1))
    }
}

fn plan_lines(order: &Order, sent: &Value, plan: &mut Plan) -> Result<(), String> {
    let sent = sent_lines(sent)?;
    let mut edit = LineEdit::new(order);
    for line in &sent {
        let qty_status = sent_qty_status(line)?;
        match line.get("id").filter(|v| !v.is_null()).map(int) {
            Some(Some(line_id)) => edit.edit(line, line_id, qty_status, plan)?,
            Some(None) => return Err("a product line id must be an integer".into()),
            None => edit.add(line, qty_status, plan)?,
        }
    }
    edit.remove_left_out(plan);
    if !edit.changed {
        if plan.storno {
            return Err("is_storno was sent without any reversed product".into());
        }
        return Ok(());
    }
    check_line_rules(order, &edit, plan)?;
    plan.lines = Some(edit.result.into_iter().map(Value::Object).collect());
    Ok(())
}

/// What each status allows of a line change (storno, card payments, one active line).
fn check_line_rules(order: &Order, edit: &LineEdit, plan: &mut Plan) -> Result<(), String> {
    match order.status {
        2 | 3 => {
            if order.payment_mode_id == 3 && edit.reduced {
                return Err("products cannot be removed and quantities cannot be lowered on orders paid online by card".into());
            }
            if edit.none_active() {
                return Err("an order must keep at least one active product; cancel the order instead".into());
            }
        }
        4 => {
            if !plan.storno {
                return Err("a finalized order cannot be modified without is_storno (partial return)".into());
            }
            if edit.increased_or_added {
                return Err("a partial return can only reduce quantities".into());
            }
            if edit.none_active() {
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
    Ok(())
}

pub(crate) fn save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let mut ids = HashSet::new();
    let planned = envelope::plan_entities(data, |_, e| {
        let plan = plan_save(state, e, now)?;
        if !ids.insert(plan.id) {
            return Err(vec![format!("Order {} is sent more than once", plan.id)]);
        }
        Ok(plan)
    });
    match planned {
        Ok(plans) => {
            for plan in plans {
                apply(state, plan, now);
            }
            Reply::ok(json!([]))
        }
        Err(reply) => reply,
    }
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
