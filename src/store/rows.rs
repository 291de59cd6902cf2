//! Reading stored orders and offers by filter: what an ERP needs so it never has to open the
//! store with another SQLite library (see [`super::Store::check_wal`] for why that is unsafe).
//!
//! Rows come in pages keyed by a cursor (the row's `rowid`, which an update keeps), so a
//! caller iterating a large store holds one page at a time and never blocks the writer.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::Value as SqlValue;
use serde::Deserialize;

use super::{Scope, SqliteStore};
use crate::error::{Error, Result};
use crate::platform::Platform;

/// The largest page [`Store::orders`](super::Store::orders) and [`Store::offers`](super::Store::offers) return at once.
pub const MAX_PAGE: u64 = 10_000;

/// Which stored orders to read. Every field is optional; all given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderQuery {
    /// One platform and account, or all.
    pub scope: Option<Scope>,
    /// Any of these statuses.
    pub status: Option<Vec<i64>>,
    /// This `type` (2 or 3).
    pub kind: Option<i64>,
    /// Modified at or after this instant (UTC `YYYY-mm-ddTHH:MM:SSZ`; see [`utc_instant`]).
    pub modified_since: Option<String>,
    /// Only rows after this cursor (a [`StoredRow::cursor`] of an earlier page).
    pub after: Option<i64>,
    /// At most this many rows (1 to [`MAX_PAGE`]; default [`MAX_PAGE`]).
    pub limit: Option<u64>,
}

/// Which stored offers to read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OfferQuery {
    /// One platform and account, or all.
    pub scope: Option<Scope>,
    /// Any of these statuses.
    pub status: Option<Vec<i64>>,
    /// Synced at or after this instant (UTC; see [`utc_instant`]).
    pub synced_since: Option<String>,
    /// Only rows after this cursor.
    pub after: Option<i64>,
    /// At most this many rows (1 to [`MAX_PAGE`]; default [`MAX_PAGE`]).
    pub limit: Option<u64>,
}

/// One stored order or offer: its JSON text exactly as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRow {
    /// Where the next page starts (pass as `after`).
    pub cursor: i64,
    /// eMAG's id.
    pub id: i64,
    /// The JSON text.
    pub data: String,
}

/// An instant as the store compares it (`YYYY-mm-ddTHH:MM:SSZ`): RFC 3339 with any offset,
/// or `YYYY-mm-dd HH:MM:SS` / `YYYY-mm-ddTHH:MM:SS` / `YYYY-mm-dd` read as UTC.
pub fn utc_instant(text: &str, name: &str) -> Result<String> {
    let t = text.trim();
    let parsed = DateTime::parse_from_rfc3339(t)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M:%S%.f",
                "%Y-%m-%dT%H:%M:%S%.f",
            ]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })
            .map(|n| n.and_utc())
        })
        .ok_or_else(|| {
            Error::invalid_argument(format!(
                "{name}: {t:?} is not a date-time (ISO 8601, e.g. 2025-09-15T12:00:00Z)"
            ))
        })?;
    Ok(parsed.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(crate) fn check_limit(limit: Option<u64>) -> Result<i64> {
    match limit {
        None => Ok(MAX_PAGE as i64),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n as i64),
        Some(n) => Err(Error::invalid_argument(format!(
            "limit: must be from 1 to {MAX_PAGE}, got {n}"
        ))),
    }
}

/// The `WHERE` clause and its values, built from fixed column names only.
struct Filter {
    clauses: Vec<String>,
    values: Vec<SqlValue>,
}

impl Filter {
    fn new(scope: &Option<Scope>, after: Option<i64>) -> Self {
        let mut f = Filter {
            clauses: vec!["1 = 1".into()],
            values: Vec::new(),
        };
        if let Some(s) = scope {
            f.eq("platform", SqlValue::Text(s.platform.code().to_owned()));
            f.eq("account", SqlValue::Text(s.account.clone()));
        }
        if let Some(after) = after {
            f.values.push(SqlValue::Integer(after));
            f.clauses.push(format!("rowid > ?{}", f.values.len()));
        }
        f
    }

    fn eq(&mut self, column: &'static str, value: SqlValue) {
        self.values.push(value);
        self.clauses
            .push(format!("{column} = ?{}", self.values.len()));
    }

    fn at_least(&mut self, column: &'static str, value: String) {
        self.values.push(SqlValue::Text(value));
        self.clauses
            .push(format!("{column} >= ?{}", self.values.len()));
    }

