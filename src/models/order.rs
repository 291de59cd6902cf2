//! Orders (spec §10.2-§10.5): every documented field, unknown fields kept.

use serde_json::{Map, Value};

use super::decode::{model, Model};
use super::lenient;
use super::Preserved;

/// An order as read from `order/read`. Deref to [`OrderFields`] for the typed fields.
pub type Order = Preserved<OrderFields>;
/// An order line. Deref to [`OrderProductFields`].
pub type OrderProduct = Preserved<OrderProductFields>;
/// The customer of an order. Deref to [`CustomerFields`].
pub type Customer = Preserved<CustomerFields>;

/// `cancellation_reason` was renamed `reason_cancellation` in 4.4.7: an order that sends only
/// the old name reads it as the new one (written back under the new name).
fn old_cancellation_reason(order: &mut OrderFields, seen: u64, unread: &mut Map<String, Value>) {
    let new_seen = OrderFields::slot("reason_cancellation").is_some_and(|i| seen & (1 << i) != 0);
    if new_seen {
        return;
    }
    let Some(old) = order.extra.shift_remove("cancellation_reason") else {
        return;
    };
    match lenient::as_i64(&old) {
        Some(code) => order.reason_cancellation = Some(code),
        None if old.is_null() => {}
        None => {
            unread.insert("reason_cancellation".to_owned(), old);
        }
    }
}

model! {
    /// The typed fields of an order.
    pub struct OrderFields("an order") {
        /// eMAG order id (1..4294967295).
        id: Option<i64>,
        /// Status 0-5.
        status: Option<i64>,
        /// 0 incomplete, 1 complete.
        is_complete: Option<i64>,
        /// 2 fulfilled by eMAG, 3 fulfilled by the seller.
        order_type: Option<i64> = "type",
        /// 1 COD, 2 bank transfer, 3 online card.
        payment_mode_id: Option<i64>,
        /// E.g. "eCREDIT".
        detailed_payment_method: Option<String>,
        /// `courier` or `pickup`.
        delivery_mode: Option<String>,
        /// Locker and courier details (kept as JSON).
        details: Option<Value>,
        /// Cart submission time, `YYYY-mm-dd HH:ii:ss` local.
        date: Option<String>,
        /// Last change, `YYYY-mm-dd HH:ii:ss` local.
        modified: Option<String>,
        /// 0 not paid, 1 paid.
        payment_status: Option<i64>,
        /// Amount collected by card.
        cashed_co: Option<f64>,
        /// Amount collected on delivery.
        cashed_cod: Option<f64>,
        /// Shipping tax.
        shipping_tax: Option<f64>,
        /// Voucher split of the shipping tax.
        shipping_tax_voucher_split: Vec<VoucherSplit>,
        /// The customer.
        customer: Option<Customer>,
        /// The lines.
        products: Vec<OrderProduct>,
        /// Attachments (invoices, warranties, ...).
        attachments: Vec<Attachment>,
        /// Vouchers.
        vouchers: Vec<Voucher>,
        /// Partial return on a finalized order.
        is_storno: Option<bool>,
        /// Cancellation reason code (named `cancellation_reason` before 4.4.7; both are read).
        reason_cancellation: Option<i64>,
        /// `null`: any own courier account; a list: one of those; `[]`: no AWB from the marketplace.
        enforced_vendor_courier_accounts: Option<Value>,
    }
    extra = "Every field this model does not know, written back as read.";
    finish = old_cancellation_reason;
}

model! {
    /// The typed fields of an order line.
    pub struct OrderProductFields("an order line") {
        /// eMAG line id (used for every line update).
        id: Option<i64>,
        /// Seller product id (cannot change on save).
        product_id: Option<i64>,
        /// Voucher split of the line.
        product_voucher_split: Vec<VoucherSplit>,
        /// 0 cancelled, 1 active.
        status: Option<i64>,
        /// Part number (cannot change).
        part_number: Option<String>,
        /// Seller's identifier (cannot change).
        ext_part_number: Option<String>,
        /// Product name (sent when adding a line).
        name: Option<String>,
        /// Created, local time.
        created: Option<String>,
        /// Modified, local time.
        modified: Option<String>,
        /// Currency.
        currency: Option<String>,
        /// Quantity (> 0 for active lines).
        quantity: Option<i64>,
        /// Unit price without VAT (documented "Integer", really a decimal).
        sale_price: Option<f64>,
        /// VAT rate as sent (e.g. "0.19").
        vat: Option<f64>,
        /// Free text.
        details: Option<String>,
        /// Recycling warranties (SGR), kept as JSON.
        recycle_warranties: Option<Value>,
        /// Serial numbers / IMEIs.
        serial_numbers: Option<String>,
    }
    extra = "Unknown fields.";
}

model! {
    /// The typed fields of a customer (all optional in the spec).
    pub struct CustomerFields("a customer") {
        /// Customer id.
        id: Option<i64>,
        /// Name.
        name: Option<String>,
        /// A hash identifying the customer's address.
        email: Option<String>,
        /// Company (equals `name` for individuals).
        company: Option<String>,
        /// `M` / `F`.
        gender: Option<String>,
        /// Company registration code.
        code: Option<String>,
        /// Registration number.
        registration_number: Option<String>,
        /// 0 private, 1 legal entity.
        legal_entity: Option<i64>,
        /// 0/1.
        is_vat_payer: Option<i64>,
        /// Phone.
        phone_1: Option<String>,
        /// Billing name.
        billing_name: Option<String>,
        /// Billing city.
        billing_city: Option<String>,
        /// Billing street.
        billing_street: Option<String>,
        /// Shipping contact (for the AWB).
        shipping_contact: Option<String>,
        /// Shipping phone (for the AWB).
        shipping_phone: Option<String>,
    }
    extra = "Every other field (phone_2, bank, iban, billing_*, shipping_*, ...), as read.";
}

model! {
    /// A voucher split (`shipping_tax_voucher_split`, `product_voucher_split`).
    pub struct VoucherSplit("a voucher split") {
        /// Voucher id.
        voucher_id: Option<i64>,
        /// Value without VAT (negative).
        value: Option<f64>,
        /// Its VAT (negative).
        vat_value: Option<f64>,
    }
    extra = "Other fields (vat, offered_by, voucher_name, ...).";
}

model! {
    /// An order-level voucher.
    pub struct Voucher("a voucher") {
        /// Voucher id.
        voucher_id: Option<i64>,
        /// Discount without VAT (negative).
        sale_price: Option<f64>,
        /// Its VAT (negative).
        sale_price_vat: Option<f64>,
        /// Name.
        voucher_name: Option<String>,
    }
    extra = "Other fields (status, vat, created, modified, issue_date, ...).";
}

model! {
    /// An order attachment.
    pub struct Attachment("an attachment") {
        /// Name shown to the customer.
        name: Option<String>,
        /// URL of the PDF.
        url: Option<String>,
        /// 1 invoice, 3 warranty, 4 user manual, 8 user guide, 10 AWB, 11 proforma.
        attachment_type: Option<i64> = "type",
    }
    extra = "Other fields.";
}
