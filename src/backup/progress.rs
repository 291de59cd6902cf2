//! Progress of a long backup operation (create, verify, restore), reported every so many
//! rows through the caller's callback.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

/// Progress of a long backup operation (the same keys as the sync's progress events).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupProgress {
    /// `backup`, `verify` or `restore`.
    pub phase: &'static str,
    /// Rows done.
    pub items: u64,
    /// Rows in all.
    pub expected_items: u64,
    /// Rows per second so far.
    pub rate_items_per_s: f64,
    /// Seconds left at that rate.
    pub eta_s: Option<f64>,
}

/// A progress callback.
pub type BackupProgressFn = Arc<dyn Fn(&BackupProgress) + Send + Sync>;

pub(super) struct ProgressTicker<'a> {
    pub(super) phase: &'static str,
    pub(super) callback: Option<&'a BackupProgressFn>,
    pub(super) expected: u64,
    pub(super) done: u64,
    pub(super) started: Instant,
}

impl<'a> ProgressTicker<'a> {
    pub(super) fn new(
        phase: &'static str,
        callback: Option<&'a BackupProgressFn>,
        expected: u64,
    ) -> Self {
        ProgressTicker {
            phase,
            callback,
            expected,
            done: 0,
            started: Instant::now(),
        }
    }

    pub(super) fn tick(&mut self) {
        self.done += 1;
        if self.done % 5000 == 0 {
            self.emit();
        }
    }

    pub(super) fn emit(&self) {
        let Some(callback) = self.callback else {
            return;
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            self.done as f64 / elapsed
        } else {
            0.0
        };
        let left = self.expected.saturating_sub(self.done) as f64;
        callback(&BackupProgress {
            phase: self.phase,
            items: self.done,
            expected_items: self.expected,
            rate_items_per_s: rate,
            eta_s: (rate > 0.0).then(|| left / rate),
        });
    }
}
