//! Everything that is neither an order nor an offer: catalogue lists, VAT, handling times,
//! AWBs, returns (RMA), localities, courier accounts and addresses.

use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, int, opt_int, Reply};
use super::orders;
use super::refdata::{CATEGORIES, COURIERS, PLACES, VATS};
use super::state::State;
use crate::codes;

fn filters_and_page(
    data: &Value,
    max_page: Option<i64>,
    strict: bool,
) -> Result<(Map<String, Value>, envelope::Page), Reply> {
    let f = envelope::filters(data).map_err(Reply::error)?;
    let page = envelope::page(&f, 100, max_page, strict).map_err(Reply::error)?;
    Ok((f, page))
}

fn category_doc(c: &super::refdata::Category, detailed: bool) -> Value {
    let mut doc = json!({
        "id": c.id,
        "name": c.name,
        "is_allowed": 1,
        "parent_id": c.parent_id,
        "is_ean_mandatory": i64::from(c.id != 9410),
        "is_warranty_mandatory": i64::from(c.id < 6000),
    });
    if detailed {
        let values: Vec<Value> = c.variants.iter().map(|v| json!(v)).collect();
        doc["characteristics"] = json!([
            {"id": 6506, "name": "Varianta", "type_id": 11, "display_order": 1, "is_mandatory": 1,
             "is_filter": 1, "allow_new_value": 1, "values": values, "tags": []},
            {"id": 6861, "name": "Culoare", "type_id": 11, "display_order": 2, "is_mandatory": 0,
             "is_filter": 1, "allow_new_value": 0, "values": ["Negru", "Alb", "Albastru", "Rosu", "Gri"], "tags": []},
        ]);
        doc["family_types"] = json!([
            {"id": c.id * 10 + 1, "name": "Varianta", "characteristics": [
                {"characteristic_id": 6506, "characteristic_family_type_id": 2, "is_foldable": 0, "display_order": 1}]}
        ]);
    } else {
        doc["characteristics"] = json!([]);
        doc["family_types"] = json!([]);
    }
    doc
}

pub(crate) fn category_read(data: &Value, strict: bool) -> Reply {
    let (f, page) = match filters_and_page(data, None, strict) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match opt_int(&f, "id") {
        Err(e) => Reply::error(e),
        Ok(Some(id)) => Reply::ok(Value::Array(
            CATEGORIES
                .iter()
                .filter(|c| c.id == id)
                .map(|c| category_doc(c, true))
                .collect(),
        )),
        Ok(None) => Reply::ok(Value::Array(
            page.slice(CATEGORIES)
                .iter()
                .map(|c| category_doc(c, false))
                .collect(),
        )),
    }
}

pub(crate) fn category_count(data: &Value) -> Reply {
    let (_, page) = match filters_and_page(data, None, false) {
        Ok(x) => x,
        Err(r) => return r,
    };
    Reply::ok(envelope::count_results(CATEGORIES.len(), page.per_page))
}

pub(crate) fn vat_read() -> Reply {
    Reply::ok(Value::Array(
        VATS.iter()
            .map(|(id, rate, default)| json!({"vat_id": id, "vat_rate": rate, "is_default": default}))
            .collect(),
    ))
}

pub(crate) fn handling_time_read() -> Reply {
    Reply::ok(Value::Array((0..=30).map(|d| json!({"id": d})).collect()))
}

fn locality_doc(p: &super::refdata::Place) -> Value {
    json!({
        "emag_id": p.emag_id,
        "name": p.name,
        "name_latin": p.name,
        "region1": p.country_name(),
        "region2": p.county,
        "region3": null,
        "region4": null,
        "region1_latin": p.country_name(),
        "region2_latin": p.county,
        "region3_latin": null,
        "region4_latin": null,
        "geoid": p.emag_id * 7 + 100_000,
        "modified": "2025-01-15 10:00:00",
        "zipcode": p.zipcode,
        "country_code": p.country,
        "iso2": format!("{}-{}", p.country, p.county_code),
    })
}

impl super::refdata::Place {
    fn country_name(&self) -> &'static str {
        match self.country {
            "RO" => "Romania",
            "BG" => "Bulgaria",
            _ => "Hungary",
        }
    }
}

