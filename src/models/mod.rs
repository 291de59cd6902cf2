//! Typed models of what eMAG sends, tolerant of its schema drift.
//!
//! eMAG adds fields, sends `null` where a number was documented, and numbers as strings. A read
//! must not break on any of that, and an order update must send back every field that was read
//! (spec §10.10). So every model:
//! - reads numbers leniently (`12`, `"12"`, `12.0`; `null` and unreadable values become `None`),
//! - keeps every field it does not know in `extra` and writes it back,
//! - keeps the original of a field it could not read (wrapped in [`Preserved`]) and writes that
//!   original back unless the caller set the field.
//!
//! Timestamps stay eMAG's strings; [`crate::time`] converts them with the platform's time zone.

mod decode;
mod fields;
pub mod lenient;
mod offer;
mod order;
mod preserved;

pub use decode::Model;
pub use offer::{Offer, OfferFields};
pub use order::{
    Attachment, Customer, CustomerFields, Order, OrderFields, OrderProduct, OrderProductFields,
    Voucher, VoucherSplit,
};
pub use preserved::Preserved;
