//! The main job: bring every new or changed order (and the offers) into the store,
//! acknowledge new orders once they are safely stored, and record how it went.
//!
//! Orders are walked per type (eMAG's read defaults to type 3, so the sync asks for each type
//! explicitly), incrementally by `modified` from the last checkpoint minus an overlap, in
//! windows of at most one month, each walked from its last page down (see `walk.rs` for
//! why). Each page is upserted in one transaction together with the checkpoint of the
//! walk and the run's counts, so a crash at any point loses nothing and duplicates nothing:
//! the next run resumes at the page after the last one stored.
//!
//! Files: `ingest.rs` (checking and storing pages of orders, the bulk load), `run.rs` (the
//! lock and the sync-log row of a run), `walk.rs` (the order and offer walks),
//! `checkpoint.rs` (a walk's saved position), `acknowledge.rs`, `summary.rs` (the typed
//! status and the counters a run reports), `progress.rs`.

mod acknowledge;
pub(crate) use acknowledge::refused_order;
mod checkpoint;
mod ingest;
mod progress;
mod run;
mod summary;
mod walk;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use ingest::{
    ingest_order_pages, prepare_orders_page, store_orders_page, store_orders_page_raw,
    store_prepared_page, PageOutcome, PreparedPage,
};
pub use progress::{Progress, ProgressFn};
pub use summary::{RunStatus, SyncSummary, FIRST_MESSAGES};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::store::{LockWait, Scope, Store};
use run::{logged_run, settle, Stop, SyncKind};
use walk::Walk;

/// Cooperative cancellation: checked between pages.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh token.
    pub fn new() -> Self {
        CancelToken::default()
    }
    /// Ask the sync to stop after the page in flight.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was asked.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Options of a sync run.
#[derive(Clone)]
#[non_exhaustive]
pub struct SyncOptions {
    /// Walk the whole history instead of what changed since the last run.
    pub full: bool,
    /// Acknowledge every stored new order (status 1, type 3) not yet acknowledged, at the
    /// end of the run (stored by this run or an earlier one), then re-read them.
    pub acknowledge: bool,
    /// Order types to sync (default both: 3 fulfilled by the seller, 2 fulfilled by eMAG).
    pub order_types: Vec<i64>,
    /// How far before the last checkpoint an incremental run starts again.
    pub overlap: Duration,
    /// Called after every stored page; an error from it stops the sync there.
    pub progress: Option<ProgressFn>,
    /// Cooperative cancellation.
    pub cancel: Option<CancelToken>,
    /// When another worker runs the same sync (same platform, account and kind; PostgreSQL
    /// decides across hosts): wait for it to end (`true`), or return at once with status
    /// `skipped` naming it (`false`).
    pub wait: bool,
    /// With `wait`, how long at most (None: until it ends); then `skipped` naming it.
    /// Default [`LockWait::DEFAULT_TIMEOUT`] (an hour).
    pub wait_timeout: Option<Duration>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            full: false,
            acknowledge: false,
            order_types: vec![3, 2],
            overlap: Duration::from_secs(10 * 60),
            progress: None,
            cancel: None,
            wait: false,
            wait_timeout: Some(LockWait::DEFAULT_TIMEOUT),
        }
    }
}

impl SyncOptions {
    /// Options from JSON (the C face): `{"full": false, "acknowledge": false,
    /// "order_types": [3, 2]}`, every key optional; unknown keys are refused.
    pub fn from_json(text: &str) -> Result<SyncOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            #[serde(default)]
            full: bool,
            #[serde(default)]
            acknowledge: bool,
            #[serde(default)]
            wait: bool,
            wait_timeout_s: Option<f64>,
            order_types: Option<Vec<i64>>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("sync options: {e}")))?;
        let mut options = SyncOptions {
            full: wire.full,
            acknowledge: wire.acknowledge,
            wait: wire.wait,
            ..SyncOptions::default()
        };
        if let Some(s) = wire.wait_timeout_s {
            options.wait_timeout = Some(Duration::try_from_secs_f64(s).map_err(|_| {
                Error::invalid_argument("sync options: wait_timeout_s must be a number >= 0")
            })?);
        }
        if let Some(types) = wire.order_types {
            if types.is_empty() || types.iter().any(|t| *t != 2 && *t != 3) {
                return Err(Error::invalid_argument(
                    "sync options: order_types must list 2 and/or 3",
                ));
            }
            options.order_types = types;
        }
        Ok(options)
    }
}

impl std::fmt::Debug for SyncOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncOptions")
            .field("full", &self.full)
            .field("acknowledge", &self.acknowledge)
            .field("order_types", &self.order_types)
            .field("overlap", &self.overlap)
            .field("wait", &self.wait)
            .field("wait_timeout", &self.wait_timeout)
            .finish()
    }
}

/// The scope (platform, account, time zone) a client's orders are stored under.
pub fn scope_of(client: &Client) -> Scope {
    let cfg = client.config();
    Scope {
        platform: cfg.platform,
        account: cfg.account.clone(),
        time_zone: cfg.time_zone(),
    }
}

/// Sync orders into the store. See the module documentation.
pub async fn sync_orders(
    client: &Client,
    store: &Store,
    options: &SyncOptions,
) -> Result<SyncSummary> {
    if options.order_types.iter().any(|t| !matches!(t, 2 | 3)) {
        return Err(Error::invalid_argument(format!(
            "order_types must contain only 2 and 3, got {:?}",
            options.order_types
        )));
    }
    sync(client, store, options, SyncKind::Orders).await
}

/// Sync every `product_offer` page into the offers table (resumable by page).
pub async fn sync_offers(
    client: &Client,
    store: &Store,
    options: &SyncOptions,
) -> Result<SyncSummary> {
    sync(client, store, options, SyncKind::Offers).await
}

/// One logged run of the walks of `kind`.
async fn sync(
    client: &Client,
    store: &Store,
    options: &SyncOptions,
    kind: SyncKind,
) -> Result<SyncSummary> {
    let scope = &scope_of(client);
    logged_run(
        client,
        store,
        scope,
        kind,
        LockWait::new(options.wait, options.wait_timeout),
        |summary, ctx| async move {
            let mut walk = Walk::new(client, store, scope, options, &ctx, summary);
            let walked = match kind {
                SyncKind::Orders => walk_orders(&mut walk, options).await,
                SyncKind::Offers => walk.offers().await,
            };
            settle(walk.summary, walked)
        },
    )
    .await
}

/// Walk each order type, then acknowledge from the store, whatever became of the walk
/// unless it was stopped on purpose: the new orders stored by this run, by one that failed or
/// was killed after storing pages, or by a run that had acknowledge off. The walk's error
/// comes first.
async fn walk_orders(walk: &mut Walk<'_>, options: &SyncOptions) -> walk::Walked {
    let mut walked = Ok(());
    for order_type in &options.order_types {
        walked = walk.orders(*order_type).await;
        if walked.is_err() {
            break;
        }
    }
    if options.acknowledge && matches!(walked, Ok(()) | Err(Stop::Failed(_))) {
        if let Err(e) = walk.acknowledge_stored().await {
            if walked.is_ok() {
                walked = Err(Stop::Failed(e));
            }
        }
    }
    walked
}
