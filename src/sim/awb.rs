//! AWBs: `awb/save` (one AWB per request; the first AWB of an order finalizes it) and
//! `awb/read`.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, int, opt_int, Reply};
use super::orders;
use super::refdata::{COURIERS, PLACES};
use super::resources::filters_and_page;
use super::state::State;

fn party(e: &Map<String, Value>, key: &str, errors: &mut Vec<String>) {
    let Some(p) = e.get(key).and_then(Value::as_object) else {
        errors.push(format!("{key} is required"));
        return;
    };
    let len = |k: &str| p.get(k).and_then(envelope::text).map(|s| s.chars().count());
    if !len("name").is_some_and(|n| (3..=255).contains(&n)) {
        errors.push(format!("{key}.name is required (3..255 characters)"));
    }
    if !len("contact").is_some_and(|n| (1..=255).contains(&n)) {
        errors.push(format!("{key}.contact is required (1..255 characters)"));
    }
    if !len("street").is_some_and(|n| (3..=255).contains(&n)) {
        errors.push(format!("{key}.street is required (3..255 characters)"));
    }
    let phone_ok = |v: Option<&Value>| {
        v.and_then(envelope::text).is_some_and(|s| {
            let digits = s.strip_prefix('+').unwrap_or(&s);
            (8..=11).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        })
    };
    if !phone_ok(p.get("phone1")) {
        errors.push(format!(
            "{key}.phone1 is required (8..11 digits, optional leading +)"
        ));
    }
    if p.get("phone2").is_some_and(|v| !v.is_null() && v != "") && !phone_ok(p.get("phone2")) {
        errors.push(format!("{key}.phone2 must have 8..11 digits"));
    }
    if !p
        .get("locality_id")
        .and_then(int)
        .is_some_and(|l| l >= 1 && PLACES.iter().any(|pl| pl.emag_id == l))
    {
        errors.push(format!(
            "{key}.locality_id must be an existing eMAG locality"
        ));
    }
}

/// The one AWB of a request: an object, or a one-element list.
fn awb_entity(data: &Value) -> Result<Map<String, Value>, Reply> {
    match data {
        Value::Object(m) => Ok(m.clone()),
        Value::Array(a) if a.len() == 1 => match a[0].as_object() {
            Some(m) => Ok(m.clone()),
            None => Err(Reply::error("data must be an AWB object")),
        },
        Value::Array(a) if a.len() > 1 => Err(Reply::error("awb/save takes one AWB per request")),
        _ => Err(Reply::error("data must be an AWB object")),
    }
}

/// The parcel itself: flags, counts, cash on delivery, weight, both parties.
fn check_parcel(e: &Map<String, Value>, errors: &mut Vec<String>) {
    let flag = |k: &str, required: bool, errors: &mut Vec<String>| match e
        .get(k)
        .filter(|v| !v.is_null())
        .map(int)
    {
        None if required => errors.push(format!("{k} is required (0 or 1)")),
        None | Some(Some(0 | 1)) => {}
        Some(_) => errors.push(format!("{k} must be 0 or 1")),
    };
    flag("is_oversize", true, errors);
    for k in [
        "pickup_and_return",
        "saturday_delivery",
        "sameday_delivery",
        "dropoff_locker",
        "unboxing",
    ] {
        flag(k, false, errors);
    }
    let envelopes = e.get("envelope_number").and_then(int);
    let parcels = e.get("parcel_number").and_then(int);
    match (envelopes, parcels) {
        (Some(en), Some(pa)) if (0..=9999).contains(&en) && (0..=999).contains(&pa) => {
            if en == 0 && pa == 0 {
                errors.push("envelope_number and parcel_number cannot both be 0".into());
            }
        }
        _ => {
            errors.push("envelope_number (0..9999) and parcel_number (0..999) are required".into())
        }
    }
    match e.get("cod").and_then(envelope::num) {
        Some(c) if (0.0..=999_999_999.0).contains(&c) => {}
        _ => errors.push("cod is required (0..999999999)".into()),
    }
    if let Some(w) = e.get("weight").filter(|v| !v.is_null()) {
        if !envelope::num(w).is_some_and(|w| (0.0..=99_999.0).contains(&w)) {
            errors.push("weight must be between 0 and 99999".into());
        }
    }
    party(e, "sender", errors);
    party(e, "receiver", errors);
}

