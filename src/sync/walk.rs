//! The walks of a sync run: the orders of one type (by `modified` window, each window from
//! its last page down; or the whole history up) and the offers (up, resumable by page).

use chrono::{NaiveDateTime, Utc};
use serde_json::{json, Value};

use super::checkpoint::{RunState, WalkState};
use super::ingest::prepare_orders_page;
use super::progress::Tracker;
use super::run::Stop;
use super::{CancelToken, SyncOptions, SyncSummary};
use crate::client::{Client, RawItems};
use crate::error::Error;
use crate::store::{PageCommit, RunContext, Scope, Store};
use crate::time::EMAG_FORMAT;

/// A walk's result: done, or stopped for a reason.
pub(super) type Walked = std::result::Result<(), Stop>;

/// What every walk of a run reads, and the summary and progress it adds to.
pub(super) struct Walk<'a> {
    pub(super) client: &'a Client,
    pub(super) store: &'a Store,
    pub(super) scope: &'a Scope,
    pub(super) options: &'a SyncOptions,
    pub(super) ctx: &'a RunContext,
    pub(super) summary: SyncSummary,
    tracker: Tracker,
}

/// Where a walk is: its checkpoint key, the saved state and the walk in progress.
struct Position {
    key: String,
    state: WalkState,
    run: RunState,
}

pub(super) fn now_local(scope: &Scope) -> NaiveDateTime {
    Utc::now().with_timezone(&scope.time_zone).naive_local()
}

fn format(t: NaiveDateTime) -> String {
    t.format(EMAG_FORMAT).to_string()
}

fn parse(t: &Option<String>) -> Option<NaiveDateTime> {
    t.as_deref()
        .and_then(|t| NaiveDateTime::parse_from_str(t, EMAG_FORMAT).ok())
}

