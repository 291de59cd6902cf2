//! The store and the sync with real processes: several processes writing one store, opening
//! one new store at once, and a sync killed with SIGKILL then resumed. The test binary runs
//! itself as the child (`child_entry` does the child's work when `MF_CHILD` is set).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use magflow_emag::sim::{SimConfig, Simulator};
use magflow_emag::store::Scope;
use magflow_emag::sync::{sync_orders, Progress, SyncOptions};
use magflow_emag::{runtime, Client, ClientConfig, Credentials, Platform, RetryPolicy, Store};
use serde_json::json;

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

/// The child's work, chosen by `MF_CHILD`; a no-op test otherwise.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("MF_CHILD") else {
        return;
    };
    let db = PathBuf::from(std::env::var("MF_DB").unwrap());
    if let Ok(go) = std::env::var("MF_GO") {
        // Start together: wait for the parent's signal file.
        while !Path::new(&go).exists() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let outcome = match role.as_str() {
        "open" => Store::open(&db).map(|_| ()),
        "sync" | "slow-sync" => {
            let var = |k: &str| std::env::var(k).unwrap();
            let c = client(&var("MF_URL"), &var("MF_USER"), &var("MF_PASSWORD"));
            Store::open(&db).and_then(|store| {
                let slow = role == "slow-sync";
                let options = {
                    let mut o = SyncOptions::default();
                    o.acknowledge = true;
                    o.progress = Some(Arc::new(move |_: &Progress| {
                        if slow {
                            std::thread::sleep(Duration::from_millis(30));
                        }
                        Ok(())
                    }));
                    o
                };
                runtime::block_on(async { sync_orders(&c, &store, &options).await }).map(|_| ())
            })
        }
        "lose-wal" => Store::open(&db).map(|store| {
            // Write, then do to the store what a second SQLite library's close does (its
            // -wal and -shm deleted under it), write again, and die without closing.
            let page = |from: i64| -> Vec<serde_json::Value> {
                (from..from + 100)
                    .map(|id| json!({"id": id, "status": 1, "type": 3}))
                    .collect()
            };
            store.upsert_orders(&scope(), &page(1), None).unwrap();
            for suffix in ["-wal", "-shm"] {
                let mut name = db.as_os_str().to_owned();
                name.push(suffix);
                std::fs::remove_file(name).unwrap();
            }
            store.upsert_orders(&scope(), &page(101), None).unwrap();
            // SAFETY: signals this very process.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }),
        other => panic!("unknown child role {other}"),
    };
    if let Err(e) = outcome {
        eprintln!("child {role} failed: {e}");
        std::process::exit(1);
    }
}

fn spawn(role: &str, db: &Path, sim: Option<&Simulator>, go: Option<&Path>) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
        .env("MF_CHILD", role)
        .env("MF_DB", db)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(sim) = sim {
        cmd.env("MF_URL", sim.url())
            .env("MF_USER", sim.username())
            .env("MF_PASSWORD", sim.password());
    }
    if let Some(go) = go {
        cmd.env("MF_GO", go);
    }
    cmd.spawn().unwrap()
}

fn finish(child: Child) -> (bool, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sim(orders: usize) -> Simulator {
    Simulator::start(SimConfig {
        orders,
        offers: 0,
        seed: 5,
        enforce_rate_limits: false,
        ..SimConfig::default()
    })
    .unwrap()
}

fn scope() -> Scope {
    Scope::new(Platform::EmagRo, "main")
}

/// Every order of the simulator is in the store as eMAG has it, and each new type-3 order
/// was acknowledged: (lost, stale, unacknowledged).
fn compare(sim: &Simulator, store: &Store) -> (usize, usize, usize) {
    let mut lost = 0;
    let mut stale = 0;
    for order in sim.orders() {
        let id = order["id"].as_i64().unwrap();
        match store.get_order(id, None).unwrap() {
            None => lost += 1,
            Some(stored) if stored != order => stale += 1,
            Some(_) => {}
        }
    }
    let unacknowledged = sim
        .orders()
        .iter()
        .filter(|o| o["status"] == json!(1) && o["type"] == json!(3))
        .count()
        + store.orders_to_acknowledge(&scope()).unwrap().len();
    (lost, stale, unacknowledged)
}

#[test]
fn two_processes_opening_one_new_store_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..8 {
        let db = dir.path().join(format!("new-{round}.db"));
        let go = dir.path().join(format!("go-{round}"));
        let children: Vec<Child> = (0..3)
            .map(|_| spawn("open", &db, None, Some(&go)))
            .collect();
        std::fs::write(&go, b"").unwrap();
        for child in children {
            let (ok, err) = finish(child);
            assert!(ok, "round {round}: {err}");
        }
        let store = Store::open(&db).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            magflow_emag::store::SCHEMA_VERSION
        );
    }
}

