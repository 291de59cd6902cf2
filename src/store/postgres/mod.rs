//! The PostgreSQL engine of [`super::Store`]: the ERP's own database, shared by several hosts.
//!
//! tokio-postgres with a small deadpool pool, on a runtime of its own (the store's API is
//! blocking, as SQLite's is, and is called from inside the sync's async code as well as from
//! plain threads). A page is one transaction: the stored hashes of its ids are read in one
//! statement, and the new and changed rows are written (and the unchanged ones touched) by one
//! multi-row statement over arrays, all prepared once per connection.

mod copy;
mod schema;
mod tls;
pub mod url;

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};

use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde_json::Value;
use tokio_postgres::types::ToSql;

pub use schema::PG_SCHEMA_VERSION;

use super::engine::SyncLock;
use super::rows::{check_limit, utc_instant};
use super::{
    content_hash, now_utc, owner, OfferQuery, OrderQuery, PreparedOrders, ProductStats, RunContext,
    Scope, StoredRow, SyncRun, SyncStats, UpsertCounts,
};
use crate::client::RawItems;
use crate::error::{Error, Result};
use crate::models::lenient::{as_f64, as_i64};

/// Connections in the pool: a sync writes on one, readers and the sync lock use the others.
const POOL_SIZE: usize = 4;

/// The PostgreSQL engine. `Send + Sync`.
pub struct PgStore {
    /// Orders stored by this process while the tables had never been analyzed (see
    /// [`PgStore::analyze_new_tables`]); `u64::MAX` once they have statistics.
    unanalyzed_rows: std::sync::atomic::AtomicU64,
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    schema: String,
    display: PathBuf,
    label: String,
}

/// Holds a sync's advisory lock: its connection is taken out of the pool, and closing it
/// (when the guard is dropped, or the process dies) frees the lock.
pub struct SyncLockGuard {
    held: Option<(deadpool_postgres::ClientWrapper, tokio::runtime::Handle)>,
}

impl SyncLockGuard {
    /// A guard holding nothing (the SQLite engine).
    pub(crate) fn none() -> Self {
        SyncLockGuard { held: None }
    }
}

impl Drop for SyncLockGuard {
    fn drop(&mut self) {
        if let Some((client, handle)) = self.held.take() {
            // Unlock before returning, so the next worker finds the lock free at once (closing
            // the connection alone frees it only when the server notices).
            let unlocked = block_on(&handle, async {
                client
                    .execute("SELECT pg_advisory_unlock_all()", &[])
                    .await
                    .map_err(Error::from)
            });
            if let Err(e) = unlocked {
                log::warn!("sync lock: unlock failed ({e}); freed when its connection closes");
            }
        }
    }
}

/// Wait for `fut` on the runtime of `handle`: directly from a plain thread; from inside an
/// async runtime on a scoped thread (a runtime cannot block inside another).
fn block_on<T: Send>(
    handle: &tokio::runtime::Handle,
    fut: impl Future<Output = Result<T>> + Send,
) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| handle.block_on(fut))
                .join()
                .unwrap_or_else(|_| Err(Error::internal("a PostgreSQL call panicked")))
        })
    } else {
        handle.block_on(fut)
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Dropping a runtime inside another one's async context panics; this does not.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::store(pg_message(&e))
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => Error::store(format!("connection pool: {other}")),
        }
    }
}

/// What went wrong, with the server's message and detail when it sent one.
fn pg_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut text = format!("{} ({})", db.message(), db.code().code());
        if let Some(detail) = db.detail() {
            text.push_str(": ");
            text.push_str(detail);
        }
        return text;
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

