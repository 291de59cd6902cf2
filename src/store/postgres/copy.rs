//! Moving the store's rows between PostgreSQL and a SQLite file of the same schema: what makes
//! backups backend-neutral (a PostgreSQL store is backed up through a staged SQLite copy and
//! restored by replacing its tables with the restored copy's rows).

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use tokio_postgres::types::{ToSql, Type};

use super::PgStore;
use crate::error::{Error, Result};
use crate::store::SqliteStore;

/// The tables copied, in order.
const TABLES: &[(&str, &str)] = &[
    ("orders", "platform, account, order_id"),
    ("offers", "platform, account, offer_id"),
    ("sync_runs", "id"),
    ("checkpoints", "platform, account, kind"),
];

/// Rows per round trip.
const CHUNK: usize = 1000;

fn sqlite_columns(conn: &rusqlite::Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(names)
}

fn pg_value(row: &tokio_postgres::Row, i: usize) -> Result<SqlValue> {
    let ty = row.columns()[i].type_();
    Ok(if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?
            .map_or(SqlValue::Null, SqlValue::Integer)
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?
            .map_or(SqlValue::Null, SqlValue::Real)
    } else {
        row.try_get::<_, Option<String>>(i)?
            .map_or(SqlValue::Null, SqlValue::Text)
    })
}

/// One column of a chunk, as the array PostgreSQL's `unnest` takes.
enum ColumnArray {
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl ColumnArray {
    fn of(ty: &Type) -> Self {
        if *ty == Type::INT8 {
            ColumnArray::Int(Vec::new())
        } else if *ty == Type::FLOAT8 {
            ColumnArray::Real(Vec::new())
        } else {
            ColumnArray::Text(Vec::new())
        }
    }

    fn push(&mut self, v: SqlValue, column: &str) -> Result<()> {
        let bad = || Error::store(format!("column {column}: a value of the wrong type"));
        match (self, v) {
            (ColumnArray::Int(a), SqlValue::Null) => a.push(None),
            (ColumnArray::Real(a), SqlValue::Null) => a.push(None),
            (ColumnArray::Text(a), SqlValue::Null) => a.push(None),
            (ColumnArray::Int(a), SqlValue::Integer(i)) => a.push(Some(i)),
            (ColumnArray::Real(a), SqlValue::Real(f)) => a.push(Some(f)),
            (ColumnArray::Real(a), SqlValue::Integer(i)) => a.push(Some(i as f64)),
            (ColumnArray::Text(a), SqlValue::Text(t)) => a.push(Some(t)),
            _ => return Err(bad()),
        }
        Ok(())
    }

    fn clear(&mut self) {
        match self {
            ColumnArray::Int(a) => a.clear(),
            ColumnArray::Real(a) => a.clear(),
            ColumnArray::Text(a) => a.clear(),
        }
    }

    fn param(&self) -> &(dyn ToSql + Sync) {
        match self {
            ColumnArray::Int(a) => a,
            ColumnArray::Real(a) => a,
            ColumnArray::Text(a) => a,
        }
    }

    fn cast(&self) -> &'static str {
        match self {
            ColumnArray::Int(_) => "int8[]",
            ColumnArray::Real(_) => "float8[]",
            ColumnArray::Text(_) => "text[]",
        }
    }
}

