//! Backup + verify + restore of a store of 100,000 realistic orders, beside a Python baseline
//! on the same data in the same run (`json.dump` into `gzip`, then `json.load` back), and the
//! peak RSS of the process doing the Rust work (goal: >= 3x the baseline's throughput,
//! <= 150 MB: the store is streamed, never held in memory).
//!
//! Run: `cargo bench --bench backup` (ORDERS=100000, ROUNDS=3; PYTHON names the interpreter,
//! default `.venv/bin/python` if present, else `python3`). The measured work runs in a child
//! process of this binary, so the set-up (generating and storing the orders) does not count
//! toward the peak RSS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use magflow_emag::backup::{BackupFormat, BackupManager, CreateOptions, RestoreOptions};
use magflow_emag::store::{Scope, Store};
use magflow_emag::Platform;

mod support;
use support::{env_count, median, peak_rss_mb, python_seconds, sample_orders_in_slices};

/// The child: one round of create + verify + restore in each format; prints seconds and RSS.
fn measure(db: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(Store::open(db)?);
    let manager = BackupManager::new(store, dir)?;
    for (label, format) in [("json.gz", None), ("sqlite", Some(BackupFormat::Sqlite))] {
        let started = Instant::now();
        let info = manager.create(&{
            let mut o = CreateOptions::default();
            o.format = format;
            o
        })?;
        let created = started.elapsed().as_secs_f64();
        let rss_create = peak_rss_mb();
        let report = manager.verify(&info.filename)?;
        assert!(report.valid, "{report:?}");
        let verified = started.elapsed().as_secs_f64();
        let rss_verify = peak_rss_mb();
        let restored = manager.restore(&info.filename, &RestoreOptions::default())?;
        let total = started.elapsed().as_secs_f64();
        eprintln!(
            "{label}: create {created:.2} s, verify {:.2} s, restore {:.2} s; peak RSS after each {rss_create:.0} / {rss_verify:.0} / {:.0} MB",
            verified - created,
            total - verified,
            peak_rss_mb()
        );
        println!(
            "{label} {total:.4} {created:.4} {:.4} {:.4} {} {}",
            verified - created,
            total - verified,
            info.size_bytes,
            restored.counts["orders"]
        );
        std::fs::remove_file(&info.backup_path)?;
    }
    println!("rss {:.1}", peak_rss_mb());
    Ok(())
}

const PYTHON_BASELINE: &str = r#"
import gzip, json, sqlite3, sys, time
db, out = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(db)
conn.row_factory = sqlite3.Row
rows = [dict(r) for r in conn.execute("SELECT * FROM orders")]
started = time.perf_counter()
with gzip.open(out, "wt", encoding="utf-8") as fh:
    json.dump({"orders": rows}, fh)
with gzip.open(out, "rt", encoding="utf-8") as fh:
    back = json.load(fh)
elapsed = time.perf_counter() - started
assert len(back["orders"]) == len(rows)
print(f"{elapsed:.4f} {len(rows)}")
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        return measure(Path::new(&args[i + 1]), Path::new(&args[i + 2]));
    }
    let orders = env_count("ORDERS", 100_000);
    let rounds = env_count("ROUNDS", 3);
    let work = tempfile::tempdir()?;
    // MF_BENCH_DB: reuse (or leave behind) a prepared store, to profile the measured part alone.
    let db: PathBuf = std::env::var("MF_BENCH_DB")
        .map(PathBuf::from)
        .unwrap_or_else(|_| work.path().join("store.db"));
    if !db.exists() {
        let store = Store::open(&db)?;
        let scope = Scope::new(Platform::EmagRo, "main");
        sample_orders_in_slices(orders, |batch| {
            for page in batch.chunks(1000) {
                store.upsert_orders(&scope, page, None)?;
            }
            Ok(())
        })?;
    }
    let db_mb = std::fs::metadata(&db)?.len() as f64 / 1e6;
    println!("backup bench: {orders} orders (store {db_mb:.0} MB), {rounds} rounds, medians");

    let exe = std::env::current_exe()?;
    let mut rust_json = Vec::new();
    let mut rust_sqlite = Vec::new();
    let mut rss: f64 = 0.0;
    let mut size_json = 0u64;
    for _ in 0..rounds {
        let dir = work.path().join("backups");
        let out = Command::new(&exe)
            .arg("--measure")
            .arg(&db)
            .arg(&dir)
            .stderr(std::process::Stdio::inherit())
            .output()?;
        if !out.status.success() {
            return Err(format!("measure failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        for line in String::from_utf8(out.stdout)?.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f[0] {
                "json.gz" => {
                    rust_json.push(f[1].parse::<f64>()?);
                    size_json = f[5].parse()?;
                }
                "sqlite" => rust_sqlite.push(f[1].parse::<f64>()?),
                "rss" => rss = rss.max(f[1].parse()?),
                _ => {}
            }
        }
    }
    let mut py = Vec::new();
    for _ in 0..rounds {
        py.push(python_seconds(
            PYTHON_BASELINE,
            &[&db, &work.path().join("baseline.json.gz")],
        )?);
    }
    let (j, s, p) = (median(rust_json), median(rust_sqlite), median(py));
    let rate = |secs: f64| orders as f64 / secs;
    println!(
        "  python baseline (json.dump into gzip + json.load): {p:7.2} s  {:>9.0} orders/s",
        rate(p)
    );
    println!(
        "  rust json.gz  (create + verify + restore):          {j:7.2} s  {:>9.0} orders/s  {:.1}x the baseline (goal >= 3x); file {:.0} MB",
        rate(j),
        p / j,
        size_json as f64 / 1e6
    );
    println!(
        "  rust sqlite   (create + verify + restore):          {s:7.2} s  {:>9.0} orders/s  {:.1}x the baseline",
        rate(s),
        p / s
    );
    println!("  peak RSS of the Rust process: {rss:.0} MB (goal <= 150 MB)");
    Ok(())
}
