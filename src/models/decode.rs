//! The typed decode: one pass over a JSON object, from text or from a `Value` alike.
//!
//! Each model's fields are read straight from serde's stream: a known key goes to its
//! lenient reader, an unknown one into `extra` as read, and a known field that does not read
//! keeps its original for [`super::Preserved`]. Nothing goes through an intermediate `Value`
//! (the derive with `#[serde(flatten)]` buffered every object, and `Preserved` cloned the map
//! and serialized the fields again to find what did not read: 12x a `Value::clone`). From a
//! `Value` taken by value, strings and unknown keys are moved, not copied.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::Lenient;

/// A typed model read leniently from a JSON object (implemented by the crate's models).
pub trait Model: Default + serde::Serialize {
    /// What the model is, for error messages ("order").
    const NAME: &'static str;

    /// The slot of a known JSON key.
    #[doc(hidden)]
    fn slot(key: &str) -> Option<usize>;

    /// Read the field of `slot`; `Err` carries an original that did not read.
    #[doc(hidden)]
    fn read_slot<'de, D: Deserializer<'de>>(
        &mut self,
        slot: usize,
        d: D,
    ) -> Result<Result<(), Value>, D::Error>;

    /// Take the field of `slot` from a value already built; `Err` carries it back when it
    /// does not read.
    #[doc(hidden)]
    fn take_slot(&mut self, slot: usize, value: Value) -> Result<(), Value>;

    /// Where unknown fields go.
    #[doc(hidden)]
    fn extra_mut(&mut self) -> &mut Map<String, Value>;

    /// Called once the object is read, with the slots seen (bit `1 << slot`).
    #[doc(hidden)]
    fn finish(&mut self, _seen: u64, _unread: &mut Map<String, Value>) {}
}

