//! Ingest: 100,000 realistic orders as eMAG sends them (pages of 100, each an
//! `{isError, messages, results}` body) parsed, validated and upserted into a fresh store with
//! `sync::ingest_order_pages` (the sync's checks and writes, parsing on a second thread, the
//! pages ready at each commit in one transaction). Beside it in the same run, a plain Python
//! baseline on the same pages: `json.loads` each page, `sqlite3` `executemany` into a plain
//! table with the same key and the main columns (WAL and `synchronous=NORMAL` like the store),
//! one transaction per page; and the same Python committing 16 pages at a time, for a fair
//! view of the grouping. Also shown: the sync's own one-thread page path. Goals: >= 20,000
//! orders/s, peak RSS <= 150 MB, >= 5x the baseline.
//!
//! Run: `cargo bench --bench ingest` (ORDERS=100000, ROUNDS=5; PYTHON as for the backup bench).
//! The measured work runs in a child process, so preparing the pages does not count toward
//! its peak RSS.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use magflow_emag::client::{RawItems, RawResults};
use magflow_emag::store::{Scope, Store};
use magflow_emag::sync::{ingest_order_pages, store_orders_page_raw};
use magflow_emag::Platform;

mod support;
use support::{
    env_count, median, peak_rss_mb, python_seconds, quiet_disk, sample_orders_in_slices,
};

/// A saved answer: the envelope checked and the orders found in one pass, kept as sent.
fn page_items(line: std::io::Result<Vec<u8>>) -> magflow_emag::Result<RawItems> {
    let line: bytes::Bytes = line
        .map_err(|e| magflow_emag::Error::internal(e.to_string()))?
        .into();
    if let Some(items) = RawItems::from_success_body(line.clone()) {
        return Ok(items);
    }
    // Not a success with a list: let the full reading say what it is.
    RawResults::from_success_body(line)
        .ok_or_else(|| magflow_emag::Error::internal("a page that is not a success"))?
        .items("order/read")
}

/// The child: every page parsed, validated and stored, either page by page on one thread as
/// the sync stores a page (`sync`), or through `ingest_order_pages` (`bulk`: parsing on a
/// second thread while SQLite writes); prints seconds, orders, invalid, RSS.
fn measure(pages: &Path, db: &Path, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(db)?;
    let scope = Scope::new(Platform::EmagRo, "main");
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(pages)?);
    let started = Instant::now();
    let lines = reader.split(b'\n');
    let (mut stored, mut invalid) = (0u64, 0u64);
    if mode == "bulk" {
        let total = ingest_order_pages(&store, &scope, lines.map(page_items))?;
        stored = total.counts.created + total.counts.updated + total.counts.unchanged;
        invalid = total.invalid;
    } else {
        for line in lines {
            let orders = page_items(line)?;
            let page = store_orders_page_raw(&store, &scope, &orders, None)?;
            stored += page.counts.created + page.counts.updated + page.counts.unchanged;
            invalid += page.invalid;
        }
    }
    println!(
        "{:.4} {stored} {invalid} {:.1}",
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}

