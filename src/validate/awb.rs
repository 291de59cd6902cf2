//! `awb/save` (spec §11.1, §16 rule 26): sender and receiver, counts, amounts, flags, lockers
//! and the return-AWB rules.

use chrono::NaiveDate;

use super::check::{self, Optional, Required};
use super::doc::{Doc, Fields, Key, Kind};
use super::order::is_object;
use super::values::{self, show};
use super::{FieldPath, Options, Report, MAX_ORDER_ID};

const AWB: Fields<19> = Fields::new([
    Key::OrderId,
    Key::RmaId,
    Key::Sender,
    Key::Receiver,
    Key::LockerId,
    Key::IsOversize,
    Key::InsuredValue,
    Key::Weight,
    Key::EnvelopeNumber,
    Key::ParcelNumber,
    Key::Observation,
    Key::Cod,
    Key::CourierAccountId,
    Key::PickupAndReturn,
    Key::SaturdayDelivery,
    Key::SamedayDelivery,
    Key::DropoffLocker,
    Key::Unboxing,
    Key::Date,
]);

const PARTY: Fields<9> = Fields::new([
    Key::Name,
    Key::Contact,
    Key::Phone1,
    Key::Phone2,
    Key::LegalEntity,
    Key::AddressId,
    Key::LocalityId,
    Key::Street,
    Key::Zipcode,
]);

const PHONE_RULE: &str = "8 to 11 digits with an optional leading +";

fn phone<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, required: bool) {
    let v = match values::present(v) {
        Some(v) if v.with_str(str::is_empty) != Some(true) => v,
        _ => {
            if required {
                r.push(p, format_args!("is required ({PHONE_RULE})"));
            }
            return;
        }
    };
    let ok = match v.kind() {
        Kind::Str => v.with_str(values::is_awb_phone).unwrap_or(false),
        Kind::Int => v
            .as_i64()
            .is_some_and(|n| n >= 0 && values::is_awb_phone(&n.to_string())),
        _ => false,
    };
    if !ok {
        r.push(p, format_args!("must be {PHONE_RULE}, got {}", show(&v)));
    }
}

fn party<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>, receiver: bool) {
    let what = if receiver {
        "an object with the receiver's name, contact, phone1, locality_id and street"
    } else {
        "an object with the sender's name, contact, phone1, locality_id and street"
    };
    let Some(party) = check::object(r, p, v, Required, what) else {
        return;
    };
    let [name, contact, phone1, phone2, legal_entity, address_id, locality_id, street, zipcode] =
        party.gather(&PARTY);
    check::text_range(r, &p.key("name"), name, 3, 255, Required);
    check::text_range(r, &p.key("contact"), contact, 1, 255, Required);
    phone(r, &p.key("phone1"), phone1, true);
    phone(r, &p.key("phone2"), phone2, false);
    if receiver {
        check::flag01(r, &p.key("legal_entity"), legal_entity, Optional);
    }
    check::text_range(r, &p.key("address_id"), address_id, 0, 21, Optional);
    check::int_range(
        r,
        &p.key("locality_id"),
        locality_id,
        1,
        MAX_ORDER_ID,
        Required,
    );
    check::text_range(r, &p.key("street"), street, 3, 255, Required);
    check::text_range(r, &p.key("zipcode"), zipcode, 1, 255, Optional);
}

/// A return AWB's pickup date: `YYYY-mm-dd` or `YYYY-mm-dd HH:ii:ss`.
fn date_of<D: Doc>(v: &D) -> Option<NaiveDate> {
    v.with_str(|s| {
        let day = if values::is_emag_datetime(s) {
            &s[..10]
        } else if values::is_emag_date(s) {
            s
        } else {
            return None;
        };
        NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
    })
    .flatten()
}