#[test]
fn three_sync_processes_on_one_store_all_succeed() {
    let sim = sim(900);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    Store::open(&db).unwrap();
    let go = dir.path().join("go");
    let children: Vec<Child> = (0..3)
        .map(|_| spawn("sync", &db, Some(&sim), Some(&go)))
        .collect();
    std::fs::write(&go, b"").unwrap();
    for child in children {
        let (ok, err) = finish(child);
        assert!(ok, "{err}");
    }
    let store = Store::open(&db).unwrap();
    let runs = store.sync_runs(10).unwrap();
    assert_eq!(runs.len(), 3);
    assert!(runs.iter().all(|r| r.status == "success"), "{runs:?}");
    assert_eq!(compare(&sim, &store), (0, 0, 0));
}

#[test]
fn a_sync_killed_mid_walk_is_marked_abandoned_and_the_next_run_completes_it() {
    let sim = sim(1500);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = Store::open(&db).unwrap();
    let mut child = spawn("slow-sync", &db, Some(&sim), None);
    // Kill it once it has stored a few pages (polled through this process's own store).
    let mut polls = 0;
    while store.count_orders(None).unwrap() < 300 {
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        std::thread::sleep(Duration::from_millis(5));
        polls += 1;
        assert!(polls < 20_000, "the child stored nothing");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let stored = store.count_orders(None).unwrap();
    assert!(stored < 1500, "killed before the end");
    // The next open finds the dead process's run and marks it abandoned, with its counts.
    let reopened = Store::open(&db).unwrap();
    let killed = &reopened.sync_runs(1).unwrap()[0];
    assert_eq!(killed.status, "abandoned", "{killed:?}");
    assert_eq!(killed.created, stored, "{killed:?}");
    let stats = reopened.sync_statistics(1).unwrap();
    assert_eq!((stats.total, stats.failed), (1, 1));
    // The next run resumes and completes the walk, and acknowledges what the dead one stored.
    let c = client(sim.url(), sim.username(), sim.password());
    let options = {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o
    };
    let resumed = runtime::block_on(async { sync_orders(&c, &reopened, &options).await }).unwrap();
    assert_eq!(resumed.status, "success");
    assert_eq!(compare(&sim, &reopened), (0, 0, 0));
    assert_eq!(reopened.count_orders(None).unwrap(), 1500);
}

#[test]
fn a_sync_whose_future_is_dropped_is_recorded_cancelled_with_its_counts() {
    let sim = sim(600);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path().join("s.db")).unwrap());
    let c = client(sim.url(), sim.username(), sim.password());
    let (tx, rx) = std::sync::mpsc::channel();
    let (aborted_tx, aborted_rx) = std::sync::mpsc::channel::<()>();
    let hold = std::sync::Mutex::new((tx, aborted_rx));
    let options = {
        let mut o = SyncOptions::default();
        o.order_types = vec![3];
        o.progress = Some(Arc::new(move |p: &Progress| {
            if p.pages_done == 2 {
                let (tx, aborted) = &*hold.lock().unwrap();
                let _ = tx.send(());
                // Hold the task here until abort() has been called, so that it is cancelled at
                // its next await whatever the machine's load (a fixed sleep could be too short).
                let _ = aborted.recv_timeout(Duration::from_secs(30));
            }
            Ok(())
        }));
        o
    };
    let task_store = store.clone();
    let task = runtime::handle().spawn(async move { sync_orders(&c, &task_store, &options).await });
    rx.recv().unwrap();
    task.abort();
    aborted_tx.send(()).unwrap();
    let joined = runtime::block_on(task);
    assert!(joined.unwrap_err().is_cancelled());
    let run = &store.sync_runs(1).unwrap()[0];
    assert_eq!(run.status, "cancelled", "{run:?}");
    assert_eq!(run.created, store.count_orders(None).unwrap(), "{run:?}");
    // It stops at its first await that is not ready after abort(): page 3 may already have been
    // fetched ahead by then and is stored first. What must hold is that the run's counts are the
    // pages it committed, and that it did not run to the end.
    assert!((2..6).contains(&run.pages), "{run:?}");
    assert_eq!(run.fetched, 100 * run.pages, "{run:?}");
}

