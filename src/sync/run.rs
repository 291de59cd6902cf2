//! The bookkeeping of one sync run: the lock (one sync per platform + account + kind), the
//! sync-log row from start to end, whatever the end is, and the figures of the summary.

use std::time::Instant;

use super::summary::{RunStatus, SyncSummary};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::ratelimit::Bucket;
use crate::store::{LockWait, RunContext, Scope, Store, SyncLock, SyncRun};

/// What a run syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SyncKind {
    Orders,
    Offers,
}

impl SyncKind {
    /// The sync log's and the summary's `kind`.
    pub(super) const fn as_str(self) -> &'static str {
        match self {
            SyncKind::Orders => "orders",
            SyncKind::Offers => "offers",
        }
    }

    /// The rate-limit bucket its requests count against.
    const fn bucket(self) -> Bucket {
        match self {
            SyncKind::Orders => Bucket::Orders,
            SyncKind::Offers => Bucket::Other,
        }
    }
}

/// Why a walk stopped before its end.
pub(super) enum Stop {
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

/// The end of a run's walks as the summary's status and the run's result.
pub(super) fn settle(
    mut summary: SyncSummary,
    walked: std::result::Result<(), Stop>,
) -> (SyncSummary, Result<()>) {
    match walked {
        Ok(()) => (summary, Ok(())),
        Err(Stop::Cancelled) => {
            summary.status = RunStatus::Cancelled;
            (summary, Ok(()))
        }
        Err(Stop::Interrupted(e)) => {
            summary.status = RunStatus::Interrupted;
            (summary, Err(e))
        }
        Err(Stop::Failed(e)) => (summary, Err(e)),
    }
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
/// When another worker runs the same sync: wait for it (`wait`) or return `skipped`.
pub(super) async fn logged_run<F, Fut>(
    client: &Client,
    store: &Store,
    scope: &Scope,
    kind: SyncKind,
    wait: LockWait,
    body: F,
) -> Result<SyncSummary>
where
    F: FnOnce(SyncSummary, RunContext) -> Fut,
    Fut: std::future::Future<Output = (SyncSummary, Result<()>)>,
{
    // One sync per platform + account + kind at a time (held until this function returns).
    let _lock = match store.lock_sync(kind.as_str(), scope, wait)? {
        SyncLock::Acquired(guard) => guard,
        SyncLock::Held(holder) => {
            let mut skipped = SyncSummary::new(kind.as_str());
            skipped.status = RunStatus::Skipped;
            skipped.error = Some(format!(
                "another worker runs this {} sync of {}/{}: {holder}",
                kind.as_str(),
                scope.platform.code(),
                scope.account
            ));
            return Ok(skipped);
        }
    };
    let started = Instant::now();
    let generation = store.generation()?;
    let run_id = store.begin_sync_run(kind.as_str(), scope)?;
    let mut guard = RunGuard {
        store,
        run_id,
        started,
        finished: false,
    };
    let mut summary = SyncSummary::new(kind.as_str());
    summary.run_id = run_id;
    let (mut summary, outcome) = body(summary, RunContext { run_id, generation }).await;
    summary.duration_s = started.elapsed().as_secs_f64();
    summary.rate_limit_min_s = min_seconds(client, summary.requests, kind.bucket());
    if summary.status == RunStatus::Running {
        summary.status = match outcome {
            Ok(()) => RunStatus::Success,
            Err(_) => RunStatus::Failed,
        };
    }
    if let Err(e) = &outcome {
        summary.error = Some(e.to_string());
    }
    if summary.status.counts_for_success_rate() {
        client.monitor().record_sync(
            kind.as_str(),
            outcome.is_ok(),
            started.elapsed(),
            summary.fetched,
        );
    }
    let finished = store.finish_sync_run(&log_row(&summary));
    guard.finished = true;
    finished?;
    outcome.map(|()| summary)
}

/// The sync-log row of a finished run.
fn log_row(summary: &SyncSummary) -> SyncRun {
    SyncRun {
        id: summary.run_id,
        kind: summary.kind.clone(),
        status: summary.status.as_str().to_owned(),
        pages: summary.pages,
        fetched: summary.fetched,
        created: summary.counts.created,
        updated: summary.counts.updated,
        unchanged: summary.counts.unchanged,
        failed: summary.counts.failed,
        acknowledged: summary.acknowledged,
        duration_s: Some(summary.duration_s),
        error: summary.error.clone(),
        ..SyncRun::default()
    }
}

/// The least time the client's per-second quota allows for `requests` requests: the first
/// goes at once, each next one a quota interval later. The quota is the one the client's
/// limiter keeps, else eMAG's documented one.
fn min_seconds(client: &Client, requests: u64, bucket: Bucket) -> f64 {
    let per_second = client
        .config()
        .limiter
        .as_ref()
        .and_then(|l| l.quota(bucket))
        .map_or(crate::limits::quota(bucket).0, |q| q.per_second);
    requests.saturating_sub(1) as f64 / f64::from(per_second.max(1))
}
