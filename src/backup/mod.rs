//! Backups of the store that really restore: verified, atomic, retained, scheduled.
//!
//! - [`BackupManager::create`] streams the store, inside one read transaction, to gzip JSON
//!   lines (a header with the manifest, the rows table by table, a trailer with the SHA-256),
//!   or takes an SQLite snapshot; written to a 0600 temporary file, fsynced, and linked into
//!   place under a collision-safe UTC name; the whole store is never held in memory.
//! - [`BackupManager::restore`] verifies the whole file first, then writes it in one
//!   transaction while checking it again: a corrupted, truncated or tampered file leaves the
//!   store exactly as it was.
//! - [`BackupManager::cleanup`] deletes by the UTC time in the names the library gave, never
//!   the newest backup that verifies, never a file that is not a backup.
//!
//! Files: `naming.rs` (names, path safety, atomic publish), `tables.rs` (what is backed up),
//! `format.rs` (the JSON-lines format), `snapshot.rs` (the SQLite format), `restore.rs` (the
//! all-or-nothing write), `schedule.rs` (the periodic task).

mod cells;
mod format;
mod naming;
mod pipe;
mod restore;
mod schedule;
mod snapshot;
mod tables;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;

pub use format::{Header, TableEntry, FORMAT, FORMAT_VERSION};
pub use naming::{parse as parse_backup_name, BackupFormat, BackupName};
pub use restore::RestoreMode;
pub use schedule::{BackupSchedule, ScheduleOptions, ScheduleStatus};

use crate::error::{Error, ErrorKind, Result};
use crate::monitor::Monitor;
use crate::store::{Store, SCHEMA_VERSION};

/// Progress of a long backup operation (the same keys as the sync's progress events).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupProgress {
    /// `backup`, `verify` or `restore`.
    pub phase: &'static str,
    /// Rows done.
    pub items: u64,
    /// Rows in all.
    pub expected_items: u64,
    /// Rows per second so far.
    pub rate_items_per_s: f64,
    /// Seconds left at that rate.
    pub eta_s: Option<f64>,
}

/// A progress callback.
pub type BackupProgressFn = Arc<dyn Fn(&BackupProgress) + Send + Sync>;

/// Options of [`BackupManager::create`].
#[derive(Clone)]
pub struct CreateOptions {
    /// Tables to include (`orders`, `offers`, `sync_log`, `checkpoints`); `None` = all.
    pub include: Option<Vec<String>>,
    /// gzip the JSON lines (default true). Ignored for [`BackupFormat::Sqlite`].
    pub compress: bool,
    /// `Some(BackupFormat::Sqlite)` for the fast snapshot format; otherwise JSON lines.
    pub format: Option<BackupFormat>,
    /// Called every few thousand rows.
    pub progress: Option<BackupProgressFn>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            include: None,
            compress: true,
            format: None,
            progress: None,
        }
    }
}

impl CreateOptions {
    /// Options from JSON (the C face): `{"include": ["orders", "offers"], "compress": true,
    /// "format": "json" | "sqlite"}`, every key optional; unknown keys are refused.
    pub fn from_json(text: &str) -> Result<CreateOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            include: Option<Vec<String>>,
            compress: Option<bool>,
            format: Option<String>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("backup options: {e}")))?;
        let format = match wire.format.as_deref() {
            None | Some("json") | Some("json.gz") => None,
            Some("sqlite") => Some(BackupFormat::Sqlite),
            Some(other) => {
                return Err(Error::invalid_argument(format!(
                    "backup options: format must be \"json\" or \"sqlite\", got {other:?}"
                )))
            }
        };
        Ok(CreateOptions {
            include: wire.include,
            compress: wire.compress.unwrap_or(true),
            format,
            progress: None,
        })
    }
}

impl RestoreOptions {
    /// Options from JSON (the C face): `{"mode": "replace" | "merge"}`, optional.
    pub fn from_json(text: &str) -> Result<RestoreOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            mode: Option<String>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("restore options: {e}")))?;
        Ok(RestoreOptions {
            mode: match wire.mode {
                None => RestoreMode::Replace,
                Some(m) => m.parse()?,
            },
            progress: None,
        })
    }
}

impl std::fmt::Debug for CreateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateOptions")
            .field("include", &self.include)
            .field("compress", &self.compress)
            .field("format", &self.format)
            .finish()
    }
}

