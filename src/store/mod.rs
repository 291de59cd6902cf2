//! The store (see `engine.rs` for the seam; `postgres/` for the PostgreSQL engine) and its
//! embedded SQLite engine: orders, offers, the sync log and checkpoints.
//!
//! rusqlite with the bundled SQLite, WAL (readers keep reading while a sync writes, in this
//! process or another), a busy timeout, and migrations through `PRAGMA user_version`. One
//! connection writes and one reads, each behind its own mutex, so a long write transaction in
//! this process does not block its readers either.

mod callbacks;
mod engine;
mod owner;
pub mod postgres;
mod queries;
mod rows;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use callbacks::{CallbackEntry, CallbackQueueStats};
pub use engine::{is_postgres_url, Store, SyncLock};
pub use queries::{ProductStats, SyncRun, SyncStats};
pub use rows::{utc_instant, OfferQuery, OrderQuery, StoredRow, MAX_PAGE};
pub use schema::SCHEMA_VERSION;

use crate::client::RawItems;
use crate::error::{Error, Result};
use crate::jsonview::JsonView;
use crate::models::lenient::{as_f64, as_i64};
use crate::platform::Platform;

/// The default store file.
pub const DEFAULT_PATH: &str = "magflow-emag.db";

/// How long a writer waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Which account's data: the platform and the account label. Orders are keyed by
/// platform + account + eMAG order id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The platform.
    pub platform: Platform,
    /// The account label (e.g. `main`, `fbe`).
    pub account: String,
    /// The zone eMAG's timestamps are read in.
    pub time_zone: Tz,
}

impl Scope {
    /// The scope of a platform and account, with the platform's time zone.
    pub fn new(platform: Platform, account: impl Into<String>) -> Self {
        Scope {
            platform,
            account: account.into(),
            time_zone: platform.time_zone(),
        }
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    /// New rows.
    pub created: u64,
    /// Rows whose content changed.
    pub updated: u64,
    /// Rows read again with the same content.
    pub unchanged: u64,
    /// Items that could not be stored (not an object, no usable id).
    pub failed: u64,
    /// One message per failed item.
    pub failures: Vec<String>,
}

impl UpsertCounts {
    /// Add another page's counts.
    pub fn add(&mut self, other: &UpsertCounts) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.failures.extend(other.failures.iter().cloned());
    }
}

/// The SQLite engine of [`Store`]. `Send + Sync`.
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