impl PgStore {
    /// Connect, migrate and check that the role can write; every failure names the host and
    /// database (never the password).
    pub fn open(raw: &str) -> Result<PgStore> {
        let parsed = url::PgUrl::parse(raw)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("magflow-postgres")
            .enable_all()
            .build()
            .map_err(|e| {
                Error::store(format!("{}: cannot start its runtime: {e}", parsed.label))
            })?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match parsed.tls {
            url::TlsMode::Disable => {
                Manager::from_config(parsed.config.clone(), tokio_postgres::NoTls, manager_config)
            }
            _ => Manager::from_config(
                parsed.config.clone(),
                tls::connector(parsed.root_cert.as_deref())
                    .map_err(|e| Error::store(format!("{}: {}", parsed.label, e.message())))?,
                manager_config,
            ),
        };
        let pool = {
            let _enter = rt.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| Error::store(format!("{}: {e}", parsed.label)))?
        };
        let store = PgStore {
            unanalyzed_rows: std::sync::atomic::AtomicU64::new(u64::MAX),
            rt: Some(rt),
            pool,
            schema: parsed.schema.clone(),
            display: PathBuf::from(parsed.display.clone()),
            label: parsed.label.clone(),
        };
        let schema = store.schema.clone();
        let analyzed = store.run(async {
            let mut client = store.pool.get().await?;
            schema::migrate(&mut client, &schema).await?;
            check_writable(&client).await?;
            let row = client
                .query_one(
                    "SELECT reltuples >= 0 FROM pg_class WHERE oid = 'orders'::regclass",
                    &[],
                )
                .await?;
            Ok(row.get::<_, bool>(0))
        })?;
        if !analyzed {
            store
                .unanalyzed_rows
                .store(0, std::sync::atomic::Ordering::Relaxed);
        }
        store.mark_abandoned_runs()?;
        Ok(store)
    }

    /// The URL without its password.
    pub fn path(&self) -> &Path {
        &self.display
    }

    /// Run `fut` on the store's runtime and wait for it ([`block_on`]). Errors are prefixed
    /// with the host and database.
    fn run<T: Send>(&self, fut: impl Future<Output = Result<T>> + Send) -> Result<T> {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| Error::store(format!("{}: the store is closed", self.label)))?;
        block_on(rt.handle(), fut).map_err(|e| match e {
            Error::Store { message } => Error::store(format!("{}: {message}", self.label)),
            other => other,
        })
    }

    /// Run `f` with the store's runtime on a thread outside any async runtime (this one, or a
    /// scoped one when called from async code), so that `f` may `block_on` futures that are
    /// not `Send` (e.g. holding a SQLite connection across awaits).
    fn on_plain_thread<T: Send>(
        &self,
        f: impl FnOnce(&tokio::runtime::Runtime) -> Result<T> + Send,
    ) -> Result<T> {
        let rt = self
            .rt
            .as_ref()
            .ok_or_else(|| Error::store(format!("{}: the store is closed", self.label)))?;
        let out = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| f(rt))
                    .join()
                    .unwrap_or_else(|_| Err(Error::internal("a PostgreSQL call panicked")))
            })
        } else {
            f(rt)
        };
        out.map_err(|e| match e {
            Error::Store { message } => Error::store(format!("{}: {message}", self.label)),
            other => other,
        })
    }

    /// A new store's tables have no statistics until autovacuum's first pass (a minute or
    /// more), and the planner, taking them for empty, scans a whole account for each page's
    /// key lookups: each page slower than the last. Once this process has stored 2,000 orders
    /// in tables never analyzed, it analyzes them itself, once.
    async fn analyze_new_tables(&self, c: &Object, created: u64) -> Result<()> {
        use std::sync::atomic::Ordering;
        let before = self.unanalyzed_rows.load(Ordering::Relaxed);
        if before == u64::MAX {
            return Ok(());
        }
        if before + created < 2_000 {
            self.unanalyzed_rows
                .store(before + created, Ordering::Relaxed);
            return Ok(());
        }
        self.unanalyzed_rows.store(u64::MAX, Ordering::Relaxed);
        c.batch_execute("ANALYZE orders; ANALYZE offers").await?;
        Ok(())
    }

    async fn client(&self) -> Result<Object> {
        Ok(self.pool.get().await?)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        self.run(async {
            let c = self.client().await?;
            let row = c
                .query_opt(
                    "SELECT value FROM store_meta WHERE key = 'schema_version'",
                    &[],
                )
                .await?;
            Ok(row
                .and_then(|r| r.get::<_, String>(0).parse().ok())
                .unwrap_or(0))
        })
    }

    fn sync_lock_key(&self, kind: &str, scope: &Scope) -> i64 {
        schema::lock_key(&format!(
            "magflow_emag:sync:{}:{kind}:{}:{}",
            self.schema,
            scope.platform.code(),
            scope.account
        ))
    }

    /// Take the advisory lock of one sync (platform + account + kind), waiting for it or not.
    pub fn lock_sync(&self, kind: &str, scope: &Scope, wait: bool) -> Result<SyncLock> {
        let key = self.sync_lock_key(kind, scope);
        self.run(async {
            let client = Object::take(self.client().await?);
            let got = if wait {
                client
                    .execute("SELECT pg_advisory_lock($1)", &[&key])
                    .await?;
                true
            } else {
                client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await?
                    .get::<_, bool>(0)
            };
            if got {
                return Ok(SyncLock::Acquired(SyncLockGuard {
                    held: Some((client, tokio::runtime::Handle::current())),
                }));
            }
            drop(client);
            let c = self.client().await?;
            let owner: Option<String> = c
                .query_opt(
                    "SELECT owner FROM sync_runs WHERE status = 'running' AND kind = $1
                       AND platform = $2 AND account = $3 ORDER BY id DESC LIMIT 1",
                    &[&kind, &scope.platform.code(), &scope.account],
                )
                .await?
                .and_then(|r| r.get(0));
            Ok(SyncLock::Held(owner.unwrap_or_else(|| {
                "another worker (its run is starting)".into()
            })))
        })
    }

    /// Upsert a page of orders (see [`super::SqliteStore::upsert_orders`]).
    pub fn upsert_orders(
        &self,
        scope: &Scope,
        orders: &[Value],
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        let page = PreparedOrders::new(RawItems::from_values(orders)?, scope.time_zone, |_, _| {});
        self.upsert_prepared_orders_in_run(scope, &page, checkpoint, None)
    }

    /// Upsert prepared orders with the checkpoint, in one transaction.
    pub fn upsert_prepared_orders(
        &self,
        scope: &Scope,
        page: &PreparedOrders,
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_prepared_orders_in_run(scope, page, checkpoint, None)
    }

    /// A page of a sync run: generation check, rows, checkpoint and run counts in one
    /// transaction.
    pub fn upsert_prepared_orders_in_run(
        &self,
        scope: &Scope,
        page: &PreparedOrders,
        checkpoint: Option<(&str, &Value)>,
        run: Option<&RunContext>,
    ) -> Result<UpsertCounts> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let counts = upsert_orders_tx(&tx, scope, page, run).await?;
            // Both in flight at once (one round trip; the order between them does not matter).
            let checkpoint = async {
                match checkpoint {
                    Some((kind, state)) => save_checkpoint_tx(&tx, scope, kind, state).await,
                    None => Ok(()),
                }
            };
            let run_counts = async {
                match run {
                    Some(run) => {
                        add_run_counts(&tx, run.run_id, page.items.len() as u64, &counts).await
                    }
                    None => Ok(()),
                }
            };
            tokio::try_join!(checkpoint, run_counts)?;
            tx.commit().await?;
            self.analyze_new_tables(&c, counts.created).await?;
            Ok(counts)
        })
    }

    /// Several pages in one transaction.
    pub fn upsert_prepared_order_pages(
        &self,
        scope: &Scope,
        pages: &[&PreparedOrders],
    ) -> Result<Vec<UpsertCounts>> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let mut out = Vec::with_capacity(pages.len());
            for page in pages {
                out.push(upsert_orders_tx(&tx, scope, page, None).await?);
            }
            tx.commit().await?;
            self.analyze_new_tables(&c, out.iter().map(|n| n.created).sum())
                .await?;
            Ok(out)
        })
    }

    /// Upsert a page of offers.
    pub fn upsert_offers(
        &self,
        scope: &Scope,
        offers: &[Value],
        checkpoint: Option<(&str, &Value)>,
    ) -> Result<UpsertCounts> {
        self.upsert_offers_in_run(scope, offers, checkpoint, None)
    }

    /// A page of offers of a sync run.
    pub fn upsert_offers_in_run(
        &self,
        scope: &Scope,
        offers: &[Value],
        checkpoint: Option<(&str, &Value)>,
        run: Option<&RunContext>,
    ) -> Result<UpsertCounts> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            if let Some(run) = run {
                check_generation(&tx, run).await?;
            }
            let counts = upsert_offers_tx(&tx, scope, offers).await?;
            if let Some((kind, state)) = checkpoint {
                save_checkpoint_tx(&tx, scope, kind, state).await?;
            }
            if let Some(run) = run {
                add_run_counts(&tx, run.run_id, offers.len() as u64, &counts).await?;
            }
            tx.commit().await?;
            Ok(counts)
        })
    }

    /// The orders still to acknowledge, oldest id first.
    pub fn orders_to_acknowledge(&self, scope: &Scope) -> Result<Vec<i64>> {
        self.run(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT order_id FROM orders WHERE platform = $1 AND account = $2
                       AND status = 1 AND type = 3 AND acknowledged_at IS NULL ORDER BY order_id",
                )
                .await?;
            let rows = c
                .query(&stmt, &[&scope.platform.code(), &scope.account])
                .await?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    /// Record acknowledged orders, counted in the run's row.
    pub fn mark_acknowledged_in_run(
        &self,
        scope: &Scope,
        order_ids: &[i64],
        run: Option<&RunContext>,
    ) -> Result<()> {
        let ids = order_ids.to_vec();
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            if let Some(run) = run {
                tx.execute(
                    "UPDATE sync_runs SET acknowledged = acknowledged + $2 WHERE id = $1",
                    &[&run.run_id, &(ids.len() as i64)],
                )
                .await?;
            }
            tx.execute(
                "UPDATE orders o SET acknowledged_at = $4 FROM unnest($3::int8[]) AS i(id)
                 WHERE o.platform = $1 AND o.account = $2 AND o.order_id = i.id",
                &[&scope.platform.code(), &scope.account, &ids, &now_utc()],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Record acknowledged orders.
    pub fn mark_acknowledged(&self, scope: &Scope, order_ids: &[i64]) -> Result<()> {
        self.mark_acknowledged_in_run(scope, order_ids, None)
    }

    /// A saved checkpoint.
    pub fn load_checkpoint(&self, scope: &Scope, kind: &str) -> Result<Option<Value>> {
        let text: Option<String> = self.run(async {
            let c = self.client().await?;
            Ok(c.query_opt(
                "SELECT state FROM checkpoints WHERE platform = $1 AND account = $2 AND kind = $3",
                &[&scope.platform.code(), &scope.account, &kind],
            )
            .await?
            .map(|r| r.get(0)))
        })?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| Error::store(format!("checkpoint {kind:?} is corrupt: {e}")))
        })
        .transpose()
    }

    /// Save a checkpoint on its own.
    pub fn save_checkpoint(&self, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
        self.run(async {
            let c = self.client().await?;
            save_checkpoint_tx(&c, scope, kind, state).await
        })
    }

    /// Remove a checkpoint.
    pub fn clear_checkpoint(&self, scope: &Scope, kind: &str) -> Result<()> {
        self.run(async {
            let c = self.client().await?;
            c.execute(
                "DELETE FROM checkpoints WHERE platform = $1 AND account = $2 AND kind = $3",
                &[&scope.platform.code(), &scope.account, &kind],
            )
            .await?;
            Ok(())
        })
    }

    fn count(&self, table: &'static str, scope: Option<&Scope>) -> Result<u64> {
        self.run(async {
            let c = self.client().await?;
            let n: i64 = match scope {
                None => c
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await?
                    .get(0),
                Some(s) => c
                    .query_one(
                        &format!(
                            "SELECT count(*) FROM {table} WHERE platform = $1 AND account = $2"
                        ),
                        &[&s.platform.code(), &s.account],
                    )
                    .await?
                    .get(0),
            };
            Ok(n as u64)
        })
    }

    /// Stored orders.
    pub fn count_orders(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count("orders", scope)
    }

    /// Stored offers.
    pub fn count_offers(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count("offers", scope)
    }

    fn data_of(
        &self,
        table: &'static str,
        id: &'static str,
        value: i64,
        scope: Option<&Scope>,
    ) -> Result<Option<String>> {
        self.run(async {
            let c = self.client().await?;
            let row = match scope {
                None => {
                    c.query_opt(
                        &format!("SELECT data FROM {table} WHERE {id} = $1 ORDER BY platform, account LIMIT 1"),
                        &[&value],
                    )
                    .await?
                }
                Some(s) => {
                    c.query_opt(
                        &format!("SELECT data FROM {table} WHERE platform = $1 AND account = $2 AND {id} = $3"),
                        &[&s.platform.code(), &s.account, &value],
                    )
                    .await?
                }
            };
            Ok(row.map(|r| r.get(0)))
        })
    }

    /// An order as eMAG sent it.
    pub fn get_order(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<Value>> {
        self.get_order_text(order_id, scope)?
            .map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| Error::store(format!("order {order_id} is corrupt: {e}")))
            })
            .transpose()
    }

    /// An order's text exactly as stored.
    pub fn get_order_text(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        self.data_of("orders", "order_id", order_id, scope)
    }

    /// An offer as read.
    pub fn get_offer(&self, offer_id: i64, scope: Option<&Scope>) -> Result<Option<Value>> {
        self.data_of("offers", "offer_id", offer_id, scope)?
            .map(|t| {
                serde_json::from_str(&t)
                    .map_err(|e| Error::store(format!("offer {offer_id} is corrupt: {e}")))
            })
            .transpose()
    }

    /// Order counts per status.
    pub fn order_status_counts(&self, scope: Option<&Scope>) -> Result<Vec<(i64, u64)>> {
        self.run(async {
            let c = self.client().await?;
            let rows = match scope {
                None => c.query("SELECT coalesce(status, -1), count(*) FROM orders GROUP BY 1 ORDER BY 1", &[]).await?,
                Some(s) => c.query(
                    "SELECT coalesce(status, -1), count(*) FROM orders WHERE platform = $1 AND account = $2 GROUP BY 1 ORDER BY 1",
                    &[&s.platform.code(), &s.account],
                ).await?,
            };
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1) as u64))
                .collect())
        })
    }

    /// Start a sync-log row owned by this process.
    pub fn begin_sync_run(&self, kind: &str, scope: &Scope) -> Result<i64> {
        self.mark_abandoned_runs()?;
        self.run(async {
            let c = self.client().await?;
            let row = c
                .query_one(
                    "INSERT INTO sync_runs (kind, platform, account, started_at, status, owner)
                     VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id",
                    &[
                        &kind,
                        &scope.platform.code(),
                        &scope.account,
                        &now_utc(),
                        &owner::current(),
                    ],
                )
                .await?;
            Ok(row.get(0))
        })
    }

    /// The store's generation.
    pub fn generation(&self) -> Result<i64> {
        self.run(async {
            let c = self.client().await?;
            generation_of(&c).await
        })
    }

    /// Mark runs whose worker is gone as `abandoned`: on this host, a process that is gone;
    /// on any host, a run whose sync lock nobody holds (its session ended with its process).
    pub fn mark_abandoned_runs(&self) -> Result<u64> {
        self.run(async {
            let c = self.client().await?;
            let running = c
                .query(
                    "SELECT id, owner, kind, platform, account FROM sync_runs WHERE status = 'running'",
                    &[],
                )
                .await?;
            let mut n = 0;
            for r in running {
                let id: i64 = r.get(0);
                let who: Option<String> = r.get(1);
                let dead = match who.as_deref() {
                    None => true,
                    Some(o) if owner::is_dead(o) => true,
                    Some(o) if owner::is_this_host(o) => false,
                    Some(_) => {
                        let key = schema::lock_key(&format!(
                            "magflow_emag:sync:{}:{}:{}:{}",
                            self.schema,
                            r.get::<_, String>(2),
                            r.get::<_, String>(3),
                            r.get::<_, String>(4)
                        ));
                        lock_is_free(&c, key).await?
                    }
                };
                if dead {
                    n += c
                        .execute(
                            "UPDATE sync_runs SET status = 'abandoned', finished_at = $2,
                                 error = 'the process running this sync ended before it finished (killed or crashed)'
                             WHERE id = $1 AND status = 'running'",
                            &[&id, &now_utc()],
                        )
                        .await?;
                }
            }
            Ok(n)
        })
    }

    /// Whether a sync is running.
    pub fn sync_in_progress(&self) -> Result<bool> {
        self.mark_abandoned_runs()?;
        self.run(async {
            let c = self.client().await?;
            let n: i64 = c
                .query_one(
                    "SELECT count(*) FROM sync_runs WHERE status = 'running'",
                    &[],
                )
                .await?
                .get(0);
            Ok(n > 0)
        })
    }

    /// End a run stopped from outside as `cancelled`.
    pub fn cancel_sync_run(&self, run_id: i64, duration_s: f64) -> Result<()> {
        self.run(async {
            let c = self.client().await?;
            c.execute(
                "UPDATE sync_runs SET status = 'cancelled', finished_at = $2, duration_s = $3,
                     error = 'cancelled before it finished'
                 WHERE id = $1 AND status = 'running'",
                &[&run_id, &now_utc(), &duration_s],
            )
            .await?;
            Ok(())
        })
    }

    /// Finish a sync-log row.
    pub fn finish_sync_run(&self, run: &SyncRun) -> Result<()> {
        self.run(async {
            let c = self.client().await?;
            c.execute(
                "UPDATE sync_runs SET finished_at = $2, status = $3, pages = $4, fetched = $5, created = $6,
                     updated = $7, unchanged = $8, failed = $9, acknowledged = $10, duration_s = $11, error = $12
                 WHERE id = $1",
                &[
                    &run.id,
                    &now_utc(),
                    &run.status,
                    &(run.pages as i64),
                    &(run.fetched as i64),
                    &(run.created as i64),
                    &(run.updated as i64),
                    &(run.unchanged as i64),
                    &(run.failed as i64),
                    &(run.acknowledged as i64),
                    &run.duration_s,
                    &run.error,
                ],
            )
            .await?;
            Ok(())
        })
    }

    /// The latest sync-log rows, newest first.
    pub fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        self.run(async {
            let c = self.client().await?;
            let rows = c
                .query(
                    "SELECT id, kind, platform, account, started_at, finished_at, status, pages, fetched,
                            created, updated, unchanged, failed, acknowledged, duration_s, error
                     FROM sync_runs ORDER BY id DESC LIMIT $1",
                    &[&i64::from(limit)],
                )
                .await?;
            Ok(rows
                .iter()
                .map(|r| SyncRun {
                    id: r.get(0),
                    kind: r.get(1),
                    platform: r.get(2),
                    account: r.get(3),
                    started_at: r.get(4),
                    finished_at: r.get(5),
                    status: r.get(6),
                    pages: r.get::<_, i64>(7) as u64,
                    fetched: r.get::<_, i64>(8) as u64,
                    created: r.get::<_, i64>(9) as u64,
                    updated: r.get::<_, i64>(10) as u64,
                    unchanged: r.get::<_, i64>(11) as u64,
                    failed: r.get::<_, i64>(12) as u64,
                    acknowledged: r.get::<_, i64>(13) as u64,
                    duration_s: r.get(14),
                    error: r.get(15),
                })
                .collect())
        })
    }

    /// Sync statistics over the last `hours` hours.
    pub fn sync_statistics(&self, hours: u32) -> Result<SyncStats> {
        let since = (Utc::now() - ChronoDuration::hours(i64::from(hours)))
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let r = self.run(async {
            let c = self.client().await?;
            Ok(c.query_one(
                "SELECT count(*), count(*) FILTER (WHERE status = 'success'),
                        count(*) FILTER (WHERE status IN ('failed', 'abandoned')),
                        avg(duration_s), coalesce(sum(fetched), 0)::bigint
                 FROM sync_runs WHERE started_at >= $1 AND status != 'running'",
                &[&since],
            )
            .await?)
        })?;
        let total: i64 = r.get(0);
        let successful: i64 = r.get(1);
        Ok(SyncStats {
            hours,
            total: total as u64,
            successful: successful as u64,
            failed: r.get::<_, i64>(2) as u64,
            success_rate: if total == 0 {
                1.0
            } else {
                successful as f64 / total as f64
            },
            average_duration_s: r.get::<_, Option<f64>>(3).unwrap_or(0.0),
            items_processed: r.get::<_, i64>(4) as u64,
        })
    }

    /// Offer statistics.
    pub fn product_statistics(&self) -> Result<ProductStats> {
        let since =
            (Utc::now() - ChronoDuration::hours(24)).to_rfc3339_opts(SecondsFormat::Millis, true);
        self.run(async {
            let c = self.client().await?;
            let r = c
                .query_one(
                    "SELECT count(*), count(*) FILTER (WHERE status = 1),
                            count(*) FILTER (WHERE synced_at >= $1) FROM offers",
                    &[&since],
                )
                .await?;
            let by = c
                .query(
                    "SELECT platform || '/' || account, count(*) FROM offers GROUP BY 1 ORDER BY 1",
                    &[],
                )
                .await?;
            let total: i64 = r.get(0);
            let active: i64 = r.get(1);
            Ok(ProductStats {
                total: total as u64,
                active: active as u64,
                inactive: (total - active) as u64,
                by_account: by
                    .iter()
                    .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as u64))
                    .collect(),
                synced_last_24h: r.get::<_, i64>(2) as u64,
            })
        })
    }

    /// Stored orders matching `query`, one page (the cursor is `row_id`).
    pub fn orders(&self, query: &OrderQuery) -> Result<Vec<StoredRow>> {
        let limit = check_limit(query.limit)?;
        let mut f = Filter::new(&query.scope, query.after);
        if let Some(status) = &query.status {
            f.any_of("status", status)?;
        }
        if let Some(kind) = query.kind {
            f.int("type", kind);
        }
        if let Some(since) = &query.modified_since {
            f.at_least("modified_at", utc_instant(since, "modified_since")?);
        }
        self.rows("orders", "order_id", f, limit)
    }

    /// Stored offers matching `query`, one page.
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
        f.values.push(Box::new(limit));
        let sql = format!(
            "SELECT row_id, {id}, data FROM {table} WHERE {} ORDER BY row_id LIMIT ${}",
            f.clauses.join(" AND "),
            f.values.len()
        );
        self.run(async {
            let c = self.client().await?;
            let stmt = c.prepare_cached(&sql).await?;
            let params: Params<'_> = f
                .values
                .iter()
                .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = c.query(&stmt, &params).await?;
            Ok(rows
                .iter()
                .map(|r| StoredRow {
                    cursor: r.get(0),
                    id: r.get(1),
                    data: r.get(2),
                })
                .collect())
        })
    }
}

