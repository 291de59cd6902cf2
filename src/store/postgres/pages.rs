//! Writing pages of orders: change detection against the stored hashes, the new rows by
//! binary `COPY`, changed rows by one upsert over arrays, unchanged rows touched.

use std::collections::{HashMap, HashSet};

use deadpool_postgres::{GenericClient, Object};
use serde_json::Value;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

use super::super::rows::{Table, ORDERS};
use super::super::{
    content_hash, now_utc, PageCommit, PreparedOrders, RunContext, Scope, UpsertCounts,
};
use super::pipeline::Chain;
use crate::error::{Error, Result};

/// How rows new to the table are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NewRows {
    /// Binary `COPY` straight into `orders`: the server inserts them in batches, about twice
    /// as fast as an upsert. Fails with a unique violation when another writer stored one of
    /// them since the lookup; the caller then repeats the transaction with `Upsert`.
    Copy,
    /// Through the upsert, like the changed rows.
    Upsert,
}

/// A number kept in `store_meta` (0 when absent).
pub(super) async fn meta_int<C: GenericClient>(c: &C, key: &str) -> Result<i64> {
    let stmt = c
        .prepare_cached("SELECT value FROM store_meta WHERE key = $1")
        .await?;
    let row = c.query_opt(&stmt, &[&key]).await?;
    Ok(row
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0))
}

pub(super) async fn generation_of<C: GenericClient>(c: &C) -> Result<i64> {
    meta_int(c, "generation").await
}

pub(super) async fn check_generation<C: GenericClient>(c: &C, run: &RunContext) -> Result<()> {
    if generation_of(c).await? != run.generation {
        return Err(Error::store(
            "the store was restored from a backup while this sync ran: the sync stopped \
             (nothing of this page was written); run it again",
        ));
    }
    Ok(())
}

pub(super) async fn add_run_counts<C: GenericClient>(
    c: &C,
    run_id: i64,
    fetched: u64,
    counts: &UpsertCounts,
) -> Result<()> {
    let stmt = c
        .prepare_cached(
            "UPDATE sync_runs SET pages = pages + 1, fetched = fetched + $2, created = created + $3,
                 updated = updated + $4, unchanged = unchanged + $5, failed = failed + $6
             WHERE id = $1",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &run_id,
            &(fetched as i64),
            &(counts.created as i64),
            &(counts.updated as i64),
            &(counts.unchanged as i64),
            &(counts.failed as i64),
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn save_checkpoint_tx<C: GenericClient>(
    c: &C,
    scope: &Scope,
    kind: &str,
    state: &Value,
) -> Result<()> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO checkpoints (platform, account, kind, state, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (platform, account, kind) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &scope.platform.code(),
            &scope.account,
            &kind,
            &state.to_string(),
            &now_utc(),
        ],
    )
    .await?;
    Ok(())
}

/// The stored hashes of `ids` (one statement).
pub(super) async fn existing_hashes<C: GenericClient>(
    tx: &C,
    table: Table,
    scope: &Scope,
    ids: &[i64],
) -> Result<HashMap<i64, String>> {
    let Table { name, id } = table;
    let stmt = tx
        .prepare_cached(&format!(
            // A join on the ids rather than `= ANY($3)`: with the statistics of a new table
            // the generic plan of the latter scanned the whole account through another
            // index (each page slower than the last); this one probes the key per id.
            "SELECT t.{id}, t.content_hash FROM unnest($3::int8[]) AS i(id)
             JOIN {name} t ON t.platform = $1 AND t.account = $2 AND t.{id} = i.id"
        ))
        .await?;
    let rows = tx
        .query(&stmt, &[&scope.platform.code(), &scope.account, &ids])
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// What became of one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    Created,
    Updated,
    Unchanged,
}

impl Outcome {
    pub(super) fn count(self, counts: &mut UpsertCounts) {
        match self {
            Outcome::Created => counts.created += 1,
            Outcome::Updated => counts.updated += 1,
            Outcome::Unchanged => counts.unchanged += 1,
        }
    }
}

/// One row to write: the item's index, its hash, and whether the table holds its id.
pub(super) struct Write {
    pub index: usize,
    pub hash: String,
    pub stored: bool,
}

/// What to do with the items, decided as the SQLite engine does (the same id twice compares
/// with its first copy): each item's id and outcome, the copy to write for each new or changed id
/// (its last), and the unchanged ids to touch.
pub(super) struct Plan {
    pub ids: Vec<i64>,
    pub outcomes: Vec<Outcome>,
    pub write: Vec<Write>,
    pub touch: Vec<i64>,
}