/// Now, as stored: UTC ISO-8601 with milliseconds.
pub fn now_utc() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// SHA-256 of the text, in lowercase hex (what `content_hash` holds).
fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = [0u8; 64];
    // `encode_to_slice` fills a buffer in one go (`hex::encode` goes char by char); it cannot
    // fail for 32 bytes into 64, and would fall back to the slow path if it did.
    match hex::encode_to_slice(digest, &mut hex) {
        Ok(()) => String::from_utf8(hex.to_vec()).unwrap_or_else(|_| hex::encode(digest)),
        Err(_) => hex::encode(digest),
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

    /// Upsert a page of orders in one transaction, and (in the same transaction) save a
    /// checkpoint: either all of it is stored, or none of it. Each order is stored as its
    /// compact JSON serialization.
    pub fn upsert_orders(
        &self,
        scope: &Scope,
        orders: &[Value],
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        let page = PreparedOrders::new(RawItems::from_values(orders)?, scope.time_zone, |_, _| {});
        self.upsert_prepared_orders(scope, &page, checkpoint)
    }

    /// Upsert orders already prepared ([`PreparedOrders`]: parsed and their columns read,
    /// possibly on another thread) in one transaction, with the checkpoint. Each order's text
    /// is stored as it is, with its SHA-256 (computed here) for change detection.
    pub fn upsert_prepared_orders(
        &self,
        scope: &Scope,
        page: &PreparedOrders,
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_prepared_orders_in_run(scope, page, checkpoint, None)
    }

    /// [`Store::upsert_prepared_orders`] as a page of a sync run: in the same transaction the
    /// run's sync-log row gets the page's counts (so a run that never finishes still shows what
    /// it stored), after checking that the store was not restored since the run began.
    pub fn upsert_prepared_orders_in_run(
        &self,
        scope: &Scope,
        page: &PreparedOrders,
        checkpoint: Option<(&str, &Value)>,
        run: Option<&RunContext>,
    ) -> Result<UpsertCounts> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        if let Some(run) = run {
            check_generation_tx(&tx, run)?;
        }
        let counts = upsert_orders_tx(&tx, scope, page)?;
        if let Some((kind, state)) = checkpoint {
            save_checkpoint_tx(&tx, scope, kind, state)?;
        }
        if let Some(run) = run {
            add_run_counts_tx(&tx, run.run_id, page.items.len() as u64, &counts)?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Upsert several pages of orders in one transaction (a bulk load: one commit for many
    /// pages writes each touched index page to the WAL once instead of once per page).
    /// Returns each page's counts, in order; on an error nothing of these pages is written.
    pub fn upsert_prepared_order_pages(
        &self,
        scope: &Scope,
        pages: &[&PreparedOrders],
    ) -> Result<Vec<UpsertCounts>> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        let counts = pages
            .iter()
            .map(|page| upsert_orders_tx(&tx, scope, page))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(counts)
    }

    /// Upsert a page of offers in one transaction (with an optional checkpoint).
    pub fn upsert_offers(
        &self,
        scope: &Scope,
        offers: &[Value],
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_offers_in_run(scope, offers, checkpoint, None)
    }

    /// [`Store::upsert_offers`] as a page of a sync run (see
    /// [`Store::upsert_prepared_orders_in_run`]).
    pub fn upsert_offers_in_run(
        &self,
        scope: &Scope,
        offers: &[Value],
        checkpoint: Option<(&str, &Value)>,
        run: Option<&RunContext>,
    ) -> Result<UpsertCounts> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        if let Some(run) = run {
            check_generation_tx(&tx, run)?;
        }
        let counts = upsert_offers_tx(&tx, scope, offers)?;
        if let Some((kind, state)) = checkpoint {
            save_checkpoint_tx(&tx, scope, kind, state)?;
        }
        if let Some(run) = run {
            add_run_counts_tx(&tx, run.run_id, offers.len() as u64, &counts)?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// The orders still to acknowledge: stored new (status 1), fulfilled by the seller
    /// (type 3) and not acknowledged yet, oldest id first.
    pub fn orders_to_acknowledge(&self, scope: &Scope) -> Result<Vec<i64>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT order_id FROM orders INDEXED BY orders_to_acknowledge
             WHERE platform = ?1 AND account = ?2 AND status = 1 AND type = 3
               AND acknowledged_at IS NULL ORDER BY order_id",
        )?;
        let ids = stmt
            .query_map(params![scope.platform.code(), scope.account], |r| r.get(0))?
            .collect::<std::result::Result<Vec<i64>, _>>()?;
        Ok(ids)
    }

    /// Record that orders were acknowledged (and count them in the run's sync-log row).
    pub fn mark_acknowledged_in_run(
        &self,
        scope: &Scope,
        order_ids: &[i64],
        run: Option<&RunContext>,
    ) -> Result<()> {
        self.mark_acknowledged_tx(scope, order_ids, run)
    }

    /// Record that orders were acknowledged.
    pub fn mark_acknowledged(&self, scope: &Scope, order_ids: &[i64]) -> Result<()> {
        self.mark_acknowledged_tx(scope, order_ids, None)
    }

    fn mark_acknowledged_tx(
        &self,
        scope: &Scope,
        order_ids: &[i64],
        run: Option<&RunContext>,
    ) -> Result<()> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        if let Some(run) = run {
            tx.execute(
                "UPDATE sync_runs SET acknowledged = acknowledged + ?2 WHERE id = ?1",
                params![run.run_id, order_ids.len() as i64],
            )?;
        }
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE orders SET acknowledged_at = ?4 WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
            )?;
            let now = now_utc();
            for id in order_ids {
                stmt.execute(params![scope.platform.code(), scope.account, id, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The saved checkpoint state of `kind`, if any.
    pub fn load_checkpoint(&self, scope: &Scope, kind: &str) -> Result<Option<Value>> {
        let conn = self.read()?;
        let text: Option<String> = conn
            .query_row(
                "SELECT state FROM checkpoints WHERE platform = ?1 AND account = ?2 AND kind = ?3",
                params![scope.platform.code(), scope.account, kind],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| Error::store(format!("checkpoint {kind:?} is corrupt: {e}")))
        })
        .transpose()
    }

    /// Save a checkpoint on its own.
    pub fn save_checkpoint(&self, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
        let conn = self.write()?;
        save_checkpoint_tx(&conn, scope, kind, state)
    }

    /// Remove a checkpoint (the next sync of that kind starts over).
    pub fn clear_checkpoint(&self, scope: &Scope, kind: &str) -> Result<()> {
        self.write()?.execute(
            "DELETE FROM checkpoints WHERE platform = ?1 AND account = ?2 AND kind = ?3",
            params![scope.platform.code(), scope.account, kind],
        )?;
        Ok(())
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

/// A sync run's identity for its page writes: its sync-log row, and the store generation it
/// began in (a restore bumps it: a run that outlives a restore stops at its next page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunContext {
    /// The sync-log row.
    pub run_id: i64,
    /// [`Store::generation`] when the run began.
    pub generation: i64,
}

fn check_generation_tx(tx: &Transaction<'_>, run: &RunContext) -> Result<()> {
    let now = generation_of(tx)?;
    if now != run.generation {
        return Err(Error::store(
            "the store was restored from a backup while this sync ran: the sync stopped \
             (nothing of this page was written); run it again",
        ));
    }
    Ok(())
}

pub(crate) fn generation_of(conn: &Connection) -> Result<i64> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'generation'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| t.parse().ok()).unwrap_or(0))
}

