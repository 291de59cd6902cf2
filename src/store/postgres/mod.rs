//! The PostgreSQL engine of [`super::Store`]: the ERP's own database, shared by several hosts.
//!
//! tokio-postgres with a small deadpool pool, on a runtime of its own (the store's API is
//! blocking, as SQLite's is, and is called from inside the sync's async code as well as from
//! plain threads). A page is one transaction: the stored hashes of its ids are read in one
//! statement, and the new and changed rows are written (and the unchanged ones touched) by one
//! multi-row statement over arrays, all prepared once per connection.

mod callbacks;
mod copy;
mod lock;
mod offer_pages;
mod pages;
mod pipeline;
mod read;
mod runs;
mod schema;
mod tls;
pub mod url;
mod write;

pub use lock::SyncLockGuard;
pub use schema::PG_SCHEMA_VERSION;

use std::future::Future;
use std::mem::ManuallyDrop;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};

use crate::error::{Error, Result};
use crate::runtime::ForkAware;

/// Connections in the pool: a sync writes on one, readers and the sync lock use the others.
const POOL_SIZE: usize = 4;

/// The PostgreSQL engine. `Send + Sync`.
pub struct PgStore {
    /// Orders stored by this process while the tables had never been analyzed (see
    /// [`PgStore::analyze_new_tables`]); `u64::MAX` once they have statistics.
    unanalyzed_rows: std::sync::atomic::AtomicU64,
    /// The runtime and pool of this process: built at open, and again in a forked child
    /// (from the connection settings, password included, that the builder keeps).
    live: ForkAware<Arc<Live>>,
    schema: String,
    display: PathBuf,
    label: String,
}

/// The connection settings of a store, kept to rebuild its pool.
struct Connect {
    config: tokio_postgres::Config,
    tls: url::TlsMode,
    root_cert: Option<String>,
}

/// A runtime and the pool whose connections live on it, in the process (fork generation)
/// that built them. A forked child has neither the runtime's worker thread nor a connection
/// of its own (its sockets are the parent's), so it must not use or tear down these: the
/// store builds a new `Live` there ([`ForkAware`]) and leaks the parent's, also when the
/// child frees a store it never used.
struct Live {
    generation: u64,
    rt: ManuallyDrop<tokio::runtime::Runtime>,
    pool: ManuallyDrop<Pool>,
}

impl Live {
    fn build(connect: &Connect, label: &str) -> Result<Live> {
        let generation = crate::runtime::fork_generation();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("magflow-postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::store(format!("{label}: cannot start its runtime: {e}")))?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = match connect.tls {
            url::TlsMode::Disable => Manager::from_config(
                connect.config.clone(),
                tokio_postgres::NoTls,
                manager_config,
            ),
            _ => Manager::from_config(
                connect.config.clone(),
                tls::connector(connect.root_cert.as_deref())
                    .map_err(|e| Error::store(format!("{label}: {}", e.message())))?,
                manager_config,
            ),
        };
        let pool = {
            let _enter = rt.enter();
            Pool::builder(manager)
                .max_size(POOL_SIZE)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .build()
                .map_err(|e| Error::store(format!("{label}: {e}")))?
        };
        Ok(Live {
            generation,
            rt: ManuallyDrop::new(rt),
            pool: ManuallyDrop::new(pool),
        })
    }

