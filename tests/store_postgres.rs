//! The store on a real PostgreSQL server (`MF_TEST_POSTGRES_URL`, e.g. from
//! `scripts/pg-test-cluster.sh start`). Locally the tests return early without it; in CI
//! (`CI=true`) they fail. Each test works in a schema of its own. The test binary runs itself
//! as the child of the process tests (`child_entry`, when `MF_PG_CHILD` is set).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::store::{LockWait, OrderQuery, Scope, SyncLock};
use magflow_emag::sync::{sync_orders, Progress, SyncOptions};
use magflow_emag::{
    runtime, Client, ClientConfig, Credentials, ErrorKind, Platform, RetryPolicy, Store,
};
use serde_json::json;

/// The server's URL, or None (the test then returns) outside CI.
fn server() -> Option<String> {
    match std::env::var("MF_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but MF_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run")
        }
        _ => {
            eprintln!("MF_TEST_POSTGRES_URL not set: PostgreSQL test skipped");
            None
        }
    }
}

/// A schema name no other test (or run) uses.
fn fresh_schema(tag: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{tag}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

fn with_schema(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}schema={schema}")
}

/// Run SQL on the server directly (as the test role); the first column of each row.
fn sql(url: &str, statement: &str) -> Vec<Option<String>> {
    let url = url.to_owned();
    let statement = statement.to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            let messages = client.simple_query(&statement).await.unwrap();
            messages
                .iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_owned)),
                    _ => None,
                })
                .collect()
        })
    })
    .join()
    .unwrap()
}

fn scope() -> Scope {
    Scope::new(Platform::EmagRo, "main")
}

fn sim(orders: usize) -> Simulator {
    Simulator::start_blocking(SimConfig {
        orders,
        offers: 0,
        seed: 19,
        enforce_rate_limits: false,
        ..SimConfig::default()
    })
    .unwrap()
}

fn client(url: &str, user: &str, password: &str) -> Client {
    Client::new(
        ClientConfig::new(Credentials::new(user, password).unwrap())
            .with_base_url(url)
            .without_rate_limit()
            .with_retry(RetryPolicy::from_secs(3, 0.001, 0.01, true, None).unwrap())
            .with_timeout(Duration::from_secs(5)),
    )
    .unwrap()
}

/// (missing, stale, extra) comparing the store with the simulator, order by order.
fn compare(sim: &Simulator, store: &Store) -> (usize, usize, usize) {
    let truth = sim.orders();
    let (mut missing, mut stale) = (0, 0);
    for order in &truth {
        let id = order["id"].as_i64().unwrap();
        match store.get_order(id, None).unwrap() {
            None => missing += 1,
            Some(stored) if &stored != order => stale += 1,
            Some(_) => {}
        }
    }
    let extra = (store.count_orders(None).unwrap() as usize).saturating_sub(truth.len() - missing);
    (missing, stale, extra)
}

#[test]
fn child_entry() {
    let Ok(role) = std::env::var("MF_PG_CHILD") else {
        return;
    };
    let var = |k: &str| std::env::var(k).unwrap();
    let store = Store::open(var("MF_PG_URL")).unwrap();
    let c = client(&var("MF_URL"), &var("MF_USER"), &var("MF_PASSWORD"));
    let slow = role == "slow-sync";
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o.wait = std::env::var("MF_WAIT").is_ok();
        o.progress = Some(Arc::new(move |_: &Progress| {
            if slow {
                std::thread::sleep(Duration::from_millis(40));
            }
            Ok(())
        }));
        o
    };
    let summary = runtime::block_on(async { sync_orders(&c, &store, &options).await }).unwrap();
    println!(
        "STATUS {} CREATED {}",
        summary.status, summary.counts.created
    );
}

fn spawn_child(role: &str, url: &str, sim: &Simulator, wait: bool) -> std::process::Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["child_entry", "--exact", "--nocapture", "--test-threads=1"])
        .env("MF_PG_CHILD", role)
        .env("MF_PG_URL", url)
        .env("MF_URL", sim.url())
        .env("MF_USER", sim.username())
        .env("MF_PASSWORD", sim.password())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if wait {
        cmd.env("MF_WAIT", "1");
    }
    cmd.spawn().unwrap()
}