/// The `WHERE` clause of a read, from fixed column names only.
struct Filter {
    clauses: Vec<String>,
    values: Vec<Box<dyn ToSql + Sync + Send>>,
}

impl Filter {
    fn new(scope: &Option<Scope>, after: Option<i64>) -> Self {
        let mut f = Filter {
            clauses: vec!["true".into()],
            values: Vec::new(),
        };
        if let Some(s) = scope {
            f.push("platform = ", Box::new(s.platform.code().to_owned()));
            f.push("account = ", Box::new(s.account.clone()));
        }
        if let Some(after) = after {
            f.push("row_id > ", Box::new(after));
        }
        f
    }

    fn push(&mut self, clause: &str, value: Box<dyn ToSql + Sync + Send>) {
        self.values.push(value);
        self.clauses.push(format!("{clause}${}", self.values.len()));
    }

    fn int(&mut self, column: &'static str, value: i64) {
        self.push(&format!("{column} = "), Box::new(value));
    }

    fn at_least(&mut self, column: &'static str, value: String) {
        self.push(&format!("{column} >= "), Box::new(value));
    }

    fn any_of(&mut self, column: &'static str, values: &[i64]) -> Result<()> {
        if values.is_empty() || values.len() > 16 {
            return Err(Error::invalid_argument(
                "status: give one status or a list of 1 to 16",
            ));
        }
        self.values.push(Box::new(values.to_vec()));
        self.clauses
            .push(format!("{column} = ANY(${})", self.values.len()));
        Ok(())
    }
}

