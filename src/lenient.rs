//! The one lenient reader of numbers: eMAG sends integers and decimals as JSON numbers or as
//! strings (`"12"`, `"49.9900"`, `"3.0"`), and form bodies make every leaf a string. The
//! readers of the typed models, the validators, the borrowed [`crate::jsonview::JsonView`],
//! the client's request guards, the sync's checkpoints and the simulator all read through
//! these functions, so a value reads the same everywhere.
//!
//! - an integer: an integer, an integral float (`12.0`), or text holding either (spaces
//!   around allowed); integral floats only up to 9e15, where `f64` is still exact;
//! - a decimal: a number or text holding one; finite only.

use serde_json::Value;

/// Floats are exact integers up to 2^53 (about 9.007e15): past that an integral float is not
/// trusted as an id or a count.
const EXACT_FLOAT: f64 = 9.0e15;

/// An integral float as an integer (`12.0` -> 12; `12.5`, `inf`, `1e17` -> `None`).
#[inline]
pub fn integral(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && f.abs() < EXACT_FLOAT).then_some(f as i64)
}

/// Integer text (surrounding spaces allowed, an integral decimal such as `"3.0"` too).
pub fn int_text(s: &str) -> Option<i64> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    decimal_text(t).and_then(integral)
}

/// A JSON value as an integer: a number (integral floats too) or integer text.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(integral)),
        Value::String(s) => int_text(s),
        _ => None,
    }
}

/// A JSON value as a non-negative integer (`itemsPerPage`, `currentPage`), read as [`int`].
pub fn uint(v: &Value) -> Option<u64> {
    int(v).and_then(|i| u64::try_from(i).ok())
}

/// A JSON value as a decimal: a number or decimal text; finite only.
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => decimal_text(s),
        _ => None,
    }
}

/// Decimal text: `-?digits(.digits)?` read exactly by hand (the common case of eMAG's
/// `"49.9900"`), anything else through the standard parser; finite only.
#[inline]
pub fn decimal_text(s: &str) -> Option<f64> {
    fast_decimal(s.as_bytes()).or_else(|| s.trim().parse::<f64>().ok().filter(|f| f.is_finite()))
}

#[inline]
fn fast_decimal(b: &[u8]) -> Option<f64> {
    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let (neg, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    // At most 15 significant digits (plus the point) keep the mantissa exact.
    if digits.is_empty() || digits.len() > 16 {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut i = 0;
    while i < digits.len() && digits[i].is_ascii_digit() {
        mantissa = mantissa * 10 + u64::from(digits[i] - b'0');
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let mut frac = 0;
    if i < digits.len() {
        if digits[i] != b'.' || i + 1 == digits.len() {
            return None;
        }
        i += 1;
        while i < digits.len() {
            let c = digits[i];
            if !c.is_ascii_digit() {
                return None;
            }
            mantissa = mantissa * 10 + u64::from(c - b'0');
            frac += 1;
            i += 1;
        }
    }
    if digits.len() - usize::from(frac > 0) > 15 {
        return None;
    }
    // Exact: the mantissa (< 10^15) and the power of ten are exact, so one division rounds once.
    let value = mantissa as f64 / POW10[frac];
    Some(if neg { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_are_read_exactly() {
        for text in [
            "49.9900",
            "0",
            "-12.5",
            "100",
            "0.2100",
            "+3.25",
            "1234567.1234",
        ] {
            assert_eq!(decimal_text(text), text.parse::<f64>().ok(), "{text}");
        }
        assert_eq!(decimal_text(" 1e3 "), Some(1000.0));
        assert_eq!(decimal_text(" 12.5 "), Some(12.5));
        assert_eq!(decimal_text("12."), Some(12.0));
        assert_eq!(decimal_text("-"), None);
        assert_eq!(
            decimal_text("1234567890.12345678"),
            "1234567890.12345678".parse::<f64>().ok()
        );
        assert_eq!(
            decimal_text("123456789012345678"),
            Some(123456789012345678.0)
        );
        assert_eq!(decimal_text(".5"), Some(0.5));
        assert_eq!(decimal_text("abc"), None);
        assert_eq!(decimal_text("inf"), None);
        assert_eq!(decimal_text("NaN"), None);
        assert_eq!(decimal_text(""), None);
        assert_eq!(decimal_text("1.2.3"), None);
        assert_eq!(int_text("12"), Some(12));
        assert_eq!(int_text(" 12.0 "), Some(12));
        assert_eq!(int_text("12.5"), None);
    }

    #[test]
    fn values_read_as_numbers() {
        assert_eq!(int(&json!(7)), Some(7));
        assert_eq!(int(&json!(7.0)), Some(7));
        assert_eq!(int(&json!(" 7 ")), Some(7));
        assert_eq!(int(&json!("7.0")), Some(7));
        assert_eq!(int(&json!(7.5)), None);
        assert_eq!(int(&json!(1e17)), None);
        assert_eq!(int(&json!(u64::MAX)), None);
        assert_eq!(int(&json!(true)), None);
        assert_eq!(uint(&json!("100")), Some(100));
        assert_eq!(uint(&json!(-1)), None);
        assert_eq!(num(&json!("49.9900")), Some(49.99));
        assert_eq!(num(&json!("inf")), None);
        assert_eq!(num(&json!(null)), None);
    }
}
