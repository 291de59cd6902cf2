//! The SQLite engine's writes: pages of orders and offers with change detection, the
//! checkpoint and the run's counts in the page's transaction, acknowledgements, checkpoints.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::Value;

use super::prepared::{offer_texts, OfferColumns};
use super::{
    content_hash, now_utc, PageCommit, PreparedOrders, RunContext, Scope, SqliteStore, UpsertCounts,
};
use crate::error::{Error, Result};

impl SqliteStore {
    /// [`Store::upsert_prepared_orders`](super::Store::upsert_prepared_orders) as a page of a sync run: in the same transaction the
    /// run's sync-log row gets the page's counts (so a run that never finishes still shows what
    /// it stored), after checking that the store was not restored since the run began.
    pub fn upsert_prepared_orders_in_run(
        &self,
        page: &PreparedOrders,
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        self.page_tx(at, page.items.len(), |tx| {
            upsert_orders_tx(tx, at.scope, page)
        })
    }

    /// One page's transaction: the generation check (in a run), the page's rows by `write`,
    /// the checkpoint and the run's counts; all of it or nothing.
    fn page_tx(
        &self,
        at: PageCommit<'_>,
        fetched: usize,
        write: impl FnOnce(&Transaction<'_>) -> Result<UpsertCounts>,
    ) -> Result<UpsertCounts> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        if let Some(run) = at.run {
            check_generation_tx(&tx, run)?;
        }
        let counts = write(&tx)?;
        if let Some((kind, state)) = at.checkpoint {
            save_checkpoint_tx(&tx, at.scope, kind, state)?;
        }
        if let Some(run) = at.run {
            add_run_counts_tx(&tx, run.run_id, fetched as u64, &counts)?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Upsert several pages of orders in one transaction (a bulk load: one commit for many
    /// pages writes each touched index page to the WAL once instead of once per page).
    /// Returns each page's counts, in order; on an error nothing of these pages is written.
    pub fn upsert_prepared_order_pages(
        &self,
        scope: &Scope,
        pages: &[&PreparedOrders],
    ) -> Result<Vec<UpsertCounts>> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        let counts = pages
            .iter()
            .map(|page| upsert_orders_tx(&tx, scope, page))
            .collect::<Result<Vec<_>>>()?;
        tx.commit()?;
        Ok(counts)
    }

    /// [`Store::upsert_offers`](super::Store::upsert_offers) as a page of a sync run (see
    /// [`Store::upsert_prepared_orders_in_run`](super::Store::upsert_prepared_orders_in_run)).
    pub fn upsert_offers_in_run(
        &self,
        offers: &[Value],
        at: PageCommit<'_>,
    ) -> Result<UpsertCounts> {
        self.page_tx(at, offers.len(), |tx| {
            upsert_offers_tx(tx, at.scope, offers)
        })
    }

    /// The orders still to acknowledge: stored new (status 1), fulfilled by the seller
    /// (type 3) and not acknowledged yet, oldest id first.
    pub fn orders_to_acknowledge(&self, scope: &Scope) -> Result<Vec<i64>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT order_id FROM orders INDEXED BY orders_to_acknowledge
             WHERE platform = ?1 AND account = ?2 AND status = 1 AND type = 3
               AND acknowledged_at IS NULL ORDER BY order_id",
        )?;
        let ids = stmt
            .query_map(params![scope.platform.code(), scope.account], |r| r.get(0))?
            .collect::<std::result::Result<Vec<i64>, _>>()?;
        Ok(ids)
    }

