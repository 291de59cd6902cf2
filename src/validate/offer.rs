//! Offers and products: `product_offer/save` (create, update, attach; spec §9.2-9.5) and the
//! light `offer/save` (§9.4), with the value rules of §16 rules 17-23.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, TimeDelta};

use super::check::{self, Need, Optional, Required};
use super::doc::{Doc, Fields, Key};
use super::order::is_object;
use super::product::check_product;
use super::values::{self, show};
use super::{FieldPath, Options, Report, MAX_PRODUCT_ID};
use crate::error::Error;
use crate::limits::MAX_STOCK;

/// Which save an offer is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OfferMode {
    /// `product_offer/save` whatever the use: the keys every use needs (`id`, `status`,
    /// `sale_price`, `vat_id`, `stock`) and the values of every key sent.
    #[default]
    Auto,
    /// `product_offer/save` creating a product with its offer: also `category_id`, `name`,
    /// `part_number`, `brand`, `min_sale_price`, `max_sale_price`; `status` 0/1; no
    /// `part_number_key`.
    Create,
    /// `product_offer/save` updating an offer (§9.3): `id`, `status`, `sale_price`, `vat_id`,
    /// `handling_time`, `stock`. \[inference\] §9.2 calls `handling_time` optional and §9.3
    /// mandatory; this mode follows the offer-update list of §9.3.
    Update,
    /// `product_offer/save` attaching an offer to an existing product (§9.5): `id`, `name`,
    /// exactly one of `part_number_key` and `ean` (with one EAN), `status` 0/1, `sale_price`,
    /// `vat_id`, `stock`, and `min_sale_price`/`max_sale_price` (a first save).
    Attach,
    /// `offer/save` (light API): `id` plus only the offer keys being changed.
    Light,
}

impl OfferMode {
    /// The stable name: `"auto"`, `"create"`, `"update"`, `"attach"`, `"light"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferMode::Auto => "auto",
            OfferMode::Create => "create",
            OfferMode::Update => "update",
            OfferMode::Attach => "attach",
            OfferMode::Light => "light",
        }
    }
}

impl fmt::Display for OfferMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OfferMode {
    type Err = Error;

    /// The names of [`OfferMode::as_str`]; `"offer/save"` is `light` too.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(OfferMode::Auto),
            "create" => Ok(OfferMode::Create),
            "update" => Ok(OfferMode::Update),
            "attach" => Ok(OfferMode::Attach),
            "light" | "offer/save" => Ok(OfferMode::Light),
            _ => Err(Error::invalid_argument(format!(
                "unknown offer mode {s:?}: expected \"auto\", \"create\", \"update\", \"attach\" or \"light\""
            ))),
        }
    }
}

const OFFER: Fields<20> = Fields::new([
    Key::Id,
    Key::Status,
    Key::SalePrice,
    Key::RecommendedPrice,
    Key::MinSalePrice,
    Key::MaxSalePrice,
    Key::CurrencyType,
    Key::Stock,
    Key::HandlingTime,
    Key::VatId,
    Key::StartDate,
    Key::Warranty,
    Key::SupplyLeadTime,
    Key::EmagClub,
    Key::GreenTax,
    Key::Name,
    Key::PartNumberKey,
    Key::Ean,
    Key::Manufacturer,
    Key::EuRepresentative,
]);

const PAIR: Fields<2> = Fields::new([Key::WarehouseId, Key::Value]);
const GPSR: Fields<3> = Fields::new([Key::Name, Key::Address, Key::Email]);

/// The keys `offer/save` accepts (§9.4).
const LIGHT_KEYS: [&str; 10] = [
    "id",
    "sale_price",
    "recommended_price",
    "min_sale_price",
    "max_sale_price",
    "currency_type",
    "stock",
    "handling_time",
    "vat_id",
    "status",
];

const SUPPLY_LEAD_TIMES: [i64; 9] = [2, 3, 5, 7, 14, 30, 60, 90, 120];

/// A price: > 0 with at most 4 decimals.
fn price<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, need: Need) -> Option<f64> {
    let v = match values::present(v) {
        Some(v) => v,
        None => {
            if need == Required {
                r.push(
                    p,
                    "is required (a price > 0 with at most 4 decimals, without VAT)",
                );
            }
            return None;
        }
    };
    match values::num(&v) {
        Some(f) if f > 0.0 && values::decimals(&v) <= 4 => Some(f),
        _ => {
            r.push(
                p,
                format_args!(
                    "must be a number > 0 with at most 4 decimals, got {}",
                    show(&v)
                ),
            );
            None
        }
    }
}

