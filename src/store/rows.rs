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

fn check_limit(limit: Option<u64>) -> Result<i64> {
    match limit {
        None => Ok(MAX_PAGE as i64),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n as i64),
        Some(n) => Err(Error::invalid_argument(format!(
            "limit: must be from 1 to {MAX_PAGE}, got {n}"
        ))),
    }
}

/// One condition of a read, on a fixed column name; each engine renders it in its SQL.
pub(crate) enum Cond {
    /// `column = text`.
    Text(&'static str, String),
    /// `column = integer`.
    Int(&'static str, i64),
    /// `column >= instant` (ISO-8601 text compares in time order).
    AtLeast(&'static str, String),
    /// `column` is one of (1 to 16 values).
    AnyOf(&'static str, Vec<i64>),
    /// Past the cursor (the engine's row id).
    After(i64),
}

/// A table of stored rows and its column of eMAG's id (named once for both engines).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table {
    pub name: &'static str,
    pub id: &'static str,
}

/// The stored orders.
pub(crate) const ORDERS: Table = Table {
    name: "orders",
    id: "order_id",
};

/// The stored offers.
pub(crate) const OFFERS: Table = Table {
    name: "offers",
    id: "offer_id",
};

/// A read of the stored orders or offers, engine-neutral: the table, the conditions (all
/// must hold) and the page size.
pub(crate) struct Read {
    pub table: Table,
    pub conds: Vec<Cond>,
    pub limit: i64,
}

impl Read {
    fn new(
        table: Table,
        scope: &Option<Scope>,
        after: Option<i64>,
        status: &Option<Vec<i64>>,
        limit: Option<u64>,
    ) -> Result<Read> {
        let mut conds = Vec::new();
        if let Some(s) = scope {
            conds.push(Cond::Text("platform", s.platform.code().to_owned()));
            conds.push(Cond::Text("account", s.account.clone()));
        }
        if let Some(after) = after {
            conds.push(Cond::After(after));
        }
        if let Some(values) = status {
            if values.is_empty() || values.len() > 16 {
                return Err(Error::invalid_argument(
                    "status: give one status or a list of 1 to 16",
                ));
            }
            conds.push(Cond::AnyOf("status", values.clone()));
        }
        Ok(Read {
            table,
            conds,
            limit: check_limit(limit)?,
        })
    }

    /// The read `query` asks for.
    pub fn orders(query: &OrderQuery) -> Result<Read> {
        let mut read = Read::new(
            ORDERS,
            &query.scope,
            query.after,
            &query.status,
            query.limit,
        )?;
        if let Some(kind) = query.kind {
            read.conds.push(Cond::Int("type", kind));
        }
        if let Some(since) = &query.modified_since {
            let since = utc_instant(since, "modified_since")?;
            read.conds.push(Cond::AtLeast("modified_at", since));
        }
        Ok(read)
    }

    /// The read `query` asks for.
    pub fn offers(query: &OfferQuery) -> Result<Read> {
        let mut read = Read::new(
            OFFERS,
            &query.scope,
            query.after,
            &query.status,
            query.limit,
        )?;
        if let Some(since) = &query.synced_since {
            let since = utc_instant(since, "synced_since")?;
            read.conds.push(Cond::AtLeast("synced_at", since));
        }
        Ok(read)
    }
}

impl SqliteStore {
    /// Stored orders matching `query`, oldest stored first, at most `limit` (one page: pass
    /// the last row's cursor as `after` for the next one).
    pub fn orders(&self, query: &OrderQuery) -> Result<Vec<StoredRow>> {
        self.rows(Read::orders(query)?)
    }

    /// Stored offers matching `query` (as [`Store::orders`](super::Store::orders)).
    pub fn offers(&self, query: &OfferQuery) -> Result<Vec<StoredRow>> {
        self.rows(Read::offers(query)?)
    }

    fn rows(&self, read: Read) -> Result<Vec<StoredRow>> {
        let mut values: Vec<SqlValue> = Vec::new();
        let mut clauses = vec!["1 = 1".to_owned()];
        let mut mark = |v: SqlValue| {
            values.push(v);
            format!("?{}", values.len())
        };
        for cond in read.conds {
            clauses.push(match cond {
                Cond::Text(c, v) => format!("{c} = {}", mark(SqlValue::Text(v))),
                Cond::Int(c, v) => format!("{c} = {}", mark(SqlValue::Integer(v))),
                Cond::AtLeast(c, v) => format!("{c} >= {}", mark(SqlValue::Text(v))),
                Cond::AnyOf(c, vs) => {
                    let marks: Vec<String> =
                        vs.into_iter().map(|v| mark(SqlValue::Integer(v))).collect();
                    format!("{c} IN ({})", marks.join(", "))
                }
                Cond::After(v) => format!("rowid > {}", mark(SqlValue::Integer(v))),
            });
        }
        let limit = mark(SqlValue::Integer(read.limit));
        let sql = format!(
            "SELECT rowid, {}, data FROM {} WHERE {} ORDER BY rowid LIMIT {limit}",
            read.table.id,
            read.table.name,
            clauses.join(" AND "),
        );
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values.iter()), |r| {
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
