//! An order as read (`order/read`, spec §10.2-10.4): the shape the ERP relies on.

use super::cancellation;
use super::check::{self, Optional, Required};
use super::doc::{Doc, Fields, Key, Kind};
use super::values::{self, show};
use super::{FieldPath, Report, MAX_ORDER_ID};

const ORDER: Fields<16> = Fields::new([
    Key::Id,
    Key::Status,
    Key::PaymentModeId,
    Key::Type,
    Key::Products,
    Key::Customer,
    Key::PaymentStatus,
    Key::Date,
    Key::Modified,
    Key::Vouchers,
    Key::ShippingTaxVoucherSplit,
    Key::ReasonCancellation,
    Key::IsStorno,
    Key::IsComplete,
    Key::DeliveryMode,
    Key::ShippingTax,
]);

const LINE: Fields<9> = Fields::new([
    Key::Id,
    Key::ProductId,
    Key::Quantity,
    Key::SalePrice,
    Key::Status,
    Key::Vat,
    Key::Created,
    Key::Modified,
    Key::ProductVoucherSplit,
]);

const CUSTOMER: Fields<4> =
    Fields::new([Key::Name, Key::Phone1Underscore, Key::Phone1, Key::Email]);

const VOUCHER: Fields<6> = Fields::new([
    Key::VoucherId,
    Key::SalePrice,
    Key::SalePriceVat,
    Key::Created,
    Key::Modified,
    Key::IssueDate,
]);

const SPLIT: Fields<3> = Fields::new([Key::VoucherId, Key::Value, Key::VatValue]);

/// `must be an object` for a whole document that is not one; `true` when it is one.
pub(crate) fn is_object<D: Doc>(r: &mut Report, name: &'static str, v: &D) -> bool {
    if v.kind() == Kind::Map {
        true
    } else {
        r.push(
            &FieldPath::named(name),
            format_args!("must be an object, got {}", show(v)),
        );
        false
    }
}

/// The `is_storno` flag: `Some(true/false)`, or a message for a value that is neither.
pub(crate) fn storno_flag<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) -> bool {
    let Some(v) = values::present(v) else {
        return false;
    };
    match values::flag(&v) {
        Some(b) => b,
        None => {
            r.push(p, format_args!("must be true or false, got {}", show(&v)));
            false
        }
    }
}

/// A `reason_cancellation` sent with the order (null and `""` count as not sent); returns it
/// when it is a valid code.
pub(crate) fn reason_field<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) -> Option<i64> {
    let v = values::present(v)?;
    if v.with_str(|s| s.trim().is_empty()) == Some(true) {
        return None;
    }
    match values::int(&v) {
        Some(code) if crate::codes::is_valid_cancellation_reason(code) => Some(code),
        _ => {
            r.push(p, cancellation::invalid_reason(&show(&v)));
            None
        }
    }
}

/// Values of vouchers and their splits must be negative (they are discounts).
fn negative<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, allow_zero: bool) {
    let Some(v) = values::present(v) else { return };
    match values::num(&v) {
        Some(f) if f < 0.0 || (allow_zero && f == 0.0) => {}
        _ => r.push(
            p,
            format_args!(
                "must be a negative number (a discount{}), got {}",
                if allow_zero { "; 0 for no VAT" } else { "" },
                show(&v)
            ),
        ),
    }
}

fn splits<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) {
    let Some(list) = check::list(r, p, v, Optional, "voucher splits") else {
        return;
    };
    check::each_object(r, p, &list, |r, ip, _, split| {
        let [id, value, vat_value] = split.gather(&SPLIT);
        check::int_range(r, &ip.key("voucher_id"), id, 1, i64::MAX, Optional);
        negative(r, &ip.key("value"), value, false);
        negative(r, &ip.key("vat_value"), vat_value, true);
    });
}

/// Check an order as read (`type` optional unless `require_type`).
// Long on purpose: the fields of an order checked one after another, in the order of the
// documentation.
pub(crate) fn check_order_data<D: Doc>(r: &mut Report, order: &D, require_type: bool) {
    if !is_object(r, "order", order) {
        return;
    }
    let [id, status, payment_mode, kind, products, customer, payment_status, date, modified, vouchers, shipping_split, reason, is_storno, is_complete, delivery_mode, shipping_tax] =
        order.gather(&ORDER);
    let root = FieldPath::ROOT;
    check::int_range(r, &root.key("id"), id, 1, MAX_ORDER_ID, Required);
    let status = check::int_range(r, &root.key("status"), status, 0, 5, Required);
    let payment_mode = check::int_in(
        r,
        &root.key("payment_mode_id"),
        payment_mode,
        Required,
        |m| (1..=3).contains(&m),
        "1, 2 or 3 (1 cash on delivery, 2 bank transfer, 3 online card)",
    );
    check::int_in(
        r,
        &root.key("type"),
        kind,
        if require_type { Required } else { Optional },
        |t| t == 2 || t == 3,
        "2 or 3 (2 fulfilled by eMAG, 3 fulfilled by the seller)",
    );
    let ps = root.key("payment_status");
    match values::present(payment_status) {
        None if payment_mode == Some(3) => r.push(
            &ps,
            "is required for online card payments (payment_mode_id 3): 0 not paid, 1 paid",
        ),
        None => {}
        Some(v) => {
            check::int_in(
                r,
                &ps,
                Some(v),
                Required,
                |s| s == 0 || s == 1,
                "0 or 1 (0 not paid, 1 paid)",
            );
        }
    }
    check::datetime(r, &root.key("date"), date);
    check::datetime(r, &root.key("modified"), modified);
    let storno = storno_flag(r, &root.key("is_storno"), is_storno) && matches!(status, Some(4 | 5));
    reason_field(r, &root.key("reason_cancellation"), reason);
    check::flag01(r, &root.key("is_complete"), is_complete, Optional);
    if let Some(mode) = values::present(delivery_mode) {
        let ok = mode
            .with_str(|s| matches!(s, "courier" | "pickup" | ""))
            .unwrap_or(false);
        if !ok {
            r.push(
                &root.key("delivery_mode"),
                format_args!("must be \"courier\" or \"pickup\", got {}", show(&mode)),
            );
        }
    }
    check::num_where(
        r,
        &root.key("shipping_tax"),
        shipping_tax,
        Optional,
        |_| true,
        "a number",
    );
    check_customer(r, &root.key("customer"), customer);
    check_lines(r, &root.key("products"), products, storno);
    let vp = root.key("vouchers");
    if let Some(list) = check::list(r, &vp, vouchers, Optional, "vouchers") {
        check::each_object(r, &vp, &list, |r, ip, _, voucher| {
            let [id, sale_price, sale_price_vat, created, modified, issue_date] =
                voucher.gather(&VOUCHER);
            check::int_range(r, &ip.key("voucher_id"), id, 1, i64::MAX, Optional);
            negative(r, &ip.key("sale_price"), sale_price, false);
            negative(r, &ip.key("sale_price_vat"), sale_price_vat, true);
            check::datetime(r, &ip.key("created"), created);
            check::datetime(r, &ip.key("modified"), modified);
            check::date(r, &ip.key("issue_date"), issue_date);
        });
    }
    splits(r, &root.key("shipping_tax_voucher_split"), shipping_split);
}

