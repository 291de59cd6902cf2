//! The schema and its migrations, tracked with `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use crate::error::{Error, Result};

/// Each migration moves the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: orders, offers, the sync log and checkpoints.
    r#"
    CREATE TABLE orders (
        platform        TEXT    NOT NULL,
        account         TEXT    NOT NULL,
        order_id        INTEGER NOT NULL,
        status          INTEGER,
        type            INTEGER,
        payment_mode_id INTEGER,
        emag_date       TEXT,            -- eMAG's `date` as sent (platform local time)
        emag_modified   TEXT,            -- eMAG's `modified` as sent
        created_at      TEXT,            -- `date` in UTC, ISO-8601
        modified_at     TEXT,            -- `modified` in UTC, ISO-8601
        total           REAL,            -- active lines' quantity x sale_price + shipping_tax (no VAT)
        customer_name   TEXT,
        products_count  INTEGER,
        data            TEXT    NOT NULL, -- the complete order JSON as read
        content_hash    TEXT    NOT NULL, -- SHA-256 of `data`: unchanged orders are not rewritten
        first_seen_at   TEXT    NOT NULL,
        synced_at       TEXT    NOT NULL,
        acknowledged_at TEXT,
        PRIMARY KEY (platform, account, order_id)
    ) WITHOUT ROWID;
    CREATE INDEX orders_by_status   ON orders (platform, account, status);
    CREATE INDEX orders_by_modified ON orders (platform, account, modified_at);

    CREATE TABLE offers (
        platform        TEXT    NOT NULL,
        account         TEXT    NOT NULL,
        offer_id        INTEGER NOT NULL,
        part_number_key TEXT,
        name            TEXT,
        status          INTEGER,
        sale_price      REAL,
        general_stock   INTEGER,
        data            TEXT    NOT NULL,
        content_hash    TEXT    NOT NULL,
        first_seen_at   TEXT    NOT NULL,
        synced_at       TEXT    NOT NULL,
        PRIMARY KEY (platform, account, offer_id)
    ) WITHOUT ROWID;
    CREATE INDEX offers_by_status ON offers (platform, account, status);

    CREATE TABLE sync_runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        kind          TEXT    NOT NULL,   -- 'orders' | 'offers'
        platform      TEXT    NOT NULL,
        account       TEXT    NOT NULL,
        started_at    TEXT    NOT NULL,
        finished_at   TEXT,
        status        TEXT    NOT NULL,   -- 'running' | 'success' | 'failed' | 'cancelled'
        pages         INTEGER NOT NULL DEFAULT 0,
        fetched       INTEGER NOT NULL DEFAULT 0,
        created       INTEGER NOT NULL DEFAULT 0,
        updated       INTEGER NOT NULL DEFAULT 0,
        unchanged     INTEGER NOT NULL DEFAULT 0,
        failed        INTEGER NOT NULL DEFAULT 0,
        acknowledged  INTEGER NOT NULL DEFAULT 0,
        duration_s    REAL,
        error         TEXT
    );
    CREATE INDEX sync_runs_by_start ON sync_runs (started_at);

    CREATE TABLE checkpoints (
        platform   TEXT NOT NULL,
        account    TEXT NOT NULL,
        kind       TEXT NOT NULL,   -- e.g. 'orders/type=3'
        state      TEXT NOT NULL,   -- JSON: the window walk in progress and the high-water mark
        updated_at TEXT NOT NULL,
        PRIMARY KEY (platform, account, kind)
    ) WITHOUT ROWID;
    "#,
    // 2: orders and offers as rowid tables with a UNIQUE key instead of WITHOUT ROWID. Their
    //    rows (the order JSON, ~2.5 KB) are far over the 1/20 page that WITHOUT ROWID suits:
    //    each row spilled into overflow pages. Measured on 100,000 orders, one transaction per
    //    page of 100: 12.0 s -> 7.8 s (4 KiB pages), 5.0 s with the 16 KiB pages new stores get.
    r#"
    CREATE TABLE orders_v2 (
        platform        TEXT    NOT NULL,
        account         TEXT    NOT NULL,
        order_id        INTEGER NOT NULL,
        status          INTEGER,
        type            INTEGER,
        payment_mode_id INTEGER,
        emag_date       TEXT,
        emag_modified   TEXT,
        created_at      TEXT,
        modified_at     TEXT,
        total           REAL,
        customer_name   TEXT,
        products_count  INTEGER,
        data            TEXT    NOT NULL,
        content_hash    TEXT    NOT NULL,
        first_seen_at   TEXT    NOT NULL,
        synced_at       TEXT    NOT NULL,
        acknowledged_at TEXT,
        UNIQUE (platform, account, order_id)
    );
    INSERT INTO orders_v2 SELECT platform, account, order_id, status, type, payment_mode_id,
        emag_date, emag_modified, created_at, modified_at, total, customer_name, products_count,
        data, content_hash, first_seen_at, synced_at, acknowledged_at
        FROM orders ORDER BY platform, account, order_id;
    DROP TABLE orders;
    ALTER TABLE orders_v2 RENAME TO orders;
    CREATE INDEX orders_by_status   ON orders (platform, account, status);
    CREATE INDEX orders_by_modified ON orders (platform, account, modified_at);

    CREATE TABLE offers_v2 (
        platform        TEXT    NOT NULL,
        account         TEXT    NOT NULL,
        offer_id        INTEGER NOT NULL,
        part_number_key TEXT,
        name            TEXT,
        status          INTEGER,
        sale_price      REAL,
        general_stock   INTEGER,
        data            TEXT    NOT NULL,
        content_hash    TEXT    NOT NULL,
        first_seen_at   TEXT    NOT NULL,
        synced_at       TEXT    NOT NULL,
        UNIQUE (platform, account, offer_id)
    );
    INSERT INTO offers_v2 SELECT platform, account, offer_id, part_number_key, name, status,
        sale_price, general_stock, data, content_hash, first_seen_at, synced_at
        FROM offers ORDER BY platform, account, offer_id;
    DROP TABLE offers;
    ALTER TABLE offers_v2 RENAME TO offers;
    CREATE INDEX offers_by_status ON offers (platform, account, status);
    "#,
    // 3: who runs each sync (so a run left `running` by a dead process can be marked
    //    abandoned), the orders still to acknowledge (a partial index: the sync asks for them
    //    at the end of every run), and the store's generation (a restore bumps it, so a sync
    //    running across a restore notices and stops).
    r#"
    ALTER TABLE sync_runs ADD COLUMN owner TEXT;
    CREATE INDEX sync_runs_running ON sync_runs (status) WHERE status = 'running';
    CREATE INDEX orders_to_acknowledge ON orders (platform, account)
        WHERE status = 1 AND type = 3 AND acknowledged_at IS NULL;
    CREATE TABLE store_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO store_meta (key, value) VALUES ('generation', '1');
    "#,
    // 4: eMAG's callbacks waiting to be processed (issue 20). One row per platform, account,
    //    kind and id: a repeated callback only bumps `received`, so a flood cannot grow the
    //    queue beyond one row per distinct id. `state`: 'pending' | 'done' | 'failed'.
    r#"
    CREATE TABLE callback_queue (
        id                INTEGER PRIMARY KEY AUTOINCREMENT,
        platform          TEXT    NOT NULL,
        account           TEXT    NOT NULL,
        kind              TEXT    NOT NULL,   -- order_new | order_cancellation | return | awb
        ref_id            INTEGER NOT NULL,   -- the order id (return/AWB: their order's id)
        state             TEXT    NOT NULL,
        received          INTEGER NOT NULL DEFAULT 1,
        attempts          INTEGER NOT NULL DEFAULT 0,
        first_received_at TEXT    NOT NULL,
        last_received_at  TEXT    NOT NULL,
        done_at           TEXT,
        error             TEXT,
        UNIQUE (platform, account, kind, ref_id)
    );
    CREATE INDEX callback_queue_pending ON callback_queue (platform, account, id)
        WHERE state = 'pending';
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database to [`SCHEMA_VERSION`]: the version is read and every missing migration
/// applied under one exclusive transaction, so of two processes opening one new store at
/// once, the second waits (busy timeout) and then finds the schema done.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    // Most opens find the schema current: a read decides without taking the write lock.
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    check_not_newer(current)?;
    if current == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    // Read again under the lock: another process may have migrated meanwhile.
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    check_not_newer(current)?;
    for sql in MIGRATIONS.iter().skip(current as usize) {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(())
}

fn check_not_newer(current: i64) -> Result<()> {
    if current > SCHEMA_VERSION {
        return Err(Error::store(format!(
            "the store has schema version {current}, newer than this library's {SCHEMA_VERSION}: \
             upgrade magflow-emag"
        )));
    }
    Ok(())
}