/// The one-month windows eMAG accepts covering `[after, before]`.
fn month_windows(after: NaiveDateTime, before: NaiveDateTime) -> Vec<(String, String)> {
    let mut windows = Vec::new();
    let mut from = after;
    loop {
        let to = (crate::time::add_month(from) - chrono::Duration::seconds(1)).min(before);
        windows.push((format(from), format(to)));
        if to >= before {
            return windows;
        }
        from = to + chrono::Duration::seconds(1);
    }
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        client: &'a Client,
        store: &'a Store,
        scope: &'a Scope,
        options: &'a SyncOptions,
        ctx: &'a RunContext,
        summary: SyncSummary,
    ) -> Self {
        Walk {
            client,
            store,
            scope,
            options,
            ctx,
            tracker: Tracker::new(summary.kind.clone(), options.progress.clone()),
            summary,
        }
    }

    /// Whether the cancel token was set.
    pub(super) fn cancelled(&self) -> bool {
        self.options
            .cancel
            .as_ref()
            .is_some_and(CancelToken::is_cancelled)
    }

    fn stop_if_cancelled(&self) -> Walked {
        if self.cancelled() {
            Err(Stop::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Walk one order type.
    ///
    /// An incremental walk reads the orders modified in `[after, before]` one month window
    /// at a time, each window from its last page to its first. Why down: an order that
    /// changes during the walk gets a `modified` after `before` and leaves the window, so the
    /// orders after it move up one place. Walking up, the first order of the next page would
    /// move onto the page just read and never be read. Walking down, the orders that move up
    /// are the ones already read; an order not yet read only ever moves to a lower page,
    /// which is still to come. So every order that stays in the window is read once, and
    /// every order that leaves it is newer than `before` and read by the next run. (`before`
    /// is the second before the run began, so nothing changed during the walk falls inside;
    /// eMAG's clock is assumed not to run behind ours by more than the overlap.)
    ///
    /// A whole-history walk has no `modified` window: changes do not move orders in or out,
    /// and new orders are added in front, so it walks up (a new order can only repeat one
    /// already read).
    pub(super) async fn orders(&mut self, order_type: i64) -> Walked {
        let key = format!("orders/type={order_type}");
        let mut state = WalkState::from_json(self.store.load_checkpoint(self.scope, &key)?);
        if self.options.full {
            state.run = None;
        }
        // Resume an interrupted walk exactly where it stopped, else start one.
        let run = state.run.clone().unwrap_or_else(|| self.new_run(&state));
        let mut at = Position { key, state, run };
        match (parse(&at.run.after), parse(&at.run.before)) {
            (Some(after), Some(before)) if after <= before => {
                if !at.run.descending {
                    // Saved by an older version: this window again, from the top.
                    at.run.descending = true;
                    at.run.page = 0;
                }
                let windows = month_windows(after, before);
                self.windows_down(order_type, &mut at, &windows).await?;
            }
            _ => {
                at.run.descending = false;
                at.run.page = at.run.page.max(1);
                self.up(order_type, &mut at).await?;
            }
        }
        // The walk is complete: everything modified up to its start has been seen.
        at.state.high_water = Some(at.run.started_local.clone());
        at.state.run = None;
        self.store
            .save_checkpoint(self.scope, &at.key, &at.state.to_json())?;
        Ok(())
    }

    /// A new walk: from the last high-water mark minus the overlap to the second before now
    /// (walked down), or the whole history (`full`, or no mark yet; walked up).
    fn new_run(&self, state: &WalkState) -> RunState {
        let now = now_local(self.scope);
        let overlap = chrono::Duration::from_std(self.options.overlap).unwrap_or_default();
        let after = if self.options.full {
            None
        } else {
            parse(&state.high_water).map(|hw| format(hw - overlap))
        };
        let before = after
            .as_ref()
            .map(|_| format(now - chrono::Duration::seconds(1)));
        RunState {
            descending: after.is_some(),
            page: if after.is_some() { 0 } else { 1 },
            after,
            before,
            started_local: format(now),
            window: 0,
        }
    }

    async fn windows_down(
        &mut self,
        order_type: i64,
        at: &mut Position,
        windows: &[(String, String)],
    ) -> Walked {
        let per_page = crate::client::pagination::PAGE_SIZE;
        while let Some((after, before)) = windows.get(at.run.window) {
            let this_window = at.run.window;
            let filters =
                json!({"type": order_type, "modifiedAfter": after, "modifiedBefore": before});
            if at.run.page == 0 {
                self.stop_if_cancelled()?;
                self.summary.requests += 1;
                let n = self.client.orders().count(filters.clone()).await?;
                self.tracker.add_expected_items(n);
                at.run.page = n.div_ceil(per_page);
            }
            while at.run.page >= 1 {
                self.stop_if_cancelled()?;
                let mut pager = self.client.orders().pages(filters.clone())?;
                pager.seek(0, at.run.page);
                let items = pager
                    .next_page_raw()
                    .await?
                    .ok_or_else(|| Error::internal("the pager ended before its page"))?;
                self.summary.requests += 1;
                at.run.page -= 1;
                if at.run.page == 0 {
                    at.run.window += 1;
                }
                self.store_page(at, &items)?;
            }
            if at.run.window == this_window {
                // An empty window: counted, nothing to read.
                at.run.window += 1;
            }
        }
        Ok(())
    }

    async fn up(&mut self, order_type: i64, at: &mut Position) -> Walked {
        // A whole-history walk: one count gives the progress bar its total.
        if let Ok(n) = self
            .client
            .orders()
            .count(json!({ "type": order_type }))
            .await
        {
            self.tracker.add_expected_items(n);
        }
        self.summary.requests += 1;
        let mut pager = self.client.orders().pages(json!({ "type": order_type }))?;
        pager.seek(0, at.run.page);
        loop {
            self.stop_if_cancelled()?;
            let Some(items) = pager.next_page_raw().await? else {
                return Ok(());
            };
            self.summary.requests += 1;
            let (window, next_page) = pager.position();
            at.run.window = window;
            at.run.page = next_page;
            self.store_page(at, &items)?;
        }
    }

    /// Store a page read by a walk with the walk's position, then report progress.
    fn store_page(&mut self, at: &mut Position, items: &RawItems) -> Walked {
        at.state.run = Some(at.run.clone());
        let page = prepare_orders_page(self.scope, items.clone());
        let state = at.state.to_json();
        let commit = PageCommit::new(self.scope, Some((&at.key, &state))).in_run(self.ctx);
        let counts = self
            .store
            .upsert_prepared_orders_in_run(&page.orders, commit)?;
        self.summary.pages += 1;
        self.summary.fetched += items.len() as u64;
        self.summary.add_page(&page.stored(counts));
        self.page_done(items.len())
    }

    fn page_done(&mut self, items: usize) -> Walked {
        self.tracker
            .page_done(items as u64)
            .map_err(Stop::Interrupted)
    }

    /// Walk every `product_offer` page into the offers table (resumable by page).
    pub(super) async fn offers(&mut self) -> Walked {
        let key = "offers";
        let state = WalkState::from_json(self.store.load_checkpoint(self.scope, key)?);
        let start_page = if self.options.full {
            1
        } else {
            state.run.as_ref().map_or(1, |r| r.page.max(1))
        };
        if let Ok(n) = self.client.offers().count(Value::Null).await {
            self.tracker.add_expected_items(n);
        }
        self.summary.requests += 1;
        let mut pager = self.client.offers().pages(Value::Null)?;
        pager.seek(0, start_page);
        let mut run = RunState {
            started_local: format(now_local(self.scope)),
            ..RunState::default()
        };
        loop {
            self.stop_if_cancelled()?;
            let Some(items) = pager.next_page().await? else {
                break;
            };
            self.summary.requests += 1;
            run.page = pager.position().1;
            let at = WalkState {
                high_water: state.high_water.clone(),
                run: Some(run.clone()),
            };
            let state = at.to_json();
            let commit = PageCommit::new(self.scope, Some((key, &state))).in_run(self.ctx);
            let counts = self.store.upsert_offers_in_run(&items, commit)?;
            self.summary.pages += 1;
            self.summary.fetched += items.len() as u64;
            self.summary.add_counts(&counts);
            self.page_done(items.len())?;
        }
        let done = WalkState {
            high_water: Some(run.started_local.clone()),
            run: None,
        };
        self.store
            .save_checkpoint(self.scope, key, &done.to_json())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_windows_cover_the_range_without_gaps() {
        let t = |s: &str| NaiveDateTime::parse_from_str(s, EMAG_FORMAT).unwrap();
        let w = month_windows(t("2025-01-15 10:00:00"), t("2025-03-20 00:00:00"));
        assert_eq!(
            w,
            vec![
                ("2025-01-15 10:00:00".into(), "2025-02-15 09:59:59".into()),
                ("2025-02-15 10:00:00".into(), "2025-03-15 09:59:59".into()),
                ("2025-03-15 10:00:00".into(), "2025-03-20 00:00:00".into()),
            ]
        );
        let one = month_windows(t("2025-01-15 10:00:00"), t("2025-01-15 10:00:00"));
        assert_eq!(one.len(), 1);
    }
}