const PYTHON_BASELINE: &str = r#"
import json, sqlite3, sys, time
pages, db = sys.argv[1], sys.argv[2]
group = int(sys.argv[3]) if len(sys.argv) > 3 else 1  # pages per transaction
conn = sqlite3.connect(db, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("""CREATE TABLE orders (platform TEXT NOT NULL, account TEXT NOT NULL, order_id INTEGER NOT NULL,
    status INTEGER, type INTEGER, payment_mode_id INTEGER, emag_date TEXT, emag_modified TEXT,
    customer_name TEXT, products_count INTEGER, data TEXT NOT NULL,
    UNIQUE (platform, account, order_id))""")
started = time.perf_counter()
n = 0
in_tx = 0
with open(pages, "rb") as fh:
    for line in fh:
        body = json.loads(line)
        rows = [("emag_ro", "main", o["id"], o.get("status"), o.get("type"), o.get("payment_mode_id"),
                 o.get("date"), o.get("modified"), (o.get("customer") or {}).get("name"),
                 len(o.get("products") or []), json.dumps(o, ensure_ascii=False)) for o in body["results"]]
        if not in_tx:
            conn.execute("BEGIN")
        conn.executemany("INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        in_tx += 1
        if in_tx == group:
            conn.execute("COMMIT")
            in_tx = 0
        n += len(rows)
if in_tx:
    conn.execute("COMMIT")
print(f"{time.perf_counter() - started:.4f} {n}")
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        return measure(
            Path::new(&args[i + 1]),
            Path::new(&args[i + 2]),
            &args[i + 3],
        );
    }
    let orders = env_count("ORDERS", 100_000);
    let rounds = env_count("ROUNDS", 5);
    let work = tempfile::tempdir()?;
    // MF_BENCH_PAGES: reuse (or leave behind) the pages, to profile the measured part alone.
    let pages: PathBuf = std::env::var("MF_BENCH_PAGES")
        .map(PathBuf::from)
        .unwrap_or_else(|_| work.path().join("pages.jsonl"));
    if !pages.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&pages)?);
        sample_orders_in_slices(orders, |batch| {
            for page in batch.chunks(100) {
                let body = serde_json::json!({"isError": false, "messages": [], "results": page});
                serde_json::to_writer(&mut out, &body)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        })?;
        out.flush()?;
    }
    let mb = std::fs::metadata(&pages)?.len() as f64 / 1e6;
    println!("ingest bench: {orders} orders in pages of 100 ({mb:.0} MB of JSON), {rounds} rounds, medians");

    let exe = std::env::current_exe()?;
    let (mut ours, mut bulk, mut py, mut rss, mut invalid) =
        (Vec::new(), Vec::new(), Vec::new(), 0.0f64, 0u64);
    let mut py_grouped = Vec::new();
    let py_db = work.path().join("py.db");
    for _ in 0..rounds {
        for (mode, times) in [("sync", &mut ours), ("bulk", &mut bulk)] {
            let db = work.path().join(format!("rust-{mode}.db"));
            quiet_disk(&[
                &work.path().join("rust-sync.db"),
                &work.path().join("rust-bulk.db"),
                &py_db,
            ]);
            let out = Command::new(&exe)
                .arg("--measure")
                .arg(&pages)
                .arg(&db)
                .arg(mode)
                .output()?;
            if !out.status.success() {
                return Err(
                    format!("measure failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            let text = String::from_utf8(out.stdout)?;
            let f: Vec<&str> = text.split_whitespace().collect();
            times.push(f[0].parse::<f64>()?);
            if f[1].parse::<usize>()? != orders {
                return Err(format!("{mode}: stored {} of {orders} orders", f[1]).into());
            }
            invalid = f[2].parse()?;
            rss = rss.max(f[3].parse()?);
        }
        let db = py_db.clone();
        quiet_disk(&[
            &work.path().join("rust-sync.db"),
            &work.path().join("rust-bulk.db"),
            &db,
        ]);
        py.push(python_seconds(PYTHON_BASELINE, &[&pages, &db])?);
        quiet_disk(&[&db]);
        py_grouped.push(python_seconds(
            PYTHON_BASELINE,
            &[&pages, &db, Path::new("16")],
        )?);
    }
    let (o, b, p) = (median(ours), median(bulk), median(py));
    let pg = median(py_grouped);
    let rate = |s: f64| orders as f64 / s;
    println!(
        "  python baseline (json.loads + sqlite3 executemany, a transaction per page): {p:6.2} s  {:>8.0} orders/s",
        rate(p)
    );
    println!(
        "  the same Python, 16 pages per transaction (as ingest_order_pages groups): {pg:6.2} s  {:>8.0} orders/s",
        rate(pg)
    );
    println!(
        "  rust, ingest_order_pages (parse + validate + upsert with change detection, parsing on a second thread): {b:6.2} s  {:>8.0} orders/s (goal >= 20000)  {:.1}x the baseline (goal >= 5x), {:.1}x the grouped Python",
        rate(b),
        p / b,
        pg / b
    );
    println!(
        "  for comparison, the sync's own page path (one thread, a commit per page with its checkpoint): {o:6.2} s  {:>8.0} orders/s  {:.1}x the baseline",
        rate(o),
        p / o
    );
    println!("  peak RSS of the Rust process: {rss:.0} MB (goal <= 150 MB); orders with validation messages: {invalid}");
    Ok(())
}
