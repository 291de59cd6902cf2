//! What a sync run reports: its typed status, its counters (one [`UpsertCounts`] added up
//! page by page) and the first few messages.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ingest::PageOutcome;
use crate::error::{Error, Result};
use crate::store::UpsertCounts;

/// How many messages of each list (failures, validation warnings) a summary keeps: the first
/// ones; the counts say how many there were.
pub const FIRST_MESSAGES: usize = 20;

/// Append `more` to `list`, keeping its first [`FIRST_MESSAGES`].
pub(crate) fn keep_first(list: &mut Vec<String>, more: impl IntoIterator<Item = String>) {
    let room = FIRST_MESSAGES.saturating_sub(list.len());
    list.extend(more.into_iter().take(room));
}

/// The status of a sync run. Its text (`as_str`, serde, `Display`) is what the sync log
/// stores and what the bindings return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Still running (a summary's status until the run ends; a log row's while it runs).
    #[default]
    Running,
    /// Every walk finished.
    Success,
    /// Ended by an error (the summary's `error`).
    Failed,
    /// Stopped by its cancel token, or dropped before it finished.
    Cancelled,
    /// Stopped by its progress callback (e.g. Ctrl-C raised in it); the sync returns its error.
    Interrupted,
    /// Not run: another worker runs the same sync (the summary's `error` names it).
    Skipped,
    /// Its process ended before it finished (marked at the next open or run).
    Abandoned,
}

impl RunStatus {
    /// Every status.
    pub const ALL: [RunStatus; 7] = [
        RunStatus::Running,
        RunStatus::Success,
        RunStatus::Failed,
        RunStatus::Cancelled,
        RunStatus::Interrupted,
        RunStatus::Skipped,
        RunStatus::Abandoned,
    ];

    /// The stored text: `running`, `success`, `failed`, `cancelled`, `interrupted`, `skipped`,
    /// `abandoned`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Success => "success",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
            RunStatus::Skipped => "skipped",
            RunStatus::Abandoned => "abandoned",
        }
    }

    /// Whether the run counts for the sync success rate: a run stopped on purpose is neither
    /// a success nor a failure.
    pub const fn counts_for_success_rate(self) -> bool {
        matches!(self, RunStatus::Success | RunStatus::Failed)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RunStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| Error::invalid_argument(format!("unknown sync run status {s:?}")))
    }
}

impl PartialEq<str> for RunStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for RunStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What a sync run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SyncSummary {
    /// `orders` or `offers`.
    pub kind: String,
    /// `success`, `failed`, `cancelled` (the token), `interrupted` (the progress callback
    /// failed; the sync returns its error) or `skipped` (another worker runs this sync:
    /// `error` names it; nothing was read or logged).
    pub status: RunStatus,
    /// The sync-log row.
    pub run_id: i64,
    /// Pages read.
    pub pages: u64,
    /// HTTP requests made (reads, counts, acknowledgements, re-reads).
    pub requests: u64,
    /// Items read.
    pub fetched: u64,
    /// Rows created, updated, unchanged, items that failed, and the first
    /// [`FIRST_MESSAGES`] messages about failed items (serialized flat, beside the others).
    #[serde(flatten)]
    pub counts: UpsertCounts,
    /// Orders stored although they break a rule of eMAG's documented shape (kept as read:
    /// nothing read is dropped; the first messages are in `warnings`).
    pub invalid: u64,
    /// The first [`FIRST_MESSAGES`] validation messages, each prefixed with its order id.
    pub warnings: Vec<String>,
    /// Orders acknowledged.
    pub acknowledged: u64,
    /// Wall time, seconds.
    pub duration_s: f64,
    /// The least time the client's quota allows for that many requests, seconds.
    pub rate_limit_min_s: f64,
    /// The error that ended a failed run.
    pub error: Option<String>,
}

impl SyncSummary {
    /// An empty summary of a `kind` run.
    pub(crate) fn new(kind: &str) -> Self {
        SyncSummary {
            kind: kind.to_owned(),
            ..SyncSummary::default()
        }
    }

    /// Add a page's counts (keeping the first failure messages).
    pub(crate) fn add_counts(&mut self, counts: &UpsertCounts) {
        add_counts(&mut self.counts, counts);
    }

    /// Add a stored page of orders: its counts and its validation messages.
    pub(crate) fn add_page(&mut self, page: &PageOutcome) {
        self.add_counts(&page.counts);
        self.invalid += page.invalid;
        keep_first(&mut self.warnings, page.warnings.iter().cloned());
    }
}

/// `total += more`, keeping the first [`FIRST_MESSAGES`] failure messages.
pub(crate) fn add_counts(total: &mut UpsertCounts, more: &UpsertCounts) {
    total.add(more);
    total.failures.truncate(FIRST_MESSAGES);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_back_from_their_text() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), status);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!("done".parse::<RunStatus>().is_err());
        assert_eq!(RunStatus::default(), "running");
    }

    #[test]
    fn counts_add_up_and_keep_the_first_messages() {
        let page = UpsertCounts {
            created: 1,
            failed: 15,
            failures: (0..15).map(|i| i.to_string()).collect(),
            ..UpsertCounts::default()
        };
        let mut total = UpsertCounts::default();
        add_counts(&mut total, &page);
        add_counts(&mut total, &page);
        assert_eq!((total.created, total.failed), (2, 30));
        assert_eq!(total.failures.len(), FIRST_MESSAGES);
        assert_eq!(total.failures[15], "0");
    }
}