/// Refuse at open what would fail at the first write: a read-only role or server.
async fn check_writable(c: &Object) -> Result<()> {
    let read_only: String = c.query_one("SHOW transaction_read_only", &[]).await?.get(0);
    if read_only == "on" {
        return Err(Error::store(
            "the server or the session is read-only (transaction_read_only is on)",
        ));
    }
    let row = c
        .query_one(
            // A list of privileges is true when any one is held: each is asked on its own.
            "SELECT bool_and(has_table_privilege(t, p))
             FROM unnest(ARRAY['orders', 'offers', 'sync_runs', 'checkpoints', 'store_meta']) AS t,
                  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p",
            &[],
        )
        .await?;
    if !row.get::<_, Option<bool>>(0).unwrap_or(false) {
        return Err(Error::store(
            "the role cannot write the store's tables (it needs SELECT, INSERT, UPDATE and \
             DELETE on orders, offers, sync_runs, checkpoints and store_meta)",
        ));
    }
    Ok(())
}

async fn lock_is_free<C: deadpool_postgres::GenericClient>(c: &C, key: i64) -> Result<bool> {
    let held: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND ((classid::bigint << 32) | objid::bigint) = $1)",
            &[&key],
        )
        .await?
        .get(0);
    Ok(!held)
}

async fn generation_of<C: deadpool_postgres::GenericClient>(c: &C) -> Result<i64> {
    let row = c
        .query_opt("SELECT value FROM store_meta WHERE key = 'generation'", &[])
        .await?;
    Ok(row
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0))
}

