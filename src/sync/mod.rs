//! The main job: bring every new or changed order (and the offers) into the store,
//! acknowledge new orders once they are safely stored, and record how it went.
//!
//! Orders are walked per type (eMAG's read defaults to type 3, so the sync asks for each type
//! explicitly), incrementally by `modified` from the last checkpoint minus an overlap, in
//! windows of at most one month, each walked from its last page down (see `walk_orders`
//! for why). Each page is upserted in one transaction together with the checkpoint of the
//! walk and the run's counts, so a crash at any point loses nothing and duplicates nothing:
//! the next run resumes at the page after the last one stored.

mod progress;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};

pub use progress::{Progress, ProgressFn};

use crate::client::{Client, RawItems};
use crate::error::{Error, ErrorKind, Result};
use crate::hooks::Bucket;
use crate::models::lenient::as_i64;
use crate::store::{PreparedOrders, RunContext, Scope, Store, SyncLock, SyncRun, UpsertCounts};
use crate::time::EMAG_FORMAT;

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
            .finish()
    }
}

/// What a sync run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncSummary {
    /// `orders` or `offers`.
    pub kind: String,
    /// `success`, `failed`, `cancelled` (the token), `interrupted` (the progress callback
    /// failed; the sync returns its error) or `skipped` (another worker runs this sync:
    /// `error` names it; nothing was read or logged).
    pub status: String,
    /// The sync-log row.
    pub run_id: i64,
    /// Pages read.
    pub pages: u64,
    /// HTTP requests made (reads, counts, acknowledgements, re-reads).
    pub requests: u64,
    /// Items read.
    pub fetched: u64,
    /// New rows.
    pub created: u64,
    /// Changed rows.
    pub updated: u64,
    /// Rows read again unchanged.
    pub unchanged: u64,
    /// Items that could not be stored.
    pub failed: u64,
    /// Orders stored although they break a rule of eMAG's documented shape (kept as read:
    /// nothing read is dropped; the first messages are in `warnings`).
    pub invalid: u64,
    /// The first few validation messages, each prefixed with its order id.
    pub warnings: Vec<String>,
    /// Orders acknowledged.
    pub acknowledged: u64,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// The least time eMAG's quota allows for that many requests, seconds.
    pub rate_limit_min_s: f64,
    /// The first few messages about failed items.
    pub failures: Vec<String>,
    /// The error that ended a failed run.
    pub error: Option<String>,
}

/// What storing one page of orders did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PageOutcome {
    /// The upsert's counts.
    pub counts: UpsertCounts,
    /// Orders with validation messages (stored all the same).
    pub invalid: u64,
    /// Those messages, `order <id>: <path>: <problem>`, at most 20 per page.
    pub warnings: Vec<String>,
    /// `(id, type)` of every order of the page in status 1 (new), the candidates for
    /// acknowledgement; `type` is `None` when the order does not say.
    pub new_orders: Vec<(i64, Option<i64>)>,
}

/// A page of orders checked and prepared for the store, not yet written
/// ([`prepare_orders_page`]); owned, so it can cross threads.
#[derive(Debug, Clone)]
pub struct PreparedPage {
    /// The texts and, for each order, its columns.
    pub orders: PreparedOrders,
    /// Orders with validation messages (stored all the same).
    pub invalid: u64,
    /// Those messages, `order <id>: <path>: <problem>`, at most 20.
    pub warnings: Vec<String>,
    /// `(id, type)` of every order in status 1 (new).
    pub new_orders: Vec<(i64, Option<i64>)>,
}

/// Check a page of orders as the sync does and prepare its rows: each order is parsed once
/// into a borrowed [`crate::jsonview::JsonView`], validated ([`crate::validate::validate_order_data`]), and its
/// columns read (the SHA-256 of its text is computed when it is written). Orders with validation messages are kept (nothing read is
/// dropped): the messages are logged and returned.
pub fn prepare_orders_page(scope: &Scope, items: RawItems) -> PreparedPage {
    let mut invalid = 0;
    let mut warnings = Vec::new();
    let mut new_orders = Vec::new();
    let orders = PreparedOrders::new(items, scope.time_zone, |row, view| {
        if row.status == Some(1) {
            new_orders.push((row.id, row.kind));
        }
        let messages = crate::validate::validate_order_data(view);
        if messages.is_empty() {
            return;
        }
        invalid += 1;
        log::warn!(
            "order {} read from eMAG breaks {} rule(s): {}",
            row.id,
            messages.len(),
            messages.join("; ")
        );
        for m in messages {
            if warnings.len() < 20 {
                warnings.push(format!("order {}: {m}", row.id));
            }
        }
    });
    PreparedPage {
        orders,
        invalid,
        warnings,
        new_orders,
    }
}

