//! Catalogue reference data: categories, VAT rates, handling times.

use super::read_only_resource;

read_only_resource!(
    /// `category/read|count`. Pass `{"id": N}` for one category with its characteristics.
    Categories, "category", count
);
read_only_resource!(
    /// `vat/read`: the VAT rates and their ids (an offer's `vat_id` must be one of them).
    Vat, "vat"
);
read_only_resource!(
    /// `handling_time/read`: the accepted handling-time values.
    HandlingTime, "handling_time"
);
