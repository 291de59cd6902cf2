//! The store (see `engine.rs` for the seam; `postgres/` for the PostgreSQL engine) and its
//! embedded SQLite engine: orders, offers, the sync log and checkpoints.
//!
//! rusqlite with the bundled SQLite, WAL (readers keep reading while a sync writes, in this
//! process or another), a busy timeout, and migrations through `PRAGMA user_version`. One
//! connection writes and one reads, each behind its own mutex, so a long write transaction in
//! this process does not block its readers either.

mod callbacks;
mod engine;
mod owner;
pub mod postgres;
mod prepared;
mod queries;
mod rows;
mod schema;
mod sqlite;
mod sqlite_write;

use chrono::{SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use callbacks::{CallbackEntry, CallbackQueueStats};
pub use engine::{is_postgres_url, LockWait, Store, SyncLock};
pub use prepared::{PreparedOrder, PreparedOrders};
pub use queries::{ProductStats, SyncRun, SyncStats};
pub use rows::{utc_instant, OfferQuery, OrderQuery, StoredRow, MAX_PAGE};
pub use schema::SCHEMA_VERSION;
pub use sqlite::SqliteStore;
pub(crate) use sqlite_write::generation_of;

use crate::platform::Platform;

/// The default store file.
pub const DEFAULT_PATH: &str = "magflow-emag.db";

/// Which account's data: the platform and the account label. Orders are keyed by
/// platform + account + eMAG order id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The platform.
    pub platform: Platform,
    /// The account label (e.g. `main`, `fbe`).
    pub account: String,
    /// The zone eMAG's timestamps are read in.
    pub time_zone: Tz,
}

impl Scope {
    /// The scope of a platform and account, with the platform's time zone.
    pub fn new(platform: Platform, account: impl Into<String>) -> Self {
        Scope {
            platform,
            account: account.into(),
            time_zone: platform.time_zone(),
        }
    }
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    /// New rows.
    pub created: u64,
    /// Rows whose content changed.
    pub updated: u64,
    /// Rows read again with the same content.
    pub unchanged: u64,
    /// Items that could not be stored (not an object, no usable id).
    pub failed: u64,
    /// One message per failed item.
    pub failures: Vec<String>,
}

impl UpsertCounts {
    /// Add another page's counts.
    pub fn add(&mut self, other: &UpsertCounts) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.failures.extend(other.failures.iter().cloned());
    }
}

/// Now, as stored: UTC ISO-8601 with milliseconds.
pub fn now_utc() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// SHA-256 of the text, in lowercase hex (what `content_hash` holds).
fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut hex = [0u8; 64];
    // `encode_to_slice` fills a buffer in one go (`hex::encode` goes char by char); it cannot
    // fail for 32 bytes into 64, and would fall back to the slow path if it did.
    match hex::encode_to_slice(digest, &mut hex) {
        Ok(()) => String::from_utf8(hex.to_vec()).unwrap_or_else(|_| hex::encode(digest)),
        Err(_) => hex::encode(digest),
    }
}

/// A sync run's identity for its page writes: its sync-log row, and the store generation it
/// began in (a restore bumps it: a run that outlives a restore stops at its next page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunContext {
    /// The sync-log row.
    pub run_id: i64,
    /// [`Store::generation`] when the run began.
    pub generation: i64,
}

/// Where a page is written and what its transaction holds beside the page's rows: the
/// checkpoint reached, and (for a page of a sync run) the run, whose counts it adds after
/// checking that the store was not restored since the run began.
#[derive(Debug, Clone, Copy)]
pub struct PageCommit<'a> {
    /// Whose rows.
    pub scope: &'a Scope,
    /// The checkpoint kind and state to save with the page.
    pub checkpoint: Option<(&'a str, &'a Value)>,
    /// The sync run the page belongs to.
    pub run: Option<&'a RunContext>,
}

impl<'a> PageCommit<'a> {
    /// A page written on its own (not by a sync run), with the checkpoint if any.
    pub fn new(scope: &'a Scope, checkpoint: Option<(&'a str, &'a Value)>) -> Self {
        PageCommit {
            scope,
            checkpoint,
            run: None,
        }
    }

    /// The same, as a page of the sync run `run`.
    pub fn in_run(self, run: &'a RunContext) -> Self {
        PageCommit {
            run: Some(run),
            ..self
        }
    }
}
