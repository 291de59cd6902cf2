//! [`BackupManager`]: the backups of one store in one directory.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use super::progress::ProgressTicker;
use super::reader::{format_of, read_backup, read_header};
use super::reports::iso;
use super::restore::{refuse_restore, restore_into};
use super::*;
use crate::error::{Error, Result};
use crate::monitor::Monitor;
use crate::store::{Store, SCHEMA_VERSION};

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

/// A read connection of the store for a backup (its own, so the store's readers are not held).
pub(super) fn open_source(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::backup(format!("cannot open the store for a backup: {e}")))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
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

    // Long on purpose: the steps of one atomic write (staging, read transaction, progress,
    // fsync, publish) in the order they must happen.
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
        list_in(&self.dir)
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

/// A SQLite copy of a PostgreSQL store, staged in the backup directory (a hidden name the
/// listing skips) and removed when dropped.
pub(super) struct Staged {
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
