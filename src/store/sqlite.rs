//! The SQLite engine's connections: one writer and one reader, each behind a mutex; WAL,
//! a busy timeout, files created private, and the guard against another SQLite library
//! deleting the `-wal` (see [`SqliteStore::check_wal`]).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::schema;
use crate::error::{Error, Result};

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite engine of [`Store`](super::Store). `Send + Sync`.
pub struct SqliteStore {
    path: PathBuf,
    /// The `-wal` file this store writes to (device, inode): see [`Store::check_wal`].
    wal: Mutex<Option<(u64, u64)>>,
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// SQLite's names for a private in-memory database (`:memory:`, `file::memory:...`,
/// `file:name?mode=memory`).
fn is_in_memory_name(path: &Path) -> bool {
    let text = path.to_string_lossy();
    text == ":memory:"
        || text.starts_with("file::memory:")
        || (text.starts_with("file:") && text.contains("mode=memory"))
}

impl SqliteStore {
    /// Open (creating if needed) the store at `path` and migrate it.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore> {
        let path = path.as_ref().to_path_buf();
        if path.as_os_str().is_empty() {
            return Err(Error::invalid_argument("store path is empty"));
        }
        if is_in_memory_name(&path) {
            // Each of the store's connections (a writer and a reader) would get its own empty
            // database, and the reader would fail later with "no such table".
            return Err(Error::invalid_argument(format!(
                "store path {:?}: an in-memory SQLite database is not supported (the store \
                 keeps a writer and a reader connection, and backups read the file); use a \
                 file, e.g. in a temporary directory",
                path.display().to_string()
            )));
        }
        create_private(&path)?;
        let mut writer = open_writer(&path)?;
        schema::migrate(&mut writer)
            .map_err(|e| Error::store(format!("{}: {}", path.display(), e.message())))?;
        let reader = open_connection(&path, false)?;
        let store = SqliteStore {
            wal: Mutex::new(wal_identity(&path)),
            path,
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        };
        store.mark_abandoned_runs()?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .read()?
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub(crate) fn write(&self) -> Result<MutexGuard<'_, Connection>> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| Error::store("the store's writer was poisoned by a panic"))?;
        self.check_wal(&mut conn)?;
        Ok(conn)
    }

    /// Guard against the one way to lose committed writes: another SQLite library in this
    /// process (Python's `sqlite3` module, say) opening the store file and closing it. POSIX
    /// locks belong to the process, so its close drops this store's locks too; it then
    /// believes it is the last connection, checkpoints and deletes the `-wal` (and `-shm`)
    /// this store still writes to, and everything written afterwards lives in a deleted file
    /// until a crash takes it. Before each write transaction the `-wal` on disk is checked
    /// to be the one this store opened; if it is gone or replaced, what this store's WAL holds
    /// is checkpointed into the database, both connections are reopened, and the event is
    /// logged as an error. The rule stays: never open the store with another SQLite library
    /// in a process that has it open; read it with [`Store::orders`] / [`Store::offers`].
    fn check_wal(&self, writer: &mut Connection) -> Result<()> {
        let mut known = self
            .wal
            .lock()
            .map_err(|_| Error::store("the store's WAL check was poisoned by a panic"))?;
        let now = wal_identity(&self.path);
        if known.is_none() || now == *known {
            *known = now.or(*known);
            return Ok(());
        }
        log::error!(
            "{}: its -wal file was deleted or replaced by another SQLite connection in this \
             process (e.g. Python's sqlite3 module closing the same file); saving the WAL's \
             content and reopening. Read the store through Store.orders()/offers() instead.",
            self.path.display()
        );
        // Our view of the WAL (the deleted file, still open) goes into the database file.
        writer
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(|e| store_err(&self.path, e))?;
        let mut reader = self
            .reader
            .lock()
            .map_err(|_| Error::store("the store's reader was poisoned by a panic"))?;
        // The old connections must not delete the new -wal when they close.
        persist_wal(writer);
        persist_wal(&reader);
        *writer = open_writer(&self.path)?;
        *reader = open_connection(&self.path, false)?;
        *known = wal_identity(&self.path);
        Ok(())
    }

    pub(crate) fn read(&self) -> Result<MutexGuard<'_, Connection>> {
        self.reader
            .lock()
            .map_err(|_| Error::store("the store's reader was poisoned by a panic"))
    }
}

/// The writing connection: WAL, IMMEDIATE transactions, 16 KiB pages for a new file.
fn open_writer(path: &Path) -> Result<Connection> {
    let mut writer = open_connection(path, true)?;
    // Write transactions take the write lock when they begin and wait their turn (busy
    // timeout): a deferred one that reads first is answered BUSY at once when another
    // process wrote meanwhile.
    writer.set_transaction_behavior(TransactionBehavior::Immediate);
    // A new file gets 16 KiB pages (several ~2.5 KB order rows per page); an existing one
    // keeps its page size (SQLite ignores the pragma once the file has content).
    writer
        .pragma_update(None, "page_size", 16384)
        .map_err(|e| store_err(path, e))?;
    // Switching to WAL needs the file to itself: another process opening it at the same
    // moment is waited for (the pragma does not call the busy handler).
    retry_busy(|| writer.pragma_update(None, "journal_mode", "WAL"))
        .map_err(|e| store_err(path, e))?;
    writer
        .pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| store_err(path, e))?;
    Ok(writer)
}

/// `(device, inode)` of the store's `-wal` file, if there is one.
fn wal_identity(path: &Path) -> Option<(u64, u64)> {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    let meta = std::fs::metadata(name).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

/// Keep the `-wal` file when this connection closes (SQLITE_FCNTL_PERSIST_WAL).
fn persist_wal(conn: &Connection) {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: a live connection handle, the "main" schema, and an int the call reads and writes.
    unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&mut on as *mut std::ffi::c_int).cast(),
        );
    }
}

/// Create the store file readable by its owner only (it holds customer data, as its backups
/// do); SQLite gives the `-wal` and `-shm` files the mode of the database. An existing file
/// keeps its mode.
fn create_private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let name = path.to_string_lossy();
    if name == ":memory:" || name.starts_with("file:") {
        return Ok(());
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // A special name (a URI, `:memory:`) or a missing directory: SQLite says what is wrong.
        Err(_) => Ok(()),
    }
}

/// Run `op` again while SQLite answers BUSY, for up to the busy timeout.
fn retry_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match op() {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn store_err(path: &Path, e: rusqlite::Error) -> Error {
    Error::store(format!("{}: {e}", path.display()))
}

fn open_connection(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).map_err(|e| store_err(path, e))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| store_err(path, e))?;
    // Fail early and clearly on a file that is not a SQLite database.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| store_err(path, e))?;
    Ok(conn)
}