/// Write a prepared page in one transaction (with the checkpoint, if any).
pub fn store_prepared_page(
    store: &Store,
    scope: &Scope,
    page: PreparedPage,
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    let counts = store.upsert_prepared_orders(scope, &page.orders, checkpoint)?;
    Ok(PageOutcome {
        counts,
        invalid: page.invalid,
        warnings: page.warnings,
        new_orders: page.new_orders,
    })
}

/// Store one page of orders as the sync does ([`prepare_orders_page`], then one transaction
/// with the checkpoint, if any). Each order is stored as its compact serialization.
pub fn store_orders_page(
    store: &Store,
    scope: &Scope,
    orders: &[Value],
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    store_orders_page_raw(store, scope, &RawItems::from_values(orders)?, checkpoint)
}

/// [`store_orders_page`] for a page kept as the text eMAG sent ([`Pager::next_page_raw`]):
/// each order's text is stored as it came.
///
/// [`Pager::next_page_raw`]: crate::client::pagination::Pager::next_page_raw
pub fn store_orders_page_raw(
    store: &Store,
    scope: &Scope,
    orders: &RawItems,
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    let page = prepare_orders_page(scope, orders.clone());
    store_prepared_page(store, scope, page, checkpoint)
}

/// Load many pages of orders at once (saved answers, an export, a first import): the same
/// checks and writes as [`store_orders_page_raw`], with the parsing and checking of the next
/// pages on a second thread while SQLite writes. The pages already parsed when the writer is
/// free are written in one transaction (up to 16): each index page they touch then goes to
/// the WAL once rather than once per page. Stops at the first error (pages already written
/// stay written, as a sync's would; a group that fails to commit is not written at all).
/// Returns the pages' outcomes added up (warnings and failures: the first 20).
pub fn ingest_order_pages<I>(store: &Store, scope: &Scope, pages: I) -> Result<PageOutcome>
where
    I: IntoIterator<Item = Result<RawItems>>,
    I::IntoIter: Send,
{
    // Pages in flight: enough for the parser to run on while the writer waits on an fsync
    // at a WAL checkpoint; about 250 KB of text each.
    const IN_FLIGHT: usize = 16;
    let pages = pages.into_iter();
    std::thread::scope(|threads| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<PreparedPage>>(IN_FLIGHT);
        let producer = std::thread::Builder::new()
            .name("mf-ingest-parse".into())
            .spawn_scoped(threads, move || {
                for page in pages {
                    let prepared = page.map(|items| prepare_orders_page(scope, items));
                    let failed = prepared.is_err();
                    if tx.send(prepared).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| Error::internal(format!("cannot start the ingest thread: {e}")))?;
        let mut total = PageOutcome::default();
        let mut outcome = Ok(());
        // Group commit: the pages already parsed when the writer is free go into one
        // transaction (at most MAX_GROUP), so a writer that falls behind catches up.
        const MAX_GROUP: usize = IN_FLIGHT;
        'pages: while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(page) => group.push(page),
                    Err(_) => break,
                }
            }
            let mut ready = Vec::with_capacity(group.len());
            for page in group {
                match page {
                    Ok(page) => ready.push(page),
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
            if ready.is_empty() {
                break;
            }
            let orders: Vec<&PreparedOrders> = ready.iter().map(|p| &p.orders).collect();
            match store.upsert_prepared_order_pages(scope, &orders) {
                Ok(counts) => {
                    for (page, counts) in ready.into_iter().zip(counts) {
                        total.absorb(PageOutcome {
                            counts,
                            invalid: page.invalid,
                            warnings: page.warnings,
                            new_orders: page.new_orders,
                        });
                    }
                }
                Err(e) => {
                    // These pages come before any unreadable one of the group: their error
                    // is the first in page order.
                    outcome = Err(e);
                    break 'pages;
                }
            }
            if outcome.is_err() {
                break;
            }
        }
        // Dropping the receiver ends a producer still sending.
        drop(rx);
        producer
            .join()
            .map_err(|_| Error::internal("the ingest thread panicked"))?;
        outcome.map(|()| total)
    })
}

