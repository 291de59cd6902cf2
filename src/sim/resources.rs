//! The reference lists: categories, VAT, handling times, localities, courier accounts and
//! addresses (AWBs are in `awb`, returns in `rma`).

use serde_json::{json, Map, Value};

use super::clock;
use super::envelope::{self, opt_int, Reply};
use super::refdata::{CATEGORIES, COURIERS, PLACES, VATS};

pub(super) fn filters_and_page(
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
            page.slice(&CATEGORIES)
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
    for p in PLACES.iter() {
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
    for p in PLACES.iter() {
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