/// What the AWB is for: an order that can ship (its type is returned), or a return request
/// with a pickup date from tomorrow on.
fn check_target(
    state: &State,
    e: &Map<String, Value>,
    now: NaiveDateTime,
    errors: &mut Vec<String>,
) -> i64 {
    let order_id = e.get("order_id").filter(|v| !v.is_null()).map(int);
    let rma_id = e.get("rma_id").filter(|v| !v.is_null()).map(int);
    match (order_id, rma_id) {
        (Some(Some(id)), None) => match state.order(id.max(0) as u64) {
            None => errors.push(format!("order {id} does not exist")),
            Some(o) => {
                if o.doc
                    .get("enforced_vendor_courier_accounts")
                    .and_then(Value::as_array)
                    .is_some_and(Vec::is_empty)
                {
                    errors.push(format!("no AWB can be issued from the marketplace for order {id} (enforced_vendor_courier_accounts is empty)"));
                }
                if !matches!(o.status, 2..=4) {
                    errors.push(format!("an AWB can be issued only for orders in progress, prepared or finalized; order {id} has status {}", o.status));
                }
                return o.kind;
            }
        },
        (_, Some(Some(id))) => {
            if !state.rmas.iter().any(|r| r.emag_id == id) {
                errors.push(format!("return request {id} does not exist"));
            }
            match e
                .get("date")
                .and_then(envelope::text)
                .and_then(|d| clock::parse(&d))
            {
                Some(d) if d.date() > now.date() => {}
                _ => errors
                    .push("date is required for a return AWB and must be at least tomorrow".into()),
            }
            if e.get("pickup_and_return").and_then(int).unwrap_or(0) != 0 {
                errors.push("pickup_and_return must be 0 on a return AWB".into());
            }
            if e.get("dropoff_locker").and_then(int).unwrap_or(0) != 0 {
                errors.push("dropoff_locker is allowed only for orders".into());
            }
        }
        _ => errors.push("order_id (or rma_id for a return) is required".into()),
    }
    3
}

/// `awb/save`: one AWB (an object or a one-element list); the first AWB finalizes the order.
pub(crate) fn awb_save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let e = match awb_entity(data) {
        Ok(e) => e,
        Err(reply) => return reply,
    };
    let mut errors = Vec::new();
    check_parcel(&e, &mut errors);
    let order_kind = check_target(state, &e, now, &mut errors);
    let courier = match e
        .get("courier_account_id")
        .filter(|v| !v.is_null())
        .map(int)
    {
        None => Some(COURIERS[0]),
        Some(Some(id)) => COURIERS.iter().copied().find(|c| c.0 == id),
        Some(None) => None,
    };
    let Some(courier) = courier else {
        errors.push("courier_account_id must be one of courier_accounts/read".into());
        return Reply::errors(errors);
    };
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    issue(state, &e, order_kind, courier, now)
}

/// Record a valid AWB: finalize its order, or add it to its return request.
fn issue(
    state: &mut State,
    e: &Map<String, Value>,
    order_kind: i64,
    courier: (i64, &'static str, &'static str, i64, &'static [i64]),
    now: NaiveDateTime,
) -> Reply {
    let order_id = e.get("order_id").filter(|v| !v.is_null()).map(int);
    let rma_id = e.get("rma_id").filter(|v| !v.is_null()).map(int);
    state.next_awb_id += 1;
    state.next_reservation_id += 1;
    let emag_id = state.next_awb_id;
    let reservation_id = state.next_reservation_id;
    let awb_number = format!("2EMG{:08}", emag_id % 100_000_000);
    let awb = json!({
        "emag_id": emag_id,
        "reservation_id": reservation_id,
        "order_id": order_id.flatten(),
        "rma_id": rma_id.flatten(),
        "type": order_kind,
        "weight": e.get("weight").and_then(envelope::num).map(|w| w.round() as i64).unwrap_or(1),
        "awb_type": if rma_id.is_some() { json!(2) } else { Value::Null },
        "awb": [{"emag_id": emag_id, "awb_number": awb_number, "awb_barcode": format!("{awb_number}001")}],
        "status": {"code": "NEW", "name": "New", "description": "AWB created"},
        "courier": {"courier_account_id": courier.0, "courier_name": courier.2},
        "cod": e.get("cod").cloned().unwrap_or(Value::Null),
        "created": clock::format(now),
    });
    if let Some(Some(id)) = order_id {
        if let Some(order) = state.order_mut(id as u64) {
            orders::finalize(order, now);
        }
    }
    if let Some(Some(id)) = rma_id {
        if let Some(rma) = state.rmas.iter_mut().find(|r| r.emag_id == id) {
            let mut awbs = rma
                .doc
                .get("awbs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            awbs.push(json!({"reservation_id": reservation_id}));
            rma.doc.insert("awbs".into(), Value::Array(awbs));
        }
    }
    state.awbs.push(awb.clone());
    Reply::ok(
        json!([{"emag_id": emag_id, "reservation_id": reservation_id, "awb": awb["awb"].clone()}]),
    )
}

pub(crate) fn awb_read(state: &State, data: &Value, strict: bool) -> Reply {
    let (f, page) = match filters_and_page(data, None, strict) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (emag_id, reservation_id) = match (opt_int(&f, "emag_id"), opt_int(&f, "reservation_id")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return Reply::error(e),
    };
    let order_id = opt_int(&f, "order_id").ok().flatten();
    let found: Vec<Value> = state
        .awbs
        .iter()
        .filter(|a| {
            emag_id.is_none_or(|id| a["emag_id"].as_i64() == Some(id))
                && reservation_id.is_none_or(|id| a["reservation_id"].as_i64() == Some(id))
                && order_id.is_none_or(|id| a["order_id"].as_i64() == Some(id))
        })
        .cloned()
        .collect();
    if emag_id.is_some() && found.is_empty() {
        return Reply::error(format!(
            "AWB {} does not exist",
            emag_id.unwrap_or_default()
        ));
    }
    Reply::ok(Value::Array(page.slice(&found).to_vec()))
}
