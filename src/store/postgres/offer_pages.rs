//! Writing pages of offers: change detection against the stored hashes (as for orders, in
//! `pages.rs`), then the new and changed rows upserted and the unchanged ones touched by one
//! statement over arrays.

use deadpool_postgres::Transaction;
use serde_json::Value;

use super::super::prepared::{offer_texts, OfferColumns};
use super::super::rows::OFFERS;
use super::super::{content_hash, now_utc, Scope, UpsertCounts};
use super::pages::{existing_hashes, plan};
use crate::error::Result;

/// The columns of the offers a page writes, as arrays (one statement per page).
#[derive(Default)]
struct OfferArrays<'a> {
    id: Vec<i64>,
    pnk: Vec<Option<&'a str>>,
    name: Vec<Option<&'a str>>,
    status: Vec<Option<i64>>,
    price: Vec<Option<f64>>,
    stock: Vec<Option<i64>>,
    data: Vec<&'a str>,
    hash: Vec<String>,
}

const UPSERT_OFFERS: &str = "
WITH w AS (
    INSERT INTO offers (platform, account, offer_id, part_number_key, name, status, sale_price,
        general_stock, data, content_hash, first_seen_at, synced_at)
    SELECT $1, $2, t.id, t.pnk, t.name, t.st, t.price, t.stock, t.data, t.h, $11, $11
    FROM unnest($3::int8[], $4::text[], $5::text[], $6::int8[], $7::float8[], $8::int8[],
                $9::text[], $10::text[]) AS t(id, pnk, name, st, price, stock, data, h)
    ON CONFLICT (platform, account, offer_id) DO UPDATE SET
        part_number_key = excluded.part_number_key, name = excluded.name,
        status = excluded.status, sale_price = excluded.sale_price,
        general_stock = excluded.general_stock, data = excluded.data,
        content_hash = excluded.content_hash, synced_at = excluded.synced_at
    RETURNING 1
), u AS (
    UPDATE offers o SET synced_at = $11 FROM unnest($12::int8[]) AS i(id)
    WHERE o.platform = $1 AND o.account = $2 AND o.offer_id = i.id
    RETURNING 1
)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM u)";

pub(super) async fn upsert_offers_tx(
    tx: &Transaction<'_>,
    scope: &Scope,
    offers: &[Value],
) -> Result<UpsertCounts> {
    let mut counts = UpsertCounts::default();
    let kept = offer_texts(offers, &mut counts)?;
    let ids: Vec<i64> = kept.iter().map(|k| k.0).collect();
    let existing = existing_hashes(tx, OFFERS, scope, &ids).await?;
    let hashes = kept.iter().map(|(id, _, text)| (*id, content_hash(text)));
    let plan = plan(hashes, existing);
    for outcome in &plan.outcomes {
        outcome.count(&mut counts);
    }
    let mut cols = OfferArrays::default();
    for w in plan.write {
        let (id, offer, text) = &kept[w.index];
        let c = OfferColumns::of(offer);
        cols.id.push(*id);
        cols.pnk.push(c.part_number_key);
        cols.name.push(c.name);
        cols.status.push(c.status);
        cols.price.push(c.sale_price);
        cols.stock.push(c.general_stock);
        cols.data.push(text.as_str());
        cols.hash.push(w.hash);
    }
    if cols.id.is_empty() && plan.touch.is_empty() {
        return Ok(counts);
    }
    let stmt = tx.prepare_cached(UPSERT_OFFERS).await?;
    let now = now_utc();
    tx.query_one(
        &stmt,
        &[
            &scope.platform.code(),
            &scope.account,
            &cols.id,
            &cols.pnk,
            &cols.name,
            &cols.status,
            &cols.price,
            &cols.stock,
            &cols.data,
            &cols.hash,
            &now,
            &plan.touch,
        ],
    )
    .await?;
    Ok(counts)
}
