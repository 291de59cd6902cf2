//! Ingest into PostgreSQL: 100,000 realistic orders as eMAG sends them (pages of 100) parsed,
//! validated and upserted with change detection into a fresh schema, beside, in the same run:
//! a Python baseline doing `json.loads` + psycopg `executemany` upserts into the same table, a
//! transaction per page; and a plain `COPY` of the same rows (prepared beforehand) as the
//! engine's ceiling. Goals: >= 20,000 orders/s, >= 3x the baseline, peak RSS <= 150 MB.
//!
//! Run: `cargo bench --bench ingest_pg` (ORDERS=100000, ROUNDS=3; the server is
//! `MF_TEST_POSTGRES_URL`, else a throwaway cluster from scripts/pg-test-cluster.sh; the
//! baseline needs psycopg in the Python used: `pip install "psycopg[binary]"`).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use magflow_emag::client::RawItems;
use magflow_emag::store::{Scope, Store};
use magflow_emag::sync::{ingest_order_pages, store_orders_page_raw};
use magflow_emag::Platform;

mod support;
use support::{env_count, median, peak_rss_mb, python, sample_orders_in_slices, PgServer};

fn page_items(line: std::io::Result<Vec<u8>>) -> magflow_emag::Result<RawItems> {
    let line: bytes::Bytes = line
        .map_err(|e| magflow_emag::Error::internal(e.to_string()))?
        .into();
    RawItems::from_success_body(line).ok_or_else(|| magflow_emag::Error::internal("not a page"))
}

/// COPY's text format: backslash, tab and newline escaped; NULL as \N.
fn copy_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) => {
            for b in s.bytes() {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\t' => out.extend_from_slice(b"\\t"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'\r' => out.extend_from_slice(b"\\r"),
                    _ => out.push(b),
                }
            }
        }
    }
}

/// The child: `sync` (a transaction per page, as the sync stores), `bulk`
/// (`ingest_order_pages`), or `copy` (the rows prepared first, then one plain COPY timed).
fn measure(pages: &Path, url: &str, mode: &str) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(url)?;
    let scope = Scope::new(Platform::EmagRo, "main");
    let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(pages)?);
    let lines = reader.split(b'\n');
    let mut stored = 0u64;
    let started;
    if mode == "copy" {
        let mut tsv = Vec::new();
        for line in lines {
            let body: serde_json::Value = serde_json::from_slice(&line?)?;
            for o in body["results"].as_array().ok_or("no results")? {
                let text = serde_json::to_string(o)?;
                let int = |k: &str| o.get(k).and_then(|v| v.as_i64()).map(|v| v.to_string());
                let s = |k: &str| o.get(k).and_then(|v| v.as_str()).map(str::to_owned);
                let fields: [Option<String>; 10] = [
                    Some("emag_ro".into()),
                    Some("main".into()),
                    int("id"),
                    int("status"),
                    int("type"),
                    s("date"),
                    Some(text),
                    Some("-".into()),
                    Some("2026-01-01T00:00:00.000Z".into()),
                    Some("2026-01-01T00:00:00.000Z".into()),
                ];
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        tsv.push(b'\t');
                    }
                    copy_field(&mut tsv, f.as_deref());
                }
                tsv.push(b'\n');
                stored += 1;
            }
        }
        drop(store);
        let schema = url.rsplit("schema=").next().ok_or("schema")?.to_owned();
        let base = url.split('?').next().ok_or("url")?.to_owned();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        started = Instant::now();
        rt.block_on(async {
            use futures_util::SinkExt;
            let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            let sink = client
                .copy_in(&format!(
                    "COPY {schema}.orders (platform, account, order_id, status, type, emag_date, data, content_hash, first_seen_at, synced_at) FROM STDIN"
                ))
                .await?;
            futures_util::pin_mut!(sink);
            for chunk in tsv.chunks(1 << 20) {
                sink.send(bytes::Bytes::copy_from_slice(chunk)).await?;
            }
            sink.close().await?;
            Ok::<(), tokio_postgres::Error>(())
        })?;
    } else if mode == "bulk" {
        started = Instant::now();
        let total = ingest_order_pages(&store, &scope, lines.map(page_items))?;
        stored = total.counts.created + total.counts.updated + total.counts.unchanged;
    } else {
        started = Instant::now();
        for line in lines {
            let orders = page_items(line)?;
            let page = store_orders_page_raw(&store, &scope, &orders, None)?;
            stored += page.counts.created + page.counts.updated + page.counts.unchanged;
        }
    }
    println!(
        "{:.4} {stored} {:.1}",
        started.elapsed().as_secs_f64(),
        peak_rss_mb()
    );
    Ok(())
}