async fn check_generation<C: deadpool_postgres::GenericClient>(
    c: &C,
    run: &RunContext,
) -> Result<()> {
    if generation_of(c).await? != run.generation {
        return Err(Error::store(
            "the store was restored from a backup while this sync ran: the sync stopped \
             (nothing of this page was written); run it again",
        ));
    }
    Ok(())
}

async fn add_run_counts<C: deadpool_postgres::GenericClient>(
    c: &C,
    run_id: i64,
    fetched: u64,
    counts: &UpsertCounts,
) -> Result<()> {
    c.execute(
        "UPDATE sync_runs SET pages = pages + 1, fetched = fetched + $2, created = created + $3,
             updated = updated + $4, unchanged = unchanged + $5, failed = failed + $6
         WHERE id = $1",
        &[
            &run_id,
            &(fetched as i64),
            &(counts.created as i64),
            &(counts.updated as i64),
            &(counts.unchanged as i64),
            &(counts.failed as i64),
        ],
    )
    .await?;
    Ok(())
}

async fn save_checkpoint_tx<C: deadpool_postgres::GenericClient>(
    c: &C,
    scope: &Scope,
    kind: &str,
    state: &Value,
) -> Result<()> {
    c.execute(
        "INSERT INTO checkpoints (platform, account, kind, state, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (platform, account, kind) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        &[&scope.platform.code(), &scope.account, &kind, &state.to_string(), &now_utc()],
    )
    .await?;
    Ok(())
}

