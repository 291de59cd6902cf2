//! Acknowledging new orders (1 -> 2) once they are safely stored, then reading back what
//! eMAG says of them.

use serde_json::json;

use super::walk::{now_local, Walk};
use crate::error::{Error, ErrorKind, Result};
use crate::store::PageCommit;
use crate::time::EMAG_FORMAT;

/// Acknowledgements recorded in the store together.
const BATCH: usize = 50;

/// Whether an error is about that order (eMAG refused it, or it is not a valid one) rather
/// than the connection, the account or the quota (then nothing more can be done now). The
/// sync's acknowledgements and the callback worker answer the same question.
pub(crate) fn refused_order(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ApiResponse
            | ErrorKind::BusinessRule
            | ErrorKind::NotFound
            | ErrorKind::Validation
            | ErrorKind::InvalidArgument
    ) && !e.is_retryable()
}

/// The orders eMAG refused to acknowledge.
#[derive(Default)]
struct Refusals {
    ids: Vec<i64>,
    first: Option<Error>,
}

impl Walk<'_> {
    /// Acknowledge every stored order that is new (status 1), type 3 and not yet
    /// acknowledged (1 -> 2), then re-read what eMAG now says, as the documentation advises.
    /// The candidates come from the store, not from the pages of this run: an order stored by
    /// a run that failed or was killed before acknowledging is acknowledged by the next one.
    ///
    /// Each acknowledgement is recorded as it succeeds (in batches). An order eMAG refuses
    /// (its copy here is stale: cancelled meanwhile, say) is read again by id so the store
    /// catches up; the others are still acknowledged, and the run fails with the first
    /// refusal. A connection, quota or account error stops the acknowledging: the rest stay
    /// for the next run.
    pub(super) async fn acknowledge_stored(&mut self) -> Result<()> {
        let ids = self.store.orders_to_acknowledge(self.scope)?;
        if ids.is_empty() {
            return Ok(());
        }
        // Clocks differ between eMAG and us: start the re-read a little earlier.
        let since = now_local(self.scope) - chrono::Duration::minutes(5);
        let refusals = self.acknowledge(ids).await?;
        if self.summary.acknowledged > 0 {
            let filters =
                json!({"type": 3, "modifiedAfter": since.format(EMAG_FORMAT).to_string()});
            let mut pager = self.client.orders().pages(filters)?;
            while let Some(items) = pager.next_page_raw().await? {
                self.summary.requests += 1;
                let page = super::ingest::prepare_orders_page(self.scope, items);
                let at = PageCommit::new(self.scope, None).in_run(self.ctx);
                let counts = self.store.upsert_prepared_orders_in_run(&page.orders, at)?;
                self.summary.pages += 1;
                self.summary.add_counts(&counts);
            }
        }
        for id in refusals.ids {
            self.summary.requests += 1;
            let items = self
                .client
                .orders()
                .read(json!({"id": id, "type": 3}))
                .await?;
            let counts = self.store.upsert_orders(self.scope, &items, None)?;
            self.summary.add_counts(&counts);
        }
        refusals.first.map_or(Ok(()), Err)
    }

    /// Acknowledge `ids` (recorded in batches) until done, cancelled, or stopped by an error
    /// not about one order (returned once what was acknowledged is recorded).
    async fn acknowledge(&mut self, ids: Vec<i64>) -> Result<Refusals> {
        let orders = self.client.orders();
        let mut done = Vec::new();
        let mut refusals = Refusals::default();
        let mut stopped = None;
        for id in ids {
            if self.cancelled() {
                break;
            }
            self.summary.requests += 1;
            match orders.acknowledge(id as u64).await {
                Ok(_) => done.push(id),
                Err(e) if refused_order(&e) => {
                    log::warn!("eMAG refused to acknowledge order {id}: {e}");
                    refusals.ids.push(id);
                    refusals.first.get_or_insert(e);
                }
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            }
            if done.len() >= BATCH {
                self.record_acknowledged(&mut done)?;
            }
        }
        self.record_acknowledged(&mut done)?;
        stopped.map_or(Ok(refusals), Err)
    }

    fn record_acknowledged(&mut self, done: &mut Vec<i64>) -> Result<()> {
        self.store
            .mark_acknowledged_in_run(self.scope, done, Some(self.ctx))?;
        self.summary.acknowledged += done.len() as u64;
        done.clear();
        Ok(())
    }
}
