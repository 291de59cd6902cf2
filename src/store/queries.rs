//! Reads and the sync log: what the ERP's management surface needs.

use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::rows::{Table, OFFERS, ORDERS};
use super::{now_utc, Scope, SqliteStore};
use crate::error::{Error, Result};

/// One row of the sync log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncRun {
    /// Row id.
    pub id: i64,
    /// `orders` or `offers`.
    pub kind: String,
    /// Platform code.
    pub platform: String,
    /// Account label.
    pub account: String,
    /// UTC start.
    pub started_at: String,
    /// UTC end (None while running).
    pub finished_at: Option<String>,
    /// `running`, `success`, `failed`, `cancelled`, `interrupted` (stopped by its progress
    /// callback, e.g. Ctrl-C) or `abandoned` (its process ended before it finished).
    pub status: String,
    /// Pages read.
    pub pages: u64,
    /// Items read.
    pub fetched: u64,
    /// New rows.
    pub created: u64,
    /// Changed rows.
    pub updated: u64,
    /// Same rows.
    pub unchanged: u64,
    /// Items that could not be stored.
    pub failed: u64,
    /// Orders acknowledged.
    pub acknowledged: u64,
    /// Seconds.
    pub duration_s: Option<f64>,
    /// Error text of a failed run (never a secret).
    pub error: Option<String>,
}

/// Sync statistics over a recent period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncStats {
    /// The period, in hours.
    pub hours: u32,
    /// Finished runs.
    pub total: u64,
    /// Successful runs.
    pub successful: u64,
    /// Failed runs (abandoned ones included: their process was killed or crashed).
    pub failed: u64,
    /// successful / total (1.0 with no runs: no traffic is not a failure).
    pub success_rate: f64,
    /// Mean duration of finished runs, seconds.
    pub average_duration_s: f64,
    /// Items fetched by those runs.
    pub items_processed: u64,
}

/// Offer ("product") statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProductStats {
    /// All offers.
    pub total: u64,
    /// Status 1.
    pub active: u64,
    /// Status 0 or 2.
    pub inactive: u64,
    /// Offers per `platform/account`.
    pub by_account: Vec<(String, u64)>,
    /// Offers synced in the last 24 h.
    pub synced_last_24h: u64,
}

impl SqliteStore {
    /// The number of stored orders (of one scope, or all).
    pub fn count_orders(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count(ORDERS, scope)
    }

    /// The number of stored offers (of one scope, or all).
    pub fn count_offers(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count(OFFERS, scope)
    }

    fn count(&self, table: Table, scope: Option<&Scope>) -> Result<u64> {
        let table = table.name;
        let conn = self.read()?;
        let n: i64 = match scope {
            None => conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?,
            Some(s) => conn.query_row(
                &format!("SELECT count(*) FROM {table} WHERE platform = ?1 AND account = ?2"),
                params![s.platform.code(), s.account],
                |r| r.get(0),
            )?,
        };
        Ok(n as u64)
    }

    /// An order's JSON text exactly as stored (as eMAG sent it, for orders a sync stored).
    pub fn get_order_text(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        self.data_of(ORDERS, order_id, scope)
    }

    /// An offer's JSON text as stored.
    pub fn get_offer_text(&self, offer_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        self.data_of(OFFERS, offer_id, scope)
    }

    /// The text of one row by id (of one scope, or the first of any).
    fn data_of(&self, table: Table, value: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        let Table { name, id } = table;
        let conn = self.read()?;
        let text = match scope {
            None => conn
                .query_row(
                    &format!("SELECT data FROM {name} WHERE {id} = ?1 ORDER BY platform, account LIMIT 1"),
                    params![value],
                    |r| r.get(0),
                )
                .optional()?,
            Some(s) => conn
                .query_row(
                    &format!("SELECT data FROM {name} WHERE platform = ?1 AND account = ?2 AND {id} = ?3"),
                    params![s.platform.code(), s.account, value],
                    |r| r.get(0),
                )
                .optional()?,
        };
        Ok(text)
    }

