//! `product_offer/save` (spec §9.2-§9.4): updates of existing offers, new products, and
//! offers attached to existing products (by part number key or EAN).

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::envelope::{self, int, opt_int, Reply};
use super::offers::{check_prices, offer_values, update, OfferValues, MAX_PRODUCT_ID};
use super::state::{Offer, State};

enum Change {
    Update(u64, OfferValues),
    Create(Box<Offer>, Vec<String>),
}

/// Part numbers and EANs taken by earlier entities of the same request.
type Taken = HashSet<String>;

fn plan_product_offer(
    state: &State,
    e: &Map<String, Value>,
    taken: &mut Taken,
) -> Result<Change, Vec<String>> {
    let mut errors = Vec::new();
    let id = match e.get("id").and_then(int) {
        Some(id) if (1..=MAX_PRODUCT_ID).contains(&id) => id as u64,
        _ => return Err(vec!["id is required (an integer 1..16777215)".into()]),
    };
    let values = offer_values(e, &mut errors);
    if let Some(existing) = state.offers.get(&id) {
        plan_update(state, e, existing, &values, taken, &mut errors);
        return if errors.is_empty() {
            Ok(Change::Update(id, values))
        } else {
            Err(errors)
        };
    }
    plan_create(state, e, id, values, taken, errors)
}

/// An update of an offer that exists: the keys every update needs, prices against what
/// the offer keeps, a part number not taken by another product.
fn plan_update(
    state: &State,
    e: &Map<String, Value>,
    existing: &Offer,
    values: &OfferValues,
    taken: &mut Taken,
    errors: &mut Vec<String>,
) {
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
        errors,
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
}

/// What a new offer is made of besides its values.
struct NewProduct {
    part_number: String,
    part_number_key: String,
    doc: Map<String, Value>,
    /// Documentation errors and warnings: the offer is saved, the answer says `isError`.
    messages: Vec<String>,
}

/// A new product, or an offer attached to an existing one.
fn plan_create(
    state: &State,
    e: &Map<String, Value>,
    id: u64,
    values: OfferValues,
    taken: &mut Taken,
    mut errors: Vec<String>,
) -> Result<Change, Vec<String>> {
    let attach =
        e.contains_key("part_number_key") || (e.contains_key("ean") && !e.contains_key("brand"));
    let name = e
        .get("name")
        .and_then(envelope::text)
        .filter(|n| (1..=255).contains(&n.chars().count()));
    if name.is_none() {
        errors.push("name is required (1..255 characters)".into());
    }
    required_on_create(e, &values, &mut errors);
    let eans = checked_eans(state, e, taken, &mut errors);
    let product = if attach {
        attach_target(state, e, id, &eans, &mut errors)
    } else {
        new_product(state, e, id, taken, &mut errors)
    };
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
    let messages = product.messages.clone();
    let offer = new_offer(e, id, name, values, eans, attach, product);
    Ok(Change::Create(Box::new(offer), messages))
}

/// The offer-level keys a new offer needs.
fn required_on_create(e: &Map<String, Value>, values: &OfferValues, errors: &mut Vec<String>) {
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
}

/// The EANs sent: 6..14 digits, none belonging to another product.
fn checked_eans(
    state: &State,
    e: &Map<String, Value>,
    taken: &mut Taken,
    errors: &mut Vec<String>,
) -> Vec<String> {
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
    eans
}

/// An offer attached to an existing product: exactly one of a part number key or one EAN.
fn attach_target(
    state: &State,
    e: &Map<String, Value>,
    id: u64,
    eans: &[String],
    errors: &mut Vec<String>,
) -> NewProduct {
    let pnk = e.get("part_number_key").and_then(envelope::text);
    if pnk.is_some() == (eans.len() == 1) || eans.len() > 1 {
        errors.push("attach an offer with exactly one of part_number_key or a single ean".into());
    }
    if let Some(pnk) = &pnk {
        if state.offers.values().any(|o| &o.part_number_key == pnk) {
            errors.push(format!(
                "you already have an offer on product {pnk}; update it instead"
            ));
        }
    }
    NewProduct {
        part_number: format!("ATTACH-{id}"),
        part_number_key: pnk.unwrap_or_default(),
        doc: Map::new(),
        messages: Vec::new(),
    }
}

