//! How each field type reads leniently, from a deserializer (text) or from a `Value` already
//! built: the typed value, or the original handed back when it does not read.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

use super::decode::{read_map, take_map, Model};
use super::lenient;
use super::Preserved;

/// A field type read leniently: `Ok(Err(original))` when the value does not read as one.
pub trait Lenient: Sized {
    /// Read the value.
    #[doc(hidden)]
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Result<Self, Value>, D::Error>;

    /// Take it from a value already built.
    #[doc(hidden)]
    fn take(value: Value) -> Result<Self, Value>;
}

/// A JSON scalar as the deserializer handed it over (strings borrowed or owned).
#[doc(hidden)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(&'a str),
    String(String),
}

impl Scalar<'_> {
    fn into_value(self) -> Value {
        match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::I64(n) => Value::from(n),
            Scalar::U64(n) => Value::from(n),
            Scalar::F64(n) => Value::from(n),
            Scalar::Str(s) => Value::String(s.to_owned()),
            Scalar::String(s) => Value::String(s),
        }
    }
}

/// How a field type reads each shape of JSON value; objects and lists that it does not take
/// are handed back as their JSON.
#[doc(hidden)]
pub trait Shape: Sized {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value>;

    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Err(Value::deserialize(MapAccessDeserializer::new(map))?))
    }

    fn seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Err(Value::deserialize(SeqAccessDeserializer::new(seq))?))
    }

    /// From a value already built: scalars go through `scalar` (a string moves), objects and
    /// lists are handed back whole (types that take them override this).
    fn take(value: Value) -> Result<Self, Value> {
        match value {
            Value::Null => Self::scalar(Scalar::Null),
            Value::Bool(b) => Self::scalar(Scalar::Bool(b)),
            Value::Number(n) => Self::scalar(match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Scalar::U64(u),
                (None, Some(i)) => Scalar::I64(i),
                _ => Scalar::F64(n.as_f64().unwrap_or(f64::NAN)),
            }),
            Value::String(s) => Self::scalar(Scalar::String(s)),
            other => Err(other),
        }
    }
}

impl<T: Shape> Lenient for T {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Result<Self, Value>, D::Error> {
        d.deserialize_any(ShapeVisitor(PhantomData))
    }

    fn take(value: Value) -> Result<Self, Value> {
        <T as Shape>::take(value)
    }
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape> DeserializeSeed<'de> for ShapeVisitor<T> {
    type Value = Result<T, Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Shape> Visitor<'de> for ShapeVisitor<T> {
    type Value = Result<T, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::I64(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::U64(v)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::F64(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::Str(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(T::scalar(Scalar::String(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::map(map)
    }
}

/// Integers as [`lenient::as_i64`] reads them (numbers, integral floats, numeric strings).
impl Shape for Option<i64> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        match s {
            Scalar::Null => Ok(None),
            Scalar::I64(n) => Ok(Some(n)),
            Scalar::U64(n) if n <= i64::MAX as u64 => Ok(Some(n as i64)),
            // The shared reader decides every other case: its rules stay in one place.
            other => {
                let value = other.into_value();
                lenient::as_i64(&value).map(Some).ok_or(value)
            }
        }
    }
}

/// Floats as [`lenient::as_f64`] reads them (numbers, numeric strings).
impl Shape for Option<f64> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        match s {
            Scalar::Null => Ok(None),
            Scalar::I64(n) => Ok(Some(n as f64)),
            Scalar::U64(n) => Ok(Some(n as f64)),
            Scalar::F64(n) => Ok(Some(n)),
            // Decimals come as strings (18 in an order): a borrowed one is parsed in place
            // as `as_f64` parses it, without making a `Value` first.
            Scalar::Str(t) => match t.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(Value::String(t.to_owned())),
            },
            other => {
                let value = other.into_value();
                lenient::as_f64(&value).map(Some).ok_or(value)
            }
        }
    }
}

/// Text; numbers are accepted and kept as their JSON text.
impl Shape for Option<String> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        match s {
            Scalar::Null => Ok(None),
            Scalar::Str(t) => Ok(Some(t.to_owned())),
            Scalar::String(t) => Ok(Some(t)),
            Scalar::I64(n) => Ok(Some(Number::from(n).to_string())),
            Scalar::U64(n) => Ok(Some(Number::from(n).to_string())),
            Scalar::F64(n) => Ok(Number::from_f64(n).map(|n| n.to_string())),
            Scalar::Bool(_) => Err(s.into_value()),
        }
    }
}

