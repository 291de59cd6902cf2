//! Reading the PostgreSQL store: counts, single orders and offers, and the read API's pages
//! (the cursor is `row_id`).

use tokio_postgres::types::ToSql;

use super::super::rows::{Cond, Read, Table, OFFERS, ORDERS};
use super::super::{OfferQuery, OrderQuery, Scope, StoredRow};
use super::PgStore;
use crate::error::Result;

type Params<'a> = Vec<&'a (dyn ToSql + Sync)>;

impl PgStore {
    fn count(&self, table: Table, scope: Option<&Scope>) -> Result<u64> {
        let table = table.name;
        self.run(async {
            let c = self.client().await?;
            let n: i64 = match scope {
                None => c
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await?
                    .get(0),
                Some(s) => c
                    .query_one(
                        &format!(
                            "SELECT count(*) FROM {table} WHERE platform = $1 AND account = $2"
                        ),
                        &[&s.platform.code(), &s.account],
                    )
                    .await?
                    .get(0),
            };
            Ok(n as u64)
        })
    }

    /// Stored orders.
    pub fn count_orders(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count(ORDERS, scope)
    }

    /// Stored offers.
    pub fn count_offers(&self, scope: Option<&Scope>) -> Result<u64> {
        self.count(OFFERS, scope)
    }

    fn data_of(&self, table: Table, value: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        let Table { name, id } = table;
        self.run(async {
            let c = self.client().await?;
            let row = match scope {
                None => {
                    c.query_opt(
                        &format!("SELECT data FROM {name} WHERE {id} = $1 ORDER BY platform, account LIMIT 1"),
                        &[&value],
                    )
                    .await?
                }
                Some(s) => {
                    c.query_opt(
                        &format!("SELECT data FROM {name} WHERE platform = $1 AND account = $2 AND {id} = $3"),
                        &[&s.platform.code(), &s.account, &value],
                    )
                    .await?
                }
            };
            Ok(row.map(|r| r.get(0)))
        })
    }

    /// An order's text exactly as stored.
    pub fn get_order_text(&self, order_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        self.data_of(ORDERS, order_id, scope)
    }

    /// An offer's text as stored.
    pub fn get_offer_text(&self, offer_id: i64, scope: Option<&Scope>) -> Result<Option<String>> {
        self.data_of(OFFERS, offer_id, scope)
    }

    /// Order counts per status.
    pub fn order_status_counts(&self, scope: Option<&Scope>) -> Result<Vec<(i64, u64)>> {
        self.run(async {
            let c = self.client().await?;
            let rows = match scope {
                None => c.query("SELECT coalesce(status, -1), count(*) FROM orders GROUP BY 1 ORDER BY 1", &[]).await?,
                Some(s) => c.query(
                    "SELECT coalesce(status, -1), count(*) FROM orders WHERE platform = $1 AND account = $2 GROUP BY 1 ORDER BY 1",
                    &[&s.platform.code(), &s.account],
                ).await?,
            };
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1) as u64))
                .collect())
        })
    }

    /// Stored orders matching `query`, one page (the cursor is `row_id`).
    pub fn orders(&self, query: &OrderQuery) -> Result<Vec<StoredRow>> {
        self.rows(Read::orders(query)?)
    }

    /// Stored offers matching `query`, one page.
    pub fn offers(&self, query: &OfferQuery) -> Result<Vec<StoredRow>> {
        self.rows(Read::offers(query)?)
    }

    fn rows(&self, read: Read) -> Result<Vec<StoredRow>> {
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut clauses = vec!["true".to_owned()];
        let mut mark = |v: Box<dyn ToSql + Sync + Send>| {
            values.push(v);
            format!("${}", values.len())
        };
        for cond in read.conds {
            clauses.push(match cond {
                Cond::Text(c, v) => format!("{c} = {}", mark(Box::new(v))),
                Cond::Int(c, v) => format!("{c} = {}", mark(Box::new(v))),
                Cond::AtLeast(c, v) => format!("{c} >= {}", mark(Box::new(v))),
                Cond::AnyOf(c, vs) => format!("{c} = ANY({})", mark(Box::new(vs))),
                Cond::After(v) => format!("row_id > {}", mark(Box::new(v))),
            });
        }
        let limit = mark(Box::new(read.limit));
        let sql = format!(
            "SELECT row_id, {}, data FROM {} WHERE {} ORDER BY row_id LIMIT {limit}",
            read.table.id,
            read.table.name,
            clauses.join(" AND "),
        );
        self.run(async {
            let c = self.client().await?;
            let stmt = c.prepare_cached(&sql).await?;
            let params: Params<'_> = values
                .iter()
                .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                .collect();
            let rows = c.query(&stmt, &params).await?;
            Ok(rows
                .iter()
                .map(|r| StoredRow {
                    cursor: r.get(0),
                    id: r.get(1),
                    data: r.get(2),
                })
                .collect())
        })
    }
}
