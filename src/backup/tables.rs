//! What a backup holds: the store's tables, their columns (read from SQLite, so a later
//! migration that adds a column needs no change here), the order rows are written in, and how
//! a `merge` restore treats a row that is already there.

use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde_json::Value;

use crate::error::{Error, Result};

/// How a `merge` restore treats a backed-up row whose key is already in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergePolicy {
    /// Take the backed-up row only when its `synced_at` is newer: a merge never rolls fresher
    /// data back.
    NewerSyncedAt,
    /// Keep the store's row (a checkpoint in the store describes the store's own rows).
    KeepExisting,
    /// Sync-log rows: insert with a fresh id unless a row with the same kind, scope and start
    /// exists.
    AppendLog,
}

/// One table a backup can hold.
#[derive(Debug, Clone, Copy)]
pub struct TableSpec {
    /// The name in the store, and in `include`.
    pub name: &'static str,
    /// The name callers use in `include` (the sync log is `sync_log`).
    pub include_name: &'static str,
    /// Primary key columns, the order rows are written in.
    pub key: &'static [&'static str],
    /// Merge behaviour.
    pub merge: MergePolicy,
}

/// The tables, in the order they are written.
pub const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "orders",
        include_name: "orders",
        key: &["platform", "account", "order_id"],
        merge: MergePolicy::NewerSyncedAt,
    },
    TableSpec {
        name: "offers",
        include_name: "offers",
        key: &["platform", "account", "offer_id"],
        merge: MergePolicy::NewerSyncedAt,
    },
    TableSpec {
        name: "sync_runs",
        include_name: "sync_log",
        key: &["id"],
        merge: MergePolicy::AppendLog,
    },
    TableSpec {
        name: "checkpoints",
        include_name: "checkpoints",
        key: &["platform", "account", "kind"],
        merge: MergePolicy::KeepExisting,
    },
];

/// The tables backed up when `include` is not given: all of them. Checkpoints go with the
/// orders they describe: restoring orders without them would let the next incremental sync
/// skip every change made after the backup.
pub fn default_include() -> Vec<&'static TableSpec> {
    TABLES.iter().collect()
}

/// Resolve `include` names (`orders`, `offers`, `sync_log` or `sync_runs`, `checkpoints`).
pub fn resolve_include(names: &[String]) -> Result<Vec<&'static TableSpec>> {
    if names.is_empty() {
        return Err(Error::invalid_argument(
            "include is empty: name at least one of orders, offers, sync_log, checkpoints",
        ));
    }
    let mut out: Vec<&'static TableSpec> = Vec::new();
    for name in names {
        let spec = TABLES
            .iter()
            .find(|t| t.include_name == name || t.name == name)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "include: unknown table {name:?} (known: orders, offers, sync_log, checkpoints)"
                ))
            })?;
        if !out.iter().any(|t| t.name == spec.name) {
            out.push(spec);
        }
    }
    // Always in the canonical order, whatever order the caller named them in.
    out.sort_by_key(|t| TABLES.iter().position(|x| x.name == t.name));
    Ok(out)
}

/// The spec of a table by its store name.
pub fn spec(name: &str) -> Option<&'static TableSpec> {
    TABLES.iter().find(|t| t.name == name)
}

/// A column as SQLite declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Name.
    pub name: String,
    /// `NOT NULL` without a default: a row must carry it.
    pub required: bool,
}

/// The columns of a table in the store, in declaration order.
pub fn columns(conn: &Connection, table: &str) -> Result<Vec<Column>> {
    let mut stmt = conn.prepare(&format!("PRAGMA main.table_info({table})"))?;
    let cols = stmt
        .query_map([], |r| {
            let notnull: i64 = r.get(3)?;
            let default: Option<String> = r.get(4)?;
            let pk: i64 = r.get(5)?;
            Ok(Column {
                name: r.get(1)?,
                // An INTEGER PRIMARY KEY is assigned when absent.
                required: notnull != 0 && default.is_none() && pk == 0,
            })
        })?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if cols.is_empty() {
        return Err(Error::backup(format!("the store has no table {table:?}")));
    }
    Ok(cols)
}

/// A SQLite value as JSON (the backup's encoding). Blobs become `{"base64": "..."}`.
pub fn to_json(value: SqlValue) -> Result<Value> {
    Ok(match value {
        SqlValue::Null => Value::Null,
        SqlValue::Integer(i) => Value::from(i),
        SqlValue::Real(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| Error::backup(format!("a REAL value {f} cannot be written as JSON")))?,
        SqlValue::Text(s) => Value::String(s),
        SqlValue::Blob(b) => {
            use base64::Engine as _;
            serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
        }
    })
}

/// JSON back to a SQLite value; anything else is a structural error.
pub fn from_json(value: Value) -> std::result::Result<SqlValue, String> {
    Ok(match value {
        Value::Null => SqlValue::Null,
        Value::Bool(b) => SqlValue::Integer(i64::from(b)),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                SqlValue::Integer(i)
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
                SqlValue::Real(f)
            } else {
                return Err(format!("number {n} is out of range"));
            }
        }
        Value::String(s) => SqlValue::Text(s),
        Value::Object(map) => {
            use base64::Engine as _;
            match (map.len(), map.get("base64").and_then(Value::as_str)) {
                (1, Some(text)) => SqlValue::Blob(
                    base64::engine::general_purpose::STANDARD
                        .decode(text)
                        .map_err(|e| format!("bad base64 blob: {e}"))?,
                ),
                _ => return Err("an object is not a column value".into()),
            }
        }
        Value::Array(_) => return Err("a list is not a column value".into()),
    })
}
