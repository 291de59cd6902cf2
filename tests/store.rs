//! The embedded store on a real SQLite file.

use magflow_emag::store::{Scope, Store, SyncRun, SCHEMA_VERSION};
use magflow_emag::{ErrorKind, Platform};
use serde_json::{json, Value};

fn order(id: i64, status: i64) -> Value {
    json!({
        "id": id, "status": status, "type": 3, "payment_mode_id": 1,
        "date": "2025-07-01 12:00:00", "modified": "2025-07-02 08:30:00",
        "shipping_tax": "19.99",
        "customer": {"name": "Maria Ionescu", "phone_1": "0722000111"},
        "products": [{"id": 1, "quantity": 2, "sale_price": "10.5", "status": 1},
                     {"id": 2, "quantity": 1, "sale_price": 99, "status": 0}],
        "unknown_future_field": [1, {"a": null}]
    })
}

fn scope() -> Scope {
    Scope::new(Platform::EmagRo, "main")
}

#[test]
fn migrates_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    drop(store);
    let again = Store::open(&path).unwrap();
    assert_eq!(again.count_orders(None).unwrap(), 0);
}

#[test]
fn upsert_counts_created_updated_unchanged_and_keeps_the_json_as_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let s = scope();
    let c = store
        .upsert_orders(&s, &[order(1, 1), order(2, 1)], None)
        .unwrap();
    assert_eq!((c.created, c.updated, c.unchanged, c.failed), (2, 0, 0, 0));
    let c = store
        .upsert_orders(&s, &[order(1, 1), order(2, 2)], None)
        .unwrap();
    assert_eq!((c.created, c.updated, c.unchanged), (0, 1, 1));
    assert_eq!(store.count_orders(Some(&s)).unwrap(), 2);
    assert_eq!(store.get_order(1, None).unwrap().unwrap(), order(1, 1));
    assert_eq!(
        store.get_order(2, Some(&s)).unwrap().unwrap()["status"],
        json!(2)
    );
    assert!(store.get_order(3, None).unwrap().is_none());
    // Another account of the same platform is a different key.
    let fbe = Scope::new(Platform::EmagRo, "fbe");
    let c = store.upsert_orders(&fbe, &[order(1, 4)], None).unwrap();
    assert_eq!(c.created, 1);
    assert_eq!(store.count_orders(None).unwrap(), 3);
    assert_eq!(
        store.order_status_counts(Some(&s)).unwrap(),
        vec![(1, 1), (2, 1)]
    );
}

#[test]
fn unstorable_items_are_counted_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let c = store
        .upsert_orders(
            &scope(),
            &[
                json!("garbage"),
                json!({"id": "x"}),
                json!({"id": -5}),
                order(9, 1),
            ],
            None,
        )
        .unwrap();
    assert_eq!((c.created, c.failed), (1, 3));
    assert_eq!(c.failures.len(), 3);
}

#[test]
fn checkpoint_is_saved_with_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let s = scope();
    let state = json!({"window": 2, "page": 7});
    store
        .upsert_orders(&s, &[order(1, 1)], Some(("orders/type=3", &state)))
        .unwrap();
    assert_eq!(
        store.load_checkpoint(&s, "orders/type=3").unwrap(),
        Some(state)
    );
    assert_eq!(store.load_checkpoint(&s, "orders/type=2").unwrap(), None);
    store.clear_checkpoint(&s, "orders/type=3").unwrap();
    assert_eq!(store.load_checkpoint(&s, "orders/type=3").unwrap(), None);
}

#[test]
fn readers_keep_reading_while_another_process_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    store.upsert_orders(&scope(), &[order(1, 1)], None).unwrap();
    // Another connection (as another process would) holds an open write transaction.
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("BEGIN IMMEDIATE; UPDATE orders SET status = 5;")
        .unwrap();
    assert_eq!(store.count_orders(None).unwrap(), 1);
    assert_eq!(
        store.get_order(1, None).unwrap().unwrap()["status"],
        json!(1)
    );
    other.execute_batch("ROLLBACK;").unwrap();
}

