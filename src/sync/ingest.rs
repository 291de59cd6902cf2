//! Storing pages of orders as the sync does: each order checked against eMAG's documented
//! shape (kept all the same), its columns read, the page written in one transaction; and the
//! bulk load of many pages with parsing and writing on two threads.

use std::sync::mpsc::Receiver;

use serde::Serialize;
use serde_json::Value;

use super::summary::{add_counts, keep_first};
use crate::client::RawItems;
use crate::error::{Error, Result};
use crate::store::{PreparedOrders, Scope, Store, UpsertCounts};

/// What storing one page of orders did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PageOutcome {
    /// The upsert's counts.
    pub counts: UpsertCounts,
    /// Orders with validation messages (stored all the same).
    pub invalid: u64,
    /// Those messages, `order <id>: <path>: <problem>`, the first [`FIRST_MESSAGES`](super::FIRST_MESSAGES) of the page.
    pub warnings: Vec<String>,
    /// `(id, type)` of every order of the page in status 1 (new), the candidates for
    /// acknowledgement; `type` is `None` when the order does not say.
    pub new_orders: Vec<(i64, Option<i64>)>,
}

/// A page of orders checked and prepared for the store, not yet written
/// ([`prepare_orders_page`]); owned, so it can cross threads.
#[derive(Debug, Clone)]
pub struct PreparedPage {
    /// The texts and, for each order, its columns.
    pub orders: PreparedOrders,
    /// Orders with validation messages (stored all the same).
    pub invalid: u64,
    /// Those messages, `order <id>: <path>: <problem>`, the first [`FIRST_MESSAGES`](super::FIRST_MESSAGES).
    pub warnings: Vec<String>,
    /// `(id, type)` of every order in status 1 (new).
    pub new_orders: Vec<(i64, Option<i64>)>,
}

/// Check a page of orders as the sync does and prepare its rows: each order is parsed once
/// into a borrowed [`crate::jsonview::JsonView`], validated ([`crate::validate::validate_order_data`]), and its
/// columns read (the SHA-256 of its text is computed when it is written). Orders with validation messages are kept (nothing read is
/// dropped): the messages are logged and returned.
pub fn prepare_orders_page(scope: &Scope, items: RawItems) -> PreparedPage {
    let mut invalid = 0;
    let mut warnings = Vec::new();
    let mut new_orders = Vec::new();
    let orders = PreparedOrders::new(items, scope.time_zone, |row, view| {
        if row.status == Some(1) {
            new_orders.push((row.id, row.kind));
        }
        let messages = crate::validate::validate_order_data(view);
        if messages.is_empty() {
            return;
        }
        invalid += 1;
        log::warn!(
            "order {} read from eMAG breaks {} rule(s): {}",
            row.id,
            messages.len(),
            messages.join("; ")
        );
        keep_first(
            &mut warnings,
            messages
                .into_iter()
                .map(|m| format!("order {}: {m}", row.id)),
        );
    });
    PreparedPage {
        orders,
        invalid,
        warnings,
        new_orders,
    }
}

/// Write a prepared page in one transaction (with the checkpoint, if any).
pub fn store_prepared_page(
    store: &Store,
    scope: &Scope,
    page: PreparedPage,
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    let counts = store.upsert_prepared_orders(scope, &page.orders, checkpoint)?;
    Ok(page.stored(counts))
}

/// Store one page of orders as the sync does ([`prepare_orders_page`], then one transaction
/// with the checkpoint, if any). Each order is stored as its compact serialization.
pub fn store_orders_page(
    store: &Store,
    scope: &Scope,
    orders: &[Value],
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    store_orders_page_raw(store, scope, &RawItems::from_values(orders)?, checkpoint)
}

/// [`store_orders_page`] for a page kept as the text eMAG sent ([`Pager::next_page_raw`]):
/// each order's text is stored as it came.
///
/// [`Pager::next_page_raw`]: crate::client::pagination::Pager::next_page_raw
pub fn store_orders_page_raw(
    store: &Store,
    scope: &Scope,
    orders: &RawItems,
    checkpoint: Option<(&str, &Value)>,
) -> Result<PageOutcome> {
    let page = prepare_orders_page(scope, orders.clone());
    store_prepared_page(store, scope, page, checkpoint)
}