    /// Record that orders were acknowledged (and count them in the run's sync-log row).
    pub fn mark_acknowledged_in_run(
        &self,
        scope: &Scope,
        order_ids: &[i64],
        run: Option<&RunContext>,
    ) -> Result<()> {
        let mut conn = self.write()?;
        let tx = conn.transaction()?;
        if let Some(run) = run {
            tx.execute(
                "UPDATE sync_runs SET acknowledged = acknowledged + ?2 WHERE id = ?1",
                params![run.run_id, order_ids.len() as i64],
            )?;
        }
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE orders SET acknowledged_at = ?4 WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
            )?;
            let now = now_utc();
            for id in order_ids {
                stmt.execute(params![scope.platform.code(), scope.account, id, now])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The saved checkpoint state of `kind`, if any.
    pub fn load_checkpoint(&self, scope: &Scope, kind: &str) -> Result<Option<Value>> {
        let conn = self.read()?;
        let text: Option<String> = conn
            .query_row(
                "SELECT state FROM checkpoints WHERE platform = ?1 AND account = ?2 AND kind = ?3",
                params![scope.platform.code(), scope.account, kind],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| Error::store(format!("checkpoint {kind:?} is corrupt: {e}")))
        })
        .transpose()
    }

    /// Save a checkpoint on its own.
    pub fn save_checkpoint(&self, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
        let conn = self.write()?;
        save_checkpoint_tx(&conn, scope, kind, state)
    }

    /// Remove a checkpoint (the next sync of that kind starts over).
    pub fn clear_checkpoint(&self, scope: &Scope, kind: &str) -> Result<()> {
        self.write()?.execute(
            "DELETE FROM checkpoints WHERE platform = ?1 AND account = ?2 AND kind = ?3",
            params![scope.platform.code(), scope.account, kind],
        )?;
        Ok(())
    }
}

fn check_generation_tx(tx: &Transaction<'_>, run: &RunContext) -> Result<()> {
    let now = generation_of(tx)?;
    if now != run.generation {
        return Err(Error::store(
            "the store was restored from a backup while this sync ran: the sync stopped \
             (nothing of this page was written); run it again",
        ));
    }
    Ok(())
}

pub(crate) fn generation_of(conn: &Connection) -> Result<i64> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM store_meta WHERE key = 'generation'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| t.parse().ok()).unwrap_or(0))
}

fn add_run_counts_tx(
    tx: &Transaction<'_>,
    run_id: i64,
    fetched: u64,
    counts: &UpsertCounts,
) -> Result<()> {
    tx.execute(
        "UPDATE sync_runs SET pages = pages + 1, fetched = fetched + ?2, created = created + ?3,
             updated = updated + ?4, unchanged = unchanged + ?5, failed = failed + ?6
         WHERE id = ?1",
        params![
            run_id,
            fetched as i64,
            counts.created as i64,
            counts.updated as i64,
            counts.unchanged as i64,
            counts.failed as i64
        ],
    )?;
    Ok(())
}

fn save_checkpoint_tx(conn: &Connection, scope: &Scope, kind: &str, state: &Value) -> Result<()> {
    conn.execute(
        "INSERT INTO checkpoints (platform, account, kind, state, updated_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (platform, account, kind) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        params![scope.platform.code(), scope.account, kind, state.to_string(), now_utc()],
    )?;
    Ok(())
}

/// The stored hash of each of `ids` that is in the store: one query per 500 ids instead of
/// one per order.
fn existing_hashes(
    tx: &Transaction<'_>,
    scope: &Scope,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    const CHUNK: usize = 500;
    let ids: Vec<i64> = ids.collect();
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    let platform = scope.platform.code();
    for chunk in ids.chunks(CHUNK) {
        let placeholders = (3..3 + chunk.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT order_id, content_hash FROM orders WHERE platform = ?1 AND account = ?2 \
             AND order_id IN ({placeholders})"
        ))?;
        let mut values: Vec<&dyn rusqlite::ToSql> = vec![&platform, &scope.account];
        values.extend(chunk.iter().map(|id| id as &dyn rusqlite::ToSql));
        let mut rows = stmt.query(values.as_slice())?;
        while let Some(r) = rows.next()? {
            found.insert(r.get::<_, i64>(0)?, r.get::<_, String>(1)?);
        }
    }
    Ok(found)
}

