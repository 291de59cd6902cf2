//! Helpers shared by the benchmarks that measure in a child process beside a Python baseline
//! (`backup`, `ingest`). Not a bench target itself (Cargo only discovers `benches/*.rs`).

use std::path::Path;

use chrono::NaiveDate;
use serde_json::Value;

/// The median of some figures.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The peak RSS of this process image (`VmHWM`; `getrusage`'s `ru_maxrss` would carry the
/// parent's peak across fork + exec).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// The Python of the baseline: `PYTHON`, else the project's `.venv`, else `python3`.
pub fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| {
        if Path::new(".venv/bin/python").exists() {
            ".venv/bin/python".into()
        } else {
            "python3".into()
        }
    })
}

/// A count from the environment, or `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `count` realistic orders with distinct ids, handed over in slices of at most 20,000 so the
/// set-up itself stays small.
pub fn sample_orders_in_slices(
    count: usize,
    mut slice: impl FnMut(Vec<Value>) -> Result<(), Box<dyn std::error::Error>>,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = NaiveDate::from_ymd_opt(2026, 11, 30)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .ok_or("date")?;
    let (mut made, mut seed) = (0, 1);
    while made < count {
        let n = (count - made).min(20_000);
        let mut batch = magflow_emag::sim::sample_orders(n, 200, seed, now);
        // Each slice is seeded alike from id 1: renumber so ids stay distinct across slices.
        for (i, o) in batch.iter_mut().enumerate() {
            o["id"] = serde_json::json!(400_000_000 + made + i);
        }
        slice(batch)?;
        made += n;
        seed += 1;
    }
    Ok(())
}

/// Start a measured run on a quiet disk: remove what an earlier run left (`paths` and their
/// `-wal`/`-shm` files) and flush every dirty page, so no run pays for the writeback of the
/// run before it (a 300 MB store is still being written out seconds after its process ends).
#[allow(dead_code)]
pub fn quiet_disk(paths: &[&std::path::Path]) {
    for path in paths {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(std::path::PathBuf::from(p));
        }
    }
    // SAFETY: sync(2) takes no arguments and cannot fail.
    unsafe { libc::sync() };
}

/// Run a Python baseline script with `args`; the seconds it prints first (its own timing of
/// the measured part).
#[allow(dead_code)]
pub fn python_seconds(
    script: &str,
    args: &[&std::path::Path],
) -> Result<f64, Box<dyn std::error::Error>> {
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "python baseline failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    Ok(text
        .split_whitespace()
        .next()
        .ok_or("no output")?
        .parse::<f64>()?)
}

/// A PostgreSQL server for a benchmark: `MF_TEST_POSTGRES_URL`, else a throwaway cluster
/// started with `scripts/pg-test-cluster.sh` (stopped when the guard drops).
#[allow(dead_code)]
pub struct PgServer {
    /// The server's URL (role and database; add `?schema=`).
    pub url: String,
    dir: Option<std::path::PathBuf>,
}

#[allow(dead_code)]
impl PgServer {
    pub fn start() -> Result<PgServer, Box<dyn std::error::Error>> {
        if let Ok(url) = std::env::var("MF_TEST_POSTGRES_URL") {
            if !url.is_empty() {
                return Ok(PgServer { url, dir: None });
            }
        }
        let dir = std::env::temp_dir().join(format!("magflow-pg-bench-{}", std::process::id()));
        let run = |arg: &str| {
            std::process::Command::new("scripts/pg-test-cluster.sh")
                .arg(arg)
                .env("MF_PG_DIR", &dir)
                .output()
        };
        let started = run("start")?;
        if !started.status.success() {
            return Err(format!(
                "no PostgreSQL server: set MF_TEST_POSTGRES_URL or install postgresql ({})",
                String::from_utf8_lossy(&started.stderr).trim()
            )
            .into());
        }
        let url = String::from_utf8(run("url")?.stdout)?.trim().to_owned();
        Ok(PgServer {
            url,
            dir: Some(dir),
        })
    }

    /// The URL with a schema of its own.
    pub fn with_schema(&self, schema: &str) -> String {
        let sep = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{sep}schema={schema}", self.url)
    }

    /// Drop a schema a measurement used, so that the server's background work on its tables
    /// (autovacuum of 100,000 new rows) does not run into the next measurement.
    pub fn drop_schema(&self, schema: &str) -> Result<(), Box<dyn std::error::Error>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
            tokio::spawn(conn);
            client
                .batch_execute(&format!(
                    "SET client_min_messages = warning; DROP SCHEMA IF EXISTS {schema} CASCADE"
                ))
                .await
        })?;
        Ok(())
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::process::Command::new("scripts/pg-test-cluster.sh")
                .arg("stop")
                .env("MF_PG_DIR", dir)
                .output();
        }
    }
}
