//! Offers: `product_offer/read|count`, the offer values every save checks, the light
//! `offer/save`, `measurements/save` and the stock-only `PATCH offer_stock/{id}` (spec §9;
//! `product_offer/save` is in `offer_create`).

use serde_json::{json, Map, Value};

use super::envelope::{self, decimals, int, int_list, num, opt_int, Reply};
use super::refdata::VATS;
use super::state::{Offer, State};

pub(super) use crate::limits::MAX_PRODUCT_ID;

struct Filter {
    id: Option<i64>,
    status: Option<Vec<i64>>,
    part_number: Option<String>,
    part_number_key: Option<String>,
    general_stock: Option<i64>,
    estimated_stock: Option<i64>,
    offer_validation_status: Option<i64>,
    validation_status: Option<Vec<i64>>,
    translation_validation_status: Option<Vec<i64>>,
}

fn parse_filter(f: &Map<String, Value>) -> Result<Filter, Vec<String>> {
    let mut errors = Vec::new();
    let mut one = |key: &str| match opt_int(f, key) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let id = one("id");
    let general_stock = one("general_stock");
    let estimated_stock = one("estimated_stock");
    let offer_validation_status = one("offer_validation_status");
    let mut list = |key: &str| match f.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => match int_list(v) {
            Some(l) => Some(l),
            None => {
                errors.push(format!("{key} must be an integer or a list of integers"));
                None
            }
        },
    };
    let status = list("status");
    let validation_status = list("validation_status");
    let translation_validation_status = list("translation_validation_status");
    if id.is_some_and(|i| !(1..=4_294_967_295).contains(&i)) {
        errors.push("id must be between 1 and 4294967295".into());
    }
    if status
        .as_ref()
        .is_some_and(|s| s.iter().any(|x| !(0..=2).contains(x)))
    {
        errors.push("status must be 0, 1 or 2".into());
    }
    let text = |key: &str| {
        f.get(key)
            .and_then(envelope::text)
            .filter(|s| !s.is_empty())
    };
    let out = Filter {
        id,
        status,
        part_number: text("part_number"),
        part_number_key: text("part_number_key"),
        general_stock,
        estimated_stock,
        offer_validation_status,
        validation_status,
        translation_validation_status,
    };
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

impl Filter {
    fn matches(&self, o: &Offer, reserved: i64) -> bool {
        let general = o.general_stock();
        self.id.is_none_or(|id| o.id as i64 == id)
            && self.status.as_ref().is_none_or(|s| s.contains(&o.status))
            && self
                .part_number
                .as_ref()
                .is_none_or(|p| *p == o.part_number)
            && self
                .part_number_key
                .as_ref()
                .is_none_or(|p| *p == o.part_number_key)
            && self
                .general_stock
                .is_none_or(|n| (0..=n).contains(&general))
            && self
                .estimated_stock
                .is_none_or(|n| (0..=n).contains(&(general - reserved).max(0)))
            && self
                .offer_validation_status
                .is_none_or(|v| o.offer_validation_status == v)
            && self
                .validation_status
                .as_ref()
                .is_none_or(|v| v.contains(&o.validation_status))
            && self.translation_validation_status.as_ref().is_none_or(|v| {
                o.translation_validation_status
                    .is_some_and(|t| v.contains(&t))
            })
    }
}

pub(crate) fn read(state: &State, data: &Value, strict: bool) -> Reply {
    let f = match envelope::filters(data) {
        Ok(f) => f,
        Err(e) => return Reply::error(e),
    };
    let page = match envelope::page(&f, 100, None, strict) {
        Ok(p) => p,
        Err(e) => return Reply::error(e),
    };
    let filter = match parse_filter(&f) {
        Ok(x) => x,
        Err(e) => return Reply::errors(e),
    };
    let reserved = state.reserved();
    let detailed = filter.id.is_some();
    let skip = (page.current - 1).saturating_mul(page.per_page);
    let results: Vec<Value> = state
        .offers
        .values()
        .filter(|o| filter.matches(o, reserved.get(&(o.id as i64)).copied().unwrap_or(0)))
        .skip(skip)
        .take(page.per_page)
        .map(|o| o.render(reserved.get(&(o.id as i64)).copied().unwrap_or(0), detailed))
        .collect();
    Reply::ok(Value::Array(results))
}

pub(crate) fn count(state: &State, data: &Value) -> Reply {
    let f = match envelope::filters(data) {
        Ok(f) => f,
        Err(e) => return Reply::error(e),
    };
    let per_page = match envelope::page(&f, 100, None, false) {
        Ok(p) => p.per_page,
        Err(e) => return Reply::error(e),
    };
    let filter = match parse_filter(&f) {
        Ok(x) => x,
        Err(e) => return Reply::errors(e),
    };
    let reserved = state.reserved();
    let total = state
        .offers
        .values()
        .filter(|o| filter.matches(o, reserved.get(&(o.id as i64)).copied().unwrap_or(0)))
        .count();
    Reply::ok(envelope::count_results(total, per_page))
}

