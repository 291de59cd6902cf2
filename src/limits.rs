//! eMAG's documented limits (API v4.4.9), each written once: the bounds of ids, the size of
//! a request and of a page, and the rate quotas. The validators, the client's request
//! guards, the sync and the simulator all read them from here.

use crate::ratelimit::Bucket;

/// Largest order id (`id`, `order_id`, `rma_id`): 4294967295, an unsigned 32-bit integer.
pub const MAX_ORDER_ID: i64 = 4_294_967_295;
/// Largest seller product id (`product_offer/save` `id`, `offer_stock`): 16777215.
pub const MAX_PRODUCT_ID: i64 = 16_777_215;
/// Largest stock of one offer (`offer_stock/update`): 65535.
pub const MAX_STOCK: i64 = 65_535;

/// At most this many entities in one bulk save.
pub const MAX_BULK_ENTITIES: usize = 50;
/// At most this many form input elements per request (PHP's `max_input_vars` on eMAG).
pub const MAX_INPUT_ELEMENTS: usize = 4000;
/// `itemsPerPage` bound for most reads; also the page size the client's pagers ask for.
pub const MAX_ITEMS_PER_PAGE: u64 = 100;
/// `itemsPerPage` bound for `invoice/read` and `customer-invoice/read`.
pub const MAX_ITEMS_PER_PAGE_INVOICES: u64 = 1000;

/// The `itemsPerPage` bound of a resource.
pub fn max_items_per_page(resource: &str) -> u64 {
    match resource.trim_matches('/') {
        "invoice" | "customer-invoice" => MAX_ITEMS_PER_PAGE_INVOICES,
        _ => MAX_ITEMS_PER_PAGE,
    }
}

/// eMAG's quota of the orders routes, requests per second.
pub const ORDERS_PER_SECOND: u32 = 12;
/// eMAG's quota of the orders routes, requests per minute.
pub const ORDERS_PER_MINUTE: u32 = 720;
/// eMAG's quota of every other resource together, requests per second.
pub const OTHER_PER_SECOND: u32 = 3;
/// eMAG's quota of every other resource together, requests per minute.
pub const OTHER_PER_MINUTE: u32 = 180;

/// eMAG's documented quota of a bucket: `(per second, per minute)`.
pub const fn quota(bucket: Bucket) -> (u32, u32) {
    match bucket {
        Bucket::Orders => (ORDERS_PER_SECOND, ORDERS_PER_MINUTE),
        Bucket::Other => (OTHER_PER_SECOND, OTHER_PER_MINUTE),
    }
}