#[test]
fn orders_offers_checkpoints_and_the_read_api_work_as_on_sqlite() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("basic"));
    let store = Store::open(&url).unwrap();
    assert!(store.is_postgres());
    assert_eq!(store.schema_version().unwrap(), 2);
    assert!(
        !format!("{store:?}").contains("magflow-test-pw")
            && !store
                .path()
                .display()
                .to_string()
                .contains("magflow-test-pw"),
        "no password in Debug or path"
    );
    let s = scope();
    // Text kept byte for byte: spacing, key order and escapes as sent.
    let texts = [
        r#"{"id": 7, "status": 1, "type": 3, "customer": {"name": "Ana \u0103"}, "products": [{"quantity": 2, "sale_price": "10.5"}], "shipping_tax": 5}"#,
        r#"{"id":8,"status":4,"type":2,"date":"2025-07-01 12:00:00"}"#,
    ];
    let items = magflow_emag::client::RawItems::from_texts(&texts);
    let page = magflow_emag::store::PreparedOrders::new(items, s.time_zone, |_, _| {});
    let counts = store
        .upsert_prepared_orders(
            &s,
            &page,
            Some(("orders/type=3", &json!({"high_water": "x"}))),
        )
        .unwrap();
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (2, 0, 0)
    );
    assert_eq!(
        store.get_order_text(7, Some(&s)).unwrap().as_deref(),
        Some(texts[0])
    );
    assert_eq!(
        store.get_order_text(8, None).unwrap().as_deref(),
        Some(texts[1])
    );
    let again = store.upsert_prepared_orders(&s, &page, None).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    // One changed, one new, the same id twice in a page, one that is not an order.
    let changed = store
        .upsert_orders(
            &s,
            &[
                json!({"id": 7, "status": 2, "type": 3}),
                json!({"id": 9, "status": 1, "type": 3}),
                json!({"id": 9, "status": 1, "type": 3}),
                json!("no"),
            ],
            None,
        )
        .unwrap();
    assert_eq!(
        (
            changed.created,
            changed.updated,
            changed.unchanged,
            changed.failed
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(store.count_orders(Some(&s)).unwrap(), 3);
    assert_eq!(
        store.order_status_counts(None).unwrap(),
        vec![(1, 1), (2, 1), (4, 1)]
    );
    assert_eq!(store.orders_to_acknowledge(&s).unwrap(), vec![9]);
    store.mark_acknowledged(&s, &[9]).unwrap();
    assert!(store.orders_to_acknowledge(&s).unwrap().is_empty());
    assert_eq!(
        store.load_checkpoint(&s, "orders/type=3").unwrap(),
        Some(json!({"high_water": "x"}))
    );
    store.clear_checkpoint(&s, "orders/type=3").unwrap();
    assert_eq!(store.load_checkpoint(&s, "orders/type=3").unwrap(), None);
    // The read API, paged by cursor.
    let first = store
        .orders(&OrderQuery {
            limit: Some(2),
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(first.iter().map(|r| r.id).collect::<Vec<_>>(), vec![7, 8]);
    let rest = store
        .orders(&OrderQuery {
            after: Some(first[1].cursor),
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(rest.iter().map(|r| r.id).collect::<Vec<_>>(), vec![9]);
    let by_status = store
        .orders(&OrderQuery {
            status: Some(vec![4]),
            kind: Some(2),
            ..OrderQuery::default()
        })
        .unwrap();
    assert_eq!(by_status.len(), 1);
    assert_eq!(by_status[0].data, texts[1]);
    // Offers.
    let o = store
        .upsert_offers(
            &s,
            &[json!({"id": 1, "status": 1, "name": "A", "sale_price": 9.5})],
            None,
        )
        .unwrap();
    assert_eq!(o.created, 1);
    assert_eq!(store.get_offer(1, Some(&s)).unwrap().unwrap()["name"], "A");
    assert_eq!(store.product_statistics().unwrap().active, 1);
    // The jsonb view answers the ERP's SQL.
    let rows = sql(
        &base,
        &format!(
            "SELECT doc->>'date' || ' ' || (created IS NOT NULL) FROM {}.orders_json WHERE order_id = 8",
            schema_of(&url)
        ),
    );
    assert_eq!(rows, vec![Some("2025-07-01 12:00:00 true".to_owned())]);
    // Reopen: migrations are not applied twice; a newer schema is refused.
    drop(store);
    let store = Store::open(&url).unwrap();
    assert_eq!(store.count_orders(None).unwrap(), 3);
    drop(store);
    sql(
        &base,
        &format!(
            "UPDATE {}.store_meta SET value = '99' WHERE key = 'schema_version'",
            schema_of(&url)
        ),
    );
    let err = Store::open(&url).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Store);
    assert!(err.to_string().contains("newer"), "{err}");
}

fn schema_of(url: &str) -> String {
    url.rsplit("schema=").next().unwrap().to_owned()
}

#[test]
fn a_full_sync_then_an_incremental_one_store_exactly_the_simulators_orders() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("sync"));
    let sim = sim(650);
    let c = client(sim.url(), sim.username(), sim.password());
    let store = Store::open(&url).unwrap();
    let options = {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o
    };
    let first = runtime::block_on(async { sync_orders(&c, &store, &options).await }).unwrap();
    assert_eq!(first.status, "success", "{first:?}");
    assert_eq!(first.counts.created, 650);
    assert!(first.acknowledged > 0);
    assert_eq!(compare(&sim, &store), (0, 0, 0));
    let second =
        runtime::block_on(async { sync_orders(&c, &store, &SyncOptions::default()).await })
            .unwrap();
    assert_eq!(second.status, "success");
    assert_eq!(second.counts.created, 0);
    assert_eq!(compare(&sim, &store), (0, 0, 0));
    let runs = store.sync_runs(5).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == "success"), "{runs:?}");
    assert_eq!(store.sync_statistics(1).unwrap().successful, 2);
}

