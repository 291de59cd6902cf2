//! Offers as read from `product_offer/read` (spec §9.8), unknown fields kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient;
use super::Preserved;
use crate::error::{Error, Result};

/// An offer. Deref to [`OfferFields`].
pub type Offer = Preserved<OfferFields>;

impl Offer {
    /// Read an offer from JSON.
    pub fn from_value(value: Value) -> Result<Offer> {
        match value {
            Value::Object(map) => {
                Preserved::from_map(map).map_err(|e| Error::invalid_argument(format!("offer: {e}")))
            }
            other => Err(Error::invalid_argument(format!(
                "an offer must be a JSON object, got {other}"
            ))),
        }
    }
}

/// The typed fields of an offer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OfferFields {
    /// Seller product id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// eMAG's part number key (PNK).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub part_number_key: Option<String>,
    /// Name.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Brand.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub brand: Option<String>,
    /// Part number.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub part_number: Option<String>,
    /// Category id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub category_id: Option<i64>,
    /// Price without VAT.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sale_price: Option<f64>,
    /// Recommended price.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub recommended_price: Option<f64>,
    /// Currency.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<String>,
    /// 0 inactive, 1 active, 2 end of life.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
    /// Sum of stock over warehouses.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub general_stock: Option<i64>,
    /// Stock less what unacknowledged orders reserve.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub estimated_stock: Option<i64>,
    /// VAT id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub vat_id: Option<i64>,
    /// Warranty in months.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub warranty: Option<i64>,
    /// Every other field, as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