impl PageOutcome {
    fn absorb(&mut self, page: PageOutcome) {
        let c = &mut self.counts;
        c.created += page.counts.created;
        c.updated += page.counts.updated;
        c.unchanged += page.counts.unchanged;
        c.failed += page.counts.failed;
        for f in page.counts.failures {
            if c.failures.len() < 20 {
                c.failures.push(f);
            }
        }
        self.invalid += page.invalid;
        for w in page.warnings {
            if self.warnings.len() < 20 {
                self.warnings.push(w);
            }
        }
        self.new_orders.extend(page.new_orders);
    }
}

impl SyncSummary {
    fn absorb_page(&mut self, page: &PageOutcome) {
        self.absorb(&page.counts);
        self.invalid += page.invalid;
        for w in &page.warnings {
            if self.warnings.len() < 20 {
                self.warnings.push(w.clone());
            }
        }
    }

    fn absorb(&mut self, counts: &UpsertCounts) {
        self.created += counts.created;
        self.updated += counts.updated;
        self.unchanged += counts.unchanged;
        self.failed += counts.failed;
        for f in &counts.failures {
            if self.failures.len() < 20 {
                self.failures.push(f.clone());
            }
        }
    }
}

/// The walk in progress, as saved in the checkpoint.
#[derive(Debug, Clone, Default, PartialEq)]
struct WalkState {
    high_water: Option<String>,
    run: Option<RunState>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct RunState {
    after: Option<String>,
    before: Option<String>,
    started_local: String,
    window: usize,
    /// Forward walks (whole history, offers): the next page. Windowed order walks
    /// (`descending`): the next page going down, 0 before the window was counted.
    page: u64,
    descending: bool,
}

impl WalkState {
    fn from_json(v: Option<Value>) -> Self {
        let Some(v) = v else {
            return WalkState::default();
        };
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let run = v.get("run").filter(|r| r.is_object()).map(|r| {
            let descending = r.get("descending").and_then(Value::as_bool) == Some(true);
            let page = if descending {
                r.get("page_down").and_then(as_i64).unwrap_or(0).max(0) as u64
            } else {
                r.get("page").and_then(as_i64).unwrap_or(1).max(1) as u64
            };
            RunState {
                after: text(r, "after"),
                before: text(r, "before"),
                started_local: text(r, "started_local").unwrap_or_default(),
                window: r.get("window").and_then(as_i64).unwrap_or(0).max(0) as usize,
                // A windowed walk saved by an older version walked up: its window is
                // walked again from the top (pages already stored read as unchanged).
                page,
                descending,
            }
        });
        WalkState {
            high_water: text(&v, "high_water"),
            run,
        }
    }

