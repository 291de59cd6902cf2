//! The orders and offers sync, from the simulator into a real SQLite file.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use magflow_emag::sim::{Fault, SimConfig, Simulator};
use magflow_emag::sync::{sync_offers, sync_orders, CancelToken, Progress, SyncOptions};
use magflow_emag::{
    runtime, BlockingClient, ClientConfig, Credentials, ErrorKind, RetryPolicy, Store,
};
use serde_json::json;

fn sim(orders: usize, offers: usize) -> Simulator {
    Simulator::start_blocking(SimConfig {
        orders,
        offers,
        seed: 11,
        enforce_rate_limits: false,
        ..SimConfig::default()
    })
    .unwrap()
}

fn client(sim: &Simulator, retries: u32) -> BlockingClient {
    BlockingClient::new(
        ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
            .with_base_url(sim.url())
            .without_rate_limit()
            .with_retry(RetryPolicy::from_secs(retries, 0.001, 0.01, true, None).unwrap())
            .with_timeout(Duration::from_secs(2)),
    )
    .unwrap()
}

fn run_orders(
    c: &BlockingClient,
    store: &Store,
    options: SyncOptions,
) -> magflow_emag::Result<magflow_emag::sync::SyncSummary> {
    let client = c.client().clone();
    runtime::block_on(async move { sync_orders(&client, store, &options).await })
}

#[test]
fn full_sync_stores_every_order_of_both_types_then_incremental_finds_nothing_new() {
    let sim = sim(650, 0);
    let c = client(&sim, 2);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let events = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let seen = events.clone();
    let options = {
        let mut o = SyncOptions::default();
        o.progress = Some(Arc::new(move |p: &Progress| {
            seen.lock().unwrap().push(p.clone());
            Ok(())
        }));
        o
    };
    let first = run_orders(&c, &store, options).unwrap();
    let truth = sim.orders();
    assert_eq!(first.fetched as usize, truth.len());
    assert_eq!(first.counts.created as usize, truth.len());
    assert_eq!(store.count_orders(None).unwrap() as usize, truth.len());
    for order in truth.iter().step_by(37) {
        let id = order["id"].as_i64().unwrap();
        assert_eq!(
            &store.get_order(id, None).unwrap().unwrap(),
            order,
            "stored exactly as read"
        );
    }
    assert_eq!(first.status, "success");
    // The simulator's orders follow eMAG's documented shape: every page was validated.
    assert_eq!(first.invalid, 0, "{:?}", first.warnings);
    assert!(first.rate_limit_min_s > 0.0);
    let events = events.lock().unwrap();
    assert_eq!(events.len() as u64, first.pages);
    let last = events.last().unwrap();
    assert_eq!(last.items as usize, truth.len());
    assert_eq!(last.expected_items, Some(truth.len() as u64));
    assert_eq!(last.eta_s, Some(0.0));

    sim.reset_stats();
    let second = run_orders(&c, &store, SyncOptions::default()).unwrap();
    assert_eq!(second.counts.created, 0);
    assert_eq!(second.counts.updated, 0);
    // Only the overlap window: counted once per type, then its orders (those the seed
    // dated in the last ten minutes, if any: one short page per type at most) read again.
    assert!(second.pages <= 2, "{second:?}");
    assert_eq!(second.counts.unchanged, second.fetched, "{second:?}");
    assert_eq!(
        sim.stats()["requests_total"],
        json!(2 + second.pages),
        "{second:?}"
    );
    let runs = store.sync_runs(5).unwrap();
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.status == "success"));
}

#[test]
fn acknowledge_moves_new_orders_to_in_progress_and_stores_the_reread() {
    let sim = sim(200, 0);
    let c = client(&sim, 2);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let new_ids: Vec<i64> = sim
        .orders()
        .iter()
        .filter(|o| o["status"] == json!(1) && o["type"] == json!(3))
        .filter_map(|o| o["id"].as_i64())
        .collect();
    assert!(!new_ids.is_empty());
    let summary = run_orders(&c, &store, {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o
    })
    .unwrap();
    assert_eq!(summary.acknowledged as usize, new_ids.len());
    for id in &new_ids {
        assert_eq!(sim.order(*id as u64).unwrap()["status"], json!(2));
        assert_eq!(
            store.get_order(*id, None).unwrap().unwrap()["status"],
            json!(2),
            "re-read after ack"
        );
    }
}

