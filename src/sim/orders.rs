//! Orders: `order/read`, `order/count`, `order/acknowledge/{id}`, `order/{id}/unlock-courier`
//! and `order/attachments/save` (`order/save` is in `order_save`).

use chrono::{Months, NaiveDateTime};
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, int, int_list, opt_int, Reply};
use super::state::{Order, State};
use crate::codes::{self};

pub(super) use crate::limits::MAX_ORDER_ID;

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

/// One attachment to add, checked.
struct AttachmentPlan {
    order_id: u64,
    kind: i64,
    url: String,
    name: Option<String>,
    line: Option<i64>,
    force_download: i64,
}

fn plan_attachment(state: &State, e: &Map<String, Value>) -> Result<AttachmentPlan, String> {
    let Some(order_id) = e
        .get("order_id")
        .and_then(int)
        .filter(|v| (1..=MAX_ORDER_ID).contains(v))
    else {
        return Err("order_id is required (an integer 1..4294967295)".into());
    };
    let Some(order) = state.order(order_id as u64) else {
        return Err(format!("order {order_id} does not exist"));
    };
    match e.get("order_type").and_then(int) {
        Some(t @ (2 | 3)) if t == order.kind => {}
        Some(2 | 3) => {
            return Err(format!(
                "order_type does not match order {order_id} (type {})",
                order.kind
            ))
        }
        _ => return Err("order_type is required (2 or 3)".into()),
    }
    let kind = match e.get("type").filter(|v| !v.is_null()).map(int) {
        None => 1,
        Some(Some(t)) if ATTACHMENT_TYPES.contains(&t) => t,
        Some(_) => return Err("type must be one of 1, 3, 4, 8, 10, 11".into()),
    };
    let url = e.get("url").and_then(envelope::text).unwrap_or_default();
    if url.is_empty() || url.len() > 1024 || !valid_url(&url) {
        return Err("url is required: a valid URL of 1..1024 characters".into());
    }
    let name = e.get("name").and_then(envelope::text);
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 60 || n.is_empty())
    {
        return Err("name must have 1..60 characters".into());
    }
    let line = match e.get("order_product_id").filter(|v| !v.is_null()).map(int) {
        None => None,
        Some(Some(l)) => Some(l),
        Some(None) => return Err("order_product_id must be an integer".into()),
    };
    if kind == 3 {
        match line {
            Some(l) if order.lines().iter().any(|x| x.0 == l) => {}
            Some(l) => {
                return Err(format!(
                    "order_product_id {l} is not a product line of order {order_id}"
                ))
            }
            None => return Err("a warranty (type 3) needs order_product_id".into()),
        }
    }
    Ok(AttachmentPlan {
        order_id: order_id as u64,
        kind,
        url,
        name,
        line,
        force_download: e.get("force_download").and_then(int).unwrap_or(0),
    })
}

/// `order/attachments/save` (spec §10.5): both order types accept attachments.
pub(crate) fn attachments_save(state: &mut State, data: &Value) -> Reply {
    let planned = envelope::plan_entities(data, |i, e| {
        plan_attachment(state, e).map_err(|m| vec![format!("data[{i}]: {m}")])
    });
    let planned = match planned {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    for p in planned {
        let attachment_id = state.next_attachment_id;
        state.next_attachment_id += 1;
        let Some(order) = state.order_mut(p.order_id) else {
            continue;
        };
        let mut list = order
            .doc
            .get("attachments")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // One warranty per line: a new one replaces the old.
        if p.kind == 3 {
            list.retain(|a| {
                !(a.get("type").and_then(Value::as_i64) == Some(3)
                    && a.get("order_product_id").and_then(Value::as_i64) == p.line)
            });
        }
        list.push(json!({
            "id": attachment_id,
            "name": p.name,
            "url": p.url,
            "type": p.kind,
            "order_product_id": p.line,
            "force_download": p.force_download,
        }));
        order.doc.insert("attachments".into(), Value::Array(list));
        order.sync();
    }
    Reply::ok(json!([]))
}
