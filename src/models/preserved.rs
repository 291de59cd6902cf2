//! [`Preserved<T>`]: a typed view that writes back exactly what it read.

use std::ops::{Deref, DerefMut};

use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::decode::{decode, take_map, Model};
use crate::error::{Error, Result};

/// A typed model `T` plus the originals of the fields `T` could not read.
///
/// `T` keeps unknown fields itself (a `#[serde(flatten)] extra` map). Fields that `T` knows
/// but could not read (a string where a number was documented, say) read as `None`; their
/// original values are kept here and written back unless the caller set the field.
#[derive(Debug, Clone, PartialEq)]
pub struct Preserved<T> {
    fields: T,
    unread: Map<String, Value>,
}

impl<T> Preserved<T> {
    /// The originals that did not read into the typed fields.
    pub fn unread(&self) -> &Map<String, Value> {
        &self.unread
    }

    /// The typed fields.
    pub fn into_inner(self) -> T {
        self.fields
    }
}

impl<T> Deref for Preserved<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.fields
    }
}

impl<T> DerefMut for Preserved<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.fields
    }
}

impl<T> Preserved<T> {
    pub(crate) fn from_parts(fields: T, unread: Map<String, Value>) -> Self {
        Preserved { fields, unread }
    }
}

impl<T: Model> Preserved<T> {
    /// Read from a JSON value (never fails on schema drift; only a non-object is refused).
    /// The value's strings move into the model, nothing is copied.
    pub fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Object(map) => Self::from_map(map)
                .map_err(|e| Error::invalid_argument(format!("reading {}: {e}", T::NAME))),
            other => Err(Error::invalid_argument(format!(
                "{} must be a JSON object, got {other}",
                T::NAME
            ))),
        }
    }

    /// Read from a JSON object.
    pub fn from_map(raw: Map<String, Value>) -> std::result::Result<Self, serde_json::Error> {
        let (fields, unread) = take_map(raw);
        Ok(Preserved { fields, unread })
    }

    /// Write back as JSON: every field that was read, with the changes made.
    pub fn to_value(&self) -> Result<Value> {
        self.to_map()
            .map(Value::Object)
            .map_err(|e| Error::internal(format!("writing {}: {e}", T::NAME)))
    }

    /// Write back as a JSON object.
    pub fn to_map(&self) -> std::result::Result<Map<String, Value>, serde_json::Error> {
        let mut out = match serde_json::to_value(&self.fields)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        for (k, v) in &self.unread {
            if out.get(k).is_none_or(Value::is_null) {
                out.insert(k.clone(), v.clone());
            }
        }
        Ok(out)
    }
}

/// Read straight from JSON text (`text.parse::<Order>()`), without building a `Value`.
impl<T: Model> FromStr for Preserved<T> {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("reading {}: {e}", T::NAME)))
    }
}

impl<T: Model> Serialize for Preserved<T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_map()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de, T: Model> Deserialize<'de> for Preserved<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decode::<T, D>(d).map(|(fields, unread)| Preserved { fields, unread })
    }
}
