//! Bulk loads on two connections. One connection runs one statement at a time, and the server
//! gives it one core: while it inserts a group of pages, the next group's lookups would wait
//! for it. Here group N+1 is looked up and written on a second connection while group N is
//! still being written, so the server works on two cores. Each group is still one
//! transaction, and they commit in order (a group commits only after the one before it did),
//! so a failure leaves the groups before it written and none after, as one connection would.
//!
//! Group N+1 cannot see group N's rows before N commits, so it compares its ids with N's rows
//! as they will stand (the hash of N's last copy of each id) rather than with what it reads.
//! When the two groups share ids, N+1 writes only after N's writes are done: N then holds
//! their row locks, and N+1 waits for N's commit, never the other way round.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::super::{content_hash, PageCommit, PreparedOrders, Scope, UpsertCounts};
use super::pages::{self, NewRows};
use super::PgStore;
use crate::error::{Error, Result};

/// Groups written at once, each on its own connection.
const DEPTH: usize = 2;

/// The group written just before this one on another connection and not committed yet
/// (see `pipeline.rs`): its rows as they will stand once it commits (id -> hash of its last
/// copy), a signal once its rows are written (it then holds their locks), and one once it
/// committed (a dropped sender: it failed).
pub(super) struct Prior {
    pub hashes: Arc<HashMap<i64, String>>,
    pub written: Option<oneshot::Receiver<()>>,
    pub committed: Option<oneshot::Receiver<()>>,
}

/// How a transaction follows the one before it on another connection: it compares with the
/// prior group's rows, writes only after it when they share ids (otherwise the two could
/// wait on each other's row locks), commits only after it, and signals its own writes.
#[derive(Default)]
pub(super) struct Chain<'a> {
    pub prior: Option<&'a mut Prior>,
    pub written: Option<oneshot::Sender<()>>,
}

impl Chain<'_> {
    pub(super) async fn before_writes(&mut self, ids: &[i64]) -> Result<()> {
        if let Some(prior) = self.prior.as_deref_mut() {
            if ids.iter().any(|id| prior.hashes.contains_key(id)) {
                if let Some(rx) = prior.written.take() {
                    rx.await.map_err(|_| earlier_failed())?;
                }
            }
        }
        Ok(())
    }

    pub(super) async fn after_writes(&mut self) -> Result<()> {
        if let Some(tx) = self.written.take() {
            let _ = tx.send(());
        }
        if let Some(rx) = self.prior.as_deref_mut().and_then(|p| p.committed.take()) {
            rx.await.map_err(|_| earlier_failed())?;
        }
        Ok(())
    }
}

fn earlier_failed() -> Error {
    Error::store("an earlier group of pages was not written, so this one was rolled back")
}

/// One group of pages and what it needs to be written in its own task.
struct Group {
    pool: Pool,
    scope: Scope,
    pages: Vec<PreparedOrders>,
    /// The texts' hashes, in the order of the pages' rows.
    hashes: Vec<String>,
    prior: Option<Prior>,
    written: oneshot::Sender<()>,
    committed: oneshot::Sender<()>,
}

impl Group {
    async fn write(self) -> Result<Vec<UpsertCounts>> {
        let Group {
            pool,
            scope,
            pages,
            hashes,
            mut prior,
            written,
            committed,
        } = self;
        let c = pool.get().await?;
        let pages: Vec<&PreparedOrders> = pages.iter().collect();
        let mut chain = Chain {
            prior: prior.as_mut(),
            written: Some(written),
        };
        let at = PageCommit::new(&scope, None);
        for new_rows in [NewRows::Copy, NewRows::Upsert] {
            let done =
                pages::write_chained(&c, &pages, Some(&hashes), at, new_rows, &mut chain).await?;
            if let Some(counts) = done {
                let _ = committed.send(());
                return Ok(counts);
            }
        }
        Err(Error::internal("an upsert reported a conflict"))
    }
}

impl PgStore {
    /// Write groups of pages, each in one transaction, in order, up to `DEPTH` at once on
    /// their own connections; `done` gets each group's tag and counts once it committed.
    /// Stops at the first error: the groups before it stay written, none after it is.
    pub(crate) fn write_order_groups<T, G, D>(
        &self,
        scope: &Scope,
        groups: G,
        mut done: D,
    ) -> Result<()>
    where
        G: IntoIterator<Item = (Vec<PreparedOrders>, T)>,
        D: FnMut(T, Vec<UpsertCounts>),
    {
        let runtime = self.runtime()?;
        let pool = self.pool()?;
        let mut in_flight: VecDeque<(JoinHandle<Result<Vec<UpsertCounts>>>, T)> = VecDeque::new();
        let mut prior: Option<Prior> = None;
        let mut outcome = Ok(());
        for (pages, tag) in groups {
            // Hashed on this thread, which otherwise waits: the next group needs them to
            // compare with this one's rows before this one commits.
            let hashes: Vec<String> = pages
                .iter()
                .flat_map(|p| p.rows.iter().map(|r| p.items.get(r.item)))
                .map(|text| text.map(content_hash).unwrap_or_default())
                .collect();
            let ids = pages.iter().flat_map(|p| p.rows.iter().map(|r| r.id));
            let stands: HashMap<i64, String> = ids.zip(hashes.iter().cloned()).collect();
            let (written, written_rx) = oneshot::channel();
            let (committed, committed_rx) = oneshot::channel();
            let next = Prior {
                hashes: Arc::new(stands),
                written: Some(written_rx),
                committed: Some(committed_rx),
            };
            let group = Group {
                pool: pool.clone(),
                scope: scope.clone(),
                pages,
                hashes,
                prior: prior.replace(next),
                written,
                committed,
            };
            in_flight.push_back((runtime.spawn(group.write()), tag));
            if in_flight.len() >= DEPTH {
                outcome = self.finish_oldest(&mut in_flight, &mut done);
                if outcome.is_err() {
                    break;
                }
            }
        }
        // After an error the groups still in flight roll back (the one before them failed).
        while !in_flight.is_empty() {
            let finished = self.finish_oldest(&mut in_flight, &mut done);
            if outcome.is_ok() {
                outcome = finished;
            }
        }
        outcome
    }

    /// Wait for the oldest group in flight and hand its counts to `done`.
    fn finish_oldest<T>(
        &self,
        in_flight: &mut VecDeque<(JoinHandle<Result<Vec<UpsertCounts>>>, T)>,
        done: &mut impl FnMut(T, Vec<UpsertCounts>),
    ) -> Result<()> {
        let Some((task, tag)) = in_flight.pop_front() else {
            return Ok(());
        };
        let counts = self.run(async {
            task.await
                .map_err(|e| Error::internal(format!("a write task failed: {e}")))?
        })?;
        let created = counts.iter().map(|n| n.created).sum();
        self.run(async {
            if self.needs_analyze(created) {
                self.analyze(&self.client().await?).await?;
            }
            Ok(())
        })?;
        done(tag, counts);
        Ok(())
    }
}
