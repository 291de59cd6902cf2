//! The queue of eMAG's callbacks (issue 20): recorded before the receiver answers, drained by
//! the callback worker ([`crate::callbacks`]).

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use super::{now_utc, Scope, SqliteStore};
use crate::error::Result;

/// One queued callback to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackEntry {
    /// The queue row.
    pub entry_id: i64,
    /// `order_new`, `order_cancellation`, `return` or `awb`.
    pub kind: String,
    /// The order id the callback is about.
    pub ref_id: i64,
    /// How many times eMAG sent it so far (to notice one arriving while it is processed).
    pub received: i64,
}

/// The queue's figures, for the monitor.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallbackQueueStats {
    /// Callbacks recorded (every repeat counted).
    pub received: u64,
    /// Entries waiting to be processed.
    pub pending: u64,
    /// Entries that failed for good (eMAG refused the read, e.g. an unknown order).
    pub failed: u64,
    /// Entries processed.
    pub done: u64,
    /// Age of the oldest pending entry, seconds (0 when none).
    pub oldest_pending_age_s: f64,
}

impl SqliteStore {
    /// Record a callback of `kind` about `ref_id`, durably, before the receiver answers.
    /// One row per kind and id: a repeat while pending only bumps its counter; a repeat of a
    /// processed `order_new` too (the order is stored; later changes arrive as other kinds
    /// or through the sync); any other repeat makes the entry pending again. Returns whether
    /// the entry is (again) pending, i.e. the worker has something to do.
    pub fn enqueue_callback(&self, scope: &Scope, kind: &str, ref_id: i64) -> Result<bool> {
        let conn = self.write()?;
        let now = now_utc();
        let state: String = conn
            .prepare_cached(
                "INSERT INTO callback_queue (platform, account, kind, ref_id, state, received,
                     first_received_at, last_received_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', 1, ?5, ?5)
                 ON CONFLICT (platform, account, kind, ref_id) DO UPDATE SET
                     received = received + 1,
                     last_received_at = excluded.last_received_at,
                     state = CASE WHEN state = 'done' AND kind = 'order_new' THEN 'done'
                                  ELSE 'pending' END,
                     first_received_at = CASE WHEN state = 'pending' THEN first_received_at
                                              ELSE excluded.first_received_at END
                 RETURNING state",
            )?
            .query_row(
                params![scope.platform.code(), scope.account, kind, ref_id, now],
                |r| r.get(0),
            )?;
        Ok(state == "pending")
    }

    /// Up to `limit` pending callbacks of `scope`, oldest first.
    pub fn pending_callbacks(&self, scope: &Scope, limit: usize) -> Result<Vec<CallbackEntry>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT id, kind, ref_id, received FROM callback_queue INDEXED BY callback_queue_pending
             WHERE platform = ?1 AND account = ?2 AND state = 'pending' ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt
            .query_map(
                params![scope.platform.code(), scope.account, limit as i64],
                |r| {
                    Ok(CallbackEntry {
                        entry_id: r.get(0)?,
                        kind: r.get(1)?,
                        ref_id: r.get(2)?,
                        received: r.get(3)?,
                    })
                },
            )?
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// Mark a processed entry done (`error` None) or failed for good. An entry that received
    /// another callback while it was processed stays pending (that callback may be about a
    /// later event than the read saw), unless it is a new-order repeat (the same event: eMAG
    /// repeats it until the acknowledgement lands).
    pub fn finish_callback(&self, entry: &CallbackEntry, error: Option<&str>) -> Result<()> {
        let state = if error.is_some() { "failed" } else { "done" };
        self.write()?.execute(
            "UPDATE callback_queue SET state = ?3, done_at = ?4, error = ?5,
                 attempts = attempts + 1
             WHERE id = ?1 AND state = 'pending' AND (received = ?2 OR kind = 'order_new')",
            params![entry.entry_id, entry.received, state, now_utc(), error],
        )?;
        Ok(())
    }

    /// Count a failed attempt (a connection or quota error) on an entry that stays pending.
    pub fn retry_callback(&self, entry: &CallbackEntry, error: &str) -> Result<()> {
        self.write()?.execute(
            "UPDATE callback_queue SET attempts = attempts + 1, error = ?2 WHERE id = ?1",
            params![entry.entry_id, error],
        )?;
        Ok(())
    }

    /// Whether the stored order awaits its acknowledgement: new (status 1), type 3, not
    /// acknowledged (what the sync's store-driven acknowledgement picks).
    pub fn order_awaits_acknowledgement(&self, scope: &Scope, order_id: i64) -> Result<bool> {
        let conn = self.read()?;
        let found: Option<i64> = conn
            .prepare_cached(
                "SELECT 1 FROM orders WHERE platform = ?1 AND account = ?2 AND order_id = ?3
                   AND status = 1 AND type = 3 AND acknowledged_at IS NULL",
            )?
            .query_row(
                params![scope.platform.code(), scope.account, order_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// The queue's figures over every platform and account.
    pub fn callback_stats(&self) -> Result<CallbackQueueStats> {
        let conn = self.read()?;
        let (received, pending, failed, done, oldest): (i64, i64, i64, i64, Option<String>) = conn
            .query_row(
                "SELECT coalesce(sum(received), 0),
                        coalesce(sum(state = 'pending'), 0),
                        coalesce(sum(state = 'failed'), 0),
                        coalesce(sum(state = 'done'), 0),
                        min(CASE WHEN state = 'pending' THEN first_received_at END)
                 FROM callback_queue",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )?;
        Ok(CallbackQueueStats {
            received: received as u64,
            pending: pending as u64,
            failed: failed as u64,
            done: done as u64,
            oldest_pending_age_s: pending_age_s(oldest),
        })
    }
}

/// Seconds since `oldest` (an ISO-8601 instant; 0 when none).
pub(super) fn pending_age_s(oldest: Option<String>) -> f64 {
    oldest
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| {
            (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1000.0
        })
        .unwrap_or(0.0)
        .max(0.0)
}