pub(super) fn plan(
    ids_hashes: impl Iterator<Item = (i64, String)>,
    mut existing: HashMap<i64, String>,
) -> Plan {
    let stored: HashSet<i64> = existing.keys().copied().collect();
    let mut ids = Vec::new();
    let mut outcomes = Vec::new();
    let mut write: HashMap<i64, (usize, String)> = HashMap::new();
    let mut touch = Vec::new();
    for (index, (id, hash)) in ids_hashes.enumerate() {
        ids.push(id);
        match existing.insert(id, hash.clone()) {
            Some(h) if h == hash => {
                outcomes.push(Outcome::Unchanged);
                if !write.contains_key(&id) {
                    touch.push(id);
                }
            }
            found => {
                outcomes.push(if found.is_some() {
                    Outcome::Updated
                } else {
                    Outcome::Created
                });
                write.insert(id, (index, hash));
            }
        }
    }
    let mut write: Vec<Write> = write
        .into_iter()
        .map(|(id, (index, hash))| Write {
            index,
            hash,
            stored: stored.contains(&id),
        })
        .collect();
    write.sort_by_key(|w| w.index);
    touch.sort_unstable();
    touch.dedup();
    Plan {
        ids,
        outcomes,
        write,
        touch,
    }
}

const UPSERT_ORDERS: &str = "
WITH w AS (
    INSERT INTO orders (platform, account, order_id, status, type, payment_mode_id, emag_date,
        emag_modified, created_at, modified_at, total, customer_name, products_count, data,
        content_hash, first_seen_at, synced_at)
    SELECT $1, $2, t.id, t.st, t.ty, t.pm, t.d, t.m, t.ca, t.ma, t.tot, t.cn, t.pc, t.data, t.h, $16, $16
    FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::text[], $8::text[], $9::text[],
                $10::text[], $11::float8[], $12::text[], $13::int8[], $14::text[], $15::text[])
         AS t(id, st, ty, pm, d, m, ca, ma, tot, cn, pc, data, h)
    ON CONFLICT (platform, account, order_id) DO UPDATE SET status = excluded.status,
        type = excluded.type, payment_mode_id = excluded.payment_mode_id,
        emag_date = excluded.emag_date, emag_modified = excluded.emag_modified,
        created_at = excluded.created_at, modified_at = excluded.modified_at,
        total = excluded.total, customer_name = excluded.customer_name,
        products_count = excluded.products_count, data = excluded.data,
        content_hash = excluded.content_hash, synced_at = excluded.synced_at
    RETURNING 1
), u AS (
    UPDATE orders o SET synced_at = $16 FROM unnest($17::int8[]) AS i(id)
    WHERE o.platform = $1 AND o.account = $2 AND o.order_id = i.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM u)";

const COPY_ORDERS: &str = "COPY orders (platform, account, order_id, status, type,
    payment_mode_id, emag_date, emag_modified, created_at, modified_at, total, customer_name,
    products_count, data, content_hash, first_seen_at, synced_at) FROM STDIN (FORMAT binary)";

const COPY_TYPES: [Type; 17] = [
    Type::TEXT,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::FLOAT8,
    Type::TEXT,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
    Type::TEXT,
];

/// An order of the pages being written, with its text.
struct Item<'a> {
    page: usize,
    row: &'a super::super::PreparedOrder,
    text: &'a str,
}

/// The items of `pages`, in order.
fn items_of<'a>(pages: &[&'a PreparedOrders]) -> Result<Vec<Item<'a>>> {
    let mut items = Vec::with_capacity(pages.iter().map(|p| p.rows.len()).sum());
    for (n, page) in pages.iter().enumerate() {
        for row in &page.rows {
            let text = page
                .items
                .get(row.item)
                .ok_or_else(|| Error::internal("a prepared order points past its page"))?;
            items.push(Item { page: n, row, text });
        }
    }
    Ok(items)
}

/// Pages of orders, the checkpoint and the run's counts in one transaction, its statements
/// pipelined: `BEGIN` with the key lookups (and the generation check: nothing is written when
/// it changed), then the writes with the checkpoint and the counts, then `COMMIT`. The same id
/// in two pages is counted as if they came one after the other. `None`: a row `COPY` wrote
/// was stored by another writer meanwhile (nothing was committed); repeat with
/// [`NewRows::Upsert`].
pub(super) async fn write_order_pages(
    c: &Object,
    pages: &[&PreparedOrders],
    at: PageCommit<'_>,
    new_rows: NewRows,
) -> Result<Option<Vec<UpsertCounts>>> {
    write_chained(c, pages, None, at, new_rows, &mut Chain::default()).await
}