/// The stored hashes of `ids` (one statement).
async fn existing_hashes(
    tx: &deadpool_postgres::Transaction<'_>,
    table: &str,
    id: &str,
    scope: &Scope,
    ids: &[i64],
) -> Result<HashMap<i64, String>> {
    let stmt = tx
        .prepare_cached(&format!(
            // A join on the ids rather than `= ANY($3)`: with the statistics of a new table
            // the generic plan of the latter scanned the whole account through another
            // index (each page slower than the last); this one probes the key per id.
            "SELECT t.{id}, t.content_hash FROM unnest($3::int8[]) AS i(id)
             JOIN {table} t ON t.platform = $1 AND t.account = $2 AND t.{id} = i.id"
        ))
        .await?;
    let rows = tx
        .query(&stmt, &[&scope.platform.code(), &scope.account, &ids])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// What to do with each item of a page, decided as the SQLite engine does (the same id twice
/// in a page compares with its first copy): the counts, the index of the copy to write for
/// each new or changed id (its last), and the unchanged ids to touch.
fn plan<'a>(
    ids_texts: impl Iterator<Item = (i64, &'a str)>,
    mut existing: HashMap<i64, String>,
    counts: &mut UpsertCounts,
) -> (Vec<(usize, String)>, Vec<i64>) {
    let mut write: HashMap<i64, (usize, String)> = HashMap::new();
    let mut touch = Vec::new();
    for (index, (id, text)) in ids_texts.enumerate() {
        let hash = content_hash(text);
        match existing.insert(id, hash.clone()) {
            Some(h) if h == hash => {
                counts.unchanged += 1;
                if !write.contains_key(&id) {
                    touch.push(id);
                }
            }
            found => {
                if found.is_some() {
                    counts.updated += 1;
                } else {
                    counts.created += 1;
                }
                write.insert(id, (index, hash));
            }
        }
    }
    let mut write: Vec<(usize, String)> = write.into_values().collect();
    write.sort_by_key(|(i, _)| *i);
    touch.sort_unstable();
    touch.dedup();
    (write, touch)
}

const UPSERT_ORDERS: &str = "
WITH w AS (
    INSERT INTO orders (platform, account, order_id, status, type, payment_mode_id, emag_date,
        emag_modified, created_at, modified_at, total, customer_name, products_count, data,
        content_hash, first_seen_at, synced_at)
    SELECT $1, $2, t.id, t.st, t.ty, t.pm, t.d, t.m, t.ca, t.ma, t.tot, t.cn, t.pc, t.data, t.h, $16, $16
    FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::float8[], $12::text[], $13::int8[], $14::text[], $15::text[])
         AS t(id, st, ty, pm, d, m, ca, ma, tot, cn, pc, data, h)
    ON CONFLICT (platform, account, order_id) DO UPDATE SET status = excluded.status,
        type = excluded.type, payment_mode_id = excluded.payment_mode_id,
        emag_date = excluded.emag_date, emag_modified = excluded.emag_modified,
        created_at = excluded.created_at, modified_at = excluded.modified_at,
        total = excluded.total, customer_name = excluded.customer_name,
        products_count = excluded.products_count, data = excluded.data,
        content_hash = excluded.content_hash, synced_at = excluded.synced_at
    RETURNING 1
), u AS (
    UPDATE orders o SET synced_at = $16 FROM unnest($17::int8[]) AS i(id)
    WHERE o.platform = $1 AND o.account = $2 AND o.order_id = i.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM u)";