    fn to_json(&self) -> Value {
        // A downward walk keeps its page under its own key, with `page` 1 beside it: a
        // version that walks up, reading this checkpoint, starts the window over rather
        // than skipping its lower pages.
        json!({
            "high_water": self.high_water,
            "run": self.run.as_ref().map(|r| if r.descending {
                json!({
                    "after": r.after, "before": r.before, "started_local": r.started_local,
                    "window": r.window, "page": 1, "page_down": r.page, "descending": true,
                })
            } else {
                json!({
                    "after": r.after, "before": r.before, "started_local": r.started_local,
                    "window": r.window, "page": r.page,
                })
            }),
        })
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

fn now_local(scope: &Scope) -> NaiveDateTime {
    Utc::now().with_timezone(&scope.time_zone).naive_local()
}

/// The least time eMAG's per-second quota allows for `requests` requests: the first goes at
/// once, each next one a quota interval later.
fn min_seconds(requests: u64, bucket: Bucket) -> f64 {
    let per_second = match bucket {
        Bucket::Orders => 12.0,
        Bucket::Other => 3.0,
    };
    requests.saturating_sub(1) as f64 / per_second
}

/// Why a walk stopped before its end.
enum Stop {
    /// The cancel token was set.
    Cancelled,
    /// The progress callback failed (e.g. Ctrl-C raised in it): the sync ends with its error.
    Interrupted(Error),
    /// Anything else.
    Failed(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Failed(e)
    }
}

fn cancelled(options: &SyncOptions) -> bool {
    options
        .cancel
        .as_ref()
        .is_some_and(CancelToken::is_cancelled)
}

/// Ends a run whose future is dropped before it finished (an asyncio task cancelled, a
/// `select!` that lost): the row is marked `cancelled`, keeping the counts its pages wrote.
struct RunGuard<'a> {
    store: &'a Store,
    run_id: i64,
    started: Instant,
    finished: bool,
}

impl Drop for RunGuard<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let elapsed = self.started.elapsed().as_secs_f64();
            if let Err(e) = self.store.cancel_sync_run(self.run_id, elapsed) {
                log::warn!(
                    "sync run {} was dropped and could not be recorded: {e}",
                    self.run_id
                );
            }
        }
    }
}

/// Run `body` as one logged sync run: the sync-log row is written at the start, gets each
/// page's counts with the page, and is finished with the outcome, whatever it is (dropped
/// before the end: `cancelled`; its process killed: `abandoned` at the next open or run).
async fn logged_run<F, Fut>(
    client: &Client,
    store: &Store,
    scope: &Scope,
    kind: &str,
    bucket: Bucket,
    wait: bool,
    body: F,
) -> Result<SyncSummary>
where
    F: FnOnce(SyncSummary, RunContext) -> Fut,
    Fut: std::future::Future<Output = (SyncSummary, Result<()>)>,
{
    // One sync per platform + account + kind at a time (held until this function returns).
    let _lock = match store.lock_sync(kind, scope, wait)? {
        SyncLock::Acquired(guard) => guard,
        SyncLock::Held(holder) => {
            return Ok(SyncSummary {
                kind: kind.to_owned(),
                status: "skipped".into(),
                error: Some(format!(
                    "another worker runs this {kind} sync of {}/{}: {holder}",
                    scope.platform.code(),
                    scope.account
                )),
                ..SyncSummary::default()
            })
        }
    };
    let started = Instant::now();
    let generation = store.generation()?;
    let run_id = store.begin_sync_run(kind, scope)?;
    let mut guard = RunGuard {
        store,
        run_id,
        started,
        finished: false,
    };
    let summary = SyncSummary {
        kind: kind.to_owned(),
        run_id,
        ..SyncSummary::default()
    };
    let (mut summary, outcome) = body(summary, RunContext { run_id, generation }).await;
    summary.duration_s = started.elapsed().as_secs_f64();
    summary.rate_limit_min_s = min_seconds(summary.requests, bucket);
    if summary.status.is_empty() {
        summary.status = if outcome.is_ok() {
            "success".into()
        } else {
            "failed".into()
        };
    }
    if let Err(e) = &outcome {
        summary.error = Some(e.to_string());
    }
    // A run stopped on purpose is neither a success nor a failure for the sync success rate.
    if summary.status == "success" || summary.status == "failed" {
        client
            .monitor()
            .record_sync(kind, outcome.is_ok(), started.elapsed(), summary.fetched);
    }
    let finished = store.finish_sync_run(&SyncRun {
        id: run_id,
        kind: kind.to_owned(),
        status: summary.status.clone(),
        pages: summary.pages,
        fetched: summary.fetched,
        created: summary.created,
        updated: summary.updated,
        unchanged: summary.unchanged,
        failed: summary.failed,
        acknowledged: summary.acknowledged,
        duration_s: Some(summary.duration_s),
        error: summary.error.clone(),
        ..SyncRun::default()
    });
    guard.finished = true;
    finished?;
    outcome.map(|()| summary)
}