/// [`write_order_pages`] with the texts' hashes when already known (in the items' order),
/// after the transaction `chain` names.
pub(super) async fn write_chained(
    c: &Object,
    pages: &[&PreparedOrders],
    hashes: Option<&[String]>,
    at: PageCommit<'_>,
    new_rows: NewRows,
    chain: &mut Chain<'_>,
) -> Result<Option<Vec<UpsertCounts>>> {
    let items = items_of(pages)?;
    let prior = chain.prior.as_deref().map(|p| &*p.hashes);
    let plan = match begin_and_plan(c, at.scope, &items, hashes, at.run, prior).await {
        Ok(plan) => plan,
        Err(e) => {
            // Not back into the pool inside a transaction (a broken connection is dropped).
            let _ = c.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    };
    let mut counts: Vec<UpsertCounts> = pages
        .iter()
        .map(|p| UpsertCounts {
            failed: p.failures.len() as u64,
            failures: p.failures.clone(),
            ..UpsertCounts::default()
        })
        .collect();
    for (item, outcome) in items.iter().zip(&plan.outcomes) {
        outcome.count(&mut counts[item.page]);
    }
    let page = PageWrite {
        c,
        at,
        items: &items,
        plan: &plan,
        new_rows,
    };
    let written = async {
        chain.before_writes(&plan.ids).await?;
        if !page.write(pages, &counts).await? {
            return Ok(false);
        }
        chain.after_writes().await?;
        Ok::<bool, Error>(true)
    };
    match written.await {
        Ok(true) => {
            c.batch_execute("COMMIT").await?;
            Ok(Some(counts))
        }
        Ok(false) => {
            c.batch_execute("ROLLBACK").await?;
            Ok(None)
        }
        Err(e) => {
            let _ = c.batch_execute("ROLLBACK").await;
            Err(e)
        }
    }
}

/// `BEGIN`, the generation check and the key lookups in one round trip, the texts hashed
/// (unless `known`) while the lookups are on their way (the futures before the hashing have
/// sent their statements when it runs); the rows of `prior` stand over what the lookups
/// found; then what to write.
async fn begin_and_plan(
    c: &Object,
    scope: &Scope,
    items: &[Item<'_>],
    known: Option<&[String]>,
    run: Option<&RunContext>,
    prior: Option<&HashMap<i64, String>>,
) -> Result<Plan> {
    let ids: Vec<i64> = items.iter().map(|i| i.row.id).collect();
    let generation = async {
        match run {
            Some(run) => check_generation(c, run).await,
            None => Ok(()),
        }
    };
    let ((), (), mut existing, hashes) = tokio::try_join!(
        async { Ok::<(), Error>(c.batch_execute("BEGIN").await?) },
        generation,
        existing_hashes(c, ORDERS, scope, &ids),
        async {
            Ok(match known {
                Some(known) if known.len() == items.len() => known.to_vec(),
                _ => items.iter().map(|i| content_hash(i.text)).collect(),
            })
        },
    )?;
    if let Some(prior) = prior {
        for id in &ids {
            if let Some(hash) = prior.get(id) {
                existing.insert(*id, hash.clone());
            }
        }
    }
    Ok(plan(ids.into_iter().zip(hashes), existing))
}

/// The writes of a planned transaction.
struct PageWrite<'a> {
    c: &'a Object,
    at: PageCommit<'a>,
    items: &'a [Item<'a>],
    plan: &'a Plan,
    new_rows: NewRows,
}

