//! The checkpoint of an order or offer walk: where it is (window and page) and how far the
//! last complete walk reached (`high_water`), saved with every page it stores.

use serde_json::{json, Value};

use crate::lenient;

/// The walk in progress, as saved in the checkpoint.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct WalkState {
    pub(super) high_water: Option<String>,
    pub(super) run: Option<RunState>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct RunState {
    pub(super) after: Option<String>,
    pub(super) before: Option<String>,
    pub(super) started_local: String,
    pub(super) window: usize,
    /// Forward walks (whole history, offers): the next page. Windowed order walks
    /// (`descending`): the next page going down, 0 before the window was counted.
    pub(super) page: u64,
    pub(super) descending: bool,
}

impl WalkState {
    pub(super) fn from_json(v: Option<Value>) -> Self {
        let Some(v) = v else {
            return WalkState::default();
        };
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let run = v.get("run").filter(|r| r.is_object()).map(|r| {
            let descending = r.get("descending").and_then(Value::as_bool) == Some(true);
            let page = if descending {
                r.get("page_down")
                    .and_then(lenient::int)
                    .unwrap_or(0)
                    .max(0) as u64
            } else {
                r.get("page").and_then(lenient::int).unwrap_or(1).max(1) as u64
            };
            RunState {
                after: text(r, "after"),
                before: text(r, "before"),
                started_local: text(r, "started_local").unwrap_or_default(),
                window: r.get("window").and_then(lenient::int).unwrap_or(0).max(0) as usize,
                // A windowed walk saved by an older version walked up: its window is
                // walked again from the top (pages already stored read as unchanged).
                page,
                descending,
            }
        });
        WalkState {
            high_water: text(&v, "high_water"),
            run,
        }
    }

    pub(super) fn to_json(&self) -> Value {
        // A downward walk keeps its page under its own key, with `page` 1 beside it: a
        // version that walks up, reading this checkpoint, starts the window over rather
        // than skipping its lower pages.
        json!({
            "high_water": self.high_water,
            "run": self.run.as_ref().map(|r| if r.descending {
                json!({
                    "after": r.after, "before": r.before, "started_local": r.started_local,
                    "window": r.window, "page": 1, "page_down": r.page, "descending": true,
                })
            } else {
                json!({
                    "after": r.after, "before": r.before, "started_local": r.started_local,
                    "window": r.window, "page": r.page,
                })
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_round_trip_and_an_older_upward_walk_restarts_its_window() {
        let down = WalkState {
            high_water: Some("2025-01-01 00:00:00".into()),
            run: Some(RunState {
                after: Some("2025-01-01 00:00:00".into()),
                before: Some("2025-01-02 00:00:00".into()),
                started_local: "2025-01-02 00:00:01".into(),
                window: 0,
                page: 4,
                descending: true,
            }),
        };
        let saved = down.to_json();
        // A version walking up reads `page` 1: it starts the window over.
        assert_eq!(saved["run"]["page"], json!(1));
        assert_eq!(WalkState::from_json(Some(saved)), down);
        let up = json!({"high_water": null, "run": {"after": "2025-01-01 00:00:00",
            "before": "2025-01-02 00:00:00", "started_local": "x", "window": 0, "page": 7}});
        let read = WalkState::from_json(Some(up)).run.unwrap();
        assert!(!read.descending && read.page == 7);
    }
}
