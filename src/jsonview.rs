//! A borrowed, read-only JSON tree for the hot read paths (sync ingest, backup verify).
//!
//! `serde_json::Value` owns every key and string and hashes every key into an `IndexMap`:
//! on eMAG's orders (about a hundred keys each) that costs more than the parse itself. A
//! [`JsonView`] borrows strings from the input (only strings with escapes are copied) and keeps
//! an object's members as a plain list, which the validators' one-pass [`Doc::gather`] walks
//! anyway. Parsing is serde_json's own (the same grammar, errors and number rules); only the
//! tree differs. Use it where a document is read and dropped; use `Value` to edit or keep one.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::validate::doc::{Doc, Fields, Key, Kind};

/// One JSON value borrowed from its text.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonView<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A negative integer, or any integer that fits `i64`.
    Int(i64),
    /// A positive integer above `i64::MAX`.
    UInt(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string (borrowed unless it had escapes).
    Str(Cow<'a, str>),
    /// An array.
    List(Vec<JsonView<'a>>),
    /// An object's members in document order (a repeated key: the last one counts, as in
    /// `serde_json::Value`).
    Map(Vec<(Cow<'a, str>, JsonView<'a>)>),
}

impl<'a> JsonView<'a> {
    /// Parse `text` (one JSON document, surrounding whitespace allowed).
    pub fn parse(text: &'a str) -> serde_json::Result<JsonView<'a>> {
        serde_json::from_str(text)
    }

    /// The member `name` of an object (the last one when repeated).
    pub fn member(&self, name: &str) -> Option<&JsonView<'a>> {
        match self {
            JsonView::Map(m) => m.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            JsonView::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items of an array.
    pub fn as_list(&self) -> Option<&[JsonView<'a>]> {
        match self {
            JsonView::List(v) => Some(v),
            _ => None,
        }
    }

    /// Leniently an integer: integers, integral floats and numeric strings, as
    /// [`crate::lenient::int`] reads a `Value`.
    pub fn lenient_i64(&self) -> Option<i64> {
        match self {
            JsonView::Int(i) => Some(*i),
            JsonView::UInt(_) => None,
            JsonView::Float(f) => crate::lenient::integral(*f),
            JsonView::Str(s) => crate::lenient::int_text(s),
            _ => None,
        }
    }

    /// Leniently a float: numbers and numeric strings, as [`crate::lenient::num`] reads a
    /// `Value`.
    pub fn lenient_f64(&self) -> Option<f64> {
        match self {
            JsonView::Int(i) => Some(*i as f64),
            JsonView::UInt(u) => Some(*u as f64),
            JsonView::Float(f) => Some(*f),
            JsonView::Str(s) => crate::lenient::decimal_text(s),
            _ => None,
        }
    }
}

struct ViewVisitor;

impl<'de> Visitor<'de> for ViewVisitor {
    type Value = JsonView<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Null)
    }

    fn visit_none<E>(self) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Bool(b))
    }

    fn visit_i64<E>(self, v: i64) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<JsonView<'de>, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => JsonView::Int(i),
            Err(_) => JsonView::UInt(v),
        })
    }

    fn visit_f64<E>(self, v: f64) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Float(v))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Str(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<JsonView<'de>, E> {
        Ok(JsonView::Str(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonView<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(JsonView::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonView<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(ViewKey(key)) = map.next_key()? {
            members.push((key, map.next_value()?));
        }
        Ok(JsonView::Map(members))
    }
}

impl<'de> Deserialize<'de> for JsonView<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ViewVisitor)
    }
}