/// `stock[]` / `handling_time[]`: a list of `{warehouse_id, value}`.
fn pairs<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    max: i64,
    value_needed: Need,
) {
    let Some(list) = check::list(r, p, v, need, "{warehouse_id, value} objects") else {
        return;
    };
    if list.list_len() == 0 && need == Required {
        r.push(p, "must not be empty: send at least one {warehouse_id, value} (warehouse 1 for a single warehouse)");
    }
    check::each_object(r, p, &list, |r, ip, _, pair| {
        let [warehouse, value] = pair.gather(&PAIR);
        check::int_range(r, &ip.key("warehouse_id"), warehouse, 1, i64::MAX, Required);
        check::int_range(r, &ip.key("value"), value, 0, max, value_needed);
    });
}

fn gpsr_sets<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) {
    let Some(list) = check::list(r, p, v, Optional, "{name, address, email} sets") else {
        return;
    };
    if list.list_len() > 10 {
        r.push(
            p,
            format_args!("must have at most 10 sets, got {}", list.list_len()),
        );
    }
    check::each_object(r, p, &list, |r, ip, _, set| {
        let [name, address, email] = set.gather(&GPSR);
        check::text_range(r, &ip.key("name"), name, 1, 200, Required);
        check::text_range(r, &ip.key("address"), address, 1, 500, Required);
        check::text_range(r, &ip.key("email"), email, 1, 100, Required);
    });
}

/// The EANs: a list of 6..14 digit texts; returns how many were sent.
fn eans<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) -> usize {
    let Some(list) = check::list(r, p, v, Optional, "EAN texts") else {
        return 0;
    };
    for i in 0..list.list_len() {
        let Some(item) = list.item(i) else { continue };
        let ok = item
            .with_str(|s| (6..=14).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(false);
        if !ok {
            r.push(
                &p.index(i),
                format_args!(
                    "must be a text of 6 to 14 digits (EAN-8/13, UPC, ISBN, GTIN-14), got {}",
                    show(&item)
                ),
            );
        }
    }
    list.list_len()
}

fn start_date<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    foreign_currency: bool,
    options: &Options,
) {
    let Some(v) = v else { return };
    let parsed = v
        .with_str(|s| {
            values::is_emag_date(s)
                .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .flatten()
        })
        .flatten();
    let Some(date) = parsed else {
        r.push(
            p,
            format_args!(
                "must be a date YYYY-MM-DD (never null: leave it out instead), got {}",
                show(&v)
            ),
        );
        return;
    };
    let today = options.today();
    let tomorrow = today.succ_opt().unwrap_or(NaiveDate::MAX);
    let last = today
        .checked_add_signed(TimeDelta::days(60))
        .unwrap_or(NaiveDate::MAX);
    if date < tomorrow || date > last {
        r.push(
            p,
            format_args!(
                "must be from tomorrow ({tomorrow}) to 60 days ahead ({last}), got {date}"
            ),
        );
    } else if foreign_currency {
        let month_end = NaiveDate::from_ymd_opt(today.year(), today.month(), 1)
            .and_then(|first| first.checked_add_months(chrono::Months::new(1)))
            .and_then(|next| next.pred_opt());
        if let Some(end) = month_end.filter(|end| date > *end) {
            r.push(
                p,
                format_args!(
                    "with a currency_type other than the local currency, must not be after the end of the current month ({end}), got {date}"
                ),
            );
        }
    }
}