    fn forked(&self) -> bool {
        self.generation != crate::runtime::fork_generation()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if self.forked() {
            // The parent's runtime and connections: joining its threads could wait forever,
            // and its sockets are the parent's to close. Leaked on purpose.
            return;
        }
        // SAFETY: each field is taken once, here, and never used again.
        let (pool, rt) = unsafe {
            (
                ManuallyDrop::take(&mut self.pool),
                ManuallyDrop::take(&mut self.rt),
            )
        };
        // The connections first, so their tasks see the pool go while the runtime still runs.
        drop(pool);
        if tokio::runtime::Handle::try_current().is_ok() {
            // Blocking inside another runtime's async context panics: let it wind down.
            rt.shutdown_background();
        } else {
            // Wait (briefly) for the connections' tasks to end and the worker to exit, so a
            // program that frees the store and exits leaves nothing behind half torn down.
            rt.shutdown_timeout(std::time::Duration::from_secs(5));
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

impl PgStore {
    /// Connect, migrate and check that the role can write; every failure names the host and
    /// database (never the password).
    pub fn open(raw: &str) -> Result<PgStore> {
        let parsed = url::PgUrl::parse(raw)?;
        let connect = Connect {
            config: parsed.config,
            tls: parsed.tls,
            root_cert: parsed.root_cert,
        };
        let label = parsed.label.clone();
        let live = ForkAware::new(move || Live::build(&connect, &label).map(Arc::new))?;
        let store = PgStore {
            unanalyzed_rows: std::sync::atomic::AtomicU64::new(u64::MAX),
            live,
            schema: parsed.schema,
            display: PathBuf::from(parsed.display),
            label: parsed.label,
        };
        let schema = store.schema.clone();
        let analyzed = store.run(async {
            let mut client = store.client().await?;
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

    /// This process's runtime and pool.
    fn live(&self) -> Result<Arc<Live>> {
        self.live.get()
    }

    /// Run `fut` on the store's runtime and wait for it ([`block_on`]). Errors are prefixed
    /// with the host and database.
    fn run<T: Send>(&self, fut: impl Future<Output = Result<T>> + Send) -> Result<T> {
        let live = self.live()?;
        block_on(live.rt.handle(), fut).map_err(|e| self.labelled(e))
    }

    /// A store error prefixed with the host and database.
    fn labelled(&self, e: Error) -> Error {
        match e {
            Error::Store { message } => Error::store(format!("{}: {message}", self.label)),
            other => other,
        }
    }

    /// The store's runtime, to spawn tasks on.
    fn runtime(&self) -> Result<tokio::runtime::Handle> {
        Ok(self.live()?.rt.handle().clone())
    }

    /// The pool of connections of this process.
    fn pool(&self) -> Result<Pool> {
        Ok(Pool::clone(&self.live()?.pool))
    }

    /// Run `f` with the store's runtime on a thread outside any async runtime (this one, or a
    /// scoped one when called from async code), so that `f` may `block_on` futures that are
    /// not `Send` (e.g. holding a SQLite connection across awaits).
    fn on_plain_thread<T: Send>(
        &self,
        f: impl FnOnce(&tokio::runtime::Runtime) -> Result<T> + Send,
    ) -> Result<T> {
        let live = self.live()?;
        let rt: &tokio::runtime::Runtime = &live.rt;
        let out = if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| {
                s.spawn(|| f(rt))
                    .join()
                    .unwrap_or_else(|_| Err(Error::internal("a PostgreSQL call panicked")))
            })
        } else {
            f(rt)
        };
        out.map_err(|e| self.labelled(e))
    }

    /// A new store's tables have no statistics until autovacuum's first pass (a minute or
    /// more), and the planner, taking them for empty, scans a whole account for each page's
    /// key lookups: each page slower than the last. Once this process has stored 2,000 orders
    /// in tables never analyzed, it analyzes them itself, once.
    async fn analyze_new_tables(&self, c: &Object, created: u64) -> Result<()> {
        if self.needs_analyze(created) {
            self.analyze(c).await?;
        }
        Ok(())
    }

    /// Count `created` rows; true once the tables, never analyzed, have enough of them.
    fn needs_analyze(&self, created: u64) -> bool {
        use std::sync::atomic::Ordering;
        let before = self.unanalyzed_rows.load(Ordering::Relaxed);
        if before == u64::MAX {
            return false;
        }
        if before + created < 2_000 {
            self.unanalyzed_rows
                .store(before + created, Ordering::Relaxed);
            return false;
        }
        self.unanalyzed_rows.store(u64::MAX, Ordering::Relaxed);
        true
    }

    async fn analyze(&self, c: &Object) -> Result<()> {
        c.batch_execute("ANALYZE orders; ANALYZE offers").await?;
        Ok(())
    }

    async fn client(&self) -> Result<Object> {
        Ok(self.pool()?.get().await?)
    }

    /// The schema version of the database.
    pub fn schema_version(&self) -> Result<i64> {
        self.run(async { pages::meta_int(&self.client().await?, "schema_version").await })
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
             FROM unnest(ARRAY['orders', 'offers', 'sync_runs', 'checkpoints', 'store_meta',
                                'callback_queue']) AS t,
                  unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p",
            &[],
        )
        .await?;
    if !row.get::<_, Option<bool>>(0).unwrap_or(false) {
        return Err(Error::store(
            "the role cannot write the store's tables (it needs SELECT, INSERT, UPDATE and \
             DELETE on orders, offers, sync_runs, checkpoints, store_meta and callback_queue)",
        ));
    }
    Ok(())
}
