//! Field checks that push one message each on failure: required and optional integers in a
//! range or a set, numbers, flags, texts and dates. The message is built only on failure.

use std::fmt;

use super::doc::{Doc, Kind};
use super::values::{self, show};
use super::{FieldPath, Report};

/// Whether a field must be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// Absent or null is an error.
    Required,
    /// Absent or null is fine.
    Optional,
}

pub(crate) use Need::{Optional, Required};

/// An integer `lo..=hi`.
pub(crate) fn int_range<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    lo: i64,
    hi: i64,
    need: Need,
) -> Option<i64> {
    let ok = |i: i64| (lo..=hi).contains(&i);
    int_where(r, p, v, need, ok, &|| {
        if hi == i64::MAX {
            format!("an integer >= {lo}")
        } else {
            format!("an integer from {lo} to {hi}")
        }
    })
}

/// An integer accepted by `ok`; `expected` names the accepted values (`"0 or 1"`).
pub(crate) fn int_in<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    ok: impl Fn(i64) -> bool,
    expected: &'static str,
) -> Option<i64> {
    int_where(r, p, v, need, ok, &|| expected.to_owned())
}

fn int_where<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    ok: impl Fn(i64) -> bool,
    expected: &dyn Fn() -> String,
) -> Option<i64> {
    read_where(r, p, v, need, values::int, ok, expected)
}

/// A number accepted by `ok`; `expected` says which (`"a number >= 0"`).
pub(crate) fn num_where<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    ok: impl Fn(f64) -> bool,
    expected: &'static str,
) -> Option<f64> {
    read_where(r, p, v, need, values::num, ok, || expected)
}

/// A value `read` accepts and `ok` agrees with; `expected` says which (built only when a
/// message is).
fn read_where<D: Doc, T: Copy, W: fmt::Display>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    read: impl Fn(&D) -> Option<T>,
    ok: impl Fn(T) -> bool,
    expected: impl Fn() -> W,
) -> Option<T> {
    let v = sent(r, p, v, need, &expected)?;
    match read(&v) {
        Some(x) if ok(x) => Some(x),
        _ => {
            r.push(p, format_args!("must be {}, got {}", expected(), show(&v)));
            None
        }
    }
}

/// A 0/1 flag (also `true`/`false`).
pub(crate) fn flag01<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
) -> Option<bool> {
    let v = sent(r, p, v, need, || "0 or 1")?;
    match v.kind() {
        Kind::Bool => v.as_bool(),
        _ => match values::int(&v) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => {
                r.push(p, format_args!("must be 0 or 1, got {}", show(&v)));
                None
            }
        },
    }
}

/// A string of `lo..=hi` characters.
pub(crate) fn text_range<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    lo: usize,
    hi: usize,
    need: Need,
) -> bool {
    let Some(v) = sent(r, p, v, need, || {
        format!("a text of {lo} to {hi} characters")
    }) else {
        return false;
    };
    match values::text_len(&v) {
        Some(n) if (lo..=hi).contains(&n) => true,
        Some(n) => {
            r.push(
                p,
                format_args!("must have {lo} to {hi} characters, got {n}"),
            );
            false
        }
        None => {
            r.push(
                p,
                format_args!(
                    "must be a text of {lo} to {hi} characters, got {}",
                    show(&v)
                ),
            );
            false
        }
    }
}

/// eMAG's `YYYY-mm-dd HH:ii:ss` timestamp (optional: absent and null pass).
pub(crate) fn datetime<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) {
    let Some(v) = values::present(v) else { return };
    if v.with_str(values::is_emag_datetime) != Some(true) {
        r.push(
            p,
            format_args!(
                "must be a date in eMAG's form YYYY-mm-dd HH:ii:ss, got {}",
                show(&v)
            ),
        );
    }
}

/// A `YYYY-mm-dd` date (optional).
pub(crate) fn date<D: Doc>(r: &mut Report, p: &FieldPath<'_>, v: Option<D>) {
    let Some(v) = values::present(v) else { return };
    if v.with_str(values::is_emag_date) != Some(true) {
        r.push(
            p,
            format_args!("must be a date YYYY-mm-dd, got {}", show(&v)),
        );
    }
}

/// The value when it was sent (neither absent nor `null`); when it was not and `need` says
/// it must be, reports `is required (<what>)` (`what` is built only then).
fn sent<D: Doc, W: fmt::Display>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    what: impl FnOnce() -> W,
) -> Option<D> {
    match v {
        Some(v) if !values::is_null(&v) => Some(v),
        _ => {
            if need == Need::Required {
                r.push(p, format_args!("is required ({})", what()));
            }
            None
        }
    }
}

/// A list (optional unless `need`); returns it when it is one.
pub(crate) fn list<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    what: &str,
) -> Option<D> {
    of_kind(r, p, v, need, Kind::List, format_args!("a list of {what}"))
}

/// An object (optional unless `need`); returns it when it is one.
pub(crate) fn object<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    what: &str,
) -> Option<D> {
    of_kind(r, p, v, need, Kind::Map, format_args!("{what}"))
}

/// A value of `kind`, described to the reader as `what` (optional unless `need`).
fn of_kind<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    v: Option<D>,
    need: Need,
    kind: Kind,
    what: fmt::Arguments<'_>,
) -> Option<D> {
    let v = sent(r, p, v, need, || what)?;
    if v.kind() == kind {
        Some(v)
    } else {
        r.push(p, format_args!("must be {what}, got {}", show(&v)));
        None
    }
}

/// Each item of a list that is an object, with its index; other items get a message.
pub(crate) fn each_object<D: Doc>(
    r: &mut Report,
    p: &FieldPath<'_>,
    list: &D,
    mut f: impl FnMut(&mut Report, &FieldPath<'_>, usize, D),
) {
    for i in 0..list.list_len() {
        let Some(item) = list.item(i) else { continue };
        let ip = p.index(i);
        if item.kind() == Kind::Map {
            f(r, &ip, i, item);
        } else {
            r.push(&ip, format_args!("must be an object, got {}", show(&item)));
        }
    }
}
