//! Returns (RMA): `rma/read`, `rma/count` and `rma/save` (status changes per §12.3, line
//! updates).

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, int, opt_int, Reply};
use super::resources::filters_and_page;
use super::state::{Rma, State};
use crate::codes;

struct RmaFilter {
    ints: Vec<(&'static str, i64)>,
    date_start: Option<NaiveDateTime>,
    date_end: Option<NaiveDateTime>,
}

fn rma_filter(f: &Map<String, Value>) -> Result<RmaFilter, String> {
    let mut ints = Vec::new();
    for key in [
        "id",
        "emag_id",
        "order_id",
        "product_id",
        "product_emag_id",
        "request_status",
        "type",
    ] {
        if let Some(v) = opt_int(f, key)? {
            ints.push((key, v));
        }
    }
    let date = |k: &str| -> Result<Option<NaiveDateTime>, String> {
        match f.get(k).and_then(envelope::text).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => clock::parse(&s)
                .map(Some)
                .ok_or_else(|| format!("{k} must be formatted YYYY-mm-dd HH:ii:ss")),
        }
    };
    Ok(RmaFilter {
        ints,
        date_start: date("date_start")?,
        date_end: date("date_end")?,
    })
}

fn rma_matches(r: &Rma, f: &RmaFilter) -> bool {
    let line = |k: &str, v: i64| {
        r.doc
            .get("products")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .any(|x| x.get(k).and_then(Value::as_i64) == Some(v))
            })
    };
    f.ints.iter().all(|&(k, v)| match k {
        "emag_id" | "id" => r.emag_id == v,
        "order_id" => r.order_id as i64 == v,
        "request_status" => r.request_status == v,
        "type" => r.kind == v,
        other => line(other, v),
    }) && f.date_start.is_none_or(|d| r.date >= d)
        && f.date_end.is_none_or(|d| r.date <= d)
}

pub(crate) fn rma_read(state: &State, data: &Value, strict: bool) -> Reply {
    let (f, page) = match filters_and_page(data, None, strict) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let filter = match rma_filter(&f) {
        Ok(x) => x,
        Err(e) => return Reply::error(e),
    };
    let skip = (page.current - 1).saturating_mul(page.per_page);
    Reply::ok(Value::Array(
        state
            .rmas
            .iter()
            .filter(|r| rma_matches(r, &filter))
            .skip(skip)
            .take(page.per_page)
            .map(|r| r.render())
            .collect(),
    ))
}

pub(crate) fn rma_count(state: &State, data: &Value) -> Reply {
    let (f, page) = match filters_and_page(data, None, false) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match rma_filter(&f) {
        Ok(filter) => Reply::ok(envelope::count_results(
            state
                .rmas
                .iter()
                .filter(|r| rma_matches(r, &filter))
                .count(),
            page.per_page,
        )),
        Err(e) => Reply::error(e),
    }
}

/// A return request's new status (allowed by §12.3) and the line updates sent.
fn plan_rma(state: &State, e: &Map<String, Value>) -> Result<(i64, i64, Option<Value>), String> {
    let Some(emag_id) = e.get("emag_id").and_then(int) else {
        return Err("emag_id is required".into());
    };
    let Some(rma) = state.rmas.iter().find(|r| r.emag_id == emag_id) else {
        return Err(format!("return request {emag_id} does not exist"));
    };
    let status = match e.get("request_status").filter(|v| !v.is_null()).map(int) {
        None => rma.request_status,
        Some(Some(s)) => s,
        Some(None) => return Err("request_status must be an integer".into()),
    };
    if !codes::rma_transition_allowed(rma.request_status, status) {
        return Err(format!(
            "the return request status cannot change from {} to {status}",
            rma.request_status
        ));
    }
    Ok((emag_id, status, e.get("products").cloned()))
}

/// The keys of a return line that `rma/save` may change.
const LINE_KEYS: [&str; 5] = [
    "return_reason",
    "observations",
    "diagnostic",
    "reject_reason",
    "refund_value",
];

fn update_lines(sent: &[Value], lines: &mut [Value]) {
    for s in sent {
        let id = s.get("id").and_then(int);
        if let Some(line) = lines
            .iter_mut()
            .find(|l| l.get("id").and_then(Value::as_i64) == id)
        {
            for k in LINE_KEYS {
                if let Some(v) = s.get(k) {
                    line[k] = v.clone();
                }
            }
        }
    }
}

/// `rma/save`: status changes per §12.3, line `return_reason`/`observations` updates.
pub(crate) fn rma_save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let planned = envelope::plan_entities(data, |i, e| {
        plan_rma(state, e).map_err(|m| vec![format!("data[{i}]: {m}")])
    });
    let plans = match planned {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    for (emag_id, status, products) in plans {
        if let Some(rma) = state.rmas.iter_mut().find(|r| r.emag_id == emag_id) {
            rma.request_status = status;
            if let (Some(Value::Array(sent)), Some(Value::Array(lines))) =
                (products, rma.doc.get_mut("products"))
            {
                update_lines(&sent, lines);
            }
            rma.doc
                .insert("modified".into(), Value::from(clock::format(now)));
        }
    }
    Reply::ok(json!([]))
}
