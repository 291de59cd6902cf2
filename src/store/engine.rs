//! The seam between the store's users (sync, backup, monitoring, the bindings) and its engine:
//! [`Store`] is SQLite (a file path) or PostgreSQL (a `postgresql://` / `postgres://` URL),
//! with one API. Each method forwards to the engine's method of the same name.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::postgres::{PgStore, SyncLockGuard};
use super::{
    CallbackEntry, CallbackQueueStats, OfferQuery, OrderQuery, PageCommit, PreparedOrders,
    ProductStats, RunContext, Scope, SqliteStore, StoredRow, SyncRun, SyncStats, UpsertCounts,
};
use crate::client::RawItems;
use crate::error::{Error, Result};

/// Which engine holds the data.
enum Engine {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// The store. `Send + Sync`: share it behind an `Arc`.
pub struct Store {
    engine: Engine,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.engine {
            Engine::Sqlite(s) => f.debug_struct("Store").field("path", &s.path()).finish(),
            // The URL without its password.
            Engine::Postgres(s) => f.debug_struct("Store").field("url", &s.path()).finish(),
        }
    }
}

/// Whether `location` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    let lower = location.trim_start().to_ascii_lowercase();
    lower.starts_with("postgresql://") || lower.starts_with("postgres://")
}

macro_rules! on_engine {
    ($self:ident, $s:ident => $e:expr) => {
        match &$self.engine {
            Engine::Sqlite($s) => $e,
            Engine::Postgres($s) => $e,
        }
    };
}

/// What [`Store::lock_sync`] found.
pub enum SyncLock {
    /// This process runs the sync; the lock is held until the guard is dropped.
    Acquired(SyncLockGuard),
    /// Another worker runs it (its owner, `host:pid:start`, when known).
    Held(String),
}

/// How long [`Store::lock_sync`] waits when another worker runs the sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// Not at all: `Held` at once.
    No,
    /// Up to this long, then `Held` (a zero duration does not wait).
    Upto(Duration),
    /// Until the other run ends, however long.
    Forever,
}

impl LockWait {
    /// What `wait: true` means: an hour. A sync normally ends within minutes (a first import
    /// of a large account within about a quarter of an hour at eMAG's limits); a holder still
    /// running after an hour is stuck or far behind, and the next scheduled run tries again.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3600);

    /// From the sync's options: `wait` false is `No`; true waits `timeout` (None: forever).
    pub fn new(wait: bool, timeout: Option<Duration>) -> LockWait {
        match (wait, timeout) {
            (false, _) => LockWait::No,
            (true, Some(d)) => LockWait::Upto(d),
            (true, None) => LockWait::Forever,
        }
    }
}

impl From<bool> for LockWait {
    fn from(wait: bool) -> LockWait {
        LockWait::new(wait, Some(LockWait::DEFAULT_TIMEOUT))
    }
}

impl Store {
    /// Open (creating if needed) the store and migrate it: a `postgresql://` or `postgres://`
    /// URL opens PostgreSQL, anything else is a SQLite file path.
    pub fn open(location: impl AsRef<Path>) -> Result<Store> {
        let location = location.as_ref();
        let engine = match location.to_str() {
            Some(text) if is_postgres_url(text) => Engine::Postgres(PgStore::open(text)?),
            _ => Engine::Sqlite(SqliteStore::open(location)?),
        };
        Ok(Store { engine })
    }

    /// The SQLite engine, for what only it does (backups read and restore its file; a
    /// PostgreSQL store goes through a staged SQLite copy, see `export_sqlite`).
    pub(crate) fn sqlite(&self) -> Result<&SqliteStore> {
        match &self.engine {
            Engine::Sqlite(s) => Ok(s),
            Engine::Postgres(s) => Err(Error::internal(format!(
                "{}: a SQLite-only operation on a PostgreSQL store",
                s.path().display()
            ))),
        }
    }

    /// Copy a PostgreSQL store's rows into a new SQLite store at `path` (backups).
    pub(crate) fn export_sqlite(&self, path: &Path) -> Result<()> {
        match &self.engine {
            Engine::Postgres(s) => s.export_sqlite(path),
            Engine::Sqlite(_) => Err(Error::internal("export_sqlite is for PostgreSQL stores")),
        }
    }

    /// Replace a PostgreSQL store's rows with those of the SQLite store at `path` (restores).
    pub(crate) fn import_sqlite(&self, path: &Path, name: &str) -> Result<()> {
        match &self.engine {
            Engine::Postgres(s) => s.import_sqlite(path, name),
            Engine::Sqlite(_) => Err(Error::internal("import_sqlite is for PostgreSQL stores")),
        }
    }