fn add_run_counts_tx(
    tx: &Transaction<'_>,
    run_id: i64,
    fetched: u64,
    counts: &UpsertCounts,
) -> Result<()> {
    tx.execute(
        "UPDATE sync_runs SET pages = pages + 1, fetched = fetched + ?2, created = created + ?3,
             updated = updated + ?4, unchanged = unchanged + ?5, failed = failed + ?6
         WHERE id = ?1",
        params![
            run_id,
            fetched as i64,
            counts.created as i64,
            counts.updated as i64,
            counts.unchanged as i64,
            counts.failed as i64
        ],
    )?;
    Ok(())
}

fn save_checkpoint_tx(conn: &Connection, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
    conn.execute(
        "INSERT INTO checkpoints (platform, account, kind, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (platform, account, kind) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![scope.platform.code(), scope.account, kind, state.to_string(), now_utc()],
    )?;
    Ok(())
}

/// One order ready to store: its key and the columns the ERP queries (the hash of its text is
/// computed when it is written), all owned, so a page can be prepared on one thread and written on another.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedOrder {
    /// Position of the order's text in the page.
    pub item: usize,
    /// eMAG's order id.
    pub id: i64,
    /// `status`.
    pub status: Option<i64>,
    /// `type`.
    pub kind: Option<i64>,
    /// `payment_mode_id`.
    pub payment_mode_id: Option<i64>,
    /// `date` as eMAG wrote it.
    pub date: Option<String>,
    /// `modified` as eMAG wrote it.
    pub modified: Option<String>,
    /// `date` in UTC (ISO 8601).
    pub created_at: Option<String>,
    /// `modified` in UTC (ISO 8601).
    pub modified_at: Option<String>,
    /// Active lines' quantity x price plus shipping.
    pub total: Option<f64>,
    /// `customer.name`.
    pub customer_name: Option<String>,
    /// Number of lines.
    pub products_count: Option<i64>,
}

impl PreparedOrder {
    /// The columns of one order read from its view (`None`: not an order with a positive
    /// integer id).
    pub fn from_view(item: usize, order: &JsonView<'_>, tz: Tz) -> Option<Self> {
        let int = |key: &str| order.member(key).and_then(JsonView::lenient_i64);
        let string = |key: &str| order.member(key).and_then(JsonView::as_str);
        // `member` is None on anything but an object, so this also refuses non-objects.
        let id = int("id").filter(|id| *id > 0)?;
        Some(PreparedOrder {
            item,
            id,
            status: int("status"),
            kind: int("type"),
            payment_mode_id: int("payment_mode_id"),
            date: string("date").map(str::to_owned),
            modified: string("modified").map(str::to_owned),
            created_at: utc_of(order.member("date"), tz),
            modified_at: utc_of(order.member("modified"), tz),
            total: order_total(order),
            customer_name: order
                .member("customer")
                .and_then(|c| c.member("name"))
                .and_then(JsonView::as_str)
                .map(str::to_owned),
            products_count: order
                .member("products")
                .and_then(JsonView::as_list)
                .map(|p| p.len() as i64),
        })
    }
}