// Long on purpose: the fields of `awb/save` checked one after another, in the order of the
// documentation.
pub(crate) fn check_awb<D: Doc>(r: &mut Report, awb: &D, options: &Options) {
    if !is_object(r, "awb", awb) {
        return;
    }
    let root = FieldPath::ROOT;
    let [order_id, rma_id, sender, receiver, locker_id, is_oversize, insured_value, weight, envelopes, parcels, observation, cod, courier_account_id, pickup_and_return, saturday, sameday, dropoff_locker, unboxing, date] =
        awb.gather(&AWB);
    let is_return = values::present(rma_id.clone()).is_some();
    if is_return {
        check::int_range(r, &root.key("rma_id"), rma_id, 1, MAX_ORDER_ID, Required);
        check::int_range(
            r,
            &root.key("order_id"),
            order_id,
            1,
            MAX_ORDER_ID,
            Optional,
        );
    } else if values::present(order_id.clone()).is_none() {
        r.push(
            &root.key("order_id"),
            "is required (the order the AWB ships; rma_id instead for a return AWB)",
        );
    } else {
        check::int_range(
            r,
            &root.key("order_id"),
            order_id,
            1,
            MAX_ORDER_ID,
            Required,
        );
    }
    party(r, &root.key("sender"), sender, false);
    party(r, &root.key("receiver"), receiver, true);
    check::text_range(r, &root.key("locker_id"), locker_id, 3, 255, Optional);
    check::flag01(r, &root.key("is_oversize"), is_oversize, Required);
    check::num_where(
        r,
        &root.key("insured_value"),
        insured_value,
        Optional,
        |f| (0.0..=999_999_999.0).contains(&f),
        "a number from 0 to 999999999",
    );
    check::num_where(
        r,
        &root.key("weight"),
        weight,
        Optional,
        |f| (0.0..=99_999.0).contains(&f),
        "a number from 0 to 99999",
    );
    let envelopes = check::int_range(
        r,
        &root.key("envelope_number"),
        envelopes,
        0,
        9999,
        Required,
    );
    let parcels = check::int_range(r, &root.key("parcel_number"), parcels, 0, 999, Required);
    if envelopes == Some(0) && parcels == Some(0) {
        r.push(
            &root.key("parcel_number"),
            "cannot be 0 when envelope_number is 0: send at least one envelope or parcel",
        );
    }
    check::text_range(r, &root.key("observation"), observation, 0, 255, Optional);
    check::num_where(
        r,
        &root.key("cod"),
        cod,
        Required,
        |f| (0.0..=999_999_999.0).contains(&f),
        "a number from 0 to 999999999: the amount to collect, 0 for none",
    );
    check::int_range(
        r,
        &root.key("courier_account_id"),
        courier_account_id,
        1,
        i64::MAX,
        Optional,
    );
    let pickup_and_return = check::flag01(
        r,
        &root.key("pickup_and_return"),
        pickup_and_return,
        Optional,
    );
    check::flag01(r, &root.key("saturday_delivery"), saturday, Optional);
    check::flag01(r, &root.key("sameday_delivery"), sameday, Optional);
    let dropoff_locker = check::flag01(r, &root.key("dropoff_locker"), dropoff_locker, Optional);
    check::flag01(r, &root.key("unboxing"), unboxing, Optional);
    if !is_return {
        return;
    }
    // A return AWB (rma_id): a pickup date from tomorrow on; no pickup_and_return; no
    // dropoff_locker (orders only).
    let date_path = root.key("date");
    match values::present(date) {
        None => r.push(
            &date_path,
            "is required for a return AWB (rma_id): the pickup date, from tomorrow on (YYYY-mm-dd)",
        ),
        Some(v) => match date_of(&v) {
            None => r.push(
                &date_path,
                format_args!(
                    "must be a date YYYY-mm-dd (or YYYY-mm-dd HH:ii:ss), got {}",
                    show(&v)
                ),
            ),
            Some(d) => {
                let tomorrow = options.today().succ_opt().unwrap_or(NaiveDate::MAX);
                if d < tomorrow {
                    r.push(
                        &date_path,
                        format_args!("must be at least the day after issuing ({tomorrow}) for a return AWB, got {d}"),
                    );
                }
            }
        },
    }
    if pickup_and_return == Some(true) {
        r.push(
            &root.key("pickup_and_return"),
            "must be 0 or absent on a return AWB (rma_id)",
        );
    }
    if dropoff_locker == Some(true) {
        r.push(
            &root.key("dropoff_locker"),
            "is for orders only; leave it out (or 0) on a return AWB (rma_id)",
        );
    }
}