fn locality_matches(
    f: &Map<String, Value>,
    p: &super::refdata::Place,
    with_country: bool,
) -> Result<bool, String> {
    let emag_id = opt_int(f, "emag_id")?;
    let text = |k: &str| f.get(k).and_then(envelope::text).filter(|s| !s.is_empty());
    let name = text("name").map(|s| s.to_lowercase());
    let region2 = text("region2").map(|s| s.to_lowercase());
    let country = if with_country {
        text("country_code").unwrap_or_else(|| "RO".into())
    } else {
        "RO".into()
    };
    if let Some(m) = text("modified") {
        if clock::parse(&m).is_none() {
            return Err("modified must be a date formatted YYYY-mm-dd HH:ii:ss".into());
        }
    }
    let modified_after = text("modified").and_then(|m| clock::parse(&m));
    let locality_modified = clock::parse("2025-01-15 10:00:00");
    Ok(emag_id.is_none_or(|id| id == p.emag_id)
        && name
            .as_ref()
            .is_none_or(|n| p.name.to_lowercase().contains(n))
        && region2
            .as_ref()
            .is_none_or(|r| p.county.to_lowercase() == *r)
        && p.country.eq_ignore_ascii_case(&country)
        && modified_after.is_none_or(|m| locality_modified.is_some_and(|lm| lm > m)))
}

pub(crate) fn locality_read(data: &Value, strict: bool) -> Reply {
    let (f, page) = match filters_and_page(data, Some(65_535), strict) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut out = Vec::new();
    for p in PLACES {
        match locality_matches(&f, p, true) {
            Ok(true) => out.push(locality_doc(p)),
            Ok(false) => {}
            Err(e) => return Reply::error(e),
        }
    }
    Reply::ok(Value::Array(page.slice(&out).to_vec()))
}

pub(crate) fn locality_count(data: &Value) -> Reply {
    let (f, page) = match filters_and_page(data, Some(65_535), false) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut n = 0;
    for p in PLACES {
        match locality_matches(&f, p, false) {
            Ok(true) => n += 1,
            Ok(false) => {}
            Err(e) => return Reply::error(e),
        }
    }
    Reply::ok(envelope::count_results(n, page.per_page))
}

pub(crate) fn courier_accounts_read() -> Reply {
    Reply::ok(Value::Array(
        COURIERS
            .iter()
            .map(|(id, display, name, kind, props)| {
                json!({"account_id": id, "account_display_name": display, "courier_account_type": kind,
                       "courier_name": name, "courier_account_properties": props,
                       "created": "2024-03-01 09:00:00", "status": 1, "pickup_country_code": "RO"})
            })
            .collect(),
    ))
}

pub(crate) fn addresses_read() -> Reply {
    Reply::ok(json!([
        {"address_id": "11020", "country_id": 1, "country_code": "RO", "address_type_id": 2, "locality_id": 4537,
         "suburb": "Cluj", "city": "Cluj-Napoca", "address": "Str. Fabricii nr. 7", "zipcode": "400632",
         "quarter": "", "floor": "", "is_default": true},
        {"address_id": "11021", "country_id": 1, "country_code": "RO", "address_type_id": 1, "locality_id": 4537,
         "suburb": "Cluj", "city": "Cluj-Napoca", "address": "Str. Fabricii nr. 7, depozit retururi", "zipcode": "400632",
         "quarter": "", "floor": "", "is_default": true},
        {"address_id": "11022", "country_id": 1, "country_code": "RO", "address_type_id": 3, "locality_id": 8801,
         "suburb": "Bucuresti", "city": "Bucuresti", "address": "Calea Victoriei nr. 100", "zipcode": "010071",
         "quarter": "Sector 1", "floor": "3", "is_default": false}
    ]))
}

// ---- AWB ----------------------------------------------------------------------------------------

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