/// What [`BackupManager::create`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupInfo {
    /// The full path of the new backup.
    pub backup_path: PathBuf,
    /// Its file name (what `verify`/`restore` take).
    pub filename: String,
    /// `json.gz`, `json` or `sqlite`.
    pub format: BackupFormat,
    /// UTC creation time (also in the name).
    pub created_at: String,
    /// Rows per table.
    pub counts: BTreeMap<String, u64>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// File size.
    pub size_bytes: u64,
    /// Seconds it took.
    pub duration_s: f64,
}

/// One backup in [`BackupManager::list`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupEntry {
    /// File name.
    pub filename: String,
    /// `json.gz`, `json` or `sqlite`.
    pub format: BackupFormat,
    /// UTC creation time from the name.
    pub created_at: String,
    /// File size.
    pub size_bytes: u64,
    /// Rows per table from the header (empty when the header is not sound).
    pub counts: BTreeMap<String, u64>,
    /// Whether the header reads as a backup this build can restore (a quick check; `verify`
    /// reads everything).
    pub sound: bool,
    /// Schema version of the store it came from.
    pub schema_version: Option<i64>,
    /// Why the header is not sound.
    pub error: Option<String>,
}

/// The result of [`BackupManager::verify`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    /// File name.
    pub filename: String,
    /// The format.
    pub format: BackupFormat,
    /// Whether every check passed.
    pub valid: bool,
    /// Rows per table (when valid).
    pub counts: BTreeMap<String, u64>,
    /// The content's SHA-256 (when valid).
    pub sha256: Option<String>,
    /// What is wrong (when not valid).
    pub error: Option<String>,
}

/// The result of [`BackupManager::restore`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestoreReport {
    /// File name.
    pub filename: String,
    /// `replace` or `merge`.
    pub mode: &'static str,
    /// Rows written per table.
    pub counts: BTreeMap<String, u64>,
    /// Rows left as they were per table (`merge`: the store's copy was as fresh or fresher).
    pub skipped: BTreeMap<String, u64>,
    /// The verified SHA-256.
    pub sha256: String,
    /// Seconds it took (both passes).
    pub duration_s: f64,
}

/// The result of [`BackupManager::cleanup`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CleanupReport {
    /// Backups deleted.
    pub deleted: Vec<String>,
    /// Bytes those files held.
    pub bytes_freed: u64,
    /// Backups kept.
    pub kept: Vec<String>,
    /// Temporary files of crashed backups (older than an hour) removed.
    pub temp_files_removed: Vec<String>,
}

/// Options of [`BackupManager::restore`].
#[derive(Clone, Default)]
pub struct RestoreOptions {
    /// `Replace` (default) or `Merge`.
    pub mode: RestoreMode,
    /// Called every few thousand rows.
    pub progress: Option<BackupProgressFn>,
}

/// Backups of one store in one directory. `Send + Sync`; cheap to clone.
#[derive(Clone)]
pub struct BackupManager {
    store: Arc<Store>,
    dir: PathBuf,
    monitor: Option<Arc<Monitor>>,
}

impl std::fmt::Debug for BackupManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupManager")
            .field("store", &self.store.path())
            .field("dir", &self.dir)
            .finish()
    }
}

struct ProgressTicker<'a> {
    phase: &'static str,
    callback: Option<&'a BackupProgressFn>,
    expected: u64,
    done: u64,
    started: Instant,
}

impl<'a> ProgressTicker<'a> {
    fn new(phase: &'static str, callback: Option<&'a BackupProgressFn>, expected: u64) -> Self {
        ProgressTicker {
            phase,
            callback,
            expected,
            done: 0,
            started: Instant::now(),
        }
    }

    fn tick(&mut self) {
        self.done += 1;
        if self.done % 5000 == 0 {
            self.emit();
        }
    }