/// Declares a model: its struct (every field, with its JSON key where that is not the field's
/// name, then `extra`), how it is
/// written (set fields in order, then `extra`; unset ones are left out) and read.
macro_rules! model {
    (
        $(#[$meta:meta])*
        pub struct $ty:ident($name:literal) {
            $($(#[$fmeta:meta])* $field:ident: $fty:ty $(= $key:literal)?,)*
        }
        extra = $edoc:literal;
        $(finish = $finish:path;)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $ty {
            $($(#[$fmeta])* pub $field: $fty,)*
            #[doc = $edoc]
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                $(
                    if !$crate::models::decode::Unset::is_unset(&self.$field) {
                        map.serialize_entry($crate::models::decode::key!($field $(, $key)?), &self.$field)?;
                    }
                )*
                for (k, v) in &self.extra {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }

        impl $crate::models::decode::Model for $ty {
            const NAME: &'static str = $name;

            fn slot(key: &str) -> Option<usize> {
                // Compared with constants, each test is a length check and a word compare.
                let mut i = 0;
                $(
                    if key == $crate::models::decode::key!($field $(, $key)?) {
                        return Some(i);
                    }
                    i += 1;
                )*
                let _ = i;
                None
            }

            fn read_slot<'de, D: serde::Deserializer<'de>>(
                &mut self,
                slot: usize,
                d: D,
            ) -> Result<Result<(), serde_json::Value>, D::Error> {
                let mut i = 0;
                $(
                    if slot == i {
                        return $crate::models::decode::read_into(&mut self.$field, d);
                    }
                    i += 1;
                )*
                let _ = i;
                Err(<D::Error as serde::de::Error>::custom("no such slot"))
            }

            fn take_slot(&mut self, slot: usize, value: serde_json::Value) -> Result<(), serde_json::Value> {
                let mut i = 0;
                $(
                    if slot == i {
                        return $crate::models::decode::take_into(&mut self.$field, value);
                    }
                    i += 1;
                )*
                let _ = i;
                Err(value)
            }

            fn extra_mut(&mut self) -> &mut serde_json::Map<String, serde_json::Value> {
                &mut self.extra
            }

            $(
                fn finish(&mut self, seen: u64, unread: &mut serde_json::Map<String, serde_json::Value>) {
                    $finish(self, seen, unread)
                }
            )?
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::models::decode::decode::<$ty, D>(d).map(|(fields, _unread)| fields)
            }
        }
    };
}
pub(crate) use model;

/// A field's JSON key: its name unless another is given.
macro_rules! key {
    ($field:ident) => {
        stringify!($field)
    };
    ($field:ident, $key:literal) => {
        $key
    };
}
pub(crate) use key;

/// A field left out when written: `None`, or an empty list.
pub(crate) trait Unset {
    fn is_unset(&self) -> bool;
}

impl<T> Unset for Option<T> {
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

impl<T> Unset for Vec<T> {
    fn is_unset(&self) -> bool {
        self.is_empty()
    }
}

/// Reads one field in place; `Err(original)` when it does not read (the field stays unset).
pub(crate) fn read_into<'de, T: Lenient, D: Deserializer<'de>>(
    field: &mut T,
    d: D,
) -> Result<Result<(), Value>, D::Error> {
    Ok(T::read(d)?.map(|v| *field = v))
}

/// Takes one field from a value already built (strings and containers move).
pub(crate) fn take_into<T: Lenient>(field: &mut T, value: Value) -> Result<(), Value> {
    T::take(value).map(|v| *field = v)
}

/// Decodes a model from an object already built, without hashing a key again: the known
/// fields are taken out of the map and what is left becomes `extra` (`retain` keeps the
/// order and rebuilds the index from the hashes it stored).
pub(crate) fn take_map<T: Model>(mut map: Map<String, Value>) -> (T, Map<String, Value>) {
    let mut fields = T::default();
    let mut unread = Map::new();
    let mut seen = 0u64;
    map.retain(|key, value| {
        let Some(slot) = T::slot(key) else {
            return true;
        };
        seen |= 1u64.checked_shl(slot as u32).unwrap_or(0);
        if let Err(original) = fields.take_slot(slot, std::mem::take(value)) {
            if !original.is_null() {
                unread.insert(key.clone(), original);
            }
        }
        false
    });
    *fields.extra_mut() = map;
    fields.finish(seen, &mut unread);
    (fields, unread)
}

/// Decodes a model and the originals of its fields that did not read.
pub(crate) fn decode<'de, T: Model, D: Deserializer<'de>>(
    d: D,
) -> Result<(T, Map<String, Value>), D::Error> {
    d.deserialize_map(ModelVisitor(PhantomData))
}

struct ModelVisitor<T>(PhantomData<T>);

impl<'de, T: Model> Visitor<'de> for ModelVisitor<T> {
    type Value = (T, Map<String, Value>);

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a JSON object ({})", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_map(map)
    }
}

pub(super) fn read_map<'de, T: Model, A: MapAccess<'de>>(
    mut map: A,
) -> Result<(T, Map<String, Value>), A::Error> {
    let mut fields = T::default();
    let mut unread = Map::new();
    // Unknown fields are gathered first and the map built once at its size (no regrowth).
    let mut extra = Vec::with_capacity(map.size_hint().unwrap_or(8));
    let mut seen = 0u64;
    while let Some(key) = map.next_key_seed(KeySeed)? {
        match T::slot(&key) {
            Some(slot) => {
                seen |= 1u64.checked_shl(slot as u32).unwrap_or(0);
                let field = FieldSeed {
                    fields: &mut fields,
                    slot,
                };
                if let Err(original) = map.next_value_seed(field)? {
                    if !original.is_null() {
                        unread.insert(key.into_owned(), original);
                    }
                }
            }
            None => {
                let value: Value = map.next_value()?;
                extra.push((key.into_owned(), value));
            }
        }
    }
    *fields.extra_mut() = extra.into_iter().collect();
    fields.finish(seen, &mut unread);
    Ok((fields, unread))
}

/// A key, borrowed from the text when it can be (known keys are then never copied).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn into_owned(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl std::ops::Deref for Key<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

struct FieldSeed<'a, T> {
    fields: &'a mut T,
    slot: usize,
}

impl<'de, T: Model> DeserializeSeed<'de> for FieldSeed<'_, T> {
    type Value = Result<(), Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.fields.read_slot(self.slot, d)
    }
}