#[test]
fn a_crash_mid_walk_loses_nothing_and_duplicates_nothing() {
    let sim = Arc::new(sim(700, 0));
    let c = client(&sim, 0);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    // After the second page is stored, the next read fails (no retries): the run dies there.
    let injector = sim.clone();
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 2 {
                injector.inject(Fault::Http500, 1, Some("order"), Some("read"));
            }
            Ok(())
        }));
        o
    };
    let err = run_orders(&c, &store, options).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network);
    assert_eq!(
        store.count_orders(None).unwrap(),
        200,
        "the two stored pages survive"
    );
    let failed = &store.sync_runs(1).unwrap()[0];
    assert_eq!(failed.status, "failed");
    assert!(failed.error.as_deref().unwrap_or("").contains("500"));

    sim.reset_stats();
    let resumed = run_orders(&c, &store, {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    })
    .unwrap();
    let type3 = sim
        .orders()
        .iter()
        .filter(|o| o["type"] == json!(3))
        .count();
    assert_eq!(store.count_orders(None).unwrap() as usize, type3);
    assert_eq!(
        resumed.counts.created as usize,
        type3 - 200,
        "resumed at page 3: nothing read twice"
    );
    assert_eq!(resumed.counts.unchanged, 0);
}

#[test]
fn cancellation_stops_between_pages_and_the_next_run_resumes() {
    let sim = sim(450, 0);
    let c = client(&sim, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let token = CancelToken::new();
    let trigger = token.clone();
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o.cancel = Some(token);
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 1 {
                trigger.cancel();
            }
            Ok(())
        }));
        o
    };
    let cancelled = run_orders(&c, &store, options).unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(cancelled.pages, 1);
    let rest = run_orders(&c, &store, {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    })
    .unwrap();
    let type3 = sim
        .orders()
        .iter()
        .filter(|o| o["type"] == json!(3))
        .count() as u64;
    assert_eq!(cancelled.counts.created + rest.counts.created, type3);
}