/// An object key, borrowed when it has no escapes.
struct ViewKey<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for ViewKey<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = ViewKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<ViewKey<'de>, E> {
                Ok(ViewKey(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<ViewKey<'de>, E> {
                Ok(ViewKey(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<ViewKey<'de>, E> {
                Ok(ViewKey(Cow::Owned(s)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'b, 'a> Doc for &'b JsonView<'a> {
    #[inline]
    fn kind(&self) -> Kind {
        match self {
            JsonView::Null => Kind::Null,
            JsonView::Bool(_) => Kind::Bool,
            JsonView::Int(_) | JsonView::UInt(_) => Kind::Int,
            JsonView::Float(_) => Kind::Float,
            JsonView::Str(_) => Kind::Str,
            JsonView::List(_) => Kind::List,
            JsonView::Map(_) => Kind::Map,
        }
    }

    #[inline]
    fn get(&self, key: Key) -> Option<Self> {
        self.member(key.name())
    }

    #[inline]
    fn gather<const N: usize>(&self, fields: &Fields<N>) -> [Option<Self>; N] {
        match self {
            JsonView::Map(m) => fields.gather(m.iter().map(|(k, v)| (k.as_ref(), v))),
            _ => [None; N],
        }
    }

    #[inline]
    fn list_len(&self) -> usize {
        match self {
            JsonView::List(v) => v.len(),
            _ => 0,
        }
    }

    #[inline]
    fn item(&self, index: usize) -> Option<Self> {
        match self {
            JsonView::List(v) => v.get(index),
            _ => None,
        }
    }

    #[inline]
    fn as_i64(&self) -> Option<i64> {
        match self {
            JsonView::Int(i) => Some(*i),
            _ => None,
        }
    }

    #[inline]
    fn as_f64(&self) -> Option<f64> {
        match self {
            JsonView::Int(i) => Some(*i as f64),
            JsonView::UInt(u) => Some(*u as f64),
            JsonView::Float(f) => Some(*f),
            _ => None,
        }
    }

    #[inline]
    fn as_bool(&self) -> Option<bool> {
        match self {
            JsonView::Bool(b) => Some(*b),
            _ => None,
        }
    }

    #[inline]
    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match self {
            JsonView::Str(s) => Some(f(s)),
            _ => None,
        }
    }

    fn for_each_key(&self, f: &mut dyn FnMut(&str)) {
        if let JsonView::Map(m) = self {
            for (i, (k, _)) in m.iter().enumerate() {
                // A repeated key is one member (the last one counts): name it once.
                if !m[i + 1..].iter().any(|(later, _)| later == k) {
                    f(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Every accessor agrees with the `Value` implementation on the same text.
    fn same_as_value(view: &JsonView<'_>, value: &Value) {
        let (a, b) = (view, value);
        assert_eq!(Doc::kind(&a), Doc::kind(&b), "{value}");
        assert_eq!(Doc::as_i64(&a), Doc::as_i64(&b), "{value}");
        assert_eq!(Doc::as_f64(&a), Doc::as_f64(&b), "{value}");
        assert_eq!(Doc::as_bool(&a), Doc::as_bool(&b), "{value}");
        assert_eq!(a.with_str(str::to_owned), b.with_str(str::to_owned));
        assert_eq!(a.list_len(), b.list_len());
        assert_eq!(view.lenient_i64(), crate::lenient::int(value), "{value}");
        assert_eq!(view.lenient_f64(), crate::lenient::num(value), "{value}");
        for i in 0..a.list_len() {
            same_as_value(a.item(i).unwrap(), b.item(i).unwrap());
        }
        let (mut ka, mut kb) = (Vec::new(), Vec::new());
        a.for_each_key(&mut |k| ka.push(k.to_owned()));
        b.for_each_key(&mut |k| kb.push(k.to_owned()));
        ka.sort();
        kb.sort();
        assert_eq!(ka, kb);
        for k in kb {
            same_as_value(view.member(&k).unwrap(), &value[k.as_str()]);
        }
    }

    #[test]
    fn agrees_with_serde_json_value() {
        let text = r#"{"id": 7, "big": 18446744073709551615, "neg": -3, "f": 1.5, "e": 1e3,
            "s": "plain", "esc": "a\"b\u0103", "n": null, "t": true, "l": [1, "2", [], {}],
            "m": {"status": "1", "qty": " 2.0 ", "x": "nan"}, "id": 8}"#;
        let view = JsonView::parse(text).unwrap();
        let value: Value = serde_json::from_str(text).unwrap();
        same_as_value(&view, &value);
        assert_eq!(
            view.member("id"),
            Some(&JsonView::Int(8)),
            "the last repeat counts"
        );
        assert!(matches!(
            view.member("s"),
            Some(JsonView::Str(Cow::Borrowed(_)))
        ));
        assert_eq!(view.member("esc").and_then(JsonView::as_str), Some("a\"bă"));
    }

    #[test]
    fn gather_takes_the_last_repeat() {
        const F: Fields<2> = Fields::new([Key::Id, Key::Status]);
        let view = JsonView::parse(r#"{"id": 1, "status": 2, "id": 3}"#).unwrap();
        let got = (&view).gather(&F);
        assert_eq!(got[0], Some(&JsonView::Int(3)));
        assert_eq!(got[1], Some(&JsonView::Int(2)));
    }

    #[test]
    fn bad_text_is_an_error_not_a_panic() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "nul", "\"\\ud800\"x", "1 2"] {
            assert!(JsonView::parse(text).is_err(), "{text:?}");
        }
        let deep = "[".repeat(100_000);
        assert!(JsonView::parse(&deep).is_err(), "recursion limit");
        let _ = json!(null);
    }
}
