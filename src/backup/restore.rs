//! Writing a verified backup's rows into the store, in one transaction: all or nothing.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Statement, TransactionBehavior};

use super::format::{self, Header, TableEntry};
use super::progress::ProgressTicker;
use super::reader::read_backup_threaded;
use super::tables::{self, MergePolicy};
use super::{BackupFormat, RestoreOptions, RestoreReport};
use crate::error::{Error, Result};

/// How a restore treats the store's current rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestoreMode {
    /// The backed-up tables are emptied, then filled from the backup.
    #[default]
    Replace,
    /// Rows missing from the store are added; rows present are updated only when the backup's
    /// copy was synced later (checkpoints in the store are kept; sync-log rows are appended).
    Merge,
}

impl std::str::FromStr for RestoreMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "replace" => Ok(RestoreMode::Replace),
            "merge" => Ok(RestoreMode::Merge),
            other => Err(Error::invalid_argument(format!(
                "restore mode must be \"replace\" or \"merge\", got {other:?}"
            ))),
        }
    }
}

impl RestoreMode {
    /// `"replace"` or `"merge"`.
    pub fn name(self) -> &'static str {
        match self {
            RestoreMode::Replace => "replace",
            RestoreMode::Merge => "merge",
        }
    }
}

/// Per table: the insert statement and where each backup column goes.
struct TablePlan<'tx> {
    stmt: Statement<'tx>,
    /// For each statement parameter, the index of the backup value it takes.
    params: Vec<usize>,
    restored: u64,
    skipped: u64,
}

/// Prepares the statements, then takes rows one at a time.
pub struct Restorer<'tx> {
    tx: &'tx Connection,
    plans: Vec<TablePlan<'tx>>,
    names: Vec<String>,
    /// Secondary indexes dropped for a replace, re-created by [`Restorer::finish`].
    dropped_indexes: Vec<String>,
}

fn sql_list(cols: &[&str]) -> String {
    cols.join(", ")
}