#[test]
fn writes_after_the_wal_was_deleted_under_the_store_survive_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let (ok, err) = finish(spawn("lose-wal", &db, None, None));
    assert!(!ok, "killed: {err}");
    let store = Store::open(&db).unwrap();
    assert_eq!(store.count_orders(None).unwrap(), 200);
}

// ---- soaks: `make test` runs them small; `make soak` long, printing its figures -----------

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (no dependency needed for picking orders to change).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

#[derive(Debug, Default)]
struct Figures {
    trials: usize,
    runs: usize,
    failed_runs: usize,
    faults: u64,
    changes: usize,
    kills: usize,
    lost: usize,
    duplicated: usize,
    stale: usize,
    unacknowledged: usize,
}

impl Figures {
    fn check(&mut self, sim: &Simulator, store: &Store) {
        let (lost, stale, unacknowledged) = compare(sim, store);
        let mut ids = std::collections::HashSet::new();
        let mut after = None;
        loop {
            let rows = store
                .orders(&magflow_emag::store::OrderQuery {
                    after,
                    ..Default::default()
                })
                .unwrap();
            let Some(last) = rows.last() else { break };
            after = Some(last.cursor);
            for r in &rows {
                if !ids.insert(r.id) {
                    self.duplicated += 1;
                }
            }
        }
        self.lost += lost;
        self.stale += stale;
        self.unacknowledged += unacknowledged;
    }

    fn print(&self, what: &str) {
        println!(
            "{what}: trials {}, sync runs {} ({} failed under faults), faults {}, order changes {}, \
             kills {}; lost {}, duplicated {}, stale {}, unacknowledged {}",
            self.trials,
            self.runs,
            self.failed_runs,
            self.faults,
            self.changes,
            self.kills,
            self.lost,
            self.duplicated,
            self.stale,
            self.unacknowledged
        );
    }

    fn assert_clean(&self) {
        assert_eq!(
            (self.lost, self.duplicated, self.stale, self.unacknowledged),
            (0, 0, 0, 0),
            "{self:?}"
        );
    }
}

/// Change `n` random orders of the simulator (their `modified` moves to now).
fn change_orders(sim: &Simulator, rng: &mut Lcg, ids: &[u64], n: usize) -> usize {
    for _ in 0..n {
        sim.touch_order(ids[rng.next(ids.len())]);
    }
    n
}

