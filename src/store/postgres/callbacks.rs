//! The callback queue on PostgreSQL: the semantics of the SQLite engine's
//! (`src/store/callbacks.rs`), one short transaction per callback.

use super::super::callbacks::{pending_age_s, CallbackEntry, CallbackQueueStats};
use super::super::{now_utc, Scope};
use super::PgStore;
use crate::error::Result;

impl PgStore {
    /// See [`super::super::SqliteStore::enqueue_callback`].
    pub fn enqueue_callback(&self, scope: &Scope, kind: &str, ref_id: i64) -> Result<bool> {
        self.run(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    // In `DO UPDATE`, `q.` is the row before the update (as SQLite's bare names).
                    "INSERT INTO callback_queue AS q (platform, account, kind, ref_id, state,
                         received, first_received_at, last_received_at)
                     VALUES ($1, $2, $3, $4, 'pending', 1, $5, $5)
                     ON CONFLICT (platform, account, kind, ref_id) DO UPDATE SET
                         received = q.received + 1,
                         last_received_at = excluded.last_received_at,
                         state = CASE WHEN q.state = 'done' AND q.kind = 'order_new' THEN 'done'
                                      ELSE 'pending' END,
                         first_received_at = CASE WHEN q.state = 'pending' THEN q.first_received_at
                                                  ELSE excluded.first_received_at END
                     RETURNING state",
                )
                .await?;
            let row = c
                .query_one(
                    &stmt,
                    &[
                        &scope.platform.code(),
                        &scope.account,
                        &kind,
                        &ref_id,
                        &now_utc(),
                    ],
                )
                .await?;
            Ok(row.get::<_, String>(0) == "pending")
        })
    }

    /// See [`super::super::SqliteStore::pending_callbacks`].
    pub fn pending_callbacks(&self, scope: &Scope, limit: usize) -> Result<Vec<CallbackEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT id, kind, ref_id, received FROM callback_queue
                     WHERE platform = $1 AND account = $2 AND state = 'pending' ORDER BY id LIMIT $3",
                )
                .await?;
            let rows = c
                .query(&stmt, &[&scope.platform.code(), &scope.account, &limit])
                .await?;
            Ok(rows
                .iter()
                .map(|r| CallbackEntry {
                    entry_id: r.get(0),
                    kind: r.get(1),
                    ref_id: r.get(2),
                    received: r.get(3),
                })
                .collect())
        })
    }

    /// See [`super::super::SqliteStore::finish_callback`].
    pub fn finish_callback(&self, entry: &CallbackEntry, error: Option<&str>) -> Result<()> {
        let state = if error.is_some() { "failed" } else { "done" };
        self.run(async {
            let c = self.client().await?;
            c.execute(
                "UPDATE callback_queue SET state = $3, done_at = $4, error = $5,
                     attempts = attempts + 1
                 WHERE id = $1 AND state = 'pending' AND (received = $2 OR kind = 'order_new')",
                &[&entry.entry_id, &entry.received, &state, &now_utc(), &error],
            )
            .await?;
            Ok(())
        })
    }

    /// See [`super::super::SqliteStore::retry_callback`].
    pub fn retry_callback(&self, entry: &CallbackEntry, error: &str) -> Result<()> {
        self.run(async {
            let c = self.client().await?;
            c.execute(
                "UPDATE callback_queue SET attempts = attempts + 1, error = $2 WHERE id = $1",
                &[&entry.entry_id, &error],
            )
            .await?;
            Ok(())
        })
    }

    /// See [`super::super::SqliteStore::order_awaits_acknowledgement`].
    pub fn order_awaits_acknowledgement(&self, scope: &Scope, order_id: i64) -> Result<bool> {
        self.run(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT 1 FROM orders WHERE platform = $1 AND account = $2 AND order_id = $3
                       AND status = 1 AND type = 3 AND acknowledged_at IS NULL",
                )
                .await?;
            let found = c
                .query_opt(&stmt, &[&scope.platform.code(), &scope.account, &order_id])
                .await?;
            Ok(found.is_some())
        })
    }

    /// See [`super::super::SqliteStore::callback_stats`].
    pub fn callback_stats(&self) -> Result<CallbackQueueStats> {
        let r = self.run(async {
            let c = self.client().await?;
            Ok(c.query_one(
                "SELECT coalesce(sum(received), 0)::bigint,
                        count(*) FILTER (WHERE state = 'pending'),
                        count(*) FILTER (WHERE state = 'failed'),
                        count(*) FILTER (WHERE state = 'done'),
                        min(first_received_at) FILTER (WHERE state = 'pending')
                 FROM callback_queue",
                &[],
            )
            .await?)
        })?;
        Ok(CallbackQueueStats {
            received: r.get::<_, i64>(0) as u64,
            pending: r.get::<_, i64>(1) as u64,
            failed: r.get::<_, i64>(2) as u64,
            done: r.get::<_, i64>(3) as u64,
            oldest_pending_age_s: pending_age_s(r.get(4)),
        })
    }
}