impl<'tx> Restorer<'tx> {
    /// Check that the backup's tables fit the store's schema and prepare the writes. In
    /// `Replace` mode the backed-up tables are emptied here (inside the caller's transaction).
    pub fn new(tx: &'tx Connection, header: &Header, mode: RestoreMode) -> Result<Self> {
        let mut plans = Vec::new();
        let mut names = Vec::new();
        for entry in &header.tables {
            plans.push(plan(tx, entry, mode)?);
            names.push(entry.name.clone());
        }
        let mut dropped_indexes = Vec::new();
        if mode == RestoreMode::Replace {
            for entry in &header.tables {
                // Filling an empty table and then building its secondary indexes once (a
                // sort) is far cheaper than updating them row by row. Same transaction: a
                // failed restore rolls the drop back too. Key (UNIQUE) indexes stay.
                let mut stmt = tx.prepare(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 \
                     AND sql IS NOT NULL",
                )?;
                let found = stmt
                    .query_map([&entry.name], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for (name, sql) in found {
                    tx.execute(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")), [])?;
                    dropped_indexes.push(sql);
                }
                tx.execute(&format!("DELETE FROM {}", entry.name), [])?;
            }
            // Orders or offers put back without their checkpoints: the store's checkpoints
            // describe rows that are gone, so the next sync of that kind starts over.
            let has = |n: &str| header.tables.iter().any(|t| t.name == n);
            if !has("checkpoints") {
                if has("orders") {
                    tx.execute("DELETE FROM checkpoints WHERE kind LIKE 'orders%'", [])?;
                }
                if has("offers") {
                    tx.execute("DELETE FROM checkpoints WHERE kind LIKE 'offers%'", [])?;
                }
            }
        }
        Ok(Restorer {
            tx,
            plans,
            names,
            dropped_indexes,
        })
    }

    /// Re-create the indexes a replace dropped; call once every row is written.
    pub fn finish(&mut self) -> Result<()> {
        for sql in std::mem::take(&mut self.dropped_indexes) {
            self.tx.execute(&sql, [])?;
        }
        Ok(())
    }

    /// Write one row of table `index` (its position in the header).
    pub fn row(&mut self, index: usize, values: Vec<SqlValue>) -> Result<()> {
        let plan = self
            .plans
            .get_mut(index)
            .ok_or_else(|| Error::internal("row of a table that has no plan"))?;
        let params = plan.params.iter().map(|i| &values[*i]);
        let changed = plan
            .stmt
            .execute(rusqlite::params_from_iter(params))
            .map_err(|e| {
                Error::backup(format!(
                    "cannot restore a row of {}: {e}",
                    self.names[index]
                ))
            })?;
        if changed > 0 {
            plan.restored += 1;
        } else {
            plan.skipped += 1;
        }
        Ok(())
    }

    /// Rows written and rows skipped (merge only), per table.
    pub fn counts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let mut restored = BTreeMap::new();
        let mut skipped = BTreeMap::new();
        for (name, plan) in self.names.iter().zip(&self.plans) {
            restored.insert(name.clone(), plan.restored);
            skipped.insert(name.clone(), plan.skipped);
        }
        (restored, skipped)
    }
}

// Long on purpose: the column checks and the one prepared statement of a table, in the
// order the restore relies on.
fn plan<'tx>(tx: &'tx Connection, entry: &TableEntry, mode: RestoreMode) -> Result<TablePlan<'tx>> {
    let spec = tables::spec(&entry.name)
        .ok_or_else(|| Error::backup(format!("unknown table {:?}", entry.name)))?;
    let store_cols = tables::columns(tx, &entry.name)?;
    for col in &entry.columns {
        if !store_cols.iter().any(|c| &c.name == col) {
            return Err(Error::backup(format!(
                "the backup's {} has a column {col:?} this store does not know (a backup from a \
                 newer schema?)",
                entry.name
            )));
        }
    }
    for col in store_cols.iter().filter(|c| c.required) {
        if !entry.columns.contains(&col.name) {
            return Err(Error::backup(format!(
                "the backup's {} lacks the required column {:?}",
                entry.name, col.name
            )));
        }
    }
    let position = |name: &str| entry.columns.iter().position(|c| c == name);
    let all: Vec<&str> = entry.columns.iter().map(String::as_str).collect();
    let placeholders = |n: usize| {
        (1..=n)
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };

    let (sql, params): (String, Vec<usize>) = match (mode, spec.merge) {
        (RestoreMode::Replace, _) => (
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                entry.name,
                sql_list(&all),
                placeholders(all.len())
            ),
            (0..all.len()).collect(),
        ),
        (RestoreMode::Merge, MergePolicy::NewerSyncedAt) => {
            if position("synced_at").is_none() {
                return Err(Error::backup(format!(
                    "the backup's {} has no synced_at column to merge by",
                    entry.name
                )));
            }
            let updates = all
                .iter()
                .filter(|c| !spec.key.contains(c))
                .map(|c| format!("{c} = excluded.{c}"))
                .collect::<Vec<_>>()
                .join(", ");
            (
                format!(
                    "INSERT INTO {t} ({cols}) VALUES ({ph}) ON CONFLICT ({key}) DO UPDATE SET {updates} \
                     WHERE excluded.synced_at > {t}.synced_at",
                    t = entry.name,
                    cols = sql_list(&all),
                    ph = placeholders(all.len()),
                    key = sql_list(spec.key),
                ),
                (0..all.len()).collect(),
            )
        }
        (RestoreMode::Merge, MergePolicy::KeepExisting) => (
            format!(
                "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
                entry.name,
                sql_list(&all),
                placeholders(all.len())
            ),
            (0..all.len()).collect(),
        ),
        (RestoreMode::Merge, MergePolicy::AppendLog) => {
            // A fresh id; the same run (kind, scope, start) is not logged twice.
            let kept: Vec<usize> = (0..all.len()).filter(|i| all[*i] != "id").collect();
            let cols: Vec<&str> = kept.iter().map(|i| all[*i]).collect();
            let identity = ["kind", "platform", "account", "started_at"];
            let mut clauses = Vec::new();
            for name in identity {
                let at = cols.iter().position(|c| *c == name).ok_or_else(|| {
                    Error::backup(format!("the backup's sync log lacks {name:?}"))
                })?;
                clauses.push(format!("{name} IS ?{}", at + 1));
            }
            (
                format!(
                    "INSERT INTO {t} ({cols}) SELECT {ph} WHERE NOT EXISTS (SELECT 1 FROM {t} WHERE {cond})",
                    t = entry.name,
                    cols = sql_list(&cols),
                    ph = placeholders(cols.len()),
                    cond = clauses.join(" AND "),
                ),
                kept,
            )
        }
    };
    let stmt = tx.prepare(&sql)?;
    Ok(TablePlan {
        stmt,
        params,
        restored: 0,
        skipped: 0,
    })
}