#[test]
fn offers_sync_and_bad_options() {
    let sim = sim(0, 230);
    let c = client(&sim, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let client = c.client().clone();
    let summary =
        runtime::block_on(async { sync_offers(&client, &store, &SyncOptions::default()).await })
            .unwrap();
    assert_eq!(summary.fetched, 230);
    assert_eq!(summary.pages, 3);
    assert_eq!(store.count_offers(None).unwrap(), 230);
    let again =
        runtime::block_on(async { sync_offers(&client, &store, &SyncOptions::default()).await })
            .unwrap();
    assert_eq!(again.counts.unchanged, 230);
    let bad = {
        let mut o = SyncOptions::default();
        o.order_types = vec![1];
        o
    };
    let err = runtime::block_on(async { sync_orders(&client, &store, &bad).await }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn orders_that_break_the_documented_shape_are_stored_as_read_and_reported() {
    use magflow_emag::store::Scope;
    use magflow_emag::Platform;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let scope = Scope::new(Platform::EmagRo, "main");
    let good = sim(3, 0).orders();
    let mut odd = good[0].clone();
    odd["id"] = json!(77);
    odd["status"] = json!(9);
    let page = vec![good[1].clone(), odd.clone()];
    let outcome = magflow_emag::sync::store_orders_page(&store, &scope, &page, None).unwrap();
    assert_eq!(outcome.counts.created, 2);
    assert_eq!(outcome.invalid, 1);
    assert!(
        outcome.warnings[0].starts_with("order 77: status"),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(store.get_order(77, None).unwrap().unwrap(), odd);
}

fn new_type3_ids(sim: &Simulator) -> Vec<u64> {
    sim.orders()
        .iter()
        .filter(|o| o["status"] == json!(1) && o["type"] == json!(3))
        .filter_map(|o| o["id"].as_u64())
        .collect()
}

fn ack_options() -> SyncOptions {
    {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o.order_types = vec![3];
        o
    }
}

#[test]
fn new_orders_stored_by_a_run_that_died_are_acknowledged_by_the_next() {
    let sim = Arc::new(sim(700, 0));
    let c = client(&sim, 0);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let new_ids = new_type3_ids(&sim);
    assert!(new_ids.len() > 20, "{}", new_ids.len());
    // The run dies after two pages are stored; its acknowledgements fail too (eMAG down).
    let injector = sim.clone();
    let dying = {
        let mut o = ack_options();
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 2 {
                injector.inject(Fault::Http503, 1, Some("order"), Some("read"));
                injector.inject(Fault::Http503, 1, Some("order"), Some("acknowledge"));
            }
            Ok(())
        }));
        o
    };
    run_orders(&c, &store, dying).unwrap_err();
    assert_eq!(store.count_orders(None).unwrap(), 200);
    let stored_new = store
        .orders_to_acknowledge(&magflow_emag::store::Scope::new(
            magflow_emag::Platform::EmagRo,
            "main",
        ))
        .unwrap();
    assert!(
        !stored_new.is_empty(),
        "new orders were stored unacknowledged"
    );
    // The next run resumes at page 3, and acknowledges what the dead run stored as well.
    let next = run_orders(&c, &store, ack_options()).unwrap();
    assert_eq!(next.status, "success");
    assert_eq!(next.acknowledged as usize, new_ids.len());
    for id in &new_ids {
        assert_eq!(sim.order(*id).unwrap()["status"], json!(2), "order {id}");
        assert_eq!(
            store.get_order(*id as i64, None).unwrap().unwrap()["status"],
            json!(2),
            "order {id} re-read"
        );
    }
    let scope = magflow_emag::store::Scope::new(magflow_emag::Platform::EmagRo, "main");
    assert!(store.orders_to_acknowledge(&scope).unwrap().is_empty());
}

#[test]
fn one_refused_acknowledgement_does_not_leave_the_others_unacknowledged() {
    let sim = sim(300, 0);
    let c = client(&sim, 0);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let new_ids = new_type3_ids(&sim);
    assert!(new_ids.len() > 3);
    sim.inject(Fault::IsError, 1, Some("order"), Some("acknowledge"));
    let first = run_orders(&c, &store, ack_options()).unwrap_err();
    assert_eq!(first.kind(), ErrorKind::ApiResponse, "{first}");
    let log = &store.sync_runs(1).unwrap()[0];
    assert_eq!(log.status, "failed");
    assert_eq!(log.acknowledged as usize, new_ids.len() - 1, "{log:?}");
    let second = run_orders(&c, &store, ack_options()).unwrap();
    assert_eq!(second.acknowledged, 1);
    for id in &new_ids {
        assert_eq!(sim.order(*id).unwrap()["status"], json!(2), "order {id}");
    }
}

fn bucharest_now() -> chrono::NaiveDateTime {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .naive_local()
}

#[test]
fn orders_changing_during_an_incremental_walk_skip_no_other_order() {
    let sim = Arc::new(sim(900, 0));
    let c = client(&sim, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let only3 = || {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    };
    run_orders(&c, &store, only3()).unwrap();
    // Every type-3 order changed three minutes ago: the next incremental window holds them all.
    let type3: Vec<u64> = sim
        .orders()
        .iter()
        .filter(|o| o["type"] == json!(3))
        .filter_map(|o| o["id"].as_u64())
        .collect();
    assert!(type3.len() > 300, "{}", type3.len());
    sim.set_now(bucharest_now() - chrono::Duration::minutes(3));
    for id in &type3 {
        assert!(sim.touch_order(*id));
    }
    sim.set_now(bucharest_now());
    // During the walk, after each page, the first ten orders of the window change again
    // (now): they leave the window and every order after them moves up ten places.
    let changer = sim.clone();
    let order_list = type3.clone();
    let changed = Arc::new(Mutex::new(Vec::<u64>::new()));
    let changed_in_walk = changed.clone();
    let walk = {
        let mut o = only3();
        o.progress = Some(Arc::new(move |_: &Progress| {
            let mut changed = changed_in_walk.lock().unwrap();
            let next: Vec<u64> = order_list
                .iter()
                .filter(|id| !changed.contains(id))
                .take(10)
                .copied()
                .collect();
            for id in next {
                changer.touch_order(id);
                changed.push(id);
            }
            Ok(())
        }));
        o
    };
    let summary = run_orders(&c, &store, walk).unwrap();
    assert!(summary.pages >= 3, "{summary:?}");
    let changed = changed.lock().unwrap().clone();
    // Every order that did not change during the walk is stored exactly as eMAG has it.
    let stale: Vec<u64> = type3
        .iter()
        .filter(|id| !changed.contains(id))
        .filter(|id| {
            store.get_order(**id as i64, None).unwrap().as_ref() != sim.order(**id).as_ref()
        })
        .copied()
        .collect();
    assert!(
        stale.is_empty(),
        "{} orders skipped: {stale:?}",
        stale.len()
    );
    // The orders changed during the walk are newer than its end: the next run reads them.
    std::thread::sleep(Duration::from_millis(1100));
    run_orders(&c, &store, {
        let mut o = only3();
        o.overlap = Duration::from_secs(1);
        o
    })
    .unwrap();
    for id in &type3 {
        assert_eq!(
            store.get_order(*id as i64, None).unwrap().as_ref(),
            sim.order(*id).as_ref(),
            "order {id}"
        );
    }
}

#[test]
fn a_restore_is_refused_while_a_sync_of_the_store_runs_and_a_sync_outliving_a_restore_stops() {
    use magflow_emag::backup::{BackupManager, CreateOptions, RestoreOptions};
    use magflow_emag::store::{PageCommit, PreparedOrders, RunContext, Scope};
    let sim = sim(500, 0);
    let c = client(&sim, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("s.db")).unwrap());
    let manager = BackupManager::new(store.clone(), dir.path().join("b")).unwrap();
    let only3 = || {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    };
    run_orders(&c, &store, only3()).unwrap();
    let backup = manager.create(&CreateOptions::default()).unwrap();
    // During the next sync (after its first page), a restore is asked for: it is refused.
    let during = Arc::new(Mutex::new(None));
    let (mgr, seen) = (manager.clone(), during.clone());
    let name = backup.filename.clone();
    let options = {
        let mut o = only3();
        o.full = true;
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 1 {
                *seen.lock().unwrap() = Some(mgr.restore(&name, &RestoreOptions::default()));
            }
            Ok(())
        }));
        o
    };
    let summary = run_orders(&c, &store, options).unwrap();
    assert_eq!(summary.status, "success");
    let refused = during.lock().unwrap().take().unwrap().unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Backup);
    assert!(
        refused
            .to_string()
            .contains("a sync of this store is running"),
        "{refused}"
    );
    assert_eq!(store.sync_runs(1).unwrap()[0].status, "success");
    // Once no sync runs, the restore goes through and bumps the generation: a run that
    // began before it stores nothing more.
    let generation = store.generation().unwrap();
    manager
        .restore(&backup.filename, &RestoreOptions::default())
        .unwrap();
    assert_eq!(store.generation().unwrap(), generation + 1);
    let scope = Scope::new(magflow_emag::Platform::EmagRo, "main");
    let page = PreparedOrders::new(
        magflow_emag::client::RawItems::from_values(&[json!({"id": 1, "status": 1})]).unwrap(),
        scope.time_zone,
        |_, _| {},
    );
    let stale = RunContext {
        run_id: 0,
        generation,
    };
    let at = PageCommit::new(&scope, None).in_run(&stale);
    let err = store.upsert_prepared_orders_in_run(&page, at).unwrap_err();
    assert!(err.to_string().contains("restored"), "{err}");
    assert!(store.get_order(1, None).unwrap().is_none());
    // And the next incremental sync leaves nothing stale.
    run_orders(&c, &store, only3()).unwrap();
    for order in sim.orders().iter().filter(|o| o["type"] == json!(3)) {
        let id = order["id"].as_i64().unwrap();
        assert_eq!(store.get_order(id, None).unwrap().as_ref(), Some(order));
    }
}

