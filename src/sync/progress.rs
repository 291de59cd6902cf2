//! Progress events: pages done, estimated total, items, rate and ETA.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

/// A progress callback (called after every page, once the page is stored; keep it cheap).
/// An error from it stops the sync there: the run is recorded `interrupted` and the sync
/// returns that error (how Ctrl-C in a Python callback stops a blocking sync).
pub type ProgressFn = Arc<dyn Fn(&Progress) -> crate::error::Result<()> + Send + Sync>;

/// One progress event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// `orders` or `offers`.
    pub kind: String,
    /// Pages stored so far.
    pub pages_done: u64,
    /// Pages expected in all (when a count was available).
    pub estimated_total_pages: Option<u64>,
    /// Items stored so far.
    pub items: u64,
    /// Items expected in all (when a count was available).
    pub expected_items: Option<u64>,
    /// Seconds since the start.
    pub elapsed_s: f64,
    /// Items per second so far.
    pub rate_items_per_s: f64,
    /// Seconds left, estimated from the rate (when the total is known).
    pub eta_s: Option<f64>,
}

/// Counts pages and items and calls the callback.
pub(crate) struct Tracker {
    kind: String,
    callback: Option<ProgressFn>,
    started: Instant,
    pages: u64,
    items: u64,
    expected: Option<u64>,
}

impl Tracker {
    pub(crate) fn new(kind: String, callback: Option<ProgressFn>) -> Self {
        Tracker {
            kind,
            callback,
            started: Instant::now(),
            pages: 0,
            items: 0,
            expected: None,
        }
    }

    pub(crate) fn add_expected_items(&mut self, n: u64) {
        self.expected = Some(self.expected.unwrap_or(0) + n);
    }

    pub(crate) fn page_done(&mut self, items: u64) -> crate::error::Result<()> {
        self.pages += 1;
        self.items += items;
        // Progress for programs without a callback (C's mf_set_log_callback, Python logging).
        match self.expected {
            Some(expected) => log::info!(
                "sync {}: page {} stored, {} of about {} items",
                self.kind,
                self.pages,
                self.items,
                expected.max(self.items)
            ),
            None => log::info!(
                "sync {}: page {} stored, {} items",
                self.kind,
                self.pages,
                self.items
            ),
        }
        let Some(callback) = &self.callback else {
            return Ok(());
        };
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = if elapsed > 0.0 {
            self.items as f64 / elapsed
        } else {
            0.0
        };
        let expected = self.expected.map(|e| e.max(self.items));
        let event = Progress {
            kind: self.kind.clone(),
            pages_done: self.pages,
            estimated_total_pages: expected.map(|e| e.div_ceil(100).max(self.pages)),
            items: self.items,
            expected_items: expected,
            elapsed_s: elapsed,
            rate_items_per_s: rate,
            eta_s: expected
                .filter(|_| rate > 0.0)
                .map(|e| (e - self.items) as f64 / rate),
        };
        callback(&event)
    }
}