    fn any_of(&mut self, column: &'static str, values: &[i64]) -> Result<()> {
        if values.is_empty() || values.len() > 16 {
            return Err(Error::invalid_argument(
                "status: give one status or a list of 1 to 16",
            ));
        }
        let mut marks = Vec::new();
        for v in values {
            self.values.push(SqlValue::Integer(*v));
            marks.push(format!("?{}", self.values.len()));
        }
        self.clauses
            .push(format!("{column} IN ({})", marks.join(", ")));
        Ok(())
    }
}

impl SqliteStore {
    /// Stored orders matching `query`, oldest stored first, at most `limit` (one page: pass
    /// the last row's cursor as `after` for the next one).
    pub fn orders(&self, query: &OrderQuery) -> Result<Vec<StoredRow>> {
        let limit = check_limit(query.limit)?;
        let mut f = Filter::new(&query.scope, query.after);
        if let Some(status) = &query.status {
            f.any_of("status", status)?;
        }
        if let Some(kind) = query.kind {
            f.eq("type", SqlValue::Integer(kind));
        }
        if let Some(since) = &query.modified_since {
            f.at_least("modified_at", utc_instant(since, "modified_since")?);
        }
        self.rows("orders", "order_id", f, limit)
    }

    /// Stored offers matching `query` (as [`Store::orders`](super::Store::orders)).
    pub fn offers(&self, query: &OfferQuery) -> Result<Vec<StoredRow>> {
        let limit = check_limit(query.limit)?;
        let mut f = Filter::new(&query.scope, query.after);
        if let Some(status) = &query.status {
            f.any_of("status", status)?;
        }
        if let Some(since) = &query.synced_since {
            f.at_least("synced_at", utc_instant(since, "synced_since")?);
        }
        self.rows("offers", "offer_id", f, limit)
    }

    fn rows(
        &self,
        table: &'static str,
        id: &'static str,
        mut f: Filter,
        limit: i64,
    ) -> Result<Vec<StoredRow>> {
        f.values.push(SqlValue::Integer(limit));
        let sql = format!(
            "SELECT rowid, {id}, data FROM {table} WHERE {} ORDER BY rowid LIMIT ?{}",
            f.clauses.join(" AND "),
            f.values.len()
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(f.values.iter()), |r| {
                Ok(StoredRow {
                    cursor: r.get(0)?,
                    id: r.get(1)?,
                    data: r.get(2)?,
                })
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// The JSON form of a query (the C face): `{"platform": "emag_ro", "account": "main",
/// "status": [1, 2], "type": 3, "modified_since": "2025-09-01T00:00:00Z", "after": 0,
/// "limit": 500}`, every key optional; unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireQuery {
    platform: Option<String>,
    account: Option<String>,
    status: Option<StatusWire>,
    #[serde(rename = "type")]
    kind: Option<i64>,
    modified_since: Option<String>,
    synced_since: Option<String>,
    after: Option<i64>,
    limit: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StatusWire {
    One(i64),
    Many(Vec<i64>),
}

fn wire(text: &str, what: &str) -> Result<(WireQuery, Option<Scope>, Option<Vec<i64>>)> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    let w: WireQuery = serde_json::from_str(text)
        .map_err(|e| Error::invalid_argument(format!("{what} query: {e}")))?;
    let scope = match (&w.platform, &w.account) {
        (None, None) => None,
        (p, a) => Some(Scope::new(
            p.as_deref().unwrap_or("emag_ro").parse::<Platform>()?,
            a.as_deref().unwrap_or("main"),
        )),
    };
    let status = w.status.as_ref().map(|s| match s {
        StatusWire::One(v) => vec![*v],
        StatusWire::Many(v) => v.clone(),
    });
    Ok((w, scope, status))
}

impl OrderQuery {
    /// A query from its JSON form (see the C header).
    pub fn from_json(text: &str) -> Result<OrderQuery> {
        let (w, scope, status) = wire(text, "orders")?;
        if w.synced_since.is_some() {
            return Err(Error::invalid_argument(
                "orders query: synced_since is for offers; use modified_since",
            ));
        }
        Ok(OrderQuery {
            scope,
            status,
            kind: w.kind,
            modified_since: w.modified_since,
            after: w.after,
            limit: w.limit,
        })
    }
}

impl OfferQuery {
    /// A query from its JSON form (see the C header).
    pub fn from_json(text: &str) -> Result<OfferQuery> {
        let (w, scope, status) = wire(text, "offers")?;
        if w.kind.is_some() || w.modified_since.is_some() {
            return Err(Error::invalid_argument(
                "offers query: type and modified_since are for orders",
            ));
        }
        Ok(OfferQuery {
            scope,
            status,
            synced_since: w.synced_since,
            after: w.after,
            limit: w.limit,
        })
    }
}
