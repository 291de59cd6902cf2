//! Sync runs: a time-bounded log for the success rate over the last hour (configurable),
//! plus cumulative totals per kind for Prometheus. Syncs are rare (minutes apart), so a
//! plain mutex-guarded queue is enough.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;

/// Runs kept at most, whatever the window (bounds memory if a caller records in a loop).
const MAX_RUNS: usize = 10_000;
/// Distinct kinds kept in the cumulative totals (further kinds are folded into "_other").
const MAX_KINDS: usize = 64;

/// One finished sync run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncRun {
    /// What was synced (`"orders"`, `"offers"`, ...).
    pub kind: String,
    /// Whether it succeeded.
    pub success: bool,
    /// How long it took, seconds.
    pub duration_seconds: f64,
    /// Items processed.
    pub items: u64,
    /// When it was recorded (UTC, ISO-8601).
    pub at: String,
}

/// Totals of one sync kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncKindTotals {
    /// Successful runs.
    pub successes: u64,
    /// Failed runs.
    pub failures: u64,
    /// Items processed.
    pub items: u64,
    /// Sum of run durations, seconds.
    pub duration_seconds: f64,
}

/// Sync health over the sync window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncMetrics {
    /// The sync window, seconds (default 3600).
    pub window_seconds: f64,
    /// Runs in the window.
    pub runs: u64,
    /// Successful runs in the window.
    pub successes: u64,
    /// Failed runs in the window.
    pub failures: u64,
    /// successes / runs; `None` without runs.
    pub success_rate: Option<f64>,
    /// Items processed in the window.
    pub items: u64,
    /// The latest run ever recorded.
    pub last: Option<SyncRun>,
}

struct Entry {
    at: Duration,
    success: bool,
    items: u64,
}

#[derive(Default)]
struct State {
    runs: VecDeque<Entry>,
    last: Option<SyncRun>,
    totals: BTreeMap<String, SyncKindTotals>,
}

/// The sync log.
pub(crate) struct SyncLog {
    window: Duration,
    state: Mutex<State>,
}

impl SyncLog {
    pub fn new(window: Duration) -> Self {
        SyncLog {
            window,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn prune(&self, st: &mut State, now: Duration) {
        while st
            .runs
            .front()
            .is_some_and(|e| now.saturating_sub(e.at) > self.window)
        {
            st.runs.pop_front();
        }
        while st.runs.len() > MAX_RUNS {
            st.runs.pop_front();
        }
    }

    pub fn record(&self, now: Duration, run: SyncRun) {
        let mut st = self.state();
        st.runs.push_back(Entry {
            at: now,
            success: run.success,
            items: run.items,
        });
        self.prune(&mut st, now);
        let key = if st.totals.len() >= MAX_KINDS && !st.totals.contains_key(&run.kind) {
            "_other".to_owned()
        } else {
            run.kind.clone()
        };
        let t = st.totals.entry(key).or_default();
        if run.success {
            t.successes += 1;
        } else {
            t.failures += 1;
        }
        t.items = t.items.saturating_add(run.items);
        t.duration_seconds += run.duration_seconds;
        st.last = Some(run);
    }

    pub fn metrics(&self, now: Duration) -> SyncMetrics {
        let mut st = self.state();
        self.prune(&mut st, now);
        let runs = st.runs.len() as u64;
        let successes = st.runs.iter().filter(|e| e.success).count() as u64;
        SyncMetrics {
            window_seconds: self.window.as_secs_f64(),
            runs,
            successes,
            failures: runs - successes,
            success_rate: (runs > 0).then(|| successes as f64 / runs as f64),
            items: st.runs.iter().fold(0u64, |a, e| a.saturating_add(e.items)),
            last: st.last.clone(),
        }
    }

    pub fn totals(&self) -> BTreeMap<String, SyncKindTotals> {
        self.state().totals.clone()
    }

    pub fn reset(&self) {
        *self.state() = State::default();
    }
}