#[test]
fn an_incremental_walk_stopped_mid_window_resumes_at_its_next_page_down() {
    let sim = sim(900, 0);
    let c = client(&sim, 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let only3 = || {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o
    };
    run_orders(&c, &store, only3()).unwrap();
    let type3: Vec<u64> = sim
        .orders()
        .iter()
        .filter(|o| o["type"] == json!(3))
        .filter_map(|o| o["id"].as_u64())
        .collect();
    sim.set_now(bucharest_now() - chrono::Duration::minutes(3));
    for id in &type3 {
        sim.touch_order(*id);
    }
    sim.set_now(bucharest_now());
    let token = CancelToken::new();
    let trigger = token.clone();
    let stopped = run_orders(&c, &store, {
        let mut o = only3();
        o.cancel = Some(token);
        o.progress = Some(Arc::new(move |_: &Progress| {
            trigger.cancel();
            Ok(())
        }));
        o
    })
    .unwrap();
    assert_eq!((stopped.status.as_str(), stopped.pages), ("cancelled", 1));
    let pages = (type3.len() as u64).div_ceil(100);
    assert!(pages >= 3);
    let resumed = run_orders(&c, &store, only3()).unwrap();
    assert_eq!(resumed.pages, pages - 1, "{resumed:?}");
    assert_eq!(
        stopped.counts.updated + resumed.counts.updated,
        type3.len() as u64
    );
    for id in &type3 {
        assert_eq!(
            store.get_order(*id as i64, None).unwrap().as_ref(),
            sim.order(*id).as_ref(),
            "order {id}"
        );
    }
}