/// Offer-level values of one entity, validated (spec §9.2, §9.4).
#[derive(Default)]
pub(super) struct OfferValues {
    pub(super) status: Option<i64>,
    pub(super) sale_price: Option<f64>,
    pub(super) recommended_price: Option<f64>,
    pub(super) min_sale_price: Option<f64>,
    pub(super) max_sale_price: Option<f64>,
    pub(super) vat_id: Option<i64>,
    pub(super) stock: Option<Vec<(i64, i64)>>,
    pub(super) handling_time: Option<Vec<(i64, i64)>>,
    pub(super) currency_type: Option<String>,
}

fn price(e: &Map<String, Value>, key: &str, errors: &mut Vec<String>) -> Option<f64> {
    let v = e.get(key).filter(|v| !v.is_null())?;
    match num(v) {
        Some(p) if p > 0.0 && decimals(v) <= 4 => Some(p),
        _ => {
            errors.push(format!(
                "{key} must be a number greater than 0 with at most 4 decimals"
            ));
            None
        }
    }
}

fn pairs(
    e: &Map<String, Value>,
    key: &str,
    max: i64,
    errors: &mut Vec<String>,
) -> Option<Vec<(i64, i64)>> {
    let v = e.get(key).filter(|v| !v.is_null())?;
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) if m.contains_key("value") => vec![v],
        Value::Object(m) => m.values().collect(),
        _ => {
            errors.push(format!("{key} must be a list of {{warehouse_id, value}}"));
            return None;
        }
    };
    let mut out = Vec::new();
    for item in items {
        let w = item.get("warehouse_id").and_then(int);
        let val = item.get("value").and_then(int);
        match (w, val) {
            (Some(w), Some(val)) if w >= 1 && (0..=max).contains(&val) => out.push((w, val)),
            _ => {
                errors.push(format!(
                    "{key}[] needs warehouse_id (>= 1) and value (0..{max})"
                ));
                return None;
            }
        }
    }
    Some(out)
}

pub(super) fn offer_values(e: &Map<String, Value>, errors: &mut Vec<String>) -> OfferValues {
    let mut v = OfferValues {
        sale_price: price(e, "sale_price", errors),
        recommended_price: price(e, "recommended_price", errors),
        min_sale_price: price(e, "min_sale_price", errors),
        max_sale_price: price(e, "max_sale_price", errors),
        stock: pairs(e, "stock", 65_535, errors),
        handling_time: pairs(e, "handling_time", 255, errors),
        ..OfferValues::default()
    };
    match opt_int(e, "status") {
        Ok(Some(s @ 0..=2)) => v.status = Some(s),
        Ok(None) => {}
        _ => errors.push("status must be 0, 1 or 2".into()),
    }
    match opt_int(e, "vat_id") {
        Ok(Some(id)) if VATS.iter().any(|(v, _, _)| *v == id) => v.vat_id = Some(id),
        Ok(None) => {}
        _ => errors.push("vat_id must be one of the ids of vat/read".into()),
    }
    match e
        .get("currency_type")
        .filter(|c| !c.is_null())
        .and_then(envelope::text)
    {
        None => {}
        Some(c) if c == "EUR" || c == "PLN" => v.currency_type = Some(c),
        Some(_) => errors.push("currency_type must be EUR or PLN".into()),
    }
    v
}

/// Price relations on the values an offer would end up with.
pub(super) fn check_prices(
    sale: f64,
    min: Option<f64>,
    max: Option<f64>,
    rec: Option<f64>,
    errors: &mut Vec<String>,
) {
    if let (Some(min), Some(max)) = (min, max) {
        if min >= max {
            errors.push("min_sale_price must be lower than max_sale_price".into());
        } else if sale < min || sale > max {
            errors.push(format!(
                "sale_price {sale} is outside [min_sale_price {min}, max_sale_price {max}]"
            ));
        }
    }
    if let Some(rec) = rec {
        if rec <= sale {
            errors.push("recommended_price must be greater than sale_price".into());
        }
    }
}