/// Sync orders into the store. See the module documentation.
pub async fn sync_orders(
    client: &Client,
    store: &Store,
    options: &SyncOptions,
) -> Result<SyncSummary> {
    let scope = scope_of(client);
    if options.order_types.iter().any(|t| !matches!(t, 2 | 3)) {
        return Err(Error::invalid_argument(format!(
            "order_types must contain only 2 and 3, got {:?}",
            options.order_types
        )));
    }
    let scope = &scope;
    logged_run(
        client,
        store,
        scope,
        "orders",
        Bucket::Orders,
        options.wait,
        |mut summary, run| async move {
            let mut tracker = progress::Tracker::new("orders", options.progress.clone());
            let mut walked: std::result::Result<(), Stop> = Ok(());
            for order_type in &options.order_types {
                walked = walk_orders(
                    client,
                    store,
                    scope,
                    options,
                    *order_type,
                    &run,
                    &mut summary,
                    &mut tracker,
                )
                .await;
                if walked.is_err() {
                    break;
                }
            }
            let error = match walked {
                Ok(()) => None,
                Err(Stop::Cancelled) => {
                    summary.status = "cancelled".into();
                    return (summary, Ok(()));
                }
                Err(Stop::Interrupted(e)) => {
                    summary.status = "interrupted".into();
                    return (summary, Err(e));
                }
                Err(Stop::Failed(e)) => Some(e),
            };
            // Acknowledge from the store, whatever became of the walk: the new orders stored
            // by this run, by one that failed or was killed after storing pages, or by a
            // run that had acknowledge off.
            if options.acknowledge {
                let acked =
                    acknowledge_stored(client, store, scope, options, &run, &mut summary).await;
                if let Err(e) = acked {
                    return (summary, Err(error.unwrap_or(e)));
                }
            }
            match error {
                Some(e) => (summary, Err(e)),
                None => (summary, Ok(())),
            }
        },
    )
    .await
}

/// The one-month windows eMAG accepts covering `[after, before]`.
fn month_windows(after: NaiveDateTime, before: NaiveDateTime) -> Vec<(String, String)> {
    let mut windows = Vec::new();
    let mut from = after;
    loop {
        let to = (crate::time::add_month(from) - chrono::Duration::seconds(1)).min(before);
        windows.push((
            from.format(EMAG_FORMAT).to_string(),
            to.format(EMAG_FORMAT).to_string(),
        ));
        if to >= before {
            return windows;
        }
        from = to + chrono::Duration::seconds(1);
    }
}