// Long on purpose: the fields of an offer checked one after another, in the order of the
// documentation.
pub(crate) fn check_offer<D: Doc>(r: &mut Report, offer: &D, options: &Options) {
    if !is_object(r, "offer", offer) {
        return;
    }
    let mode = options.offer_mode;
    let root = FieldPath::ROOT;
    let [id, status, sale_price, recommended, min_price, max_price, currency, stock, handling_time, vat_id, start, warranty, supply_lead_time, emag_club, green_tax, name, pnk, ean, manufacturer, eu_representative] =
        offer.gather(&OFFER);
    let base = if mode == OfferMode::Light {
        Optional
    } else {
        Required
    };

    check::int_range(r, &root.key("id"), id, 1, MAX_PRODUCT_ID, Required);
    let (statuses, expected): (fn(i64) -> bool, &'static str) = match mode {
        OfferMode::Create | OfferMode::Attach => (
            |s| s == 0 || s == 1,
            "0 or 1 (0 inactive, 1 active; 2 end of life only on updates)",
        ),
        _ => (
            |s| (0..=2).contains(&s),
            "0, 1 or 2 (0 inactive, 1 active, 2 end of life)",
        ),
    };
    check::int_in(r, &root.key("status"), status, base, statuses, expected);

    let first_save = if matches!(mode, OfferMode::Create | OfferMode::Attach) {
        Required
    } else {
        Optional
    };
    let sale = price(r, &root.key("sale_price"), sale_price, base);
    let rec = price(r, &root.key("recommended_price"), recommended, Optional);
    let min = price(r, &root.key("min_sale_price"), min_price, first_save);
    let max = price(r, &root.key("max_sale_price"), max_price, first_save);
    if let (Some(min), Some(max)) = (min, max) {
        if min >= max {
            r.push(
                &root.key("max_sale_price"),
                format_args!("must be greater than min_sale_price ({min}), got {max}"),
            );
        } else if let Some(sale) = sale.filter(|s| *s < min || *s > max) {
            r.push(
                &root.key("sale_price"),
                format_args!(
                    "must be within [min_sale_price {min}, max_sale_price {max}], got {sale}"
                ),
            );
        }
    } else if let Some(sale) = sale {
        if let Some(min) = min.filter(|m| sale < *m) {
            r.push(
                &root.key("sale_price"),
                format_args!("must be >= min_sale_price ({min}), got {sale}"),
            );
        }
        if let Some(max) = max.filter(|m| sale > *m) {
            r.push(
                &root.key("sale_price"),
                format_args!("must be <= max_sale_price ({max}), got {sale}"),
            );
        }
    }
    if let (Some(rec), Some(sale)) = (rec, sale) {
        if rec <= sale {
            r.push(
                &root.key("recommended_price"),
                format_args!("must be greater than sale_price ({sale}), got {rec}"),
            );
        }
    }
    let foreign_currency = match values::present(currency) {
        None => false,
        Some(c) => {
            if c.with_str(|s| s == "EUR" || s == "PLN") != Some(true) {
                r.push(
                    &root.key("currency_type"),
                    format_args!("must be \"EUR\" or \"PLN\" (send it only when it differs from the local currency), got {}", show(&c)),
                );
            }
            true
        }
    };
    check::int_range(r, &root.key("vat_id"), vat_id, 1, i64::MAX, base);
    pairs(r, &root.key("stock"), stock, base, MAX_STOCK, Required);
    let handling_need = if mode == OfferMode::Update {
        Required
    } else {
        Optional
    };
    pairs(
        r,
        &root.key("handling_time"),
        handling_time,
        handling_need,
        255,
        Optional,
    );

    if mode == OfferMode::Light {
        // offer/save changes offer data only.
        offer.for_each_key(&mut |key| {
            if !LIGHT_KEYS.contains(&key) {
                let shown = serde_json::Value::String(key.chars().take(40).collect()).to_string();
                r.push(
                    &FieldPath::named("offer"),
                    format_args!("offer/save does not take the key {shown} (it changes offer data only; use product_offer/save)"),
                );
            }
        });
        return;
    }

    start_date(r, &root.key("start_date"), start, foreign_currency, options);
    check::int_range(r, &root.key("warranty"), warranty, 0, 255, Optional);
    check::int_in(
        r,
        &root.key("supply_lead_time"),
        supply_lead_time,
        Optional,
        |d| SUPPLY_LEAD_TIMES.contains(&d),
        "one of 2, 3, 5, 7, 14, 30, 60, 90, 120 (days)",
    );
    check::flag01(r, &root.key("emag_club"), emag_club, Optional);
    if let Some(v) = values::present(green_tax) {
        match values::num(&v) {
            Some(f) if f >= 0.0 && values::decimals(&v) <= 4 => {}
            _ => r.push(
                &root.key("green_tax"),
                format_args!(
                    "must be a number >= 0 with at most 4 decimals, got {}",
                    show(&v)
                ),
            ),
        }
    }
    let name_need = if matches!(mode, OfferMode::Create | OfferMode::Attach) {
        Required
    } else {
        Optional
    };
    check::text_range(r, &root.key("name"), name, 1, 255, name_need);
    gpsr_sets(r, &root.key("manufacturer"), manufacturer);
    gpsr_sets(r, &root.key("eu_representative"), eu_representative);
    let ean_path = root.key("ean");
    let ean_count = eans(r, &ean_path, ean);
    let pnk_path = root.key("part_number_key");
    let pnk = values::present(pnk);
    if let Some(v) = &pnk {
        let ok = v
            .with_str(|s| {
                !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_alphanumeric())
            })
            .unwrap_or(false);
        if !ok {
            r.push(
                &pnk_path,
                format_args!("must be eMAG's product code, letters and digits only (the last segment of the product URL), got {}", show(v)),
            );
        }
    }
    match mode {
        OfferMode::Attach => {
            if pnk.is_some() && ean_count > 0 {
                r.push(&pnk_path, "send either part_number_key or ean to attach an offer, not both");
            } else if pnk.is_none() && ean_count == 0 {
                r.push(
                    &pnk_path,
                    "is required to attach an offer (or an ean with exactly one EAN instead)",
                );
            } else if pnk.is_none() && ean_count > 1 {
                r.push(&ean_path, format_args!("must hold exactly one EAN to attach an offer, got {ean_count}"));
            }
        }
        OfferMode::Create if pnk.is_some() => r.push(
            &pnk_path,
            "only attaches an offer to an existing product (mode attach); never send it for a new product",
        ),
        _ => {}
    }
    check_product(r, offer, mode);
}
