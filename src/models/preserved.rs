//! [`Preserved<T>`]: a typed view that writes back exactly what it read.

use std::ops::{Deref, DerefMut};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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

impl<T: Serialize + DeserializeOwned> Preserved<T> {
    /// Read from a JSON object.
    pub fn from_map(raw: Map<String, Value>) -> Result<Self, serde_json::Error> {
        let fields: T = serde_json::from_value(Value::Object(raw.clone()))?;
        let typed = match serde_json::to_value(&fields)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let unread = raw
            .into_iter()
            .filter(|(k, v)| !v.is_null() && typed.get(k).is_none_or(Value::is_null))
            .collect();
        Ok(Preserved { fields, unread })
    }

    /// Write back as a JSON object.
    pub fn to_map(&self) -> Result<Map<String, Value>, serde_json::Error> {
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

impl<T: Serialize + DeserializeOwned> Serialize for Preserved<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map()
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

impl<'de, T: Serialize + DeserializeOwned> Deserialize<'de> for Preserved<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Map::<String, Value>::deserialize(d)?;
        Preserved::from_map(raw).map_err(serde::de::Error::custom)
    }
}