/// A page of orders ready to store: the texts as read, and for each order that could be
/// read its [`PreparedOrder`]; the others are described in `failures`.
#[derive(Debug, Clone)]
pub struct PreparedOrders {
    /// The orders' texts.
    pub items: RawItems,
    /// The orders that read, in page order.
    pub rows: Vec<PreparedOrder>,
    /// One message per item that is not an order with a positive integer id.
    pub failures: Vec<String>,
}

impl PreparedOrders {
    /// Parse each item once into a [`JsonView`], hand it to `inspect` (the sync validates
    /// there), and keep its columns. No `serde_json::Value` is built.
    pub fn new(
        items: RawItems,
        tz: Tz,
        mut inspect: impl FnMut(&PreparedOrder, &JsonView<'_>),
    ) -> PreparedOrders {
        let mut rows = Vec::with_capacity(items.len());
        let mut failures = Vec::new();
        for (index, text) in items.iter().enumerate() {
            let row = JsonView::parse(text)
                .ok()
                .and_then(|view| PreparedOrder::from_view(index, &view, tz).map(|r| (r, view)));
            match row {
                Some((row, view)) => {
                    inspect(&row, &view);
                    rows.push(row);
                }
                None => failures.push(format!(
                    "item {index}: not an order with a positive integer id"
                )),
            }
        }
        PreparedOrders {
            items,
            rows,
            failures,
        }
    }
}

fn order_total(order: &JsonView<'_>) -> Option<f64> {
    let products = order.member("products")?.as_list()?;
    let mut total = 0.0;
    for p in products {
        let active = p
            .member("status")
            .and_then(JsonView::lenient_i64)
            .unwrap_or(1)
            == 1;
        if active {
            let qty = p
                .member("quantity")
                .and_then(JsonView::lenient_f64)
                .unwrap_or(0.0);
            let price = p
                .member("sale_price")
                .and_then(JsonView::lenient_f64)
                .unwrap_or(0.0);
            total += qty * price;
        }
    }
    total += order
        .member("shipping_tax")
        .and_then(JsonView::lenient_f64)
        .unwrap_or(0.0);
    Some((total * 10_000.0).round() / 10_000.0)
}

/// The UTC ISO form of an eMAG timestamp, if it reads.
fn utc_of(v: Option<&JsonView<'_>>, tz: Tz) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let t = crate::time::parse_local(v?.as_str()?, tz).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return Some(t.to_rfc3339_opts(SecondsFormat::Secs, true));
    }
    // What `to_rfc3339_opts(Secs, true)` writes, without a formatter (two per order).
    Some(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// The stored hash of each of `ids` that is in the store: one query per 500 ids instead of
/// one per order.
fn existing_hashes(
    tx: &Transaction<'_>,
    scope: &Scope,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    const CHUNK: usize = 500;
    let ids: Vec<i64> = ids.collect();
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    let platform = scope.platform.code();
    for chunk in ids.chunks(CHUNK) {
        let placeholders = (3..3 + chunk.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT order_id, content_hash FROM orders WHERE platform = ?1 AND account = ?2 \
             AND order_id IN ({placeholders})"
        ))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&platform, &scope.account];
        values.extend(chunk.iter().map(|id| id as &dyn rusqlite::ToSql));
        let mut rows = stmt.query(values.as_slice())?;
        while let Some(r) = rows.next()? {
            found.insert(r.get::<_, i64>(0)?, r.get::<_, String>(1)?);
        }
    }
    Ok(found)
}