impl PgStore {
    /// Write every row of the store into a new SQLite store at `path` (one consistent read).
    pub(crate) fn export_sqlite(&self, path: &Path) -> Result<()> {
        self.on_plain_thread(|rt| {
            let target = SqliteStore::open(path)?;
            let mut conn = target.write()?;
            let sqlite_tx = conn.transaction()?;
            for (table, _) in TABLES {
                sqlite_tx.execute(&format!("DELETE FROM {table}"), [])?;
            }
            rt.block_on(async {
                let mut c = self.client().await?;
                let tx = c
                    .build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .read_only(true)
                    .start()
                    .await?;
                for (table, key) in TABLES {
                    let columns = sqlite_columns(&sqlite_tx, table)?;
                    let list = columns.join(", ");
                    let marks = (1..=columns.len())
                        .map(|i| format!("?{i}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut insert = sqlite_tx
                        .prepare(&format!("INSERT INTO {table} ({list}) VALUES ({marks})"))?;
                    let stmt = tx
                        .prepare(&format!("SELECT {list} FROM {table} ORDER BY {key}"))
                        .await?;
                    let portal = tx.bind(&stmt, &[]).await?;
                    loop {
                        let rows = tx.query_portal(&portal, CHUNK as i32).await?;
                        for row in &rows {
                            let values = (0..columns.len())
                                .map(|i| pg_value(row, i))
                                .collect::<Result<Vec<_>>>()?;
                            insert.execute(rusqlite::params_from_iter(values))?;
                        }
                        if rows.len() < CHUNK {
                            break;
                        }
                    }
                }
                tx.commit().await?;
                Ok::<(), Error>(())
            })?;
            sqlite_tx.commit()?;
            Ok(())
        })
    }

    /// Replace the store's rows with those of the SQLite store at `path`, in one transaction
    /// that first locks the tables and refuses while a sync runs; bumps the generation.
    pub(crate) fn import_sqlite(&self, path: &Path, name: &str) -> Result<()> {
        self.on_plain_thread(|rt| {
        let source = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        rt.block_on(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            tx.batch_execute(
                "LOCK TABLE orders, offers, sync_runs, checkpoints IN ACCESS EXCLUSIVE MODE",
            )
            .await?;
            if let Some(r) = tx
                .query_opt(
                    "SELECT id, started_at FROM sync_runs WHERE status = 'running' ORDER BY id LIMIT 1",
                    &[],
                )
                .await?
            {
                return Err(Error::backup(format!(
                    "backup {name} not restored, the store is unchanged: a sync of this store is \
                     running (run {}, started {}); restore once it has finished",
                    r.get::<_, i64>(0),
                    r.get::<_, String>(1)
                )));
            }
            tx.batch_execute("TRUNCATE orders, offers, sync_runs, checkpoints")
                .await?;
            for (table, key) in TABLES {
                copy_table(&source, &tx, table, key).await?;
            }
            tx.batch_execute(
                "SELECT setval(pg_get_serial_sequence('sync_runs', 'id'),
                               coalesce((SELECT max(id) FROM sync_runs), 0) + 1, false);
                 UPDATE sync_runs SET status = 'abandoned', finished_at = coalesce(finished_at, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')),
                     error = coalesce(error, 'running when the backup was taken; restored')
                 WHERE status = 'running';
                 UPDATE store_meta SET value = (value::bigint + 1)::text WHERE key = 'generation';",
            )
            .await?;
            tx.commit().await?;
            Ok(())
        })
        })
    }
}

/// One table's rows from the SQLite copy into PostgreSQL, `CHUNK` rows per statement (a
/// column array per column).
async fn copy_table(
    source: &rusqlite::Connection,
    tx: &deadpool_postgres::Transaction<'_>,
    table: &str,
    key: &str,
) -> Result<()> {
    let columns = sqlite_columns(source, table)?;
    let list = columns.join(", ");
    let probe = tx
        .prepare(&format!("SELECT {list} FROM {table} LIMIT 0"))
        .await?;
    let mut arrays: Vec<ColumnArray> = probe
        .columns()
        .iter()
        .map(|c| ColumnArray::of(c.type_()))
        .collect();
    let args = arrays
        .iter()
        .enumerate()
        .map(|(i, a)| format!("${}::{}", i + 1, a.cast()))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = tx
        .prepare(&format!(
            "INSERT INTO {table} ({list}) SELECT * FROM unnest({args})"
        ))
        .await?;
    let mut stmt = source.prepare(&format!("SELECT {list} FROM {table} ORDER BY {key}"))?;
    let mut rows = stmt.query([])?;
    let mut n = 0;
    loop {
        let row = rows.next()?;
        if let Some(row) = row {
            for (i, a) in arrays.iter_mut().enumerate() {
                a.push(row.get::<_, SqlValue>(i)?, &columns[i])?;
            }
            n += 1;
        }
        if (row.is_none() && n > 0) || n == CHUNK {
            let params: Vec<&(dyn ToSql + Sync)> = arrays.iter().map(ColumnArray::param).collect();
            tx.execute(&insert, &params).await?;
            arrays.iter_mut().for_each(ColumnArray::clear);
            n = 0;
        }
        if row.is_none() {
            break;
        }
    }
    Ok(())
}