/// Load many pages of orders at once (saved answers, an export, a first import): the same
/// checks and writes as [`store_orders_page_raw`], with the parsing and checking of the next
/// pages on a second thread while the store writes. The pages already parsed when the writer
/// is free are written in one transaction (up to 16 on SQLite, 64 on PostgreSQL): each index
/// page they touch then goes to the WAL once rather than once per page. PostgreSQL writes two
/// such groups at once on two connections, committing them in order. Stops at the first error
/// (pages before it stay written, as a sync's would; a group that fails to commit is not
/// written at all, nor any after it).
/// Returns the pages' outcomes added up (warnings and failures: the first
/// [`FIRST_MESSAGES`](super::FIRST_MESSAGES)).
pub fn ingest_order_pages<I>(store: &Store, scope: &Scope, pages: I) -> Result<PageOutcome>
where
    I: IntoIterator<Item = Result<RawItems>>,
    I::IntoIter: Send,
{
    let pages = pages.into_iter();
    std::thread::scope(|threads| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<PreparedPage>>(in_flight(store));
        let producer = std::thread::Builder::new()
            .name("mf-ingest-parse".into())
            .spawn_scoped(threads, move || {
                for page in pages {
                    let prepared = page.map(|items| prepare_orders_page(scope, items));
                    let failed = prepared.is_err();
                    if tx.send(prepared).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| Error::internal(format!("cannot start the ingest thread: {e}")))?;
        let outcome = write_groups(store, scope, &rx);
        // Dropping the receiver ends a producer still sending.
        drop(rx);
        producer
            .join()
            .map_err(|_| Error::internal("the ingest thread panicked"))?;
        outcome
    })
}

/// Pages in flight (about 250 KB of text each), which is also the most pages written in one
/// transaction (group commit: the pages already parsed when the writer is free go together,
/// so a writer that falls behind catches up). SQLite: enough for the parser to run on while
/// the writer waits on an fsync at a WAL checkpoint (more was measured slower). PostgreSQL:
/// each group costs a lookup round trip and a commit, so larger groups pay (measured on
/// 100,000 orders: 2.61 s with 16, 2.20 s with 64, 2.19 s with 128 at 93 MB RSS).
fn in_flight(store: &Store) -> usize {
    if store.is_postgres() {
        64
    } else {
        16
    }
}

/// The writer's side of [`ingest_order_pages`]: write the pages as they come, in groups.
fn write_groups(
    store: &Store,
    scope: &Scope,
    rx: &Receiver<Result<PreparedPage>>,
) -> Result<PageOutcome> {
    let mut total = PageOutcome::default();
    let mut unreadable = None;
    let groups = std::iter::from_fn(|| {
        if unreadable.is_some() {
            return None;
        }
        let mut group = vec![rx.recv().ok()?];
        while group.len() < in_flight(store) {
            match rx.try_recv() {
                Ok(page) => group.push(page),
                Err(_) => break,
            }
        }
        // The pages before the first unreadable one are written, then its error returned
        // (the first in page order: the pages before it come first).
        let (mut orders, mut notes) = (Vec::new(), Vec::new());
        for page in group {
            match page {
                Ok(page) => {
                    let (page_orders, page_notes) = page.split();
                    orders.push(page_orders);
                    notes.push(page_notes);
                }
                Err(e) => {
                    unreadable = Some(e);
                    break;
                }
            }
        }
        (!orders.is_empty()).then_some((orders, notes))
    });
    store.write_order_groups(scope, groups, |notes, counts| {
        for (page, counts) in notes.into_iter().zip(counts) {
            total.absorb(page.stored(counts));
        }
    })?;
    match unreadable {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

/// What a prepared page reports besides its rows.
struct PageNotes {
    invalid: u64,
    warnings: Vec<String>,
    new_orders: Vec<(i64, Option<i64>)>,
}

impl PageNotes {
    fn stored(self, counts: UpsertCounts) -> PageOutcome {
        PageOutcome {
            counts,
            invalid: self.invalid,
            warnings: self.warnings,
            new_orders: self.new_orders,
        }
    }
}

impl PreparedPage {
    fn split(self) -> (PreparedOrders, PageNotes) {
        let notes = PageNotes {
            invalid: self.invalid,
            warnings: self.warnings,
            new_orders: self.new_orders,
        };
        (self.orders, notes)
    }

    /// The outcome of this page once stored with these counts.
    pub(crate) fn stored(self, counts: UpsertCounts) -> PageOutcome {
        self.split().1.stored(counts)
    }
}

impl PageOutcome {
    fn absorb(&mut self, page: PageOutcome) {
        add_counts(&mut self.counts, &page.counts);
        self.invalid += page.invalid;
        keep_first(&mut self.warnings, page.warnings);
        self.new_orders.extend(page.new_orders);
    }
}
