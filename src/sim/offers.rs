//! Offers: `product_offer/read|count|save`, the light `offer/save`, and the stock-only
//! `PATCH offer_stock/{id}` (spec §9).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::envelope::{self, decimals, int, int_list, num, opt_int, Reply};
use super::refdata::VATS;
use super::state::{Offer, State};

const MAX_PRODUCT_ID: i64 = 16_777_215;

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
struct OfferValues {
    status: Option<i64>,
    sale_price: Option<f64>,
    recommended_price: Option<f64>,
    min_sale_price: Option<f64>,
    max_sale_price: Option<f64>,
    vat_id: Option<i64>,
    stock: Option<Vec<(i64, i64)>>,
    handling_time: Option<Vec<(i64, i64)>>,
    currency_type: Option<String>,
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

fn offer_values(e: &Map<String, Value>, errors: &mut Vec<String>) -> OfferValues {
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
fn check_prices(
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

enum Change {
    Update(u64, OfferValues),
    Create(Box<Offer>, Vec<String>),
}

fn plan_product_offer(
    state: &State,
    e: &Map<String, Value>,
    taken: &mut HashSet<String>,
) -> Result<Change, Vec<String>> {
    let mut errors = Vec::new();
    let id = match e.get("id").and_then(int) {
        Some(id) if (1..=MAX_PRODUCT_ID).contains(&id) => id as u64,
        _ => return Err(vec!["id is required (an integer 1..16777215)".into()]),
    };
    let values = offer_values(e, &mut errors);
    if let Some(existing) = state.offers.get(&id) {
        for key in ["status", "sale_price", "vat_id", "stock"] {
            if e.get(key).is_none_or(Value::is_null) {
                errors.push(format!("{key} is required for an offer update"));
            }
        }
        let sale = values.sale_price.unwrap_or(existing.sale_price);
        check_prices(
            sale,
            values.min_sale_price.or(existing.min_sale_price),
            values.max_sale_price.or(existing.max_sale_price),
            values.recommended_price,
            &mut errors,
        );
        if let Some(pn) = e.get("part_number").and_then(envelope::text) {
            let pn = normalize_part_number(&pn);
            if pn != existing.part_number
                && (state.offers.values().any(|o| o.part_number == pn) || !taken.insert(pn.clone()))
            {
                errors.push(format!(
                    "part_number {pn} already belongs to another product"
                ));
            }
        }
        return if errors.is_empty() {
            Ok(Change::Update(id, values))
        } else {
            Err(errors)
        };
    }
    // A new product (or an offer attached to an existing one).
    let attach =
        e.contains_key("part_number_key") || (e.contains_key("ean") && !e.contains_key("brand"));
    let name = e
        .get("name")
        .and_then(envelope::text)
        .filter(|n| (1..=255).contains(&n.chars().count()));
    if name.is_none() {
        errors.push("name is required (1..255 characters)".into());
    }
    if values.status == Some(2) {
        errors.push("status 2 (end of life) is allowed only on updates".into());
    }
    for (key, present) in [
        ("status", values.status.is_some()),
        ("sale_price", values.sale_price.is_some()),
        ("vat_id", values.vat_id.is_some()),
        ("stock", values.stock.is_some()),
        ("min_sale_price", values.min_sale_price.is_some()),
        ("max_sale_price", values.max_sale_price.is_some()),
    ] {
        if !present && e.get(key).is_none_or(Value::is_null) {
            errors.push(format!("{key} is required when creating an offer"));
        }
    }
    let eans: Vec<String> = match e.get("ean") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter_map(envelope::text).collect(),
        Some(v) => envelope::text(v).into_iter().collect(),
    };
    for ean in &eans {
        if !(6..=14).contains(&ean.len()) || !ean.bytes().all(|b| b.is_ascii_digit()) {
            errors.push(format!("ean {ean} must have 6..14 digits"));
        } else if state.offers.values().any(|o| o.eans.contains(ean))
            || !taken.insert(format!("ean:{ean}"))
        {
            errors.push(format!("ean {ean} already belongs to another product"));
        }
    }
    let mut part_number = String::new();
    let mut pnk_value = String::new();
    let mut doc = Map::new();
    let mut messages = Vec::new();
    if attach {
        let pnk = e.get("part_number_key").and_then(envelope::text);
        if pnk.is_some() == (eans.len() == 1) || eans.len() > 1 {
            errors
                .push("attach an offer with exactly one of part_number_key or a single ean".into());
        }
        if let Some(pnk) = pnk {
            if state.offers.values().any(|o| o.part_number_key == pnk) {
                errors.push(format!(
                    "you already have an offer on product {pnk}; update it instead"
                ));
            }
            pnk_value = pnk;
        }
        part_number = format!("ATTACH-{id}");
    } else {
        let category = opt_int(e, "category_id")
            .ok()
            .flatten()
            .filter(|c| (1..=65_535).contains(c));
        if category.is_none() {
            errors.push("category_id is required (an integer 1..65535)".into());
        }
        let brand = e
            .get("brand")
            .and_then(envelope::text)
            .filter(|b| (1..=255).contains(&b.chars().count()));
        if brand.is_none() {
            errors.push("brand is required (1..255 characters)".into());
        }
        match e.get("part_number").and_then(envelope::text) {
            Some(pn) => {
                part_number = normalize_part_number(&pn);
                if part_number.is_empty() || part_number.len() > 25 {
                    errors.push("part_number must have 1..25 characters".into());
                } else if state.offers.values().any(|o| o.part_number == part_number)
                    || !taken.insert(part_number.clone())
                {
                    errors.push(format!(
                        "part_number {part_number} already belongs to another product"
                    ));
                }
            }
            None => errors.push("part_number is required".into()),
        }
        for key in [
            "description",
            "url",
            "warranty",
            "images",
            "characteristics",
            "family",
            "safety_information",
        ] {
            if let Some(v) = e.get(key) {
                doc.insert(key.into(), v.clone());
            }
        }
        doc.insert("category_id".into(), json!(category));
        doc.insert("brand".into(), json!(brand));
        // Documented behaviour: documentation problems answer isError=true, yet the offer is
        // saved (spec §5). A new product without images is such a case here.
        if e.get("images")
            .is_none_or(|v| v.as_array().is_none_or(Vec::is_empty) && !v.is_object())
        {
            messages.push(format!("Product {id}: documentation error: at least one image is required (the offer was saved)"));
        }
        if let Some(family) = e.get("family").and_then(Value::as_object) {
            let fid = family.get("id").and_then(int).unwrap_or(0);
            if fid != 0 && (family.get("name").is_none() || family.get("family_type_id").is_none())
            {
                messages.push(format!("Product {id}: warning: invalid family (name and family_type_id are required); the product was saved without it"));
            }
        }
        pnk_value = format!("SIM{id:06}");
    }
    if let Some(sale) = values.sale_price {
        check_prices(
            sale,
            values.min_sale_price,
            values.max_sale_price,
            values.recommended_price,
            &mut errors,
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    doc.insert("id".into(), json!(id));
    doc.insert("name".into(), json!(name));
    doc.insert(
        "currency".into(),
        json!(values.currency_type.clone().unwrap_or_else(|| "RON".into())),
    );
    doc.insert("number_of_offers".into(), json!(1));
    doc.insert("buy_button_rank".into(), json!(1));
    doc.insert("ownership".into(), json!(if attach { 2 } else { 1 }));
    doc.insert(
        "handling_time".into(),
        json!(values
            .handling_time
            .clone()
            .unwrap_or_else(|| vec![(1, 0)])
            .iter()
            .map(|(w, v)| json!({"warehouse_id": w, "value": v}))
            .collect::<Vec<_>>()),
    );
    doc.entry("family")
        .or_insert(json!({"id": 0, "name": null}));
    doc.entry("images").or_insert(json!([]));
    doc.entry("characteristics").or_insert(json!([]));
    doc.entry("warranty").or_insert(json!(0));
    doc.insert("genius_eligibility".into(), json!(0));
    doc.insert("genius_eligibility_type".into(), json!(1));
    doc.insert("genius_computed".into(), json!(0));
    doc.insert("doc_errors".into(), Value::Null);
    let sale = values.sale_price.unwrap_or(1.0);
    let offer = Offer {
        id,
        status: values.status.unwrap_or(0),
        sale_price: sale,
        min_sale_price: values.min_sale_price,
        max_sale_price: values.max_sale_price,
        recommended_price: values.recommended_price,
        vat_id: values.vat_id.unwrap_or(1),
        stock: values.stock.unwrap_or_default(),
        part_number,
        part_number_key: pnk_value,
        eans,
        validation_status: if attach { 9 } else { 1 },
        offer_validation_status: 1,
        translation_validation_status: None,
        manufacturer: gpsr(e, "manufacturer"),
        eu_representative: gpsr(e, "eu_representative"),
        doc,
    };
    Ok(Change::Create(Box::new(offer), messages))
}

fn gpsr(e: &Map<String, Value>, key: &str) -> Vec<Value> {
    match e.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(m)) => m.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Spaces, `,` and `;` are stripped from part numbers (spec §9.2).
fn normalize_part_number(pn: &str) -> String {
    pn.chars()
        .filter(|c| !matches!(c, ' ' | ',' | ';'))
        .collect()
}

fn update(offer: &mut Offer, v: OfferValues) {
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

pub(crate) fn product_offer_save(state: &mut State, data: &Value) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut changes = Vec::new();
    let mut errors = Vec::new();
    let mut taken = HashSet::new();
    let mut ids = HashSet::new();
    for (i, e) in entities.iter().enumerate() {
        match plan_product_offer(state, e, &mut taken) {
            Ok(c) => {
                let id = match &c {
                    Change::Update(id, _) => *id,
                    Change::Create(o, _) => o.id,
                };
                if !ids.insert(id) {
                    errors.push(format!("data[{i}]: product {id} is sent more than once"));
                }
                changes.push(c);
            }
            Err(m) => errors.extend(m.into_iter().map(|m| format!("data[{i}]: {m}"))),
        }
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    let mut messages = Vec::new();
    for change in changes {
        match change {
            Change::Update(id, values) => {
                if let Some(offer) = state.offers.get_mut(&id) {
                    update(offer, values);
                }
            }
            Change::Create(offer, mut m) => {
                messages.append(&mut m);
                state.offers.insert(offer.id, *offer);
            }
        }
    }
    let documentation_error = messages.iter().any(|m| m.contains("documentation error"));
    Reply::envelope_raw(documentation_error, &messages, "[]")
}

/// `offer/save` (light API, 4.4.9): existing offers only; `id` plus the keys that change.
pub(crate) fn offer_save(state: &mut State, data: &Value) -> Reply {
    let entities = match envelope::entities(data) {
        Ok(e) => e,
        Err(e) => return Reply::error(e),
    };
    let mut planned = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let mut errs = Vec::new();
        let Some(id) = e
            .get("id")
            .and_then(int)
            .filter(|id| (1..=MAX_PRODUCT_ID).contains(id))
        else {
            errors.push(format!(
                "data[{i}]: id is required (an integer 1..16777215)"
            ));
            continue;
        };
        let Some(existing) = state.offers.get(&(id as u64)) else {
            errors.push(format!(
                "data[{i}]: offer {id} does not exist; offer/save only updates existing offers"
            ));
            continue;
        };
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
            planned.push((id as u64, values));
        } else {
            errors.extend(errs.into_iter().map(|m| format!("data[{i}]: {m}")));
        }
    }
    if !errors.is_empty() {
        return Reply::errors(errors);
    }
    for (id, values) in planned {
        if let Some(offer) = state.offers.get_mut(&id) {
            update(offer, values);
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