/// Restore a verified backup into a SQLite store, in one IMMEDIATE transaction.
pub(super) fn restore_into(
    store: &crate::store::SqliteStore,
    name: &str,
    path: &Path,
    format: BackupFormat,
    verified: &format::Verified,
    options: &RestoreOptions,
    started: Instant,
) -> Result<RestoreReport> {
    let total: u64 = verified.header.tables.iter().map(|t| t.count).sum();
    let mut conn = store.write()?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Under the write lock: no sync can store a page or start a run until this commits.
    refuse_while_syncing(&tx, name)?;
    let (restored, skipped) = {
        let mut restorer = Restorer::new(&tx, &verified.header, options.mode)?;
        let mut ticker = ProgressTicker::new("restore", options.progress.as_ref(), total);
        // The second pass checks everything again: a file changed since the first pass
        // fails here, and the transaction is rolled back.
        let again = read_backup_threaded(path, format, &mut |index, values| {
            ticker.tick();
            restorer.row(index, values)
        })
        .map_err(|e| refuse_restore(name, e))?;
        if again.sha256 != verified.sha256 {
            return Err(Error::backup(format!(
                "backup {name} changed while it was being restored; nothing was restored"
            )));
        }
        restorer.finish()?;
        ticker.emit();
        restorer.counts()
    };
    // A backup taken during a sync holds its run as `running`: nothing runs now.
    tx.execute(
        "UPDATE sync_runs SET status = 'abandoned', finished_at = coalesce(finished_at, ?1),
                 error = coalesce(error, 'running when the backup was taken; restored')
             WHERE status = 'running'",
        [crate::store::now_utc()],
    )?;
    // A sync that read the store before this restore stops at its next page.
    tx.execute(
        "UPDATE store_meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
        [],
    )?;
    tx.commit()?;
    Ok(RestoreReport {
        filename: name.to_owned(),
        mode: options.mode.name(),
        counts: restored,
        skipped,
        sha256: verified.sha256.clone(),
        duration_s: started.elapsed().as_secs_f64(),
    })
}

/// A restore while a sync of the store runs (in any process of this host) would let the sync
/// write its checkpoint over the restored one and finish a run row the restore removed.
pub(super) fn refuse_while_syncing(tx: &Connection, name: &str) -> Result<()> {
    let running: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, started_at FROM sync_runs WHERE status = 'running' ORDER BY id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match running {
        Some((id, started)) => Err(Error::backup(format!(
            "backup {name} not restored, the store is unchanged: a sync of this store is \
             running (run {id}, started {started}); restore once it has finished"
        ))),
        None => Ok(()),
    }
}

pub(super) fn refuse_restore(name: &str, e: Error) -> Error {
    match e {
        Error::Backup { message } => Error::backup(format!(
            "backup {name} refused, the store is unchanged: {message}"
        )),
        other => other,
    }
}