#[test]
fn a_file_that_is_not_a_store_is_a_clear_store_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    std::fs::write(
        &path,
        b"this is not sqlite, just some text padding it out a bit more",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    assert!(err.message().contains("junk.db"), "{}", err.message());
    let err = Store::open(dir.path().join("no/such/dir/s.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    drop(Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    let err = Store::open(&path).unwrap_err();
    assert!(err.message().contains("newer"), "{}", err.message());
}

#[test]
fn sync_log_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let s = scope();
    assert_eq!(
        store.sync_statistics(24).unwrap().success_rate,
        1.0,
        "no runs is not a failure"
    );
    for (status, fetched) in [("success", 10), ("success", 5), ("failed", 0)] {
        let id = store.begin_sync_run("orders", &s).unwrap();
        store
            .finish_sync_run(&SyncRun {
                id,
                status: status.into(),
                fetched,
                duration_s: Some(2.0),
                error: (status == "failed").then(|| "network error: refused".into()),
                ..SyncRun::default()
            })
            .unwrap();
    }
    let running = store.begin_sync_run("offers", &s).unwrap();
    let stats = store.sync_statistics(24).unwrap();
    assert_eq!((stats.total, stats.successful, stats.failed), (3, 2, 1));
    assert!((stats.success_rate - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(stats.items_processed, 15);
    assert_eq!(stats.average_duration_s, 2.0);
    let runs = store.sync_runs(10).unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[0].id, running);
    assert_eq!(runs[0].status, "running");
    assert_eq!(runs[1].error.as_deref(), Some("network error: refused"));

    let offers = [
        json!({"id": 1, "status": 1, "name": "A", "sale_price": "5.5"}),
        json!({"id": 2, "status": 0}),
    ];
    let c = store.upsert_offers(&s, &offers, None).unwrap();
    assert_eq!(c.created, 2);
    let c = store.upsert_offers(&s, &offers, None).unwrap();
    assert_eq!(c.unchanged, 2);
    let p = store.product_statistics().unwrap();
    assert_eq!(
        (p.total, p.active, p.inactive, p.synced_last_24h),
        (2, 1, 1, 2)
    );
    assert_eq!(p.by_account, vec![("emag_ro/main".to_owned(), 2)]);
}

/// The schema of version 1 as it shipped (orders and offers WITHOUT ROWID).
const SCHEMA_V1: &str = r#"
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
    "#;

#[test]
fn a_version_1_store_is_migrated_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_V1).unwrap();
        conn.execute(
            "INSERT INTO orders (platform, account, order_id, status, data, content_hash, first_seen_at, synced_at)
             VALUES ('emag_ro', 'main', 5, 1, '{\"id\":5}', 'h', 't', 't')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO offers (platform, account, offer_id, status, data, content_hash, first_seen_at, synced_at)
             VALUES ('emag_ro', 'main', 9, 1, '{\"id\":9}', 'h', 't', 't')",
            [],
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.get_order(5, None).unwrap().unwrap()["id"], 5);
    assert_eq!(store.count_offers(None).unwrap(), 1);
    // Upserts still find their rows by the key.
    let c = store
        .upsert_orders(&scope(), &[json!({"id": 5, "status": 2})], None)
        .unwrap();
    assert_eq!((c.created, c.updated), (0, 1));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'orders'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!sql.contains("WITHOUT ROWID"), "{sql}");
}