#[test]
fn a_second_worker_skips_naming_the_holder_or_waits_for_it() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("lock"));
    let sim = sim(1200);
    let a = Store::open(&url).unwrap();
    let b = Store::open(&url).unwrap();
    let s = scope();
    let SyncLock::Acquired(guard) = a.lock_sync("orders", &s, false).unwrap() else {
        panic!("the first worker gets the lock")
    };
    match b.lock_sync("orders", &s, false).unwrap() {
        SyncLock::Held(holder) => assert!(!holder.is_empty()),
        SyncLock::Acquired(_) => panic!("two workers hold one sync"),
    }
    // Another kind or account is not held back.
    assert!(matches!(
        b.lock_sync("offers", &s, false).unwrap(),
        SyncLock::Acquired(_)
    ));
    let c = client(sim.url(), sim.username(), sim.password());
    let skipped =
        runtime::block_on(async { sync_orders(&c, &b, &SyncOptions::default()).await }).unwrap();
    assert_eq!(skipped.status, "skipped");
    assert!(
        skipped.error.as_deref().unwrap().contains("emag_ro/main"),
        "{skipped:?}"
    );
    assert_eq!(b.count_orders(None).unwrap(), 0);
    // A bounded wait ends as `Held` / `skipped`, naming the holder and the time waited.
    match b
        .lock_sync("orders", &s, LockWait::Upto(Duration::from_millis(300)))
        .unwrap()
    {
        SyncLock::Held(holder) => assert!(holder.contains("after waiting 0.3 s"), "{holder}"),
        SyncLock::Acquired(_) => panic!("two workers hold one sync"),
    }
    let bounded = {
        let mut o = SyncOptions::default();
        o.wait = true;
        o.wait_timeout = Some(Duration::from_millis(200));
        o
    };
    let gave_up = runtime::block_on(async { sync_orders(&c, &b, &bounded).await }).unwrap();
    assert_eq!(gave_up.status, "skipped");
    assert!(
        gave_up
            .error
            .as_deref()
            .unwrap()
            .contains("after waiting 0.2 s"),
        "{gave_up:?}"
    );
    assert_eq!(
        SyncOptions::from_json(r#"{"wait": true, "wait_timeout_s": 2.5}"#)
            .unwrap()
            .wait_timeout,
        Some(Duration::from_millis(2500))
    );
    assert!(SyncOptions::from_json(r#"{"wait_timeout_s": -1}"#).is_err());
    drop(guard);
    assert!(matches!(
        b.lock_sync("orders", &s, false).unwrap(),
        SyncLock::Acquired(_)
    ));

    // Two processes: one runs (slowly), the other skips and names it; then one waits.
    let first = spawn_child("slow-sync", &url, &sim, false);
    while a.count_orders(None).unwrap() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = spawn_child("sync", &url, &sim, false)
        .wait_with_output()
        .unwrap();
    let waiter = spawn_child("sync", &url, &sim, true);
    let first = first.wait_with_output().unwrap();
    let waited = waiter.wait_with_output().unwrap();
    let out = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out(&first).contains("STATUS success"), "{}", out(&first));
    assert!(out(&second).contains("STATUS skipped"), "{}", out(&second));
    assert!(
        out(&waited).contains("STATUS success CREATED 0"),
        "{}",
        out(&waited)
    );
    assert_eq!(compare_type3(&sim, &a), 0);
}

fn compare_type3(sim: &Simulator, store: &Store) -> usize {
    let type3: Vec<_> = sim
        .orders()
        .into_iter()
        .filter(|o| o["type"] == json!(3))
        .collect();
    assert_eq!(store.count_orders(None).unwrap() as usize, type3.len());
    type3
        .iter()
        .filter(|o| {
            store
                .get_order(o["id"].as_i64().unwrap(), None)
                .unwrap()
                .as_ref()
                != Some(o)
        })
        .count()
}

#[test]
fn a_killed_worker_frees_the_lock_and_the_next_resumes_from_its_last_page() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("kill"));
    let sim = sim(1500);
    let store = Store::open(&url).unwrap();
    let mut child = spawn_child("slow-sync", &url, &sim, false);
    while store.count_orders(None).unwrap() < 300 {
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = store.count_orders(None).unwrap();
    // Its session ended with it, freeing the lock as soon as the server sees the socket
    // closed (waited for here: a next worker with wait=True does the same).
    assert!(matches!(
        store.lock_sync("orders", &scope(), true).unwrap(),
        SyncLock::Acquired(_)
    ));
    assert_eq!(store.mark_abandoned_runs().unwrap(), 1);
    let killed = &store.sync_runs(1).unwrap()[0];
    assert_eq!(killed.status, "abandoned");
    assert_eq!(killed.created, stored);
    let c = client(sim.url(), sim.username(), sim.password());
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    };
    let resumed = runtime::block_on(async { sync_orders(&c, &store, &options).await }).unwrap();
    assert_eq!(resumed.status, "success");
    assert_eq!(compare_type3(&sim, &store), 0);
    assert!(
        resumed.counts.unchanged < 100,
        "resumed from the last committed page: {resumed:?}"
    );
}