impl PageWrite<'_> {
    /// The rows, the checkpoint and the run's counts, sent together; false when `COPY` met a
    /// row stored meanwhile (see [`NewRows::Copy`]). Each statement runs to its end (`join`:
    /// a failed one aborts the transaction, and the others then fail too).
    async fn write(&self, pages: &[&PreparedOrders], counts: &[UpsertCounts]) -> Result<bool> {
        let (c, scope, items, plan) = (self.c, self.at.scope, self.items, self.plan);
        let now = now_utc();
        let (copied, upserted): (Vec<&Write>, Vec<&Write>) = plan
            .write
            .iter()
            .partition(|w| self.new_rows == NewRows::Copy && !w.stored);
        let copy = async {
            match copied.is_empty() {
                true => Ok(true),
                false => copy_orders(c, scope, items, &copied, &now).await,
            }
        };
        let upsert = async {
            match upserted.is_empty() && plan.touch.is_empty() {
                true => Ok(()),
                false => upsert_orders(c, scope, items, &upserted, &plan.touch, &now).await,
            }
        };
        let checkpoint = async {
            match self.at.checkpoint {
                Some((kind, state)) => save_checkpoint_tx(c, scope, kind, state).await,
                None => Ok(()),
            }
        };
        let run_counts = async {
            if let Some(run) = self.at.run {
                for (page, n) in pages.iter().zip(counts) {
                    add_run_counts(c, run.run_id, page.items.len() as u64, n).await?;
                }
            }
            Ok::<(), Error>(())
        };
        let (copy, upsert, checkpoint, run_counts) =
            tokio::join!(copy, upsert, checkpoint, run_counts);
        match copy {
            Ok(false) => Ok(false),
            Ok(true) => upsert.and(checkpoint).and(run_counts).map(|()| true),
            Err(e) => Err(e),
        }
    }
}

/// The new rows by binary `COPY`; false on a unique violation (see [`NewRows::Copy`]).
async fn copy_orders(
    tx: &Object,
    scope: &Scope,
    items: &[Item<'_>],
    rows: &[&Write],
    now: &str,
) -> Result<bool> {
    let outcome = async {
        let stmt = tx.prepare_cached(COPY_ORDERS).await?;
        let sink = tx.copy_in(&stmt).await?;
        let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &COPY_TYPES));
        let platform = scope.platform.code();
        for w in rows {
            let (r, text) = (items[w.index].row, items[w.index].text);
            let values: [&(dyn ToSql + Sync); 17] = [
                &platform,
                &scope.account,
                &r.id,
                &r.status,
                &r.kind,
                &r.payment_mode_id,
                &r.date,
                &r.modified,
                &r.created_at,
                &r.modified_at,
                &r.total,
                &r.customer_name,
                &r.products_count,
                &text,
                &w.hash,
                &now,
                &now,
            ];
            writer.as_mut().write(&values).await?;
        }
        writer.as_mut().finish().await?;
        Ok::<(), tokio_postgres::Error>(())
    };
    match outcome.await {
        Ok(()) => Ok(true),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Changed (or, with [`NewRows::Upsert`], any) rows upserted and unchanged ones touched, in
/// one statement over arrays.
async fn upsert_orders(
    tx: &Object,
    scope: &Scope,
    items: &[Item<'_>],
    rows: &[&Write],
    touch: &[i64],
    now: &str,
) -> Result<()> {
    let stmt = tx.prepare_cached(UPSERT_ORDERS).await?;
    let row = |w: &&Write| items[w.index].row;
    let id: Vec<i64> = rows.iter().map(|w| row(w).id).collect();
    let st: Vec<Option<i64>> = rows.iter().map(|w| row(w).status).collect();
    let ty: Vec<Option<i64>> = rows.iter().map(|w| row(w).kind).collect();
    let pm: Vec<Option<i64>> = rows.iter().map(|w| row(w).payment_mode_id).collect();
    let d: Vec<Option<&str>> = rows.iter().map(|w| row(w).date.as_deref()).collect();
    let m: Vec<Option<&str>> = rows.iter().map(|w| row(w).modified.as_deref()).collect();
    let ca: Vec<Option<&str>> = rows.iter().map(|w| row(w).created_at.as_deref()).collect();
    let ma: Vec<Option<&str>> = rows.iter().map(|w| row(w).modified_at.as_deref()).collect();
    let tot: Vec<Option<f64>> = rows.iter().map(|w| row(w).total).collect();
    let cn: Vec<Option<&str>> = rows
        .iter()
        .map(|w| row(w).customer_name.as_deref())
        .collect();
    let pc: Vec<Option<i64>> = rows.iter().map(|w| row(w).products_count).collect();
    let data: Vec<&str> = rows.iter().map(|w| items[w.index].text).collect();
    let h: Vec<&str> = rows.iter().map(|w| w.hash.as_str()).collect();
    tx.query_one(
        &stmt,
        &[
            &scope.platform.code(),
            &scope.account,
            &id,
            &st,
            &ty,
            &pm,
            &d,
            &m,
            &ca,
            &ma,
            &tot,
            &cn,
            &pc,
            &data,
            &h,
            &now,
            &touch,
        ],
    )
    .await?;
    Ok(())
}