#[test]
fn a_page_kept_as_text_is_stored_byte_for_byte_and_counted_like_values() {
    use magflow_emag::client::RawItems;
    use magflow_emag::sync::store_orders_page_raw;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let s = scope();
    // As PHP's json_encode sends it: escaped slashes and non-ASCII, spaces after colons.
    let first = r#"{"id": 7, "status": 1, "type": 3, "payment_mode_id": 1, "url": "https:\/\/x.ro\/a", "customer": {"name": "Ana \u0218erban", "phone_1": "0722"}, "products": [{"id": 1, "quantity": 1, "sale_price": "5", "status": 1}], "shipping_tax": 2, "date": "2025-07-01 12:00:00", "modified": "2025-07-01 12:00:00"}"#;
    let page = RawItems::from_texts(&[first, "[1, 2]", r#"{"id": "x"}"#]);
    let out = store_orders_page_raw(&store, &s, &page, None).unwrap();
    assert_eq!((out.counts.created, out.counts.failed), (1, 2));
    assert_eq!(out.new_orders, vec![(7, Some(3))]);
    assert_eq!(
        store.get_order_text(7, Some(&s)).unwrap().as_deref(),
        Some(first)
    );
    let order = store.get_order(7, None).unwrap().unwrap();
    assert_eq!(order["customer"]["name"], "Ana Șerban");
    assert_eq!(order["url"], "https://x.ro/a");
    // The columns come from the same text: 1 x "5" + shipping 2.
    let db = rusqlite::Connection::open(store.path()).unwrap();
    let (total, customer): (f64, String) = db
        .query_row(
            "SELECT total, customer_name FROM orders WHERE order_id = 7",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((total, customer.as_str()), (7.0, "Ana Șerban"));
    // The same text again is unchanged; a changed text is an update.
    let again = store_orders_page_raw(&store, &s, &RawItems::from_texts(&[first]), None).unwrap();
    assert_eq!((again.counts.unchanged, again.counts.updated), (1, 0));
    let changed = first.replace(r#""status": 1"#, r#""status": 2"#);
    let out = store_orders_page_raw(&store, &s, &RawItems::from_texts(&[&changed]), None).unwrap();
    assert_eq!((out.counts.updated, out.new_orders.len()), (1, 0));
    assert_eq!(store.get_order(7, None).unwrap().unwrap()["status"], 2);
}

#[test]
fn bulk_ingest_stores_every_page_like_the_sync_and_stops_at_a_bad_one() {
    use magflow_emag::client::RawItems;
    use magflow_emag::sync::ingest_order_pages;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let s = scope();
    let text = |id: i64, status: i64| serde_json::to_string(&order(id, status)).unwrap();
    // 30 pages of 10; page 3 repeats an id (the second copy is an update of the first).
    let pages: Vec<magflow_emag::Result<RawItems>> = (0..30)
        .map(|p| {
            let mut texts: Vec<String> = (0..10).map(|i| text(p * 10 + i + 1, 1)).collect();
            if p == 3 {
                texts[9] = text(31, 2);
            }
            Ok(RawItems::from_texts(&texts))
        })
        .collect();
    let total = ingest_order_pages(&store, &s, pages).unwrap();
    assert_eq!(
        (
            total.counts.created,
            total.counts.updated,
            total.counts.failed
        ),
        (299, 1, 0)
    );
    assert_eq!(total.new_orders.len(), 299);
    assert_eq!(store.count_orders(Some(&s)).unwrap(), 299);
    assert_eq!(store.get_order(31, None).unwrap().unwrap()["status"], 2);
    // Again: unchanged. A failing page stops the load; the pages before it stay written.
    let again: Vec<magflow_emag::Result<RawItems>> = vec![
        Ok(RawItems::from_texts(&[text(1, 1)])),
        Ok(RawItems::from_texts(&[text(1000, 1)])),
        Err(magflow_emag::Error::internal("page 3 is unreadable")),
        Ok(RawItems::from_texts(&[text(2000, 1)])),
    ];
    let err = ingest_order_pages(&store, &s, again).unwrap_err();
    assert!(err.to_string().contains("page 3 is unreadable"), "{err}");
    assert!(store.get_order(1000, None).unwrap().is_some());
    assert!(store.get_order(2000, None).unwrap().is_none());
}

#[test]
fn orders_and_offers_are_read_by_filter_a_page_at_a_time() {
    use magflow_emag::store::{OfferQuery, OrderQuery};
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let mut page: Vec<Value> = (1..=30).map(|id| order(id, 1 + id % 3)).collect();
    // Order 7 changed later (Bucharest time; 2025-07-10 10:00:00 UTC) and is type 2.
    page[6]["modified"] = json!("2025-07-10 13:00:00");
    page[6]["type"] = json!(2);
    store.upsert_orders(&scope(), &page, None).unwrap();
    let other = Scope::new(Platform::EmagBg, "main");
    store
        .upsert_orders(&other, &[order(1000, 1)], None)
        .unwrap();

    let all = store.orders(&OrderQuery::default()).unwrap();
    assert_eq!(all.len(), 31);
    let ids =
        |rows: &[magflow_emag::store::StoredRow]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
    let mine = store
        .orders(&OrderQuery {
            scope: Some(scope()),
            status: Some(vec![1, 2]),
            ..OrderQuery::default()
        })
        .unwrap();
    assert!(
        mine.iter().all(|r| r.id % 3 != 2 && r.id < 1000),
        "{:?}",
        ids(&mine)
    );
    assert_eq!(mine.len(), 20);
    let since = OrderQuery {
        modified_since: Some("2025-07-10T10:00:00Z".into()),
        ..OrderQuery::default()
    };
    assert_eq!(ids(&store.orders(&since).unwrap()), vec![7]);
    let since_later = OrderQuery {
        modified_since: Some("2025-07-10T13:00:00+03:00".into()),
        ..OrderQuery::default()
    };
    assert_eq!(ids(&store.orders(&since_later).unwrap()), vec![7]);
    let type2 = OrderQuery {
        kind: Some(2),
        ..OrderQuery::default()
    };
    assert_eq!(ids(&store.orders(&type2).unwrap()), vec![7]);
    // Pages by cursor: every row once, in order.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let rows = store
            .orders(&OrderQuery {
                after,
                limit: Some(7),
                ..OrderQuery::default()
            })
            .unwrap();
        if rows.is_empty() {
            break;
        }
        after = rows.last().map(|r| r.cursor);
        seen.extend(ids(&rows));
    }
    assert_eq!(seen, ids(&all));
    // Rows come as stored, and bad filters are clear errors.
    let first: Value = serde_json::from_str(&all[0].data).unwrap();
    assert_eq!(first, page[0]);
    for bad in [
        OrderQuery {
            modified_since: Some("yesterday".into()),
            ..OrderQuery::default()
        },
        OrderQuery {
            limit: Some(0),
            ..OrderQuery::default()
        },
        OrderQuery {
            status: Some(vec![]),
            ..OrderQuery::default()
        },
    ] {
        assert_eq!(
            store.orders(&bad).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    assert!(OrderQuery::from_json(r#"{"typo": 1}"#).is_err());
    let q = OrderQuery::from_json(r#"{"status": 1, "type": 3, "platform": "emag_bg"}"#).unwrap();
    assert_eq!(ids(&store.orders(&q).unwrap()), vec![1000]);

    let offers: Vec<Value> = (1..=5)
        .map(|id| json!({"id": id, "status": id % 2, "name": "x"}))
        .collect();
    store.upsert_offers(&scope(), &offers, None).unwrap();
    let active = store
        .offers(&OfferQuery {
            status: Some(vec![1]),
            ..OfferQuery::default()
        })
        .unwrap();
    assert_eq!(ids(&active), vec![1, 3, 5]);
    assert!(OfferQuery::from_json(r#"{"type": 3}"#).is_err());
}

#[cfg(unix)]
#[test]
fn a_new_store_is_readable_by_its_owner_only_and_an_existing_file_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    store.upsert_orders(&scope(), &[order(1, 1)], None).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let mode = std::fs::metadata(&name).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name:?}");
    }
    let existing = dir.path().join("old.db");
    std::fs::write(&existing, b"").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).unwrap();
    Store::open(&existing).unwrap();
    let mode = std::fs::metadata(&existing).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}