#[test]
fn a_connection_dropped_mid_sync_loses_no_page() {
    let Some(base) = server() else { return };
    // Its own application name: only this test's connections are dropped.
    let url = format!(
        "{}&application_name=mf_drop_test",
        with_schema(&base, &fresh_schema("drop"))
    );
    let sim = sim(900);
    let store = Store::open(&url).unwrap();
    let killer = base.clone();
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 2 {
                // Every store connection of this database but the killer's own.
                sql(
                    &killer,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE application_name = 'mf_drop_test' AND pid <> pg_backend_pid()",
                );
            }
            Ok(())
        }));
        o
    };
    let c = client(sim.url(), sim.username(), sim.password());
    let first = runtime::block_on(async { sync_orders(&c, &store, &options).await });
    // The run either survived on fresh connections or failed cleanly; whole pages only.
    let stored = store.count_orders(None).unwrap();
    match &first {
        Ok(s) => {
            assert_eq!(s.status, "success", "{s:?}");
            assert_eq!(compare_type3(&sim, &store), 0);
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Store, "{e}");
            assert_eq!(stored % 100, 0, "no half page: {stored}");
        }
    }
    let again = runtime::block_on(async {
        sync_orders(&c, &store, &{
            let mut o = SyncOptions::default();
            o.order_types = vec![3];
            o
        })
        .await
    })
    .unwrap();
    assert_eq!(again.status, "success");
    assert_eq!(compare_type3(&sim, &store), 0);
}