fn check_customer<D: Doc>(r: &mut Report, p: &FieldPath<'_>, customer: Option<D>) {
    let Some(customer) = check::object(
        r,
        p,
        customer,
        Required,
        "an object with the customer's name and phone",
    ) else {
        return;
    };
    let [name, phone_1, phone1, email] = customer.gather(&CUSTOMER);
    match values::present(name) {
        Some(n) if values::has_text(&n) => {}
        Some(n) => r.push(
            &p.key("name"),
            format_args!("must be a non-empty text, got {}", show(&n)),
        ),
        None => r.push(&p.key("name"), "is required (the customer's name)"),
    }
    let phone_1 = values::present(phone_1);
    let phone1 = values::present(phone1);
    match (phone_1, phone1) {
        (Some(a), _) if values::has_text(&a) => {}
        (_, Some(b)) if values::has_text(&b) => {}
        (Some(a), _) => r.push(
            &p.key("phone_1"),
            format_args!("must be a non-empty text, got {}", show(&a)),
        ),
        (None, Some(b)) => r.push(
            &p.key("phone1"),
            format_args!("must be a non-empty text, got {}", show(&b)),
        ),
        (None, None) => r.push(
            &p.key("phone_1"),
            "is required (the customer's phone; phone1 is accepted too)",
        ),
    }
    if let Some(email) = values::present(email) {
        let ok = email
            .with_str(|s| s.is_empty() || values::is_plausible_email(s))
            .unwrap_or(false);
        if !ok {
            r.push(
                &p.key("email"),
                format_args!("must be a plausible email address, got {}", show(&email)),
            );
        }
    }
}

fn check_lines<D: Doc>(r: &mut Report, p: &FieldPath<'_>, products: Option<D>, storno: bool) {
    let Some(list) = check::list(r, p, products, Required, "product lines") else {
        return;
    };
    if list.list_len() == 0 {
        r.push(
            p,
            "must not be empty: an order has at least one product line",
        );
        return;
    }
    check::each_object(r, p, &list, |r, ip, _, line| {
        let [id, product_id, quantity, sale_price, status, vat, created, modified, split] =
            line.gather(&LINE);
        check::int_range(r, &ip.key("id"), id, 1, i64::MAX, Required);
        check::int_range(r, &ip.key("product_id"), product_id, 1, i64::MAX, Optional);
        quantity_rule(r, &ip.key("quantity"), quantity, storno, Required);
        check::num_where(
            r,
            &ip.key("sale_price"),
            sale_price,
            Required,
            |f| f >= 0.0,
            "a number >= 0",
        );
        check::int_in(
            r,
            &ip.key("status"),
            status,
            Required,
            |s| s == 0 || s == 1,
            "0 or 1 (0 cancelled, 1 active)",
        );
        check::num_where(
            r,
            &ip.key("vat"),
            vat,
            Optional,
            |f| (0.0..=100.0).contains(&f),
            "a number from 0 to 100",
        );
        check::datetime(r, &ip.key("created"), created);
        check::datetime(r, &ip.key("modified"), modified);
        splits(r, &ip.key("product_voucher_split"), split);
    });
}

/// A line quantity: an integer > 0, or 0 on a storno; never negative.
pub(crate) fn quantity_rule<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    storno: bool,
    need: check::Need,
) -> Option<i64> {
    let v = match values::present(v) {
        Some(v) => v,
        None => {
            if need == Required {
                r.push(p, "is required (an integer > 0)");
            }
            return None;
        }
    };
    match values::int(&v) {
        Some(q) if q > 0 || (q == 0 && storno) => Some(q),
        Some(0) => {
            r.push(
                p,
                "must be > 0, got 0 (0 only in a partial return: is_storno with status 4)",
            );
            None
        }
        Some(q) => {
            r.push(p, format_args!("must be > 0, got {q}"));
            None
        }
        None => {
            r.push(p, format_args!("must be an integer > 0, got {}", show(&v)));
            None
        }
    }
}