#[test]
fn fault_soak_loses_nothing_and_leaves_nothing_stale_or_unacknowledged() {
    use magflow_emag::sim::Fault;
    let trials = env_usize("MF_SOAK_TRIALS", 2);
    let orders = env_usize("MF_SOAK_ORDERS", 350);
    let runs_per_trial = env_usize("MF_SOAK_RUNS", 4);
    let mut figures = Figures::default();
    for trial in 0..trials {
        let sim = Arc::new(
            Simulator::start(SimConfig {
                orders,
                offers: 0,
                seed: 100 + trial as u64,
                enforce_rate_limits: false,
                fault_hold_seconds: 0.3,
                fault_retry_after_seconds: 0,
                ..SimConfig::default()
            })
            .unwrap(),
        );
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        let c = Client::new(
            ClientConfig::new(Credentials::new(sim.username(), sim.password()).unwrap())
                .with_base_url(sim.url())
                .without_rate_limit()
                .with_retry(RetryPolicy::from_secs(1, 0.001, 0.005, true, None).unwrap())
                .with_timeout(Duration::from_millis(200)),
        )
        .unwrap();
        let ids: Vec<u64> = sim
            .orders()
            .iter()
            .filter_map(|o| o["id"].as_u64())
            .collect();
        sim.set_random_faults(
            0.12,
            vec![
                Fault::Http500,
                Fault::Http503,
                Fault::Reset,
                Fault::RateLimit,
                Fault::IsError,
                Fault::MalformedJson,
                Fault::Timeout,
            ],
            trial as u64,
        )
        .unwrap();
        let changes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for run in 0..runs_per_trial {
            // Orders change between runs and during them (after each stored page).
            let mut rng = Lcg((trial * 1000 + run) as u64);
            figures.changes += change_orders(&sim, &mut rng, &ids, 5);
            let (changer, ids_in, counter) = (sim.clone(), ids.clone(), changes.clone());
            let rng = std::sync::Mutex::new(Lcg((trial * 7919 + run) as u64));
            let options = {
                let mut o = SyncOptions::default();
                o.acknowledge = true;
                o.progress = Some(Arc::new(move |_: &Progress| {
                    let n = change_orders(&changer, &mut rng.lock().unwrap(), &ids_in, 3);
                    counter.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    Ok(())
                }));
                o
            };
            figures.runs += 1;
            if runtime::block_on(async { sync_orders(&c, &store, &options).await }).is_err() {
                figures.failed_runs += 1;
            }
        }
        figures.faults += sim.stats()["faults_injected"]
            .as_object()
            .map_or(0, |kinds| kinds.values().filter_map(|n| n.as_u64()).sum());
        sim.set_random_faults(0.0, vec![], 0).unwrap();
        // The last changes must be a second old for an incremental run to take them.
        std::thread::sleep(Duration::from_millis(1100));
        let options = {
            let mut o = SyncOptions::default();
            o.acknowledge = true;
            o
        };
        let clean = runtime::block_on(async { sync_orders(&c, &store, &options).await }).unwrap();
        figures.runs += 1;
        assert_eq!(clean.status, "success");
        figures.trials += 1;
        figures.check(&sim, &store);
        figures.changes += changes.load(std::sync::atomic::Ordering::Relaxed);
    }
    figures.print("fault soak");
    assert!(figures.faults > 0 && figures.failed_runs > 0, "{figures:?}");
    figures.assert_clean();
}

#[test]
fn kill_soak_resumes_after_every_sigkill_losing_nothing() {
    let kills = env_usize("MF_SOAK_KILLS", 3);
    let orders = env_usize("MF_SOAK_KILL_ORDERS", 1200);
    let sim = sim(orders);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let store = Store::open(&db).unwrap();
    let ids: Vec<u64> = sim
        .orders()
        .iter()
        .filter_map(|o| o["id"].as_u64())
        .collect();
    let mut rng = Lcg(7);
    let mut figures = Figures {
        trials: 1,
        ..Figures::default()
    };
    for k in 0..kills {
        let before = store.count_orders(None).unwrap();
        let runs_before = store.sync_runs(1000).unwrap().len();
        let mut child = spawn("slow-sync", &db, Some(&sim), None);
        // Kill it once it has stored something of this run (a page, or its run row).
        let mut polls = 0;
        let killed = loop {
            if child.try_wait().unwrap().is_some() {
                break false; // finished before the kill: fine, nothing to kill
            }
            let stored = store.count_orders(None).unwrap() > before;
            let started = store.sync_runs(1000).unwrap().len() > runs_before;
            if stored || (started && k > 0 && rng.next(4) == 0) {
                child.kill().unwrap();
                break true;
            }
            std::thread::sleep(Duration::from_millis(2 + rng.next(20) as u64));
            polls += 1;
            assert!(polls < 20_000, "the child made no progress");
        };
        child.wait().unwrap();
        figures.runs += 1;
        if killed {
            figures.kills += 1;
        }
        figures.changes += change_orders(&sim, &mut rng, &ids, 20);
    }
    std::thread::sleep(Duration::from_millis(1100));
    let c = client(sim.url(), sim.username(), sim.password());
    let options = {
        let mut o = SyncOptions::default();
        o.acknowledge = true;
        o
    };
    let reopened = Store::open(&db).unwrap();
    assert!(reopened
        .sync_runs(1000)
        .unwrap()
        .iter()
        .all(|r| r.status != "running"));
    runtime::block_on(async { sync_orders(&c, &reopened, &options).await }).unwrap();
    figures.runs += 1;
    figures.check(&sim, &reopened);
    figures.print("kill soak");
    assert!(figures.kills > 0);
    figures.assert_clean();
}