    fn emit(&self) {
        let Some(callback) = self.callback else {
            return;
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let left = self.expected.saturating_sub(self.done) as f64;
        callback(&BackupProgress {
            phase: self.phase,
            items: self.done,
            expected_items: self.expected,
            rate_items_per_s: rate,
            eta_s: (rate > 0.0).then(|| left / rate),
        });
    }
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A read connection of the store for a backup (its own, so the store's readers are not held).
fn open_source(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::backup(format!("cannot open the store for a backup: {e}")))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Read a backup completely, whatever its format.
///
/// `values`: whether `row` needs the values (restore) or the rows are only checked (verify:
/// `row` gets an empty list for the JSON formats).
fn read_backup(
    path: &Path,
    format: BackupFormat,
    values: bool,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<format::Verified> {
    let verified = match format {
        BackupFormat::Sqlite => {
            // Refuse a link swapped in after the name was resolved.
            drop(naming::open_no_follow(path)?);
            snapshot::read_all(path, row)
        }
        BackupFormat::JsonGz | BackupFormat::Json => format::read_all(
            naming::open_no_follow(path)?,
            format == BackupFormat::JsonGz,
            values,
            row,
        ),
    }?;
    check_name_time(path, &verified.header)?;
    Ok(verified)
}

/// A backup's name carries its creation time (cleanup and "the newest backup" go by it): it
/// must be the time its manifest records, so an older backup renamed to a newer name is found.
fn check_name_time(path: &Path, header: &Header) -> Result<()> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let Some(parsed) = naming::parse(name) else {
        return Ok(());
    };
    let created = DateTime::parse_from_rfc3339(&header.created_at)
        .map_err(|e| Error::backup(format!("backup {name}: its created_at does not read: {e}")))?;
    if created.timestamp() != parsed.created_at.timestamp() {
        return Err(Error::backup(format!(
            "backup {name} was created at {}, not at the time in its name (renamed from \
             another backup?)",
            header.created_at
        )));
    }
    Ok(())
}

/// [`read_backup`] on a thread of its own, handing rows over in batches: parsing and checking
/// the file runs while the caller writes the previous batch into SQLite.
fn read_backup_threaded(
    path: &Path,
    format: BackupFormat,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<format::Verified> {
    type Batch = Vec<(usize, Vec<SqlValue>)>;
    const BATCH: usize = 256;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let path = path.to_path_buf();
    let producer = std::thread::Builder::new()
        .name("mf-backup-parse".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let result = read_backup(&path, format, true, &mut |index, values| {
                batch.push((index, values));
                if batch.len() == BATCH {
                    tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .map_err(|_| Error::backup("the restore stopped reading"))?;
                }
                Ok(())
            });
            if result.is_ok() && !batch.is_empty() {
                let _ = tx.send(batch);
            }
            result
        })
        .map_err(|e| Error::internal(format!("cannot start the backup reader: {e}")))?;
    let mut failed = None;
    'batches: for batch in rx.iter() {
        for (index, values) in batch {
            if let Err(e) = row(index, values) {
                failed = Some(e);
                break 'batches;
            }
        }
    }
    // Dropping the receiver ends a producer still sending.
    drop(rx);
    let produced = producer
        .join()
        .map_err(|_| Error::internal("the backup reader panicked"))?;
    match failed {
        Some(e) => Err(e),
        None => produced,
    }
}

fn read_header(path: &Path, format: BackupFormat) -> Result<Header> {
    match format {
        BackupFormat::Sqlite => snapshot::read_header(path),
        BackupFormat::JsonGz | BackupFormat::Json => format::read_header(
            naming::open_no_follow(path)?,
            format == BackupFormat::JsonGz,
        ),
    }
}

/// The format of a file that may or may not carry one of the library's names.
fn format_of(name: &str) -> Result<BackupFormat> {
    if let Some(parsed) = naming::parse(name) {
        return Ok(parsed.format);
    }
    if name.ends_with(".json.gz") {
        Ok(BackupFormat::JsonGz)
    } else if name.ends_with(".json") {
        Ok(BackupFormat::Json)
    } else if name.ends_with(".sqlite") {
        Ok(BackupFormat::Sqlite)
    } else {
        Err(Error::invalid_argument(format!(
            "{name:?} is not a backup file name (.json.gz, .json or .sqlite)"
        )))
    }
}

impl BackupManager {
    /// Backups of `store` in `dir` (created 0700 on the first backup if missing).
    pub fn new(store: Arc<Store>, dir: impl Into<PathBuf>) -> Result<BackupManager> {
        let dir = dir.into();
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid_argument("backup directory is empty"));
        }
        // Temporary files of backups killed before they finished (they can be gigabytes).
        for name in naming::remove_stale_temps(&dir) {
            log::info!("removed {name}, left by a backup that did not finish");
        }
        Ok(BackupManager {
            store,
            dir,
            monitor: None,
        })
    }