    /// Whether the data lives in PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.engine, Engine::Postgres(_))
    }

    /// The file this store lives in; for PostgreSQL, its URL without the password.
    pub fn path(&self) -> &Path {
        on_engine!(self, s => s.path())
    }

    /// The schema version of the store.
    pub fn schema_version(&self) -> Result<i64> {
        on_engine!(self, s => s.schema_version())
    }

    /// One sync per platform + account + kind at a time across processes and hosts. SQLite
    /// (one host, one file) always answers `Acquired`; PostgreSQL takes an advisory lock on a
    /// connection of its own, held until the guard is dropped (or its process dies); `wait`
    /// says how long to wait for another worker's run (`true`: [`LockWait::DEFAULT_TIMEOUT`]).
    pub fn lock_sync(
        &self,
        kind: &str,
        scope: &Scope,
        wait: impl Into<LockWait>,
    ) -> Result<SyncLock> {
        match &self.engine {
            Engine::Sqlite(_) => Ok(SyncLock::Acquired(SyncLockGuard::none())),
            Engine::Postgres(s) => s.lock_sync(kind, scope, wait.into()),
        }
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
    /// is stored as it is, with its SHA-256 for change detection.
    pub fn upsert_prepared_orders(
        &self,
        scope: &Scope,
        page: &PreparedOrders,
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_prepared_orders_in_run(page, PageCommit::new(scope, checkpoint))
    }

    /// A page of a sync run (see [`SqliteStore::upsert_prepared_orders_in_run`]).
    pub fn upsert_prepared_orders_in_run(
        &self,
        page: &PreparedOrders,
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        on_engine!(self, s => s.upsert_prepared_orders_in_run(page, at))
    }

    /// Several pages of orders in one transaction (a bulk load).
    pub fn upsert_prepared_order_pages(
        &self,
        scope: &Scope,
        pages: &[&PreparedOrders],
    ) -> Result<Vec<UpsertCounts>> {
        on_engine!(self, s => s.upsert_prepared_order_pages(scope, pages))
    }

    /// Groups of pages of orders, each in one transaction, in order (a bulk load); `done`
    /// gets each group's tag and counts once it is committed. Stops at the first error: the
    /// groups before it stay written, none after it is. PostgreSQL writes the next group on
    /// a second connection while one commits (see `postgres/pipeline.rs`).
    pub(crate) fn write_order_groups<T>(
        &self,
        scope: &Scope,
        groups: impl IntoIterator<Item = (Vec<PreparedOrders>, T)>,
        mut done: impl FnMut(T, Vec<UpsertCounts>),
    ) -> Result<()> {
        match &self.engine {
            Engine::Postgres(s) => s.write_order_groups(scope, groups, done),
            Engine::Sqlite(s) => {
                for (pages, tag) in groups {
                    let pages: Vec<&PreparedOrders> = pages.iter().collect();
                    done(tag, s.upsert_prepared_order_pages(scope, &pages)?);
                }
                Ok(())
            }
        }
    }

    /// Upsert a page of offers in one transaction (with an optional checkpoint).
    pub fn upsert_offers(
        &self,
        scope: &Scope,
        offers: &[Value],
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_offers_in_run(offers, PageCommit::new(scope, checkpoint))
    }

    /// A page of offers of a sync run.
    pub fn upsert_offers_in_run(
        &self,
        offers: &[Value],
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        on_engine!(self, s => s.upsert_offers_in_run(offers, at))
    }

    /// The orders still to acknowledge, oldest id first.
    pub fn orders_to_acknowledge(&self, scope: &Scope) -> Result<Vec<i64>> {
        on_engine!(self, s => s.orders_to_acknowledge(scope))
    }

    /// Record that orders were acknowledged, counted in the run's sync-log row.
    pub fn mark_acknowledged_in_run(
        &self,
        scope: &Scope,
        order_ids: &[i64],
        run: Option<&RunContext>,
    ) -> Result<()> {
        on_engine!(self, s => s.mark_acknowledged_in_run(scope, order_ids, run))
    }

    /// Record that orders were acknowledged.
    pub fn mark_acknowledged(&self, scope: &Scope, order_ids: &[i64]) -> Result<()> {
        self.mark_acknowledged_in_run(scope, order_ids, None)
    }

    /// The saved checkpoint state of `kind`, if any.
    pub fn load_checkpoint(&self, scope: &Scope, kind: &str) -> Result<Option<Value>> {
        on_engine!(self, s => s.load_checkpoint(scope, kind))
    }

    /// Save a checkpoint on its own.
    pub fn save_checkpoint(&self, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
        on_engine!(self, s => s.save_checkpoint(scope, kind, state))
    }

    /// Remove a checkpoint.
    pub fn clear_checkpoint(&self, scope: &Scope, kind: &str) -> Result<()> {
        on_engine!(self, s => s.clear_checkpoint(scope, kind))
    }

    /// The number of stored orders.
    pub fn count_orders(&self, scope: Option<&Scope>) -> Result<u64> {
        on_engine!(self, s => s.count_orders(scope))
    }

    /// The number of stored offers.
    pub fn count_offers(&self, scope: Option<&Scope>) -> Result<u64> {
        on_engine!(self, s => s.count_offers(scope))
    }

    /// An order exactly as read from eMAG.
    pub fn get_order(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<Value>> {
        parse_row("order", order_id, self.get_order_text(order_id, scope)?)
    }

    /// An order's JSON text exactly as stored.
    pub fn get_order_text(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        on_engine!(self, s => s.get_order_text(order_id, scope))
    }

    /// An offer as read.
    pub fn get_offer(&self, offer_id: i64, scope: Option<&Scope>) -> Result<Option<Value>> {
        parse_row("offer", offer_id, self.get_offer_text(offer_id, scope)?)
    }

    /// An offer's JSON text exactly as stored.
    pub fn get_offer_text(&self, offer_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        on_engine!(self, s => s.get_offer_text(offer_id, scope))
    }

    /// Order counts per status.
    pub fn order_status_counts(&self, scope: Option<&Scope>) -> Result<Vec<(i64, u64)>> {
        on_engine!(self, s => s.order_status_counts(scope))
    }

    /// Start a sync-log row owned by this process; returns its id.
    pub fn begin_sync_run(&self, kind: &str, scope: &Scope) -> Result<i64> {
        on_engine!(self, s => s.begin_sync_run(kind, scope))
    }

    /// The store's generation (bumped by every restore).
    pub fn generation(&self) -> Result<i64> {
        on_engine!(self, s => s.generation())
    }

    /// Mark runs left `running` by a process that is gone as `abandoned`.
    pub fn mark_abandoned_runs(&self) -> Result<u64> {
        on_engine!(self, s => s.mark_abandoned_runs())
    }

    /// Whether a sync of this store is running.
    pub fn sync_in_progress(&self) -> Result<bool> {
        on_engine!(self, s => s.sync_in_progress())
    }

    /// End a run stopped from outside as `cancelled`.
    pub fn cancel_sync_run(&self, run_id: i64, duration_s: f64) -> Result<()> {
        on_engine!(self, s => s.cancel_sync_run(run_id, duration_s))
    }

    /// Finish a sync-log row with its counts and status.
    pub fn finish_sync_run(&self, run: &SyncRun) -> Result<()> {
        on_engine!(self, s => s.finish_sync_run(run))
    }

    /// The latest sync-log rows, newest first.
    pub fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        on_engine!(self, s => s.sync_runs(limit))
    }

    /// Sync statistics over the last `hours` hours.
    pub fn sync_statistics(&self, hours: u32) -> Result<SyncStats> {
        on_engine!(self, s => s.sync_statistics(hours))
    }

    /// Offer statistics.
    pub fn product_statistics(&self) -> Result<ProductStats> {
        on_engine!(self, s => s.product_statistics())
    }

    /// Stored orders matching `query`, one page.
    pub fn orders(&self, query: &OrderQuery) -> Result<Vec<StoredRow>> {
        on_engine!(self, s => s.orders(query))
    }

    /// Stored offers matching `query`, one page.
    pub fn offers(&self, query: &OfferQuery) -> Result<Vec<StoredRow>> {
        on_engine!(self, s => s.offers(query))
    }

    /// Record a callback of `kind` about `ref_id`, durably, before the receiver answers (see
    /// [`SqliteStore::enqueue_callback`]); whether the entry is (again) pending.
    pub fn enqueue_callback(&self, scope: &Scope, kind: &str, ref_id: i64) -> Result<bool> {
        on_engine!(self, s => s.enqueue_callback(scope, kind, ref_id))
    }

    /// Up to `limit` pending callbacks of `scope`, oldest first.
    pub fn pending_callbacks(&self, scope: &Scope, limit: usize) -> Result<Vec<CallbackEntry>> {
        on_engine!(self, s => s.pending_callbacks(scope, limit))
    }

    /// Mark a processed entry done (`error` None) or failed for good (see
    /// [`SqliteStore::finish_callback`]).
    pub fn finish_callback(&self, entry: &CallbackEntry, error: Option<&str>) -> Result<()> {
        on_engine!(self, s => s.finish_callback(entry, error))
    }

    /// Count a failed attempt on an entry that stays pending.
    pub fn retry_callback(&self, entry: &CallbackEntry, error: &str) -> Result<()> {
        on_engine!(self, s => s.retry_callback(entry, error))
    }

    /// Whether the stored order awaits its acknowledgement (status 1, type 3, not
    /// acknowledged).
    pub fn order_awaits_acknowledgement(&self, scope: &Scope, order_id: i64) -> Result<bool> {
        on_engine!(self, s => s.order_awaits_acknowledgement(scope, order_id))
    }

    /// The callback queue's figures over every platform and account.
    pub fn callback_stats(&self) -> Result<CallbackQueueStats> {
        on_engine!(self, s => s.callback_stats())
    }
}

/// A stored text as JSON; one that does not parse is reported as corrupt.
fn parse_row(what: &str, id: i64, text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| Error::store(format!("{what} {id} is corrupt: {e}")))
    })
    .transpose()
}