/// A flag: `true`/`false`, `1`/`0`, `"1"`/`"0"`, `"true"`/`"false"`.
impl Shape for Option<bool> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        let flag = match &s {
            Scalar::Null => return Ok(None),
            Scalar::Bool(b) => Some(*b),
            Scalar::I64(n) => Some(*n != 0),
            Scalar::U64(n) => (*n <= i64::MAX as u64).then_some(*n != 0),
            Scalar::F64(_) => None,
            Scalar::Str(t) => flag_text(t),
            Scalar::String(t) => flag_text(t),
        };
        flag.map(Some).ok_or_else(|| s.into_value())
    }
}

fn flag_text(t: &str) -> Option<bool> {
    match t.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    }
}

/// Kept as JSON (`null` is absence).
impl Shape for Option<Value> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        Ok(Some(s.into_value()).filter(|v| !v.is_null()))
    }
    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Ok(Some(Value::deserialize(MapAccessDeserializer::new(
            map,
        ))?)))
    }
    fn seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Ok(Some(Value::deserialize(SeqAccessDeserializer::new(
            seq,
        ))?)))
    }
    fn take(value: Value) -> Result<Self, Value> {
        Ok(Some(value).filter(|v| !v.is_null()))
    }
}

/// A model nested in another, decoded from the entries of an object.
#[doc(hidden)]
pub trait Nested: Sized {
    fn from_entries<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
    fn from_object(map: Map<String, Value>) -> Self;
}

impl<T: Model> Nested for T {
    fn from_entries<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        read_map(map).map(|(fields, _unread)| fields)
    }
    fn from_object(map: Map<String, Value>) -> Self {
        take_map(map).0
    }
}

impl<T: Model> Nested for Preserved<T> {
    fn from_entries<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        read_map(map).map(|(fields, unread)| Preserved::from_parts(fields, unread))
    }
    fn from_object(map: Map<String, Value>) -> Self {
        let (fields, unread) = take_map(map);
        Preserved::from_parts(fields, unread)
    }
}

/// An optional nested object; anything else reads as `None` (its original kept).
impl<T: Nested> Shape for Option<T> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        match s {
            Scalar::Null => Ok(None),
            other => Err(other.into_value()),
        }
    }
    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Ok(Some(T::from_entries(map)?)))
    }
    fn take(value: Value) -> Result<Self, Value> {
        match value {
            Value::Object(map) => Ok(Some(T::from_object(map))),
            Value::Null => Ok(None),
            other => Err(other),
        }
    }
}

/// One entry of a list of nested objects: the model, or the entry's JSON.
struct Item<T>(T);

impl<T: Nested> Shape for Item<T> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        Err(s.into_value())
    }
    fn map<'de, A: MapAccess<'de>>(map: A) -> Result<Result<Self, Value>, A::Error> {
        Ok(Ok(Item(T::from_entries(map)?)))
    }
}

/// A list of nested objects: entries that are not objects are left out of the typed view.
impl<T: Nested> Shape for Vec<T> {
    fn scalar(s: Scalar<'_>) -> Result<Self, Value> {
        match s {
            Scalar::Null => Ok(Vec::new()),
            other => Err(other.into_value()),
        }
    }
    fn seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Result<Self, Value>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut others = Vec::new();
        while let Some(item) = seq.next_element_seed(ShapeVisitor::<Item<T>>(PhantomData))? {
            match item {
                Ok(Item(model)) => items.push(model),
                Err(other) => others.push(other),
            }
        }
        // An empty typed list is not written back, so the original is kept instead: it is
        // exactly the entries that were not objects.
        Ok(if items.is_empty() {
            Err(Value::Array(others))
        } else {
            Ok(items)
        })
    }
    fn take(value: Value) -> Result<Self, Value> {
        let entries = match value {
            Value::Array(entries) => entries,
            Value::Null => return Ok(Vec::new()),
            other => return Err(other),
        };
        let mut items = Vec::with_capacity(entries.len());
        let mut others = Vec::new();
        for entry in entries {
            match entry {
                Value::Object(map) => items.push(T::from_object(map)),
                other => others.push(other),
            }
        }
        if items.is_empty() {
            Err(Value::Array(others))
        } else {
            Ok(items)
        }
    }
}