#[test]
fn bad_urls_and_servers_fail_at_open_naming_host_and_database_never_the_password() {
    let Some(base) = server() else { return };
    let parsed = url::Url::parse(&base).unwrap();
    let host = parsed.host_str().unwrap().to_owned();
    let port = parsed.port().unwrap();
    let check = |url: String, kind: ErrorKind, needles: &[&str]| {
        let err = Store::open(&url).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.kind(), kind, "{text}");
        for n in needles {
            assert!(text.contains(n), "{n:?} not in {text}");
        }
        for secret in ["magflow-test-pw", "wrong-pw-123", "ro-pw-456"] {
            assert!(!text.contains(secret), "a password in: {text}");
        }
    };
    // A URL that does not read, or with an unknown option.
    check(
        "postgresql://magflow:wrong-pw-123@[bad/x".into(),
        ErrorKind::InvalidArgument,
        &["store URL"],
    );
    check(
        format!("{base}?nope=1"),
        ErrorKind::InvalidArgument,
        &["nope"],
    );
    // A wrong password.
    check(
        format!("postgresql://magflow:wrong-pw-123@{host}:{port}/magflow_test"),
        ErrorKind::Store,
        &[&host, "magflow_test", "password"],
    );
    // A missing database.
    check(
        format!("postgresql://magflow:magflow-test-pw@{host}:{port}/no_such_db"),
        ErrorKind::Store,
        &[&host, "no_such_db"],
    );
    // A refused connection (a port nothing listens on).
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    check(
        format!("postgresql://magflow:magflow-test-pw@127.0.0.1:{free}/magflow_test"),
        ErrorKind::Store,
        &["127.0.0.1", "magflow_test"],
    );
    // TLS demanded of a server that has none (the rustls connector is used), and a root
    // certificate file that is not there.
    check(
        format!("{base}?sslmode=require"),
        ErrorKind::Store,
        &[&host, "magflow_test"],
    );
    check(
        format!("{base}?sslmode=verify-full&sslrootcert=/nonexistent/root.pem"),
        ErrorKind::Store,
        &["sslrootcert"],
    );
    // A read-only role on an existing store.
    let schema = fresh_schema("ro");
    drop(Store::open(with_schema(&base, &schema)).unwrap());
    let role = format!("ro_{}", std::process::id());
    sql(
        &base,
        &format!(
            "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD 'ro-pw-456';
             GRANT USAGE ON SCHEMA {schema} TO {role}; GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role};"
        ),
    );
    check(
        format!("postgresql://{role}:ro-pw-456@{host}:{port}/magflow_test?schema={schema}"),
        ErrorKind::Store,
        &[&host, "magflow_test", "cannot write"],
    );
}

/// Every row of the four backed-up tables, as JSON lines in key order (SQLite side).
fn sqlite_rows(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut out = Vec::new();
    for (table, key) in [
        ("orders", "platform, account, order_id"),
        ("offers", "platform, account, offer_id"),
        ("sync_runs", "id"),
        ("checkpoints", "platform, account, kind"),
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY {key}"))
            .unwrap();
        let n = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            let cells: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            out.push(format!("{table}: {}", cells.join(" | ")));
        }
    }
    out
}

#[test]
fn a_backup_moves_sqlite_to_postgresql_and_back_equal_row_by_row() {
    use magflow_emag::backup::{CreateOptions, RestoreOptions};
    let Some(base) = server() else { return };
    let sim = sim(450);
    let c = client(sim.url(), sim.username(), sim.password());
    let dir = tempfile::tempdir().unwrap();
    // A SQLite store with orders, offers, runs and checkpoints.
    let first = dir.path().join("first.db");
    let sqlite = Arc::new(Store::open(&first).unwrap());
    let options = {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o
    };
    runtime::block_on(async { sync_orders(&c, &sqlite, &options).await }).unwrap();
    sqlite
        .upsert_offers(
            &scope(),
            &[json!({"id": 5, "status": 1, "name": "Ş", "sale_price": 1.25})],
            None,
        )
        .unwrap();
    let backups = dir.path().join("backups");
    let one = magflow_emag::BackupManager::new(sqlite.clone(), &backups)
        .unwrap()
        .create(&CreateOptions::default())
        .unwrap();
    // Into PostgreSQL.
    let url = with_schema(&base, &fresh_schema("backup"));
    let pg = Arc::new(Store::open(&url).unwrap());
    let pg_backups = magflow_emag::BackupManager::new(pg.clone(), &backups).unwrap();
    let before = pg.generation().unwrap();
    pg_backups
        .restore(&one.filename, &RestoreOptions::default())
        .unwrap();
    assert_eq!(pg.generation().unwrap(), before + 1);
    assert_eq!(pg.count_orders(None).unwrap(), 450);
    assert_eq!(compare(&sim, &pg), (0, 0, 0));
    // Texts byte for byte.
    for row in sqlite
        .orders(&OrderQuery::default())
        .unwrap()
        .iter()
        .step_by(41)
    {
        assert_eq!(
            pg.get_order_text(row.id, None).unwrap().as_deref(),
            Some(row.data.as_str())
        );
    }
    // A new sync-log row after a restore does not collide with restored ids.
    let run = pg.begin_sync_run("orders", &scope()).unwrap();
    assert!(run > sqlite.sync_runs(100).unwrap()[0].id);
    pg.cancel_sync_run(run, 0.0).unwrap();
    // Back out of PostgreSQL into a new SQLite store: equal row by row to the first (the
    // extra run aside).
    std::thread::sleep(Duration::from_millis(1100)); // backup names have a one-second clock
    let two = pg_backups.create(&CreateOptions::default()).unwrap();
    let second = dir.path().join("second.db");
    let sqlite2 = Arc::new(Store::open(&second).unwrap());
    magflow_emag::BackupManager::new(sqlite2.clone(), &backups)
        .unwrap()
        .restore(&two.filename, &RestoreOptions::default())
        .unwrap();
    drop(sqlite2);
    let a = sqlite_rows(&first);
    let b: Vec<String> = sqlite_rows(&second)
        .into_iter()
        .filter(|l| !l.starts_with(&format!("sync_runs: Integer({run}) ")))
        .collect();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    // No staged copy is left in the backup directory.
    let left: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("pg-stage"))
        .collect();
    assert!(left.is_empty());
}