pub(super) fn update(offer: &mut Offer, v: OfferValues) {
    if let Some(s) = v.status {
        offer.status = s;
    }
    if let Some(p) = v.sale_price {
        offer.sale_price = p;
    }
    if v.recommended_price.is_some() {
        offer.recommended_price = v.recommended_price;
    }
    if v.min_sale_price.is_some() {
        offer.min_sale_price = v.min_sale_price;
    }
    if v.max_sale_price.is_some() {
        offer.max_sale_price = v.max_sale_price;
    }
    if let Some(vat) = v.vat_id {
        offer.vat_id = vat;
    }
    if let Some(stock) = v.stock {
        // Warehouses sent replace their values; others stay.
        for (w, val) in stock {
            match offer.stock.iter_mut().find(|(ow, _)| *ow == w) {
                Some(slot) => slot.1 = val,
                None => offer.stock.push((w, val)),
            }
        }
    }
    if let Some(ht) = v.handling_time {
        offer.doc.insert(
            "handling_time".into(),
            Value::Array(
                ht.iter()
                    .map(|(w, v)| json!({"warehouse_id": w, "value": v}))
                    .collect(),
            ),
        );
    }
    if let Some(c) = v.currency_type {
        offer.doc.insert("currency".into(), Value::from(c));
    }
}

/// One entity of `offer/save`: an existing offer and the values that change.
fn plan_light(state: &State, e: &Map<String, Value>) -> Result<(u64, OfferValues), Vec<String>> {
    let Some(id) = e
        .get("id")
        .and_then(int)
        .filter(|id| (1..=MAX_PRODUCT_ID).contains(id))
    else {
        return Err(vec!["id is required (an integer 1..16777215)".into()]);
    };
    let Some(existing) = state.offers.get(&(id as u64)) else {
        return Err(vec![format!(
            "offer {id} does not exist; offer/save only updates existing offers"
        )]);
    };
    let mut errs = Vec::new();
    let product_keys: Vec<&String> = e
        .keys()
        .filter(|k| {
            !matches!(
                k.as_str(),
                "id" | "sale_price"
                    | "recommended_price"
                    | "min_sale_price"
                    | "max_sale_price"
                    | "currency_type"
                    | "stock"
                    | "handling_time"
                    | "vat_id"
                    | "status"
            )
        })
        .collect();
    if !product_keys.is_empty() {
        errs.push(format!(
            "offer/save does not change {product_keys:?}; use product_offer/save"
        ));
    }
    let values = offer_values(e, &mut errs);
    check_prices(
        values.sale_price.unwrap_or(existing.sale_price),
        values.min_sale_price.or(existing.min_sale_price),
        values.max_sale_price.or(existing.max_sale_price),
        values.recommended_price,
        &mut errs,
    );
    if errs.is_empty() {
        Ok((id as u64, values))
    } else {
        Err(errs)
    }
}

/// `offer/save` (light API, 4.4.9): existing offers only; `id` plus the keys that change.
pub(crate) fn offer_save(state: &mut State, data: &Value) -> Reply {
    let planned = envelope::plan_entities(data, |i, e| {
        plan_light(state, e).map_err(|m| m.into_iter().map(|m| format!("data[{i}]: {m}")).collect())
    });
    let planned = match planned {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    for (id, values) in planned {
        if let Some(offer) = state.offers.get_mut(&id) {
            update(offer, values);
        }
    }
    Reply::ok(json!([]))
}

/// `measurements/save` (spec §9.6): validated, stored on the offer's ground truth.
pub(crate) fn measurements_save(state: &mut State, data: &Value) -> Reply {
    let planned = envelope::plan_entities(data, |i, e| {
        let mut errors = Vec::new();
        let Some(id) = e
            .get("id")
            .and_then(int)
            .filter(|id| (1..=MAX_PRODUCT_ID).contains(id))
        else {
            return Err(vec![format!(
                "data[{i}]: id is required (an integer 1..16777215)"
            )]);
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
        if errors.is_empty() {
            Ok((id as u64, m))
        } else {
            Err(errors)
        }
    });
    let plans = match planned {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    for (id, m) in plans {
        if let Some(offer) = state.offers.get_mut(&id) {
            offer.doc.insert("measurements".into(), Value::Object(m));
        }
    }
    Reply::ok(json!([]))
}

/// `PATCH offer_stock/{id}` with `{"stock": n}`: 204 on success, the documented error bodies
/// otherwise (spec §9.10).
pub(crate) fn offer_stock(state: &mut State, id: &str, body: &[u8]) -> Reply {
    let Some(offer) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| state.offers.get_mut(&id))
    else {
        return Reply::message(404, "This offer does not exist");
    };
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
        return Reply::message(400, "Invalid content");
    };
    let Some(v) = map.get("stock") else {
        return Reply::message(400, "Invalid content");
    };
    match int(v) {
        Some(n) if (0..=65_535).contains(&n) => {
            match offer.stock.first_mut() {
                Some(slot) => slot.1 = n,
                None => offer.stock.push((1, n)),
            }
            Reply {
                status: 204,
                body: bytes::Bytes::new(),
                content_type: "",
                headers: Vec::new(),
            }
        }
        _ => {
            let body = json!({"message": "Validation errors in your request",
                "errors": [{"message": "stock must be an integer between 0 and 65535", "field": "stock"}]});
            let mut r = Reply::message(400, "");
            r.body = bytes::Bytes::from(body.to_string());
            r
        }
    }
}