    /// Order counts per status (of one scope, or all).
    pub fn order_status_counts(&self, scope: Option<&Scope>) -> Result<Vec<(i64, u64)>> {
        let conn = self.read()?;
        let mut out = Vec::new();
        let (sql, args): (&str, Vec<String>) = match scope {
            None => ("SELECT coalesce(status, -1), count(*) FROM orders GROUP BY 1 ORDER BY 1", vec![]),
            Some(s) => (
                "SELECT coalesce(status, -1), count(*) FROM orders WHERE platform = ?1 AND account = ?2 GROUP BY 1 ORDER BY 1",
                vec![s.platform.code().to_owned(), s.account.clone()],
            ),
        };
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
        })?;
        for row in rows {
            out.push(row?);
        }
        Ok(out)
    }

    /// Start a sync-log row, owned by this process; returns its id. Runs left `running` by a
    /// process that is gone are marked abandoned first.
    pub fn begin_sync_run(&self, kind: &str, scope: &Scope) -> Result<i64> {
        self.mark_abandoned_runs()?;
        let conn = self.write()?;
        conn.execute(
            "INSERT INTO sync_runs (kind, platform, account, started_at, status, owner) VALUES (?1, ?2, ?3, ?4, 'running', ?5)",
            params![kind, scope.platform.code(), scope.account, now_utc(), super::owner::current()],
        )?;
        Ok(conn.last_insert_rowid())
    }

    /// The store's generation: bumped by every restore (a sync checks it before each page).
    pub fn generation(&self) -> Result<i64> {
        super::generation_of(&*self.read()?)
    }

    /// Mark every run left `running` by a process that is gone (killed, crashed, a host that
    /// rebooted) as `abandoned`, keeping the counts its pages wrote. Returns how many.
    pub fn mark_abandoned_runs(&self) -> Result<u64> {
        let running: Vec<(i64, Option<String>)> = {
            let conn = self.read()?;
            let mut stmt = conn.prepare_cached(
                "SELECT id, owner FROM sync_runs INDEXED BY sync_runs_running WHERE status = 'running'",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            rows
        };
        let dead: Vec<i64> = running
            .into_iter()
            // Rows written before owners were recorded cannot be running any more.
            .filter(|(_, owner)| owner.as_deref().is_none_or(super::owner::is_dead))
            .map(|(id, _)| id)
            .collect();
        if dead.is_empty() {
            return Ok(0);
        }
        let conn = self.write()?;
        let now = now_utc();
        let mut n = 0;
        for id in dead {
            n += conn.execute(
                "UPDATE sync_runs SET status = 'abandoned', finished_at = ?2,
                     error = 'the process running this sync ended before it finished (killed or crashed)'
                 WHERE id = ?1 AND status = 'running'",
                params![id, now],
            )? as u64;
        }
        Ok(n)
    }

    /// Whether a sync of this store is running, in this process or another one alive on this
    /// host (runs of dead processes are marked abandoned first).
    pub fn sync_in_progress(&self) -> Result<bool> {
        self.mark_abandoned_runs()?;
        let n: i64 = self.read()?.query_row(
            "SELECT count(*) FROM sync_runs INDEXED BY sync_runs_running WHERE status = 'running'",
            [],
            |r| r.get(0),
        )?;
        Ok(n > 0)
    }

    /// End a run that was stopped from outside (its future dropped, e.g. an asyncio task
    /// cancelled): `cancelled`, keeping the counts its pages wrote.
    pub fn cancel_sync_run(&self, run_id: i64, duration_s: f64) -> Result<()> {
        self.write()?.execute(
            "UPDATE sync_runs SET status = 'cancelled', finished_at = ?2, duration_s = ?3,
                 error = 'cancelled before it finished'
             WHERE id = ?1 AND status = 'running'",
            params![run_id, now_utc(), duration_s],
        )?;
        Ok(())
    }

    /// Finish a sync-log row with its counts and status.
    pub fn finish_sync_run(&self, run: &SyncRun) -> Result<()> {
        let conn = self.write()?;
        conn.execute(
            "UPDATE sync_runs SET finished_at = ?2, status = ?3, pages = ?4, fetched = ?5, created = ?6,
                 updated = ?7, unchanged = ?8, failed = ?9, acknowledged = ?10, duration_s = ?11, error = ?12
             WHERE id = ?1",
            params![
                run.id,
                now_utc(),
                run.status,
                run.pages as i64,
                run.fetched as i64,
                run.created as i64,
                run.updated as i64,
                run.unchanged as i64,
                run.failed as i64,
                run.acknowledged as i64,
                run.duration_s,
                run.error,
            ],
        )?;
        Ok(())
    }

    /// The latest sync-log rows, newest first.
    pub fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(
            "SELECT id, kind, platform, account, started_at, finished_at, status, pages, fetched, created,
                    updated, unchanged, failed, acknowledged, duration_s, error
             FROM sync_runs ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(SyncRun {
                id: r.get(0)?,
                kind: r.get(1)?,
                platform: r.get(2)?,
                account: r.get(3)?,
                started_at: r.get(4)?,
                finished_at: r.get(5)?,
                status: r.get(6)?,
                pages: r.get::<_, i64>(7)? as u64,
                fetched: r.get::<_, i64>(8)? as u64,
                created: r.get::<_, i64>(9)? as u64,
                updated: r.get::<_, i64>(10)? as u64,
                unchanged: r.get::<_, i64>(11)? as u64,
                failed: r.get::<_, i64>(12)? as u64,
                acknowledged: r.get::<_, i64>(13)? as u64,
                duration_s: r.get(14)?,
                error: r.get(15)?,
            })
        })?;
        rows.map(|r| r.map_err(Error::from)).collect()
    }

    /// Sync statistics over the last `hours` hours.
    pub fn sync_statistics(&self, hours: u32) -> Result<SyncStats> {
        let since = (Utc::now() - ChronoDuration::hours(i64::from(hours)))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let conn = self.read()?;
        let (total, successful, failed, avg, items): (i64, i64, i64, Option<f64>, i64) = conn
            .query_row(
                "SELECT count(*),
                    coalesce(sum(status = 'success'), 0),
                    coalesce(sum(status IN ('failed', 'abandoned')), 0),
                    avg(duration_s),
                    coalesce(sum(fetched), 0)
             FROM sync_runs WHERE started_at >= ?1 AND status != 'running'",
                params![since],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        Ok(SyncStats {
            hours,
            total: total as u64,
            successful: successful as u64,
            failed: failed as u64,
            success_rate: if total == 0 {
                1.0
            } else {
                successful as f64 / total as f64
            },
            average_duration_s: avg.unwrap_or(0.0),
            items_processed: items as u64,
        })
    }

    /// Offer statistics.
    pub fn product_statistics(&self) -> Result<ProductStats> {
        let since =
            (Utc::now() - ChronoDuration::hours(24)).to_rfc3339_opts(SecondsFormat::Millis, true);
        let conn = self.read()?;
        let (total, active, recent): (i64, i64, i64) = conn.query_row(
            "SELECT count(*), coalesce(sum(status = 1), 0), coalesce(sum(synced_at >= ?1), 0) FROM offers",
            params![since],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let mut stmt = conn.prepare(
            "SELECT platform || '/' || account, count(*) FROM offers GROUP BY 1 ORDER BY 1",
        )?;
        let by_account = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(ProductStats {
            total: total as u64,
            active: active as u64,
            inactive: (total - active) as u64,
            by_account,
            synced_last_24h: recent as u64,
        })
    }
}