/// A new product: category, brand, a free part number, and its documentation.
fn new_product(
    state: &State,
    e: &Map<String, Value>,
    id: u64,
    taken: &mut Taken,
    errors: &mut Vec<String>,
) -> NewProduct {
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
    let mut part_number = String::new();
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
    let mut doc = Map::new();
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
    NewProduct {
        part_number,
        part_number_key: format!("SIM{id:06}"),
        doc,
        messages: documentation_messages(e, id),
    }
}

/// Documented behaviour: documentation problems answer isError=true, yet the offer is saved
/// (spec §5). A new product without images, or with an unusable family, is such a case here.
fn documentation_messages(e: &Map<String, Value>, id: u64) -> Vec<String> {
    let mut messages = Vec::new();
    if e.get("images")
        .is_none_or(|v| v.as_array().is_none_or(Vec::is_empty) && !v.is_object())
    {
        messages.push(format!("Product {id}: documentation error: at least one image is required (the offer was saved)"));
    }
    if let Some(family) = e.get("family").and_then(Value::as_object) {
        let fid = family.get("id").and_then(int).unwrap_or(0);
        if fid != 0 && (family.get("name").is_none() || family.get("family_type_id").is_none()) {
            messages.push(format!("Product {id}: warning: invalid family (name and family_type_id are required); the product was saved without it"));
        }
    }
    messages
}

/// The offer a valid create makes.
fn new_offer(
    e: &Map<String, Value>,
    id: u64,
    name: Option<String>,
    values: OfferValues,
    eans: Vec<String>,
    attach: bool,
    product: NewProduct,
) -> Offer {
    let mut doc = product.doc;
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
    Offer {
        id,
        status: values.status.unwrap_or(0),
        sale_price: values.sale_price.unwrap_or(1.0),
        min_sale_price: values.min_sale_price,
        max_sale_price: values.max_sale_price,
        recommended_price: values.recommended_price,
        vat_id: values.vat_id.unwrap_or(1),
        stock: values.stock.unwrap_or_default(),
        part_number: product.part_number,
        part_number_key: product.part_number_key,
        eans,
        validation_status: if attach { 9 } else { 1 },
        offer_validation_status: 1,
        translation_validation_status: None,
        manufacturer: gpsr(e, "manufacturer"),
        eu_representative: gpsr(e, "eu_representative"),
        doc,
    }
}

fn gpsr(e: &Map<String, Value>, key: &str) -> Vec<Value> {
    match e.get(key) {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::Object(m)) => m.values().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Spaces, `,` and `;` are stripped from part numbers (spec §9.2).
pub(super) fn normalize_part_number(pn: &str) -> String {
    pn.chars()
        .filter(|c| !matches!(c, ' ' | ',' | ';'))
        .collect()
}

pub(crate) fn product_offer_save(state: &mut State, data: &Value) -> Reply {
    let mut taken = HashSet::new();
    let mut ids = HashSet::new();
    let planned = envelope::plan_entities(data, |i, e| {
        let at = |m: String| format!("data[{i}]: {m}");
        let change = plan_product_offer(state, e, &mut taken)
            .map_err(|m| m.into_iter().map(at).collect::<Vec<_>>())?;
        let id = match &change {
            Change::Update(id, _) => *id,
            Change::Create(o, _) => o.id,
        };
        if !ids.insert(id) {
            return Err(vec![at(format!("product {id} is sent more than once"))]);
        }
        Ok(change)
    });
    let changes = match planned {
        Ok(c) => c,
        Err(reply) => return reply,
    };
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
