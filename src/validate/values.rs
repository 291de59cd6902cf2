//! Lenient readers and value checks shared by the validators: integers and decimals sent as
//! numbers or strings (eMAG sends both), eMAG's date forms, email plausibility, and the text
//! a message uses to show the offending value. Nothing here allocates unless it builds a
//! message.

use std::fmt;

use super::doc::{Doc, Kind};
use crate::lenient;

/// Longest value text quoted in a message.
const SHOWN_CHARS: usize = 40;

/// A value as a message shows it: `-1`, `1.5`, `"abc"`, `null`, `a list`, `an object`.
pub(crate) struct Shown(String);

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How a message shows `v` (built only on failure).
pub(crate) fn show<D: Doc>(v: &D) -> Shown {
    Shown(match v.kind() {
        Kind::Null => "null".to_owned(),
        Kind::Bool => match v.as_bool() {
            Some(true) => "true".to_owned(),
            _ => "false".to_owned(),
        },
        Kind::Int => match (v.as_i64(), v.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.is_finite() => format!("a huge integer ({f:e})"),
            _ => "a huge integer".to_owned(),
        },
        Kind::Float => match v.as_f64() {
            Some(f) => format_float(f),
            None => "a number".to_owned(),
        },
        Kind::Str => v
            .with_str(|s| {
                let mut shown: String = s.chars().take(SHOWN_CHARS).collect();
                if shown.len() < s.len() {
                    shown.push('…');
                }
                serde_json::Value::String(shown).to_string()
            })
            .unwrap_or_else(|| "a string".to_owned()),
        Kind::List => "a list".to_owned(),
        Kind::Map => "an object".to_owned(),
        Kind::Other => match v.type_name() {
            Some(t) => format!("a value of type {t}"),
            None => "a value of an unsupported type".to_owned(),
        },
    })
}

fn format_float(f: f64) -> String {
    let a = f.abs();
    if a >= 1e16 || (a != 0.0 && a < 1e-6) {
        format!("{f:e}")
    } else if f.fract() == 0.0 {
        format!("{f:.1}")
    } else {
        format!("{f}")
    }
}

/// Whether a present value counts as absent for an optional field (`null`).
#[inline]
pub(crate) fn is_null<D: Doc>(v: &D) -> bool {
    v.kind() == Kind::Null
}

/// An optional field: absent and `null` are both "not sent".
#[inline]
pub(crate) fn present<D: Doc>(v: Option<D>) -> Option<D> {
    v.filter(|v| !is_null(v))
}

/// An integer read leniently ([`crate::lenient`]): an integer, an integral float, or a
/// string holding one.
#[inline]
pub(crate) fn int<D: Doc>(v: &D) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    match v.kind() {
        Kind::Float => v.as_f64().and_then(lenient::integral),
        Kind::Str => v.with_str(lenient::int_text).flatten(),
        _ => None,
    }
}

/// A number read leniently ([`crate::lenient`]): an integer, a float, or a string holding a
/// decimal; finite only.
#[inline]
pub(crate) fn num<D: Doc>(v: &D) -> Option<f64> {
    match v.kind() {
        Kind::Int | Kind::Float => v.as_f64().filter(|f| f.is_finite()),
        Kind::Str => v.with_str(lenient::decimal_text).flatten(),
        _ => None,
    }
}

/// The number of decimals of a number as sent (`"12.3400"` has 2, `12.345` has 3).
pub(crate) fn decimals<D: Doc>(v: &D) -> usize {
    match v.kind() {
        Kind::Int => 0,
        Kind::Float => v
            .as_f64()
            .map(|f| text_decimals(&format!("{f}")))
            .unwrap_or(0),
        Kind::Str => v.with_str(|s| text_decimals(s.trim())).unwrap_or(0),
        _ => 0,
    }
}

fn text_decimals(s: &str) -> usize {
    if s.contains(['e', 'E']) {
        return 0;
    }
    match s.split_once('.') {
        Some((_, frac)) => frac.trim_end_matches('0').len(),
        None => 0,
    }
}

/// A flag read leniently: `true`/`false`, `1`/`0`, `"1"`/`"0"`, `"true"`/`"false"`.
pub(crate) fn flag<D: Doc>(v: &D) -> Option<bool> {
    match v.kind() {
        Kind::Bool => v.as_bool(),
        Kind::Int | Kind::Float => match int(v) {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Kind::Str => v
            .with_str(|s| match s.trim() {
                "1" | "true" => Some(true),
                "0" | "false" | "" => Some(false),
                _ => None,
            })
            .flatten(),
        _ => None,
    }
}

/// The number of characters of a string, or `None` for anything else.
#[inline]
pub(crate) fn text_len<D: Doc>(v: &D) -> Option<usize> {
    v.with_str(|s| {
        if s.is_ascii() {
            s.len()
        } else {
            s.chars().count()
        }
    })
}

/// Non-empty text: a string with something besides spaces, or an integer (eMAG sends some
/// codes and phones as numbers).
pub(crate) fn has_text<D: Doc>(v: &D) -> bool {
    match v.kind() {
        Kind::Str => v.with_str(|s| !s.trim().is_empty()).unwrap_or(false),
        Kind::Int => true,
        _ => false,
    }
}

/// The value of the ASCII digits `b[at..at + n]`, or `None` if one is not a digit.
#[inline(always)]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let mut value = 0u32;
    let mut bad = false;
    for &c in &b[at..at + n] {
        let d = c.wrapping_sub(b'0');
        bad |= d > 9;
        value = value * 10 + u32::from(d);
    }
    (!bad).then_some(value)
}