/// Walk one order type.
///
/// An incremental walk reads the orders modified in `[after, before]` one month window at a
/// time, each window from its last page to its first. Why down: an order that changes during
/// the walk gets a `modified` after `before` and leaves the window, so the orders after it
/// move up one place. Walking up, the first order of the next page would move onto the page
/// just read and never be read. Walking down, the orders that move up are the ones already
/// read; an order not yet read only ever moves to a lower page, which is still to come. So
/// every order that stays in the window is read once, and every order that leaves it is
/// newer than `before` and read by the next run. (`before` is the second before the run
/// began, so nothing changed during the walk falls inside; eMAG's clock is assumed not to
/// run behind ours by more than the overlap.)
///
/// A whole-history walk has no `modified` window: changes do not move orders in or out, and
/// new orders are added in front, so it walks up (a new order can only repeat one already read).
#[allow(clippy::too_many_arguments)]
async fn walk_orders(
    client: &Client,
    store: &Store,
    scope: &Scope,
    options: &SyncOptions,
    order_type: i64,
    ctx: &RunContext,
    summary: &mut SyncSummary,
    tracker: &mut progress::Tracker,
) -> std::result::Result<(), Stop> {
    let kind = format!("orders/type={order_type}");
    let mut state = WalkState::from_json(store.load_checkpoint(scope, &kind)?);
    if options.full {
        state.run = None;
    }
    let mut run = match state.run.clone() {
        Some(run) => run, // resume the interrupted walk exactly where it stopped
        None => {
            let now = now_local(scope);
            let started_local = now.format(EMAG_FORMAT).to_string();
            let after = if options.full {
                None
            } else {
                state
                    .high_water
                    .as_deref()
                    .and_then(|hw| NaiveDateTime::parse_from_str(hw, EMAG_FORMAT).ok())
                    .map(|hw| {
                        let overlap =
                            chrono::Duration::from_std(options.overlap).unwrap_or_default();
                        (hw - overlap).format(EMAG_FORMAT).to_string()
                    })
            };
            let before = after.as_ref().map(|_| {
                (now - chrono::Duration::seconds(1))
                    .format(EMAG_FORMAT)
                    .to_string()
            });
            RunState {
                descending: after.is_some(),
                page: if after.is_some() { 0 } else { 1 },
                after,
                before,
                started_local,
                window: 0,
            }
        }
    };
    let parse = |t: &Option<String>| {
        t.as_deref()
            .and_then(|t| NaiveDateTime::parse_from_str(t, EMAG_FORMAT).ok())
    };
    let walked = match (parse(&run.after), parse(&run.before)) {
        (Some(after), Some(before)) if after <= before => {
            if !run.descending {
                // Saved by an older version: this window again, from the top.
                run.descending = true;
                run.page = 0;
            }
            let windows = month_windows(after, before);
            walk_windows_down(
                client, store, scope, options, order_type, ctx, summary, tracker, &kind,
                &mut state, &mut run, &windows,
            )
            .await
        }
        _ => {
            run.descending = false;
            run.page = run.page.max(1);
            walk_up(
                client, store, scope, options, order_type, ctx, summary, tracker, &kind,
                &mut state, &mut run,
            )
            .await
        }
    };
    walked?;
    // The walk is complete: everything modified up to its start has been seen.
    state.high_water = Some(run.started_local.clone());
    state.run = None;
    store.save_checkpoint(scope, &kind, &state.to_json())?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn walk_windows_down(
    client: &Client,
    store: &Store,
    scope: &Scope,
    options: &SyncOptions,
    order_type: i64,
    ctx: &RunContext,
    summary: &mut SyncSummary,
    tracker: &mut progress::Tracker,
    kind: &str,
    state: &mut WalkState,
    run: &mut RunState,
    windows: &[(String, String)],
) -> std::result::Result<(), Stop> {
    let per_page = crate::client::pagination::PAGE_SIZE;
    while let Some((after, before)) = windows.get(run.window) {
        let this_window = run.window;
        let filters = json!({"type": order_type, "modifiedAfter": after, "modifiedBefore": before});
        if run.page == 0 {
            if cancelled(options) {
                return Err(Stop::Cancelled);
            }
            summary.requests += 1;
            let n = client.orders().count(filters.clone()).await?;
            tracker.add_expected_items(n);
            run.page = n.div_ceil(per_page);
        }
        while run.page >= 1 {
            if cancelled(options) {
                return Err(Stop::Cancelled);
            }
            let mut pager = client.orders().pages(filters.clone())?;
            pager.seek(0, run.page);
            let items = pager
                .next_page_raw()
                .await?
                .ok_or_else(|| Error::internal("the pager ended before its page"))?;
            summary.requests += 1;
            run.page -= 1;
            if run.page == 0 {
                run.window += 1;
            }
            store_walk_page(
                store, scope, kind, state, run, ctx, summary, tracker, &items,
            )?;
        }
        if run.window == this_window {
            // An empty window: counted, nothing to read.
            run.window += 1;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn walk_up(
    client: &Client,
    store: &Store,
    scope: &Scope,
    options: &SyncOptions,
    order_type: i64,
    ctx: &RunContext,
    summary: &mut SyncSummary,
    tracker: &mut progress::Tracker,
    kind: &str,
    state: &mut WalkState,
    run: &mut RunState,
) -> std::result::Result<(), Stop> {
    // A whole-history walk: one count gives the progress bar its total.
    if let Ok(n) = client.orders().count(json!({ "type": order_type })).await {
        tracker.add_expected_items(n);
    }
    summary.requests += 1;
    let mut pager = client.orders().pages(json!({ "type": order_type }))?;
    pager.seek(0, run.page);
    loop {
        if cancelled(options) {
            return Err(Stop::Cancelled);
        }
        let Some(items) = pager.next_page_raw().await? else {
            return Ok(());
        };
        summary.requests += 1;
        let (window, next_page) = pager.position();
        run.window = window;
        run.page = next_page;
        store_walk_page(
            store, scope, kind, state, run, ctx, summary, tracker, &items,
        )?;
    }
}

/// Store a page read by a walk with the walk's position, then report progress.
#[allow(clippy::too_many_arguments)]
fn store_walk_page(
    store: &Store,
    scope: &Scope,
    kind: &str,
    state: &mut WalkState,
    run: &RunState,
    ctx: &RunContext,
    summary: &mut SyncSummary,
    tracker: &mut progress::Tracker,
    items: &RawItems,
) -> std::result::Result<(), Stop> {
    state.run = Some(run.clone());
    let page = prepare_orders_page(scope, items.clone());
    let counts = store.upsert_prepared_orders_in_run(
        scope,
        &page.orders,
        Some((kind, &state.to_json())),
        Some(ctx),
    )?;
    summary.pages += 1;
    summary.fetched += items.len() as u64;
    summary.absorb_page(&PageOutcome {
        counts,
        invalid: page.invalid,
        warnings: page.warnings,
        new_orders: page.new_orders,
    });
    tracker
        .page_done(items.len() as u64)
        .map_err(Stop::Interrupted)
}

/// Whether an acknowledgement error is about that order (eMAG refused it) rather than the
/// connection, the account or the quota (then nothing more can be acknowledged now).
fn refused_order(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ApiResponse
            | ErrorKind::BusinessRule
            | ErrorKind::NotFound
            | ErrorKind::Validation
    ) && !e.is_retryable()
}

/// Acknowledge every stored order that is new (status 1), type 3 and not yet acknowledged
/// (1 -> 2), then re-read what eMAG now says, as the documentation advises. The candidates
/// come from the store, not from the pages of this run: an order stored by a run that failed
/// or was killed before acknowledging is acknowledged by the next one.
///
/// Each acknowledgement is recorded as it succeeds (in batches). An order eMAG refuses (its
/// copy here is stale: cancelled meanwhile, say) is read again by id so the store catches up;
/// the others are still acknowledged, and the run fails with the first refusal. A connection,
/// quota or account error stops the acknowledging: the rest stay for the next run.
async fn acknowledge_stored(
    client: &Client,
    store: &Store,
    scope: &Scope,
    options: &SyncOptions,
    ctx: &RunContext,
    summary: &mut SyncSummary,
) -> Result<()> {
    let ids = store.orders_to_acknowledge(scope)?;
    if ids.is_empty() {
        return Ok(());
    }
    let orders = client.orders();
    // Clocks differ between eMAG and us: start the re-read a little earlier.
    let since = now_local(scope) - chrono::Duration::minutes(5);
    let mut done = Vec::new();
    let mut refused = Vec::new();
    let mut first_refusal = None;
    let mut stopped = None;
    for id in ids {
        if cancelled(options) {
            break;
        }
        summary.requests += 1;
        match orders.acknowledge(id as u64).await {
            Ok(_) => done.push(id),
            Err(e) if refused_order(&e) => {
                log::warn!("eMAG refused to acknowledge order {id}: {e}");
                refused.push(id);
                first_refusal.get_or_insert(e);
            }
            Err(e) => {
                stopped = Some(e);
                break;
            }
        }
        if done.len() >= 50 {
            store.mark_acknowledged_in_run(scope, &done, Some(ctx))?;
            summary.acknowledged += done.len() as u64;
            done.clear();
        }
    }
    store.mark_acknowledged_in_run(scope, &done, Some(ctx))?;
    summary.acknowledged += done.len() as u64;
    if let Some(e) = stopped {
        return Err(e);
    }
    if summary.acknowledged > 0 {
        let filters = json!({"type": 3, "modifiedAfter": since.format(EMAG_FORMAT).to_string()});
        let mut pager = orders.pages(filters)?;
        while let Some(items) = pager.next_page_raw().await? {
            summary.requests += 1;
            let page = prepare_orders_page(scope, items);
            let counts =
                store.upsert_prepared_orders_in_run(scope, &page.orders, None, Some(ctx))?;
            summary.pages += 1;
            summary.absorb(&counts);
        }
    }
    for id in refused {
        summary.requests += 1;
        let items = orders.read(json!({"id": id, "type": 3})).await?;
        let counts = store.upsert_orders(scope, &items, None)?;
        summary.absorb(&counts);
    }
    first_refusal.map_or(Ok(()), Err)
}

/// Sync every `product_offer` page into the offers table (resumable by page).
pub async fn sync_offers(
    client: &Client,
    store: &Store,
    options: &SyncOptions,
) -> Result<SyncSummary> {
    let scope = scope_of(client);
    let kind = "offers";
    let scope = &scope;
    logged_run(
        client,
        store,
        scope,
        kind,
        Bucket::Other,
        options.wait,
        |mut summary, ctx| async move {
            let result: std::result::Result<(), Stop> = async {
                let mut tracker = progress::Tracker::new("offers", options.progress.clone());
                let state = WalkState::from_json(store.load_checkpoint(scope, kind)?);
                let start_page = if options.full {
                    1
                } else {
                    state.run.as_ref().map_or(1, |r| r.page.max(1))
                };
                if let Ok(n) = client.offers().count(Value::Null).await {
                    tracker.add_expected_items(n);
                }
                summary.requests += 1;
                let mut pager = client.offers().pages(Value::Null)?;
                pager.seek(0, start_page);
                let mut run = RunState {
                    started_local: now_local(scope).format(EMAG_FORMAT).to_string(),
                    ..RunState::default()
                };
                loop {
                    if cancelled(options) {
                        return Err(Stop::Cancelled);
                    }
                    let Some(items) = pager.next_page().await? else {
                        break;
                    };
                    summary.requests += 1;
                    run.page = pager.position().1;
                    let st = WalkState {
                        high_water: state.high_water.clone(),
                        run: Some(run.clone()),
                    };
                    let counts = store.upsert_offers_in_run(
                        scope,
                        &items,
                        Some((kind, &st.to_json())),
                        Some(&ctx),
                    )?;
                    summary.pages += 1;
                    summary.fetched += items.len() as u64;
                    summary.absorb(&counts);
                    tracker
                        .page_done(items.len() as u64)
                        .map_err(Stop::Interrupted)?;
                }
                let done = WalkState {
                    high_water: Some(run.started_local.clone()),
                    run: None,
                };
                store.save_checkpoint(scope, kind, &done.to_json())?;
                Ok(())
            }
            .await;
            match result {
                Ok(()) => (summary, Ok(())),
                Err(Stop::Cancelled) => {
                    summary.status = "cancelled".into();
                    (summary, Ok(()))
                }
                Err(Stop::Interrupted(e)) => {
                    summary.status = "interrupted".into();
                    (summary, Err(e))
                }
                Err(Stop::Failed(e)) => (summary, Err(e)),
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_an_older_upward_walk_restarts_its_window() {
        let down = WalkState {
            high_water: Some("2025-01-01 00:00:00".into()),
            run: Some(RunState {
                after: Some("2025-01-01 00:00:00".into()),
                before: Some("2025-01-02 00:00:00".into()),
                started_local: "2025-01-02 00:00:01".into(),
                window: 0,
                page: 4,
                descending: true,
            }),
        };
        let saved = down.to_json();
        // A version walking up reads `page` 1: it starts the window over.
        assert_eq!(saved["run"]["page"], json!(1));
        assert_eq!(WalkState::from_json(Some(saved)), down);
        let up = json!({"high_water": null, "run": {"after": "2025-01-01 00:00:00",
            "before": "2025-01-02 00:00:00", "started_local": "x", "window": 0, "page": 7}});
        let read = WalkState::from_json(Some(up)).run.unwrap();
        assert!(!read.descending && read.page == 7);
    }

    #[test]
    fn month_windows_cover_the_range_without_gaps() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, EMAG_FORMAT).unwrap();
        let w = month_windows(t("2025-01-15 10:00:00"), t("2025-03-20 00:00:00"));
        assert_eq!(
            w,
            vec![
                ("2025-01-15 10:00:00".into(), "2025-02-15 09:59:59".into()),
                ("2025-02-15 10:00:00".into(), "2025-03-15 09:59:59".into()),
                ("2025-03-15 10:00:00".into(), "2025-03-20 00:00:00".into()),
            ]
        );
        let one = month_windows(t("2025-01-15 10:00:00"), t("2025-01-15 10:00:00"));
        assert_eq!(one.len(), 1);
    }
}