const PYTHON_BASELINE: &str = r#"
import hashlib, json, sys, time
from datetime import datetime, timezone
import psycopg
pages, url, schema = sys.argv[1], sys.argv[2], sys.argv[3]
conn = psycopg.connect(url)
sql = f"""INSERT INTO {schema}.orders (platform, account, order_id, status, type, payment_mode_id,
    emag_date, emag_modified, customer_name, products_count, data, content_hash, first_seen_at, synced_at)
    VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)
    ON CONFLICT (platform, account, order_id) DO UPDATE SET status = excluded.status, type = excluded.type,
    payment_mode_id = excluded.payment_mode_id, emag_date = excluded.emag_date,
    emag_modified = excluded.emag_modified, customer_name = excluded.customer_name,
    products_count = excluded.products_count, data = excluded.data,
    content_hash = excluded.content_hash, synced_at = excluded.synced_at"""
started = time.perf_counter()
n = 0
with open(pages, "rb") as fh:
    for line in fh:
        body = json.loads(line)
        now = datetime.now(timezone.utc).isoformat()
        rows = []
        for o in body["results"]:
            text = json.dumps(o, ensure_ascii=False)
            rows.append(("emag_ro", "main", o["id"], o.get("status"), o.get("type"), o.get("payment_mode_id"),
                         o.get("date"), o.get("modified"), (o.get("customer") or {}).get("name"),
                         len(o.get("products") or []), text, hashlib.sha256(text.encode()).hexdigest(), now, now))
        with conn.transaction():
            with conn.cursor() as cur:
                cur.executemany(sql, rows)
        n += len(rows)
print(f"{time.perf_counter() - started:.4f} {n}")
"#;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--measure") {
        return measure(Path::new(&args[i + 1]), &args[i + 2], &args[i + 3]);
    }
    let orders = env_count("ORDERS", 100_000);
    let rounds = env_count("ROUNDS", 3);
    let server = PgServer::start()?;
    let work = tempfile::tempdir()?;
    let pages = work.path().join("pages.jsonl");
    {
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
    println!("ingest_pg bench: {orders} orders in pages of 100 into PostgreSQL, {rounds} rounds, medians");
    let exe = std::env::current_exe()?;
    let (mut sync, mut bulk, mut copy, mut py, mut rss) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), 0.0f64);
    for round in 0..rounds {
        for (mode, times) in [
            ("sync", &mut sync),
            ("bulk", &mut bulk),
            ("copy", &mut copy),
        ] {
            let schema = format!("bench_{mode}_{}_{round}", std::process::id());
            let url = server.with_schema(&schema);
            let out = Command::new(&exe)
                .arg("--measure")
                .arg(&pages)
                .arg(&url)
                .arg(mode)
                .output()?;
            if !out.status.success() {
                return Err(
                    format!("{mode} failed: {}", String::from_utf8_lossy(&out.stderr)).into(),
                );
            }
            server.drop_schema(&schema)?;
            let text = String::from_utf8(out.stdout)?;
            let f: Vec<&str> = text.split_whitespace().collect();
            times.push(f[0].parse::<f64>()?);
            if f[1].parse::<usize>()? != orders {
                return Err(format!("{mode}: stored {} of {orders} orders", f[1]).into());
            }
            if mode != "copy" {
                rss = rss.max(f[2].parse()?);
            }
        }
        // The baseline into the same table, in a schema of its own.
        let schema = format!("bench_py_{}_{round}", std::process::id());
        drop(Store::open(server.with_schema(&schema))?);
        let out = Command::new(python())
            .arg("-c")
            .arg(PYTHON_BASELINE)
            .arg(&pages)
            .arg(&server.url)
            .arg(&schema)
            .output()?;
        if !out.status.success() {
            return Err(format!(
                "python baseline failed (psycopg installed?): {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        server.drop_schema(&schema)?;
        py.push(
            String::from_utf8(out.stdout)?
                .split_whitespace()
                .next()
                .ok_or("no output")?
                .parse::<f64>()?,
        );
    }
    let (s, b, c, p) = (median(sync), median(bulk), median(copy), median(py));
    let rate = |t: f64| orders as f64 / t;
    println!("  python baseline (json.loads + psycopg executemany upsert, a transaction per page): {p:6.2} s {:>8.0} orders/s", rate(p));
    println!("  rust, the sync's page path (parse + validate + upsert with change detection, a transaction per page): {s:6.2} s {:>8.0} orders/s (goal >= 20000)  {:.1}x the baseline (goal >= 3x)", rate(s), p / s);
    println!("  rust, ingest_order_pages (up to 64 pages per transaction, two at once, parsing on a second thread): {b:6.2} s {:>8.0} orders/s  {:.1}x the baseline", rate(b), p / b);
    println!(
        "  ceiling: plain COPY of the same rows (prepared beforehand): {c:6.2} s {:>8.0} orders/s",
        rate(c)
    );
    println!("  peak RSS of the Rust process: {rss:.0} MB (goal <= 150 MB)");
    Ok(())
}
