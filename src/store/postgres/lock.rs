//! One sync per platform + account + kind across processes and hosts: a session advisory
//! lock on a connection taken out of the pool for the run.

use deadpool_postgres::{ClientWrapper, GenericClient, Object};

use super::super::engine::{LockWait, SyncLock};
use super::super::Scope;
use super::{block_on, schema, PgStore};
use crate::error::{Error, Result};

/// Holds a sync's advisory lock: its connection is taken out of the pool, and closing it
/// (when the guard is dropped, or the process dies) frees the lock.
pub struct SyncLockGuard {
    held: Option<(deadpool_postgres::ClientWrapper, tokio::runtime::Handle)>,
    /// [`crate::runtime::fork_generation`] when the lock was taken.
    generation: u64,
}

impl SyncLockGuard {
    /// A guard holding nothing (the SQLite engine).
    pub(crate) fn none() -> Self {
        SyncLockGuard {
            held: None,
            generation: crate::runtime::fork_generation(),
        }
    }
}

impl Drop for SyncLockGuard {
    fn drop(&mut self) {
        if self.generation != crate::runtime::fork_generation() {
            // A forked child's copy: the lock and its connection are the parent's (unlocking
            // here would free the parent's lock), and the runtime's thread is not in this
            // process. Left alone.
            std::mem::forget(self.held.take());
            return;
        }
        if let Some((client, handle)) = self.held.take() {
            // Unlock before returning, so the next worker finds the lock free at once (closing
            // the connection alone frees it only when the server notices).
            let unlocked = block_on(&handle, async {
                client
                    .execute("SELECT pg_advisory_unlock_all()", &[])
                    .await
                    .map_err(Error::from)
            });
            if let Err(e) = unlocked {
                log::warn!("sync lock: unlock failed ({e}); freed when its connection closes");
            }
        }
    }
}

impl PgStore {
    pub(super) fn sync_lock_key(&self, kind: &str, scope: &Scope) -> i64 {
        schema::lock_key(&format!(
            "magflow_emag:sync:{}:{kind}:{}:{}",
            self.schema,
            scope.platform.code(),
            scope.account
        ))
    }

    /// Take the advisory lock of one sync (platform + account + kind), waiting for it as
    /// `wait` says; when not granted, `Held` names the holder's run.
    pub fn lock_sync(&self, kind: &str, scope: &Scope, wait: LockWait) -> Result<SyncLock> {
        let key = self.sync_lock_key(kind, scope);
        self.run(async {
            let client = Object::take(self.client().await?);
            let got = take_lock(&client, key, wait).await?;
            if got {
                return Ok(SyncLock::Acquired(SyncLockGuard {
                    held: Some((client, tokio::runtime::Handle::current())),
                    generation: crate::runtime::fork_generation(),
                }));
            }
            drop(client);
            let c = self.client().await?;
            let owner: Option<String> = c
                .query_opt(
                    "SELECT owner FROM sync_runs WHERE status = 'running' AND kind = $1
                       AND platform = $2 AND account = $3 ORDER BY id DESC LIMIT 1",
                    &[&kind, &scope.platform.code(), &scope.account],
                )
                .await?
                .and_then(|r| r.get(0));
            let owner = owner.unwrap_or_else(|| "another worker (its run is starting)".into());
            Ok(SyncLock::Held(match wait {
                LockWait::Upto(d) if !d.is_zero() => {
                    format!(
                        "{owner} (still running after waiting {:.1} s)",
                        d.as_secs_f64()
                    )
                }
                _ => owner,
            }))
        })
    }
}

/// The advisory lock `key` on `client`'s session: at once, within a bound (the server's
/// `lock_timeout`, which advisory locks obey; the session is this lock's alone), or forever.
async fn take_lock(client: &ClientWrapper, key: i64, wait: LockWait) -> Result<bool> {
    let bound = match wait {
        LockWait::Forever => None,
        // `lock_timeout = 0` would mean no bound: under a millisecond is not waiting.
        LockWait::Upto(d) if d.as_millis() > 0 => Some(d.as_millis().min(i32::MAX as u128)),
        LockWait::No | LockWait::Upto(_) => {
            let row = client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                .await?;
            return Ok(row.get(0));
        }
    };
    if let Some(ms) = bound {
        client
            .execute(
                "SELECT set_config('lock_timeout', $1, false)",
                &[&format!("{ms}ms")],
            )
            .await?;
    }
    match client.execute("SELECT pg_advisory_lock($1)", &[&key]).await {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) => {
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn lock_is_free<C: GenericClient>(c: &C, key: i64) -> Result<bool> {
    let held: bool = c
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                 AND ((classid::bigint << 32) | objid::bigint) = $1)",
            &[&key],
        )
        .await?
        .get(0);
    Ok(!held)
}