/// `awb/save`: one AWB (an object or a one-element list); the first AWB finalizes the order.
pub(crate) fn awb_save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let e = match data {
        Value::Object(m) => m.clone(),
        Value::Array(a) if a.len() == 1 => match a[0].as_object() {
            Some(m) => m.clone(),
            None => return Reply::error("data must be an AWB object"),
        },
        Value::Array(a) if a.len() > 1 => {
            return Reply::error("awb/save takes one AWB per request")
        }
        _ => return Reply::error("data must be an AWB object"),
    };
    let mut errors = Vec::new();
    let order_id = e.get("order_id").filter(|v| !v.is_null()).map(int);
    let rma_id = e.get("rma_id").filter(|v| !v.is_null()).map(int);
    let flag = |k: &str, required: bool, errors: &mut Vec<String>| match e
        .get(k)
        .filter(|v| !v.is_null())
        .map(int)
    {
        None if required => errors.push(format!("{k} is required (0 or 1)")),
        None | Some(Some(0 | 1)) => {}
        Some(_) => errors.push(format!("{k} must be 0 or 1")),
    };
    flag("is_oversize", true, &mut errors);
    for k in [
        "pickup_and_return",
        "saturday_delivery",
        "sameday_delivery",
        "dropoff_locker",
        "unboxing",
    ] {
        flag(k, false, &mut errors);
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
    party(&e, "sender", &mut errors);
    party(&e, "receiver", &mut errors);
    let mut order_kind = 3;
    match (order_id, rma_id) {
        (Some(Some(id)), None) => match state.order(id.max(0) as u64) {
            None => errors.push(format!("order {id} does not exist")),
            Some(o) => {
                order_kind = o.kind;
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

// ---- RMA ----------------------------------------------------------------------------------------

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

fn rma_matches(r: &super::state::Rma, f: &RmaFilter) -> bool {
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

/// `rma/save`: status changes per §12.3, line `return_reason`/`observations` updates.
pub(crate) fn rma_save(state: &mut State, data: &Value, now: NaiveDateTime) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut plans = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let Some(emag_id) = e.get("emag_id").and_then(int) else {
            errors.push(format!("data[{i}]: emag_id is required"));
            continue;
        };
        let Some(rma) = state.rmas.iter().find(|r| r.emag_id == emag_id) else {
            errors.push(format!(
                "data[{i}]: return request {emag_id} does not exist"
            ));
            continue;
        };
        let status = match e.get("request_status").filter(|v| !v.is_null()).map(int) {
            None => rma.request_status,
            Some(Some(s)) => s,
            Some(None) => {
                errors.push(format!("data[{i}]: request_status must be an integer"));
                continue;
            }
        };
        if !codes::rma_transition_allowed(rma.request_status, status) {
            errors.push(format!(
                "data[{i}]: the return request status cannot change from {} to {status}",
                rma.request_status
            ));
            continue;
        }
        plans.push((emag_id, status, e.get("products").cloned()));
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    for (emag_id, status, products) in plans {
        if let Some(rma) = state.rmas.iter_mut().find(|r| r.emag_id == emag_id) {
            rma.request_status = status;
            if let (Some(Value::Array(sent)), Some(Value::Array(lines))) =
                (products, rma.doc.get_mut("products"))
            {
                for s in sent {
                    let id = s.get("id").and_then(int);
                    if let Some(line) = lines
                        .iter_mut()
                        .find(|l| l.get("id").and_then(Value::as_i64) == id)
                    {
                        for k in [
                            "return_reason",
                            "observations",
                            "diagnostic",
                            "reject_reason",
                            "refund_value",
                        ] {
                            if let Some(v) = s.get(k) {
                                line[k] = v.clone();
                            }
                        }
                    }
                }
            }
            rma.doc
                .insert("modified".into(), Value::from(clock::format(now)));
        }
    }
    Reply::ok(json!([]))
}

/// `measurements/save` (spec §9.6): validated, stored on the offer's ground truth.
pub(crate) fn measurements_save(state: &mut State, data: &Value) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut errors = Vec::new();
    let mut plans = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let Some(id) = e
            .get("id")
            .and_then(int)
            .filter(|id| (1..=16_777_215).contains(id))
        else {
            errors.push(format!(
                "data[{i}]: id is required (an integer 1..16777215)"
            ));
            continue;
        };
        let mut m = Map::new();
        for k in ["length", "width", "height", "weight"] {
            match e.get(k) {
                Some(v)
                    if envelope::num(v).is_some_and(|x| (0.0..=999_999.0).contains(&x))
                        && envelope::decimals(v) <= 2 =>
                {
                    m.insert(k.into(), json!(envelope::num(v)));
                }
                _ => errors.push(format!(
                    "data[{i}]: {k} is required (0..999999, at most 2 decimals)"
                )),
            }
        }
        plans.push((id as u64, m));
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    for (id, m) in plans {
        if let Some(offer) = state.offers.get_mut(&id) {
            offer.doc.insert("measurements".into(), Value::Object(m));
        }
    }
    Reply::ok(json!([]))
}