/// One page of orders in `tx`; with `run`, the generation is checked in the same round trip
/// as the page's key lookups (nothing is written when it changed).
async fn upsert_orders_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    scope: &Scope,
    page: &PreparedOrders,
    run: Option<&RunContext>,
) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts {
        failed: page.failures.len() as u64,
        failures: page.failures.clone(),
        ..UpsertCounts::default()
    };
    let mut texts = Vec::with_capacity(page.rows.len());
    for row in &page.rows {
        texts.push(
            page.items
                .get(row.item)
                .ok_or_else(|| Error::internal("a prepared order points past its page"))?,
        );
    }
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let generation = async {
        match run {
            Some(run) => check_generation(tx, run).await,
            None => Ok(()),
        }
    };
    let ((), existing, stmt) = tokio::try_join!(
        generation,
        existing_hashes(tx, "orders", "order_id", scope, &ids),
        async { Ok(tx.prepare_cached(UPSERT_ORDERS).await?) },
    )?;
    let (write, touch) = plan(
        ids.iter().copied().zip(texts.iter().copied()),
        existing,
        &mut counts,
    );
    let n = write.len();
    let (mut id, mut st, mut ty, mut pm) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut d, mut m, mut ca, mut ma) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut tot, mut cn, mut pc, mut data, mut h) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (index, hash) in write {
        let r = &page.rows[index];
        id.push(r.id);
        st.push(r.status);
        ty.push(r.kind);
        pm.push(r.payment_mode_id);
        d.push(r.date.as_deref());
        m.push(r.modified.as_deref());
        ca.push(r.created_at.as_deref());
        ma.push(r.modified_at.as_deref());
        tot.push(r.total);
        cn.push(r.customer_name.as_deref());
        pc.push(r.products_count);
        data.push(texts[index]);
        h.push(hash);
    }
    if id.is_empty() && touch.is_empty() {
        return Ok(counts);
    }
    let now = now_utc();
    let platform = scope.platform.code();
    tx.query_one(
        &stmt,
        &[
            &platform,
            &scope.account,
            &id,
            &st,
            &ty,
            &pm,
            &d,
            &m,
            &ca,
            &ma,
            &tot,
            &cn,
            &pc,
            &data,
            &h,
            &now,
            &touch,
        ],
    )
    .await?;
    Ok(counts)
}