fn upsert_orders_tx(
    tx: &Transaction<'_>,
    scope: &Scope,
    page: &PreparedOrders,
) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts {
        failed: page.failures.len() as u64,
        failures: page.failures.clone(),
        ..UpsertCounts::default()
    };
    let now = now_utc();
    let platform = scope.platform.code();
    let mut existing = existing_hashes(tx, scope, page.rows.iter().map(|r| r.id))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO orders (platform, account, order_id, status, type, payment_mode_id, emag_date,
             emag_modified, created_at, modified_at, total, customer_name, products_count, data,
             content_hash, first_seen_at, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE orders SET status = ?4, type = ?5, payment_mode_id = ?6, emag_date = ?7,
             emag_modified = ?8, created_at = ?9, modified_at = ?10, total = ?11, customer_name = ?12,
             products_count = ?13, data = ?14, content_hash = ?15, synced_at = ?16
         WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
    )?;
    let mut touch = tx.prepare_cached(
        "UPDATE orders SET synced_at = ?4 WHERE platform = ?1 AND account = ?2 AND order_id = ?3",
    )?;
    for row in &page.rows {
        let text = page
            .items
            .get(row.item)
            .ok_or_else(|| Error::internal("a prepared order points past its page"))?;
        // Hashed here rather than where the page is parsed: a bulk load parses on a second
        // thread, and this one otherwise waits on SQLite's writes.
        let hash = content_hash(text);
        // The same id twice in a page compares with its first copy.
        let found = existing.insert(row.id, hash.clone());
        match found {
            Some(h) if h == hash => {
                touch.execute(params![platform, scope.account, row.id, now])?;
                counts.unchanged += 1;
            }
            found => {
                let values = params![
                    platform,
                    scope.account,
                    row.id,
                    row.status,
                    row.kind,
                    row.payment_mode_id,
                    row.date,
                    row.modified,
                    row.created_at,
                    row.modified_at,
                    row.total,
                    row.customer_name,
                    row.products_count,
                    text,
                    hash,
                    now,
                ];
                if found.is_some() {
                    update.execute(values)?;
                    counts.updated += 1;
                } else {
                    insert.execute(values)?;
                    counts.created += 1;
                }
            }
        }
    }
    Ok(counts)
}

fn upsert_offers_tx(tx: &Transaction<'_>, scope: &Scope, offers: &[Value]) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    let now = now_utc();
    let mut select = tx.prepare_cached(
        "SELECT content_hash FROM offers WHERE platform = ?1 AND account = ?2 AND offer_id = ?3",
    )?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO offers (platform, account, offer_id, part_number_key, name, status, sale_price,
             general_stock, data, content_hash, first_seen_at, synced_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT (platform, account, offer_id) DO UPDATE SET part_number_key = excluded.part_number_key,
             name = excluded.name, status = excluded.status, sale_price = excluded.sale_price,
             general_stock = excluded.general_stock, data = excluded.data,
             content_hash = excluded.content_hash, synced_at = excluded.synced_at",
    )?;
    let mut touch = tx.prepare_cached(
        "UPDATE offers SET synced_at = ?4 WHERE platform = ?1 AND account = ?2 AND offer_id = ?3",
    )?;
    for (id, offer, data) in offer_texts(offers, &mut counts)? {
        let hash = content_hash(&data);
        let existing: Option<String> = select
            .query_row(params![scope.platform.code(), scope.account, id], |r| {
                r.get(0)
            })
            .optional()?;
        if existing.as_deref() == Some(hash.as_str()) {
            touch.execute(params![scope.platform.code(), scope.account, id, now])?;
            counts.unchanged += 1;
            continue;
        }
        let c = OfferColumns::of(offer);
        upsert.execute(params![
            scope.platform.code(),
            scope.account,
            id,
            c.part_number_key,
            c.name,
            c.status,
            c.sale_price,
            c.general_stock,
            data,
            hash,
            now,
        ])?;
        if existing.is_some() {
            counts.updated += 1;
        } else {
            counts.created += 1;
        }
    }
    Ok(counts)
}