    /// Report scheduled runs to `monitor` (as sync runs of kind `backup`).
    pub fn with_monitor(mut self, monitor: Arc<Monitor>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// The backup directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The store.
    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The monitor scheduled runs report to.
    pub fn monitor(&self) -> Option<&Arc<Monitor>> {
        self.monitor.as_ref()
    }

    /// Write a new backup.
    pub fn create(&self, options: &CreateOptions) -> Result<BackupInfo> {
        let started = Instant::now();
        let specs = match &options.include {
            None => tables::default_include(),
            Some(names) => tables::resolve_include(names)?,
        };
        let format = match options.format {
            Some(BackupFormat::Sqlite) => BackupFormat::Sqlite,
            _ if options.compress => BackupFormat::JsonGz,
            _ => BackupFormat::Json,
        };
        naming::ensure_dir(&self.dir)?;
        for name in naming::remove_stale_temps(&self.dir) {
            log::info!("removed {name}, left by a backup that did not finish");
        }
        let created = Utc::now();
        let hint = naming::format_name(created, 0, format);
        let (temp, file) = naming::create_temp(&self.dir, &hint)?;
        // Held until the file is published or removed: marks it as being written.
        let _lock = match naming::lock_temp(&temp) {
            Ok(lock) => lock,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        let written = self.write(&temp, file, &specs, format, created, options);
        let (sha256, counts) = match written {
            Ok(v) => v,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        let filename = match naming::publish(&self.dir, &temp, created, format) {
            Ok(name) => name,
            Err(e) => {
                let _ = fs::remove_file(&temp);
                return Err(e);
            }
        };
        let backup_path = self.dir.join(&filename);
        let size_bytes = fs::metadata(&backup_path).map(|m| m.len()).unwrap_or(0);
        Ok(BackupInfo {
            backup_path,
            filename,
            format,
            created_at: iso(created),
            counts,
            sha256,
            size_bytes,
            duration_s: started.elapsed().as_secs_f64(),
        })
    }

    fn write(
        &self,
        temp: &Path,
        file: fs::File,
        specs: &[&tables::TableSpec],
        format: BackupFormat,
        created: DateTime<Utc>,
        options: &CreateOptions,
    ) -> Result<(String, BTreeMap<String, u64>)> {
        // A PostgreSQL store is read through a SQLite copy of it (one consistent read): the
        // backup is then the same file whichever engine it came from.
        let staged = match self.store.is_postgres() {
            true => Some(Staged::of(&self.store, &self.dir)?),
            false => None,
        };
        let conn = match &staged {
            Some(st) => open_source(&st.path)?,
            None => open_source(self.store.sqlite()?.path())?,
        };
        let mut header = Header {
            format: FORMAT.to_owned(),
            format_version: FORMAT_VERSION,
            created_at: iso(created),
            schema_version: conn.query_row("PRAGMA user_version", [], |r| r.get(0))?,
            library_version: crate::VERSION.to_owned(),
            tables: Vec::new(),
            rows_sha256: None,
        };
        for spec in specs {
            header.tables.push(TableEntry {
                name: spec.name.to_owned(),
                columns: tables::columns(&conn, spec.name)?
                    .into_iter()
                    .map(|c| c.name)
                    .collect(),
                count: 0,
            });
        }
        if format == BackupFormat::Sqlite {
            drop(file);
            let mut ticker = ProgressTicker::new("backup", options.progress.as_ref(), 0);
            snapshot::create(&conn, temp, &mut header)?;
            ticker.expected = header.tables.iter().map(|t| t.count).sum();
            ticker.done = ticker.expected;
            ticker.emit();
            return Ok((
                header.rows_sha256.clone().unwrap_or_default(),
                header.counts(),
            ));
        }

        // One read transaction: the counts in the header and the rows agree.
        conn.execute_batch("BEGIN")?;
        for entry in &mut header.tables {
            entry.count =
                conn.query_row(&format!("SELECT count(*) FROM {}", entry.name), [], |r| {
                    r.get::<_, i64>(0)
                })? as u64;
        }
        let total: u64 = header.tables.iter().map(|t| t.count).sum();
        let mut ticker = ProgressTicker::new("backup", options.progress.as_ref(), total);
        let mut writer = format::JsonWriter::new(file, format == BackupFormat::JsonGz, &header)?;
        for entry in &header.tables {
            let spec =
                tables::spec(&entry.name).ok_or_else(|| Error::internal("table without a spec"))?;
            let mut stmt = conn.prepare(&format!(
                "SELECT {} FROM {} ORDER BY {}",
                entry.columns.join(", "),
                entry.name,
                spec.key.join(", ")
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let refs = (0..entry.columns.len())
                    .map(|i| r.get_ref(i))
                    .collect::<std::result::Result<Vec<_>, _>>()?;
                writer.row(&entry.name, &refs)?;
                ticker.tick();
            }
        }
        conn.execute_batch("COMMIT")?;
        let (sha, counts) = writer.finish()?;
        if counts != header.counts() {
            return Err(Error::internal(
                "rows written disagree with the counts of the same read transaction",
            ));
        }
        ticker.emit();
        Ok((sha, counts))
    }

    /// The backups in the directory, newest first. Files that are not named like the
    /// library's backups are skipped; backups whose header does not read are listed with
    /// `sound: false`.
    pub fn list(&self) -> Result<Vec<BackupEntry>> {
        list_dir(&self.dir)
    }

    /// Read a backup completely: structure, counts, checksum (and gzip CRC or SQLite integrity).
    /// A damaged backup is a report with `valid: false`; a name that is not a file in the
    /// directory is an error.
    pub fn verify(&self, name: &str) -> Result<VerifyReport> {
        verify_in(&self.dir, name, None)
    }

    /// Verify, then restore a backup in one transaction (all or nothing).
    pub fn restore(&self, name: &str, options: &RestoreOptions) -> Result<RestoreReport> {
        let started = Instant::now();
        let path = naming::resolve(&self.dir, name)?;
        let format = format_of(name)?;
        let header = read_header(&path, format).map_err(|e| refuse_restore(name, e))?;
        let total: u64 = header.tables.iter().map(|t| t.count).sum();

        let mut ticker = ProgressTicker::new("verify", options.progress.as_ref(), total);
        let verified = read_backup(&path, format, false, &mut |_, _| {
            ticker.tick();
            Ok(())
        })
        .map_err(|e| refuse_restore(name, e))?;
        ticker.emit();
        if verified.header.schema_version > SCHEMA_VERSION {
            return Err(Error::backup(format!(
                "backup {name} comes from schema version {}, newer than this library's \
                 {SCHEMA_VERSION}: upgrade magflow-emag to restore it",
                verified.header.schema_version
            )));
        }

        // A run left `running` by a dead process does not hold the restore back.
        self.store.mark_abandoned_runs()?;
        if self.store.is_postgres() {
            // Restored into a SQLite copy of the store (so every mode behaves as on SQLite),
            // whose rows then replace the store's in one PostgreSQL transaction.
            let staged = Staged::of(&self.store, &self.dir)?;
            let report = {
                let copy = crate::store::SqliteStore::open(&staged.path)?;
                restore_into(&copy, name, &path, format, &verified, options, started)?
            };
            self.store.import_sqlite(&staged.path, name)?;
            return Ok(report);
        }
        restore_into(
            self.store.sqlite()?,
            name,
            &path,
            format,
            &verified,
            options,
            started,
        )
    }

    /// Delete backups older than `retention_days` (judged by the UTC time in their names),
    /// keeping at least the `keep_min` newest and always the newest one that verifies.
    pub fn cleanup(&self, retention_days: f64, keep_min: usize) -> Result<CleanupReport> {
        cleanup_in(&self.dir, retention_days, keep_min)
    }

    /// Start backing up (then cleaning up) every `options.interval` in the background.
    pub fn schedule(&self, options: ScheduleOptions) -> Result<BackupSchedule> {
        schedule::start(self.clone(), options)
    }
}

/// Restore a verified backup into a SQLite store, in one IMMEDIATE transaction.
fn restore_into(
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
        let mut restorer = restore::Restorer::new(&tx, &verified.header, options.mode)?;
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

/// A SQLite copy of a PostgreSQL store, staged in the backup directory (a hidden name the
/// listing skips) and removed when dropped.
struct Staged {
    path: PathBuf,
}

impl Staged {
    fn of(store: &Store, dir: &Path) -> Result<Staged> {
        naming::ensure_dir(dir)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let staged = Staged {
            path: dir.join(format!(
                ".magflow-pg-stage-{}-{nanos}.db",
                std::process::id()
            )),
        };
        store.export_sqlite(&staged.path)?;
        Ok(staged)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = self.path.as_os_str().to_owned();
            name.push(suffix);
            let _ = fs::remove_file(PathBuf::from(name));
        }
    }
}

/// A restore while a sync of the store runs (in any process of this host) would let the sync
/// write its checkpoint over the restored one and finish a run row the restore removed.
fn refuse_while_syncing(tx: &Connection, name: &str) -> Result<()> {
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

fn refuse_restore(name: &str, e: Error) -> Error {
    match e {
        Error::Backup { message } => Error::backup(format!(
            "backup {name} refused, the store is unchanged: {message}"
        )),
        other => other,
    }
}

/// [`BackupManager::list`] for a directory (no store needed).
pub fn list_dir(dir: &Path) -> Result<Vec<BackupEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::backup(format!(
                "cannot list backup directory {}: {e}",
                dir.display()
            )))
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some(parsed) = naming::parse(&name) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let header = read_header(&entry.path(), parsed.format);
        let (counts, sound, schema_version, error) = match header {
            Ok(h) => (h.counts(), true, Some(h.schema_version), None),
            Err(e) => (BTreeMap::new(), false, None, Some(e.to_string())),
        };
        found.push((
            parsed.created_at,
            parsed.sequence,
            BackupEntry {
                filename: name,
                format: parsed.format,
                created_at: iso(parsed.created_at),
                size_bytes: meta.len(),
                counts,
                sound,
                schema_version,
                error,
            },
        ));
    }
    found.sort_by(|a, b| (b.0, b.1, &b.2.filename).cmp(&(a.0, a.1, &a.2.filename)));
    Ok(found.into_iter().map(|(_, _, e)| e).collect())
}

/// [`BackupManager::verify`] for a directory (no store needed).
pub fn verify_in(
    dir: &Path,
    name: &str,
    progress: Option<&BackupProgressFn>,
) -> Result<VerifyReport> {
    let path = naming::resolve(dir, name)?;
    let format = format_of(name)?;
    let mut ticker = ProgressTicker::new("verify", progress, 0);
    if let Ok(h) = read_header(&path, format) {
        ticker.expected = h.tables.iter().map(|t| t.count).sum();
    }
    let result = read_backup(&path, format, false, &mut |_, _| {
        ticker.tick();
        Ok(())
    });
    ticker.emit();
    Ok(match result {
        Ok(v) => VerifyReport {
            filename: name.to_owned(),
            format,
            valid: true,
            counts: v.header.counts(),
            sha256: Some(v.sha256),
            error: None,
        },
        Err(e) if e.kind() == ErrorKind::Backup => VerifyReport {
            filename: name.to_owned(),
            format,
            valid: false,
            counts: BTreeMap::new(),
            sha256: None,
            error: Some(e.to_string()),
        },
        Err(e) => return Err(e),
    })
}

/// [`BackupManager::cleanup`] for a directory (no store needed), judged at the current time.
pub fn cleanup_in(dir: &Path, retention_days: f64, keep_min: usize) -> Result<CleanupReport> {
    cleanup_dir(dir, retention_days, keep_min, Utc::now())
}

/// [`BackupManager::cleanup`] for a directory, at `now`.
pub fn cleanup_dir(
    dir: &Path,
    retention_days: f64,
    keep_min: usize,
    now: DateTime<Utc>,
) -> Result<CleanupReport> {
    if !retention_days.is_finite() || retention_days < 0.0 {
        return Err(Error::invalid_argument(format!(
            "retention_days must be a number >= 0, got {retention_days}"
        )));
    }
    let cutoff =
        now - chrono::Duration::milliseconds((retention_days * 86_400_000.0).min(1e15) as i64);
    let listed = list_dir(dir)?;
    let mut report = CleanupReport::default();

    // The newest backup that verifies is never deleted, whatever its age.
    let mut protected: Option<String> = None;
    for entry in listed.iter().filter(|e| e.sound) {
        if verify_in(dir, &entry.filename, None).is_ok_and(|r| r.valid) {
            protected = Some(entry.filename.clone());
            break;
        }
    }
    for (rank, entry) in listed.iter().enumerate() {
        let created = naming::parse(&entry.filename).map(|p| p.created_at);
        let expired = created.is_some_and(|c| c < cutoff);
        let keep = rank < keep_min || protected.as_deref() == Some(entry.filename.as_str());
        if expired && !keep {
            match fs::remove_file(dir.join(&entry.filename)) {
                Ok(()) => {
                    report.bytes_freed += entry.size_bytes;
                    report.deleted.push(entry.filename.clone());
                }
                Err(e) => {
                    log::warn!("backup cleanup could not delete {}: {e}", entry.filename);
                    report.kept.push(entry.filename.clone());
                }
            }
        } else {
            report.kept.push(entry.filename.clone());
        }
    }
    // Temporary files left by a crashed backup (no process holds them locked).
    report.temp_files_removed = naming::remove_stale_temps(dir);
    if !report.deleted.is_empty() {
        naming::sync_dir(dir)?;
    }
    Ok(report)
}