fn upsert_orders_tx(
    tx: &Transaction<'_>,
    scope: &Scope,
    page: &PreparedOrders,
) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts {
        failed: page.failures.len() as u64,
        failures: page.failures.clone(),
        ..UpsertCounts::default()
    };
    let now = now_utc();
    let platform = scope.platform.code();
    let mut existing = existing_hashes(tx, scope, page.rows.iter().map(|r| r.id))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO orders (platform, account, order_id, status, type, payment_mode_id, emag_date,
             emag_modified, created_at, modified_at, total, customer_name, products_count, data,
             content_hash, first_seen_at, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE orders SET status = ?4, type = ?5, payment_mode_id = ?6, emag_date = ?7,
             emag_modified = ?8, created_at = ?9, modified_at = ?10, total = ?11, customer_name = ?12,
             products_count = ?13, data = ?14, content_hash = ?15, synced_at = ?16
         WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
    )?;
    let mut touch = tx.prepare_cached(
        "UPDATE orders SET synced_at = ?4 WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
    )?;
    for row in &page.rows {
        let text = page
            .items
            .get(row.item)
            .ok_or_else(|| Error::internal("a prepared order points past its page"))?;
        // Hashed here rather than where the page is parsed: a bulk load parses on a second
        // thread, and this one otherwise waits on SQLite's writes.
        let hash = content_hash(text);
        // The same id twice in a page compares with its first copy.
        let found = existing.insert(row.id, hash.clone());
        match found {
            Some(h) if h == hash => {
                touch.execute(params![platform, scope.account, row.id, now])?;
                counts.unchanged += 1;
            }
            found => {
                let values = params![
                    platform,
                    scope.account,
                    row.id,
                    row.status,
                    row.kind,
                    row.payment_mode_id,
                    row.date,
                    row.modified,
                    row.created_at,
                    row.modified_at,
                    row.total,
                    row.customer_name,
                    row.products_count,
                    text,
                    hash,
                    now,
                ];
                if found.is_some() {
                    update.execute(values)?;
                    counts.updated += 1;
                } else {
                    insert.execute(values)?;
                    counts.created += 1;
                }
            }
        }
    }
    Ok(counts)
}

fn upsert_offers_tx(tx: &Transaction<'_>, scope: &Scope, offers: &[Value]) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    let now = now_utc();
    let mut select = tx.prepare_cached(
        "SELECT content_hash FROM offers WHERE platform = ?1 AND account = ?2 AND offer_id = ?3",
    )?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO offers (platform, account, offer_id, part_number_key, name, status, sale_price,
             general_stock, data, content_hash, first_seen_at, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (platform, account, offer_id) DO UPDATE SET part_number_key = excluded.part_number_key,
             name = excluded.name, status = excluded.status, sale_price = excluded.sale_price,
             general_stock = excluded.general_stock, data = excluded.data,
             content_hash = excluded.content_hash, synced_at = excluded.synced_at",
    )?;
    let mut touch = tx.prepare_cached(
        "UPDATE offers SET synced_at = ?4 WHERE platform = ?1 AND account = ?2 AND offer_id = ?3",
    )?;
    for (index, offer) in offers.iter().enumerate() {
        let Some(id) = offer.get("id").and_then(as_i64).filter(|id| *id > 0) else {
            counts.failed += 1;
            counts.failures.push(format!(
                "item {index}: not an offer with a positive integer id"
            ));
            continue;
        };
        let data = serde_json::to_string(offer)?;
        let hash = content_hash(&data);
        let existing: Option<String> = select
            .query_row(params![scope.platform.code(), scope.account, id], |r| {
                r.get(0)
            })
            .optional()?;
        if existing.as_deref() == Some(hash.as_str()) {
            touch.execute(params![scope.platform.code(), scope.account, id, now])?;
            counts.unchanged += 1;
            continue;
        }
        upsert.execute(params![
            scope.platform.code(),
            scope.account,
            id,
            offer.get("part_number_key").and_then(Value::as_str),
            offer.get("name").and_then(Value::as_str),
            offer.get("status").and_then(as_i64),
            offer.get("sale_price").and_then(as_f64),
            offer.get("general_stock").and_then(as_i64),
            data,
            hash,
            now,
        ])?;
        if existing.is_some() {
            counts.updated += 1;
        } else {
            counts.created += 1;
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_columns_are_what_chrono_writes() {
        for (text, tz) in [
            ("2025-07-01 12:00:00", chrono_tz::Europe::Bucharest),
            ("2025-03-30 03:30:00", chrono_tz::Europe::Bucharest),
            ("2025-10-26 03:30:00", chrono_tz::Europe::Sofia),
            ("2025-01-01 00:00:00", chrono_tz::Europe::Budapest),
        ] {
            let view = JsonView::Str(text.into());
            let chrono = crate::time::parse_local(text, tz)
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Secs, true);
            assert_eq!(utc_of(Some(&view), tz), Some(chrono), "{text}");
        }
        assert_eq!(
            utc_of(Some(&JsonView::Str("no".into())), chrono_tz::UTC),
            None
        );
        assert_eq!(utc_of(Some(&JsonView::Int(1)), chrono_tz::UTC), None);
    }
}