/// The columns of the offers a page writes, as arrays (one statement per page).
#[derive(Default)]
struct OfferColumns<'a> {
    id: Vec<i64>,
    pnk: Vec<Option<&'a str>>,
    name: Vec<Option<&'a str>>,
    status: Vec<Option<i64>>,
    price: Vec<Option<f64>>,
    stock: Vec<Option<i64>>,
    data: Vec<&'a str>,
    hash: Vec<String>,
}

const UPSERT_OFFERS: &str = "
WITH w AS (
    INSERT INTO offers (platform, account, offer_id, part_number_key, name, status, sale_price,
        general_stock, data, content_hash, first_seen_at, synced_at)
    SELECT $1, $2, t.id, t.pnk, t.name, t.st, t.price, t.stock, t.data, t.h, $11, $11
    FROM unnest($3::int8[], $4::text[], $5::text[], $6::int8[], $7::float8[], $8::int8[],
                $9::text[], $10::text[]) AS t(id, pnk, name, st, price, stock, data, h)
    ON CONFLICT (platform, account, offer_id) DO UPDATE SET
        part_number_key = excluded.part_number_key, name = excluded.name,
        status = excluded.status, sale_price = excluded.sale_price,
        general_stock = excluded.general_stock, data = excluded.data,
        content_hash = excluded.content_hash, synced_at = excluded.synced_at
    RETURNING 1
), u AS (
    UPDATE offers o SET synced_at = $11 FROM unnest($12::int8[]) AS i(id)
    WHERE o.platform = $1 AND o.account = $2 AND o.offer_id = i.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM u)";

async fn upsert_offers_tx(
    tx: &deadpool_postgres::Transaction<'_>,
    scope: &Scope,
    offers: &[Value],
) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    let mut kept: Vec<(i64, &Value, String)> = Vec::with_capacity(offers.len());
    for (index, offer) in offers.iter().enumerate() {
        let Some(id) = offer.get("id").and_then(as_i64).filter(|id| *id > 0) else {
            counts.failed += 1;
            counts.failures.push(format!(
                "item {index}: not an offer with a positive integer id"
            ));
            continue;
        };
        kept.push((id, offer, serde_json::to_string(offer)?));
    }
    let ids: Vec<i64> = kept.iter().map(|k| k.0).collect();
    let existing = existing_hashes(tx, "offers", "offer_id", scope, &ids).await?;
    let (write, touch) = plan(
        kept.iter().map(|(id, _, text)| (*id, text.as_str())),
        existing,
        &mut counts,
    );
    let mut cols = OfferColumns::default();
    for (index, hash) in write {
        let (id, offer, text) = &kept[index];
        cols.id.push(*id);
        cols.pnk
            .push(offer.get("part_number_key").and_then(Value::as_str));
        cols.name.push(offer.get("name").and_then(Value::as_str));
        cols.status.push(offer.get("status").and_then(as_i64));
        cols.price.push(offer.get("sale_price").and_then(as_f64));
        cols.stock.push(offer.get("general_stock").and_then(as_i64));
        cols.data.push(text.as_str());
        cols.hash.push(hash);
    }
    if cols.id.is_empty() && touch.is_empty() {
        return Ok(counts);
    }
    let stmt = tx.prepare_cached(UPSERT_OFFERS).await?;
    let now = now_utc();
    tx.query_one(
        &stmt,
        &[
            &scope.platform.code(),
            &scope.account,
            &cols.id,
            &cols.pnk,
            &cols.name,
            &cols.status,
            &cols.price,
            &cols.stock,
            &cols.data,
            &cols.hash,
            &now,
            &touch,
        ],
    )
    .await?;
    Ok(counts)
}