/// New rows go in by `COPY`; one that another writer stores between the lookup and the
/// `COPY` fails it with a unique violation, and the page is written again by upserts:
/// nothing lost, counted as the second look found it.
#[test]
fn a_row_stored_by_another_writer_meanwhile_is_upserted_not_lost() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("race"));
    let store = Store::open(&url).unwrap();
    let schema = schema_of(&url);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (client, conn) = rt
        .block_on(tokio_postgres::connect(&base, tokio_postgres::NoTls))
        .unwrap();
    rt.spawn(conn);
    // The other writer's row, not yet committed: the page's COPY waits for it.
    rt.block_on(client.batch_execute(&format!(
        "BEGIN; INSERT INTO {schema}.orders (platform, account, order_id, data, content_hash,
             first_seen_at, synced_at)
         VALUES ('emag_ro', 'main', 50, '{{}}', 'other', 'x', 'x')"
    )))
    .unwrap();
    let texts = [
        r#"{"id":50,"status":1,"type":3}"#,
        r#"{"id":51,"status":1,"type":3}"#,
    ];
    let writer = std::thread::spawn(move || {
        let s = scope();
        let items = magflow_emag::client::RawItems::from_texts(&texts);
        let page = magflow_emag::store::PreparedOrders::new(items, s.time_zone, |_, _| {});
        let counts = store.upsert_prepared_orders(&s, &page, None).unwrap();
        (store, counts)
    });
    // Commit once the page waits on the row (or after a while: either way the outcome is
    // the same, only the path differs).
    for _ in 0..200 {
        let waiting = sql(
            &base,
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        if waiting == vec![Some("1".to_owned())] {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    rt.block_on(client.batch_execute("COMMIT")).unwrap();
    let (store, counts) = writer.join().unwrap();
    assert_eq!(
        (counts.created, counts.updated, counts.unchanged),
        (1, 1, 0)
    );
    let s = scope();
    assert_eq!(
        store.get_order_text(50, Some(&s)).unwrap().as_deref(),
        Some(texts[0])
    );
    assert_eq!(
        store.get_order_text(51, Some(&s)).unwrap().as_deref(),
        Some(texts[1])
    );
    assert_eq!(store.count_orders(None).unwrap(), 2);
}

/// Schema 2 (the callback queue) is added to a store made by schema 1, in place.
#[test]
fn a_schema_1_store_migrates_to_the_callback_queue() {
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("mig"));
    let store = Store::open(&url).unwrap();
    let s = scope();
    store
        .upsert_orders(&s, &[json!({"id": 1, "status": 1, "type": 3})], None)
        .unwrap();
    drop(store);
    let schema = schema_of(&url);
    sql(
        &base,
        &format!(
            "DROP TABLE {schema}.callback_queue;
             UPDATE {schema}.store_meta SET value = '1' WHERE key = 'schema_version'"
        ),
    );
    let store = Store::open(&url).unwrap();
    assert_eq!(store.schema_version().unwrap(), 2);
    assert_eq!(store.count_orders(None).unwrap(), 1);
    assert!(store.enqueue_callback(&s, "order_new", 1).unwrap());
    assert_eq!(store.callback_stats().unwrap().pending, 1);
}

/// A bulk load writes its groups of pages on two connections at once (the next group while
/// one commits): every page counted as if they came one after another, even when a page
/// repeats ids of the one before it (in another group, not committed yet); and when a group
/// fails, the groups before it stay written and none after it is.
#[test]
fn a_bulk_load_on_two_connections_counts_and_stops_as_one_would() {
    use magflow_emag::client::RawItems;
    use magflow_emag::sync::ingest_order_pages;
    let Some(base) = server() else { return };
    let url = with_schema(&base, &fresh_schema("bulk"));
    let store = Store::open(&url).unwrap();
    let schema = schema_of(&url);
    let s = scope();
    let text = |id: i64, status: i64| format!(r#"{{"id":{id},"status":{status},"type":3}}"#);
    // 150 pages of 10 (groups hold at most 64 pages, so at least three groups); from page 75
    // on, each page also repeats two orders of the page before it: one changed, one the same.
    let pages_of = |first_id: i64, own: i64, changed: i64| -> Vec<magflow_emag::Result<RawItems>> {
        (0..150)
            .map(|p| {
                let mut texts: Vec<String> =
                    (0..10).map(|i| text(first_id + p * 10 + i, own)).collect();
                if p >= 75 {
                    texts.push(text(first_id + (p - 1) * 10 + 1, changed));
                    texts.push(text(first_id + (p - 1) * 10 + 2, own));
                }
                Ok(RawItems::from_texts(&texts))
            })
            .collect()
    };
    let pages = |first_id: i64| pages_of(first_id, 1, 2);
    let total = ingest_order_pages(&store, &s, pages(1)).unwrap();
    let c = &total.counts;
    assert_eq!(
        (c.created, c.updated, c.unchanged, c.failed),
        (1500, 75, 75, 0)
    );
    assert_eq!(store.count_orders(Some(&s)).unwrap(), 1500);
    let status = |id: i64| store.get_order(id, Some(&s)).unwrap().unwrap()["status"].clone();
    assert_eq!(
        (status(742), status(743), status(1482), status(1492)),
        (json!(2), json!(1), json!(2), json!(1))
    );
    // Again, every order changed: a repeat the same as the page before's copy is unchanged,
    // though the table holds another text until that page's group commits.
    let total = ingest_order_pages(&store, &s, pages_of(1, 3, 3)).unwrap();
    let c = &total.counts;
    assert_eq!((c.created, c.updated, c.unchanged), (0, 1500, 150));

    // A group the server refuses: the load stops with its error, the pages before it in order.
    sql(
        &base,
        &format!(
            "CREATE FUNCTION {schema}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.order_id = 100555 THEN RAISE EXCEPTION 'order 100555 refused by the test'; END IF;
             RETURN NEW; END $$;
             CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON {schema}.orders
             FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()"
        ),
    );
    let err = ingest_order_pages(&store, &s, pages(100_000)).unwrap_err();
    assert!(err.to_string().contains("refused by the test"), "{err}");
    let stored: Vec<i64> = sql(
        &base,
        &format!("SELECT order_id FROM {schema}.orders WHERE order_id >= 100000 ORDER BY order_id"),
    )
    .into_iter()
    .map(|id| id.unwrap().parse().unwrap())
    .collect();
    let whole_pages = stored.len() / 10;
    assert!(
        whole_pages <= 55,
        "{whole_pages} pages stored, the failing one is page 55"
    );
    assert_eq!(
        stored,
        (100_000..100_000 + whole_pages as i64 * 10).collect::<Vec<_>>()
    );
    // The store goes on: the same load without the trigger stores the rest.
    sql(&base, &format!("DROP TRIGGER refuse ON {schema}.orders"));
    let again = ingest_order_pages(&store, &s, pages(100_000)).unwrap();
    assert_eq!(again.counts.created, 1500 - stored.len() as u64);
    assert_eq!(store.count_orders(Some(&s)).unwrap(), 3000);
}
