//! The PostgreSQL engine's writes: pages of orders (see `pages.rs`) and offers, each with the
//! checkpoint and the run's counts in its transaction; acknowledgements; checkpoints.

use serde_json::Value;

use super::super::now_utc;
use super::super::{PageCommit, PreparedOrders, RunContext, Scope, UpsertCounts};
use super::offer_pages::upsert_offers_tx;
use super::pages::{self, add_run_counts, check_generation, save_checkpoint_tx};
use super::PgStore;
use crate::error::{Error, Result};

impl PgStore {
    /// A page of a sync run: generation check, rows, checkpoint and run counts in one
    /// transaction.
    pub fn upsert_prepared_orders_in_run(
        &self,
        page: &PreparedOrders,
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        let mut counts = self.write_order_pages(&[page], at)?;
        counts
            .pop()
            .ok_or_else(|| Error::internal("a page wrote no counts"))
    }

    /// Several pages in one transaction.
    pub fn upsert_prepared_order_pages(
        &self,
        scope: &Scope,
        pages: &[&PreparedOrders],
    ) -> Result<Vec<UpsertCounts>> {
        self.write_order_pages(pages, PageCommit::new(scope, None))
    }

    /// Pages of orders, the checkpoint and the run's counts in one transaction; new rows by
    /// `COPY`, and the transaction repeated with upserts only if another writer stored one of
    /// them meanwhile (see [`pages::NewRows`]).
    fn write_order_pages(
        &self,
        pages: &[&PreparedOrders],
        at: PageCommit<'_>,
    ) -> Result<Vec<UpsertCounts>> {
        self.run(async {
            let c = self.client().await?;
            for new_rows in [pages::NewRows::Copy, pages::NewRows::Upsert] {
                let written = pages::write_order_pages(&c, pages, at, new_rows).await?;
                if let Some(counts) = written {
                    self.analyze_new_tables(&c, counts.iter().map(|n| n.created).sum())
                        .await?;
                    return Ok(counts);
                }
            }
            Err(Error::internal("an upsert reported a conflict"))
        })
    }

    /// A page of offers of a sync run.
    pub fn upsert_offers_in_run(
        &self,
        offers: &[Value],
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        self.run(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            if let Some(run) = at.run {
                check_generation(&tx, run).await?;
            }
            let counts = upsert_offers_tx(&tx, at.scope, offers).await?;
            if let Some((kind, state)) = at.checkpoint {
                save_checkpoint_tx(&tx, at.scope, kind, state).await?;
            }
            if let Some(run) = at.run {
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
}
