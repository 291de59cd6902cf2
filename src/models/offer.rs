//! Offers as read from `product_offer/read` (spec §9.8), unknown fields kept.

use super::decode::model;
use super::Preserved;

/// An offer. Deref to [`OfferFields`].
pub type Offer = Preserved<OfferFields>;

model! {
    /// The typed fields of an offer.
    pub struct OfferFields("an offer") {
        /// Seller product id.
        id: Option<i64>,
        /// eMAG's part number key (PNK).
        part_number_key: Option<String>,
        /// Name.
        name: Option<String>,
        /// Brand.
        brand: Option<String>,
        /// Part number.
        part_number: Option<String>,
        /// Category id.
        category_id: Option<i64>,
        /// Price without VAT.
        sale_price: Option<f64>,
        /// Recommended price.
        recommended_price: Option<f64>,
        /// Currency.
        currency: Option<String>,
        /// 0 inactive, 1 active, 2 end of life.
        status: Option<i64>,
        /// Sum of stock over warehouses.
        general_stock: Option<i64>,
        /// Stock less what unacknowledged orders reserve.
        estimated_stock: Option<i64>,
        /// VAT id.
        vat_id: Option<i64>,
        /// Warranty in months.
        warranty: Option<i64>,
    }
    extra = "Every other field, as read.";
}
