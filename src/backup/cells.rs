//! A row line's values read straight into SQL values (restore) or only checked (verify),
//! without a `serde_json::Value` in between: the order JSON in each row is one long escaped
//! string, and building a `Value` per row only to convert it again cost a third of a restore.
//!
//! The rules are [`super::tables::from_json`]'s: null, booleans as 0/1, integers, finite
//! floats, text, and `{"base64": "..."}` for blobs; anything else is a bad cell, reported with
//! its column's name by the caller.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use rusqlite::types::Value as SqlValue;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One cell: its value (when built), or what is wrong with it.
#[derive(Debug)]
pub enum Cell {
    /// The value, ready to bind (restore).
    Value(SqlValue),
    /// Well-formed, not kept (verify).
    Checked,
    /// Not a column value: why.
    Bad(String),
}

/// A cell read by a visitor that builds values when `BUILD`, and only checks them otherwise.
pub struct CellOf<const BUILD: bool>(pub Cell);

/// A row line: `{"t": table, "v": [cells]}`.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "C: Deserialize<'de>"))]
pub struct RowLine<'a, C> {
    /// The table.
    #[serde(borrow)]
    pub t: Cow<'a, str>,
    /// The cells.
    pub v: Vec<C>,
}

struct CellVisitor<const BUILD: bool>(PhantomData<()>);

impl<const BUILD: bool> CellVisitor<BUILD> {
    fn keep(v: SqlValue) -> Cell {
        if BUILD {
            Cell::Value(v)
        } else {
            Cell::Checked
        }
    }
}

impl<'de, const BUILD: bool> Visitor<'de> for CellVisitor<BUILD> {
    type Value = Cell;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a column value")
    }

    fn visit_unit<E>(self) -> Result<Cell, E> {
        Ok(Self::keep(SqlValue::Null))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Cell, E> {
        Ok(Self::keep(SqlValue::Integer(i64::from(b))))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Cell, E> {
        Ok(Self::keep(SqlValue::Integer(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Cell, E> {
        Ok(Self::keep(match i64::try_from(v) {
            Ok(i) => SqlValue::Integer(i),
            Err(_) => SqlValue::Real(v as f64),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Cell, E> {
        if v.is_finite() {
            Ok(Self::keep(SqlValue::Real(v)))
        } else {
            Ok(Cell::Bad(format!("number {v} is out of range")))
        }
    }

    fn visit_str<E>(self, s: &str) -> Result<Cell, E> {
        Ok(if BUILD {
            Cell::Value(SqlValue::Text(s.to_owned()))
        } else {
            Cell::Checked
        })
    }

    fn visit_string<E>(self, s: String) -> Result<Cell, E> {
        Ok(Self::keep(SqlValue::Text(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Cell, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Cell::Bad("a list is not a column value".into()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cell, A::Error> {
        // Blobs are rare: read the object whole and let the one conversion rule decide.
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            object.insert(key, map.next_value::<Value>()?);
        }
        Ok(match super::tables::from_json(Value::Object(object)) {
            Ok(v) => Self::keep(v),
            Err(why) => Cell::Bad(why),
        })
    }
}

impl<'de, const BUILD: bool> Deserialize<'de> for CellOf<BUILD> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CellVisitor::<BUILD>(PhantomData))
            .map(CellOf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(text: &str) -> Vec<Cell> {
        let row: RowLine<'_, CellOf<true>> = serde_json::from_str(text).unwrap();
        row.v.into_iter().map(|c| c.0).collect()
    }

    #[test]
    fn cells_follow_the_conversion_rules_of_from_json() {
        let text = r#"{"t":"orders","v":[null,true,-5,18446744073709551615,1.5,"a\"b",{"base64":"AAE="},[1],{"x":1},{"base64":"!"}]}"#;
        let cells = build(text);
        let value: Value = serde_json::from_str(text).unwrap();
        for (cell, v) in cells.iter().zip(value["v"].as_array().unwrap()) {
            match (cell, super::super::tables::from_json(v.clone())) {
                (Cell::Value(a), Ok(b)) => assert_eq!(a, &b),
                (Cell::Bad(a), Err(b)) => assert_eq!(a, &b),
                (a, b) => panic!("{a:?} vs {b:?} for {v}"),
            }
        }
        let checked: RowLine<'_, CellOf<false>> = serde_json::from_str(text).unwrap();
        assert_eq!(checked.t, "orders");
        let bad = checked
            .v
            .iter()
            .filter(|c| matches!(c.0, Cell::Bad(_)))
            .count();
        assert_eq!(bad, 3);
        assert!(checked
            .v
            .iter()
            .all(|c| matches!(c.0, Cell::Checked | Cell::Bad(_))));
    }
}
