//! The sync log on PostgreSQL: runs begun, finished, cancelled and abandoned; statistics.

use chrono::{Duration as ChronoDuration, SecondsFormat, Utc};

use super::super::{now_utc, owner, ProductStats, Scope, SyncRun, SyncStats};
use super::lock::lock_is_free;
use super::pages::generation_of;
use super::{schema, PgStore};
use crate::error::Result;

impl PgStore {
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
}
