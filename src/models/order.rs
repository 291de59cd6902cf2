//! Orders (spec §10.2-§10.5): every documented field, unknown fields kept.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient;
use super::Preserved;
use crate::error::{Error, Result};

/// An order as read from `order/read`. Deref to [`OrderFields`] for the typed fields.
pub type Order = Preserved<OrderFields>;
/// An order line. Deref to [`OrderProductFields`].
pub type OrderProduct = Preserved<OrderProductFields>;
/// The customer of an order. Deref to [`CustomerFields`].
pub type Customer = Preserved<CustomerFields>;

impl Order {
    /// Read an order from JSON (never fails on schema drift; only a non-object is refused).
    pub fn from_value(value: Value) -> Result<Order> {
        match value {
            Value::Object(mut map) => {
                // `cancellation_reason` was renamed `reason_cancellation` in 4.4.7: accept both.
                if !map.contains_key("reason_cancellation") {
                    if let Some(old) = map.remove("cancellation_reason") {
                        map.insert("reason_cancellation".to_owned(), old);
                    }
                }
                Preserved::from_map(map).map_err(|e| Error::invalid_argument(format!("order: {e}")))
            }
            other => Err(Error::invalid_argument(format!(
                "an order must be a JSON object, got {other}"
            ))),
        }
    }

    /// Write back as JSON: every field that was read, with the changes made.
    pub fn to_value(&self) -> Result<Value> {
        self.to_map()
            .map(Value::Object)
            .map_err(|e| Error::internal(format!("order: {e}")))
    }
}

/// The typed fields of an order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderFields {
    /// eMAG order id (1..4294967295).
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// Status 0-5.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
    /// 0 incomplete, 1 complete.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_complete: Option<i64>,
    /// 2 fulfilled by eMAG, 3 fulfilled by the seller.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub order_type: Option<i64>,
    /// 1 COD, 2 bank transfer, 3 online card.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub payment_mode_id: Option<i64>,
    /// E.g. "eCREDIT".
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub detailed_payment_method: Option<String>,
    /// `courier` or `pickup`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub delivery_mode: Option<String>,
    /// Locker and courier details (kept as JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    /// Cart submission time, `YYYY-mm-dd HH:ii:ss` local.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub date: Option<String>,
    /// Last change, `YYYY-mm-dd HH:ii:ss` local.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified: Option<String>,
    /// 0 not paid, 1 paid.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub payment_status: Option<i64>,
    /// Amount collected by card.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cashed_co: Option<f64>,
    /// Amount collected on delivery.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cashed_cod: Option<f64>,
    /// Shipping tax.
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_tax: Option<f64>,
    /// Voucher split of the shipping tax.
    #[serde(
        default,
        deserialize_with = "lenient::vec_of",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub shipping_tax_voucher_split: Vec<VoucherSplit>,
    /// The customer.
    #[serde(
        default,
        deserialize_with = "lenient::opt_obj",
        skip_serializing_if = "Option::is_none"
    )]
    pub customer: Option<Customer>,
    /// The lines.
    #[serde(
        default,
        deserialize_with = "lenient::vec_of",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub products: Vec<OrderProduct>,
    /// Attachments (invoices, warranties, ...).
    #[serde(
        default,
        deserialize_with = "lenient::vec_of",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub attachments: Vec<Attachment>,
    /// Vouchers.
    #[serde(
        default,
        deserialize_with = "lenient::vec_of",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub vouchers: Vec<Voucher>,
    /// Partial return on a finalized order.
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_storno: Option<bool>,
    /// Cancellation reason code (named `cancellation_reason` before 4.4.7; both are read).
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason_cancellation: Option<i64>,
    /// `null`: any own courier account; a list: one of those; `[]`: no AWB from the marketplace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced_vendor_courier_accounts: Option<Value>,
    /// Every field this model does not know, written back as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed fields of an order line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderProductFields {
    /// eMAG line id (used for every line update).
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// Seller product id (cannot change on save).
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub product_id: Option<i64>,
    /// Voucher split of the line.
    #[serde(
        default,
        deserialize_with = "lenient::vec_of",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub product_voucher_split: Vec<VoucherSplit>,
    /// 0 cancelled, 1 active.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<i64>,
    /// Part number (cannot change).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub part_number: Option<String>,
    /// Seller's identifier (cannot change).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub ext_part_number: Option<String>,
    /// Product name (sent when adding a line).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Created, local time.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<String>,
    /// Modified, local time.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub modified: Option<String>,
    /// Currency.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<String>,
    /// Quantity (> 0 for active lines).
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub quantity: Option<i64>,
    /// Unit price without VAT (documented "Integer", really a decimal).
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sale_price: Option<f64>,
    /// VAT rate as sent (e.g. "0.19").
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub vat: Option<f64>,
    /// Free text.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub details: Option<String>,
    /// Recycling warranties (SGR), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recycle_warranties: Option<Value>,
    /// Serial numbers / IMEIs.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub serial_numbers: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed fields of a customer (all optional in the spec).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerFields {
    /// Customer id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// Name.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// A hash identifying the customer's address.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// Company (equals `name` for individuals).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub company: Option<String>,
    /// `M` / `F`.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub gender: Option<String>,
    /// Company registration code.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub code: Option<String>,
    /// Registration number.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub registration_number: Option<String>,
    /// 0 private, 1 legal entity.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub legal_entity: Option<i64>,
    /// 0/1.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub is_vat_payer: Option<i64>,
    /// Phone.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub phone_1: Option<String>,
    /// Billing name.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_name: Option<String>,
    /// Billing city.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_city: Option<String>,
    /// Billing street.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub billing_street: Option<String>,
    /// Shipping contact (for the AWB).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_contact: Option<String>,
    /// Shipping phone (for the AWB).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping_phone: Option<String>,
    /// Every other field (phone_2, bank, iban, billing_*, shipping_*, ...), as read.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A voucher split (`shipping_tax_voucher_split`, `product_voucher_split`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VoucherSplit {
    /// Voucher id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub voucher_id: Option<i64>,
    /// Value without VAT (negative).
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<f64>,
    /// Its VAT (negative).
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub vat_value: Option<f64>,
    /// Other fields (vat, offered_by, voucher_name, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An order-level voucher.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Voucher {
    /// Voucher id.
    #[serde(
        default,
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub voucher_id: Option<i64>,
    /// Discount without VAT (negative).
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sale_price: Option<f64>,
    /// Its VAT (negative).
    #[serde(
        default,
        deserialize_with = "lenient::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub sale_price_vat: Option<f64>,
    /// Name.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub voucher_name: Option<String>,
    /// Other fields (status, vat, created, modified, issue_date, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An order attachment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// Name shown to the customer.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// URL of the PDF.
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub url: Option<String>,
    /// 1 invoice, 3 warranty, 4 user manual, 8 user guide, 10 AWB, 11 proforma.
    #[serde(
        default,
        rename = "type",
        deserialize_with = "lenient::opt_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub attachment_type: Option<i64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