/// `YYYY-mm-dd` at the start of `b` (at least 10 bytes): a real calendar date.
#[inline(always)]
fn valid_date_part(b: &[u8]) -> bool {
    if b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(b, 0, 4), digits(b, 5, 2), digits(b, 8, 2))
    else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    day >= 1 && day <= days
}

/// eMAG's timestamp form `YYYY-mm-dd HH:ii:ss` (a real calendar date and time of day).
#[inline]
pub(crate) fn is_emag_datetime(s: &str) -> bool {
    let Ok(b) = <&[u8; 19]>::try_from(s.as_bytes()) else {
        return false;
    };
    if b[10] != b' ' || b[13] != b':' || b[16] != b':' || !valid_date_part(b) {
        return false;
    }
    matches!(
        (digits(b, 11, 2), digits(b, 14, 2), digits(b, 17, 2)),
        (Some(h), Some(m), Some(s)) if h < 24 && m < 60 && s < 60
    )
}

/// A calendar date `YYYY-mm-dd`.
pub(crate) fn is_emag_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10 && valid_date_part(b)
}

/// Bytes that cannot appear unquoted in an address: controls, space, `<>(),;:"[]\\`.
const EMAIL_FORBIDDEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c <= b' ' as usize {
        t[c] = true;
        c += 1;
    }
    t[0x7f] = true;
    let specials = b"<>(),;:\"[]\\";
    let mut i = 0;
    while i < specials.len() {
        t[specials[i] as usize] = true;
        i += 1;
    }
    t
};

/// A plausible email address: one `@`, a non-empty local part, a dotted domain, no spaces
/// or characters that cannot appear unquoted; at most 254 bytes. Byte checks only.
pub(crate) fn is_plausible_email(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 3 || b.len() > 254 {
        return false;
    }
    // One pass: forbidden bytes, the single '@', no "..", a '.' in the domain.
    let mut at = usize::MAX;
    let mut dot_in_domain = false;
    let mut prev = 0u8;
    for (i, &c) in b.iter().enumerate() {
        if EMAIL_FORBIDDEN[c as usize] || (c == b'.' && prev == b'.') {
            return false;
        }
        if c == b'@' {
            if at != usize::MAX {
                return false;
            }
            at = i;
        } else if c == b'.' && at != usize::MAX {
            dot_in_domain = true;
        }
        prev = c;
    }
    if at == usize::MAX || !dot_in_domain {
        return false;
    }
    let (local, domain) = (&b[..at], &b[at + 1..]);
    !(local.is_empty()
        || local.len() > 64
        || local[0] == b'.'
        || local[local.len() - 1] == b'.'
        || domain.len() < 3
        || matches!(domain[0], b'.' | b'-')
        || matches!(domain[domain.len() - 1], b'.' | b'-'))
}

/// A phone for an AWB: 8 to 11 digits with an optional leading `+`.
pub(crate) fn is_awb_phone(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    (8..=11).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_emag_datetime("2025-08-01 10:00:00"));
        assert!(is_emag_datetime("2024-02-29 23:59:59"));
        assert!(!is_emag_datetime("2025-02-29 10:00:00"));
        assert!(!is_emag_datetime("2025-13-01 10:00:00"));
        assert!(!is_emag_datetime("2025-08-01T10:00:00"));
        assert!(!is_emag_datetime("2025-08-01 24:00:00"));
        assert!(!is_emag_datetime("2025-08-01 10:60:00"));
        assert!(!is_emag_datetime("2025-08-01"));
        assert!(!is_emag_datetime("2025-08-00 10:00:00"));
        assert!(!is_emag_datetime("२०२५-08-01 10:00:00"));
        assert!(is_emag_date("2025-08-01"));
        assert!(!is_emag_date("2025-8-01"));
    }

    #[test]
    fn decimals_are_counted_as_sent() {
        assert_eq!(text_decimals("12.3400"), 2);
        assert_eq!(text_decimals("12"), 0);
    }

    #[test]
    fn emails() {
        for ok in [
            "a@b.ro",
            "0f3c9e@marketplace.emag.ro",
            "first.last+tag@sub.example.com",
        ] {
            assert!(is_plausible_email(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@b.ro",
            "a@.ro",
            "a@b.",
            "a b@c.ro",
            "a@@b.ro",
            "a@b..ro",
            ".a@b.ro",
            "a@b,ro.ro",
        ] {
            assert!(!is_plausible_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert!(is_awb_phone("0722123456"));
        assert!(is_awb_phone("+40722123456"));
        assert!(!is_awb_phone("0722 123 456"));
        assert!(!is_awb_phone("1234567"));
        assert!(!is_awb_phone("+407221234567"));
    }
}
