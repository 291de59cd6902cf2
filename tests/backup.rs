//! Backup and restore on real SQLite files and real gzip files: round trips in every format,
//! damage of every kind refused with the store left exactly as it was, names that reach
//! outside the directory refused, retention by the UTC time in the names, the schedule.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use magflow_emag::backup::{
    self, BackupFormat, BackupManager, CreateOptions, RestoreMode, RestoreOptions, ScheduleOptions,
};
use magflow_emag::store::{Scope, Store, SyncRun};
use magflow_emag::{ErrorKind, Monitor, MonitorConfig, Platform};
use rusqlite::types::Value as SqlValue;
use serde_json::json;

fn scope() -> Scope {
    Scope::new(Platform::EmagRo, "main")
}

/// A store with realistic orders and offers, a sync-log row and a checkpoint.
fn filled_store(dir: &Path, orders: usize) -> Arc<Store> {
    let store = Store::open(dir.join("store.db")).unwrap();
    let now = NaiveDate::from_ymd_opt(2026, 11, 30)
        .unwrap()
        .and_hms_opt(12, 0, 0)
        .unwrap();
    let sample = magflow_emag::sim::sample_orders(orders, 20, 7, now);
    for page in sample.chunks(100) {
        store
            .upsert_orders(&scope(), page, Some(("orders/type=3", &json!({"page": 1}))))
            .unwrap();
    }
    let offers: Vec<_> = (1..=25)
        .map(|i| json!({"id": i, "name": format!("Produs {i} — ăîșț"), "status": i % 2, "sale_price": 10.25 * i as f64, "general_stock": i}))
        .collect();
    store.upsert_offers(&scope(), &offers, None).unwrap();
    let id = store.begin_sync_run("orders", &scope()).unwrap();
    store
        .finish_sync_run(&SyncRun {
            id,
            status: "success".into(),
            fetched: orders as u64,
            created: orders as u64,
            duration_s: Some(1.5),
            ..SyncRun::default()
        })
        .unwrap();
    Arc::new(store)
}

/// Every row of every table, in key order: what "exactly as it was" means.
fn dump(store: &Store) -> Vec<(String, Vec<Vec<SqlValue>>)> {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mut out = Vec::new();
    for (table, order) in [
        ("orders", "platform, account, order_id"),
        ("offers", "platform, account, offer_id"),
        ("sync_runs", "id"),
        ("checkpoints", "platform, account, kind"),
        // The schema too: a replace drops and re-creates the secondary indexes.
        ("sqlite_master", "name"),
    ] {
        let columns = if table == "sqlite_master" {
            "type, name, tbl_name, sql"
        } else {
            "*"
        };
        let mut stmt = conn
            .prepare(&format!("SELECT {columns} FROM {table} ORDER BY {order}"))
            .unwrap();
        let n = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, SqlValue>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        out.push((table.to_owned(), rows));
    }
    out
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn gzip_to(path: &Path, bytes: &[u8]) {
    let mut enc = flate2::write::GzEncoder::new(
        fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
}

/// A structurally valid backup whose last orders row appears twice.
fn duplicated_row_backup(text: &str) -> String {
    use sha2::Digest;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let trailer = lines.pop().unwrap();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["tables"][0]["count"] = json!(header["tables"][0]["count"].as_u64().unwrap() + 1);
    lines[0] = header.to_string();
    let last_order = lines
        .iter()
        .rposition(|l| l.starts_with("{\"t\":\"orders\""))
        .unwrap();
    let copy = lines[last_order].clone();
    lines.insert(last_order + 1, copy);
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut t: serde_json::Value = serde_json::from_str(&trailer).unwrap();
    t["trailer"]["rows"] = json!(t["trailer"]["rows"].as_u64().unwrap() + 1);
    t["trailer"]["counts"]["orders"] =
        json!(t["trailer"]["counts"]["orders"].as_u64().unwrap() + 1);
    t["trailer"]["sha256"] = json!(hex::encode(sha2::Sha256::digest(body.as_bytes())));
    format!("{body}{t}\n")
}

/// The same backup with its header's `created_at` changed and its checksum made to match
/// (what a backup created at that time would hold).
fn backdated(text: &str, created_at: &str) -> String {
    use sha2::Digest;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let trailer = lines.pop().unwrap();
    let mut header: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    header["created_at"] = json!(created_at);
    lines[0] = header.to_string();
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut t: serde_json::Value = serde_json::from_str(&trailer).unwrap();
    t["trailer"]["sha256"] = json!(hex::encode(sha2::Sha256::digest(body.as_bytes())));
    format!("{body}{t}\n")
}

fn mess_up(store: &Store) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DELETE FROM orders WHERE order_id IN (SELECT order_id FROM orders LIMIT 5);
         UPDATE offers SET name = 'changed' WHERE offer_id = 3;
         DELETE FROM sync_runs;",
    )
    .unwrap();
}

#[test]
fn json_gz_round_trip_restores_every_row_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 300);
    let before = dump(&store);
    let manager = BackupManager::new(store.clone(), dir.path().join("backups")).unwrap();

    let info = manager.create(&CreateOptions::default()).unwrap();
    assert!(info.filename.starts_with("emag_backup_") && info.filename.ends_with(".json.gz"));
    assert!(backup::parse_backup_name(&info.filename).is_some());
    assert_eq!(info.counts["orders"], 300);
    assert_eq!(info.counts["offers"], 25);
    assert_eq!(info.counts["sync_runs"], 1);
    assert_eq!(info.counts["checkpoints"], 1);
    assert_eq!(info.sha256.len(), 64);
    let meta = fs::metadata(&info.backup_path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(meta.len(), info.size_bytes);
    // Only the backup is left in the directory: no temporary file.
    let names: Vec<_> = fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec![info.filename.clone()]);
    // The content is gzip JSON lines a person can read with zcat.
    let text = String::from_utf8(gunzip(&info.backup_path)).unwrap();
    assert!(text.starts_with("{\"format\":\"magflow-emag-backup\""));
    assert_eq!(text.lines().count(), 1 + 300 + 25 + 1 + 1 + 1);

    let report = manager.verify(&info.filename).unwrap();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.sha256.as_deref(), Some(info.sha256.as_str()));

    mess_up(&store);
    assert_ne!(dump(&store), before);
    let restored = manager
        .restore(&info.filename, &RestoreOptions::default())
        .unwrap();
    assert_eq!(restored.counts["orders"], 300);
    assert_eq!(restored.mode, "replace");
    assert_eq!(dump(&store), before);
    // The store's own reads see the restored data.
    assert_eq!(store.count_orders(None).unwrap(), 300);
}

#[test]
fn plain_json_and_sqlite_snapshots_round_trip_too() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 120);
    let before = dump(&store);
    let manager = BackupManager::new(store.clone(), dir.path().join("b")).unwrap();
    for options in [
        {
            let mut o = CreateOptions::default();
            o.compress = false;
            o
        },
        {
            let mut o = CreateOptions::default();
            o.format = Some(BackupFormat::Sqlite);
            o
        },
    ] {
        let info = manager.create(&options).unwrap();
        assert_eq!(info.counts["orders"], 120);
        assert!(manager.verify(&info.filename).unwrap().valid);
        mess_up(&store);
        manager
            .restore(&info.filename, &RestoreOptions::default())
            .unwrap();
        assert_eq!(dump(&store), before, "{}", info.filename);
    }
    let formats: Vec<_> = manager.list().unwrap().iter().map(|e| e.format).collect();
    assert!(formats.contains(&BackupFormat::Json) && formats.contains(&BackupFormat::Sqlite));
}

#[test]
fn the_same_data_hashes_alike_in_both_formats_and_include_limits_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 50);
    let manager = BackupManager::new(store, dir.path().join("b")).unwrap();
    let include = Some(vec!["offers".to_owned(), "orders".to_owned()]);
    let a = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.include = include.clone();
            o.format = Some(BackupFormat::Sqlite);
            o
        })
        .unwrap();
    assert_eq!(
        a.counts.keys().collect::<Vec<_>>(),
        vec!["offers", "orders"]
    );
    let err = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.include = Some(vec!["passwords".into()]);
            o
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn two_backups_in_one_second_get_two_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 5);
    let manager = BackupManager::new(store, dir.path().join("b")).unwrap();
    let names: Vec<_> = (0..4)
        .map(|_| manager.create(&CreateOptions::default()).unwrap().filename)
        .collect();
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 4, "{names:?}");
    let listed = manager.list().unwrap();
    assert_eq!(listed.len(), 4);
    // Newest first: the last one written comes first.
    assert_eq!(listed[0].filename, names[3]);
}

fn assert_refused_and_unchanged(manager: &BackupManager, store: &Store, name: &str, needle: &str) {
    let before = dump(store);
    let report = manager.verify(name).unwrap();
    assert!(!report.valid, "{name} verified");
    let err = manager
        .restore(name, &RestoreOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backup, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("store is unchanged") && text.contains(needle),
        "{text}"
    );
    assert_eq!(dump(store), before);
}

#[test]
fn damaged_truncated_or_tampered_backups_are_refused_and_the_store_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 200);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    let good = manager.create(&CreateOptions::default()).unwrap();
    // The store moves on after the backup; a refused restore must not touch it.
    mess_up(&store);
    let bytes = fs::read(&good.backup_path).unwrap();
    let plain = gunzip(&good.backup_path);

    // 1. A flipped byte inside the compressed stream.
    let mut flipped = bytes.clone();
    let at = flipped.len() / 2;
    flipped[at] ^= 0x55;
    fs::write(bdir.join("emag_backup_20260101_000001.json.gz"), &flipped).unwrap();
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000001.json.gz", "");

    // 2. Cut in half (a crash or a full disk while copying).
    fs::write(
        bdir.join("emag_backup_20260101_000002.json.gz"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000002.json.gz", "");

    // 3. A row edited and the file re-compressed: gzip is sound, the checksum is not.
    let text = String::from_utf8(plain.clone()).unwrap();
    let tampered = text.replacen("Produs 3", "Produs 9", 1);
    assert_ne!(tampered, text);
    gzip_to(
        &bdir.join("emag_backup_20260101_000003.json.gz"),
        tampered.as_bytes(),
    );
    assert_refused_and_unchanged(
        &manager,
        &store,
        "emag_backup_20260101_000003.json.gz",
        "checksum",
    );

    // 4. Rows removed and the counts in the header left: incomplete.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(5);
    gzip_to(
        &bdir.join("emag_backup_20260101_000004.json.gz"),
        (lines.join("\n") + "\n").as_bytes(),
    );
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000004.json.gz", "");

    // 5. The trailer dropped: truncated, said so.
    let lines: Vec<&str> = text.lines().collect();
    gzip_to(
        &bdir.join("emag_backup_20260101_000005.json.gz"),
        (lines[..lines.len() - 1].join("\n") + "\n").as_bytes(),
    );
    assert_refused_and_unchanged(
        &manager,
        &store,
        "emag_backup_20260101_000005.json.gz",
        "truncated",
    );

    // 6. Not a backup at all, and an empty file.
    fs::write(
        bdir.join("emag_backup_20260101_000006.json"),
        b"{\"hello\": 1}\n",
    )
    .unwrap();
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000006.json", "");
    fs::write(bdir.join("emag_backup_20260101_000007.json.gz"), b"").unwrap();
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000007.json.gz", "");

    // 7. A file that passes every check but cannot go into the store (a row repeated, its
    //    counts and checksum made to match): the restore fails half-way and rolls back.
    let dup = duplicated_row_backup(&text);
    // Named with the good backup's time (the name must tell the time the manifest records).
    let dup_name = good.filename.replace(".json.gz", "_8.json");
    fs::write(bdir.join(&dup_name), &dup).unwrap();
    assert!(manager.verify(&dup_name).unwrap().valid);
    let before = dump(&store);
    let err = manager
        .restore(&dup_name, &RestoreOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backup, "{err}");
    assert!(err.to_string().contains("UNIQUE"), "{err}");
    assert_eq!(dump(&store), before);

    // The good one still restores.
    manager
        .restore(&good.filename, &RestoreOptions::default())
        .unwrap();
    // list() shows the broken ones as unsound, not as errors.
    let listed = manager.list().unwrap();
    let sound: Vec<_> = listed
        .iter()
        .filter(|e| e.sound)
        .map(|e| &e.filename)
        .collect();
    assert!(sound.contains(&&good.filename));
    assert!(listed
        .iter()
        .any(|e| e.filename == "emag_backup_20260101_000007.json.gz" && !e.sound));
}

#[test]
fn a_tampered_sqlite_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 40);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    let info = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.format = Some(BackupFormat::Sqlite);
            o
        })
        .unwrap();
    let copy = bdir.join("emag_backup_20260101_000000.sqlite");
    fs::copy(&info.backup_path, &copy).unwrap();
    rusqlite::Connection::open(&copy)
        .unwrap()
        .execute("UPDATE offers SET sale_price = 0.01 WHERE offer_id = 2", [])
        .unwrap();
    assert_refused_and_unchanged(
        &manager,
        &store,
        "emag_backup_20260101_000000.sqlite",
        "checksum",
    );
    fs::write(&copy, b"SQLite format 3\0garbage").unwrap();
    assert_refused_and_unchanged(&manager, &store, "emag_backup_20260101_000000.sqlite", "");
}

#[test]
fn names_outside_the_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 5);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    let info = manager.create(&CreateOptions::default()).unwrap();
    // A valid backup outside the directory, reachable by ../ or a link.
    let outside = dir.path().join("emag_backup_20250101_000000.json.gz");
    fs::copy(&info.backup_path, &outside).unwrap();
    std::os::unix::fs::symlink(&outside, bdir.join("emag_backup_20250101_000001.json.gz")).unwrap();
    for name in [
        "../emag_backup_20250101_000000.json.gz",
        outside.to_str().unwrap(),
        "sub/emag_backup_20250101_000000.json.gz",
        "emag_backup_20250101_000001.json.gz",
        "..",
        "",
        ".hidden.json.gz",
    ] {
        let err = manager
            .restore(name, &RestoreOptions::default())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArgument, "{name}: {err}");
        assert!(manager.verify(name).is_err(), "{name}");
    }
    let missing = manager
        .restore(
            "emag_backup_20990101_000000.json.gz",
            &RestoreOptions::default(),
        )
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Backup);
    assert!(missing.to_string().contains("not found"));
    // The link is not listed as a backup either.
    assert_eq!(manager.list().unwrap().len(), 1);
}

#[test]
fn merge_adds_what_is_missing_and_never_rolls_fresher_rows_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 30);
    let manager = BackupManager::new(store.clone(), dir.path().join("b")).unwrap();
    let info = manager.create(&CreateOptions::default()).unwrap();
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    // One order deleted, one changed later than the backup, a new sync run logged.
    let ids: Vec<i64> = conn
        .prepare("SELECT order_id FROM orders ORDER BY order_id LIMIT 2")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    conn.execute("DELETE FROM orders WHERE order_id = ?1", [ids[0]])
        .unwrap();
    conn.execute(
        "UPDATE orders SET status = 0, synced_at = '2999-01-01T00:00:00.000Z' WHERE order_id = ?1",
        [ids[1]],
    )
    .unwrap();
    let report = manager
        .restore(&info.filename, &{
            let mut o = RestoreOptions::default();
            o.mode = RestoreMode::Merge;
            o.progress = None;
            o
        })
        .unwrap();
    assert_eq!(report.mode, "merge");
    assert_eq!(store.count_orders(None).unwrap(), 30);
    let status: i64 = conn
        .query_row(
            "SELECT status FROM orders WHERE order_id = ?1",
            [ids[1]],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(status, 0, "the fresher row was kept");
    assert!(report.skipped["orders"] >= 1);
    // The same sync run is not logged twice.
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM sync_runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 1);
}

#[test]
fn cleanup_goes_by_the_time_in_the_name_and_leaves_other_files_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 3);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store, &bdir).unwrap();
    let info = manager.create(&CreateOptions::default()).unwrap();
    let plain = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.compress = false;
            o
        })
        .unwrap();
    // Old backups in both JSON forms, dated by their names.
    for name in [
        "emag_backup_20260101_000000.json.gz",
        "emag_backup_20260102_000000_1.json",
        "emag_backup_20261001_120000.sqlite",
    ] {
        fs::copy(&info.backup_path, bdir.join(name)).unwrap();
    }
    // Files that are not backups, old as they may be.
    for junk in [
        "notes.txt",
        "emag_backup_latest.json.gz",
        "other_20200101.json.gz",
    ] {
        fs::write(bdir.join(junk), b"keep me").unwrap();
    }
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
    // Our two fresh backups carry today's real date; judge from "now" = 2026-12-01 or later.
    let now = now.max(Utc::now());
    let report = backup::cleanup_in_at(&bdir, 30.0, 1, now).unwrap();
    let mut deleted = report.deleted.clone();
    deleted.sort();
    assert_eq!(
        deleted,
        vec![
            "emag_backup_20260101_000000.json.gz",
            "emag_backup_20260102_000000_1.json",
            "emag_backup_20261001_120000.sqlite",
        ]
    );
    assert!(report.bytes_freed > 0);
    for kept in [&info.filename, &plain.filename] {
        assert!(bdir.join(kept).exists());
    }
    for junk in [
        "notes.txt",
        "emag_backup_latest.json.gz",
        "other_20200101.json.gz",
    ] {
        assert!(bdir.join(junk).exists(), "{junk}");
    }
    // Far in the future with 0 days of retention: the newest valid backup stays.
    let later = now + chrono::Duration::days(400);
    let report = backup::cleanup_in_at(&bdir, 0.0, 0, later).unwrap();
    assert_eq!(report.kept.len(), 1);
    assert_eq!(report.deleted.len(), 1);
    // Bad arguments are refused.
    assert_eq!(
        manager.cleanup(-1.0, 1).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn cleanup_keeps_the_newest_backup_that_verifies_not_merely_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 3);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store, &bdir).unwrap();
    let info = manager.create(&CreateOptions::default()).unwrap();
    let good = "emag_backup_20250101_000000.json.gz";
    let text = String::from_utf8(gunzip(&info.backup_path)).unwrap();
    gzip_to(
        &bdir.join(good),
        backdated(&text, "2025-01-01T00:00:00.000Z").as_bytes(),
    );
    fs::remove_file(&info.backup_path).unwrap();
    let bytes = fs::read(bdir.join(good)).unwrap();
    // A newer but damaged backup.
    fs::write(
        bdir.join("emag_backup_20250601_000000.json.gz"),
        &bytes[..bytes.len() - 20],
    )
    .unwrap();
    let report = backup::cleanup_in_at(&bdir, 30.0, 0, Utc::now()).unwrap();
    assert_eq!(report.deleted, vec!["emag_backup_20250601_000000.json.gz"]);
    assert!(bdir.join(good).exists());
}

#[test]
fn a_failure_mid_backup_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 20);
    // A value JSON cannot hold, in the last table written before the trailer.
    rusqlite::Connection::open(store.path())
        .unwrap()
        .execute(
            "UPDATE offers SET sale_price = 9e999 WHERE offer_id = 25",
            [],
        )
        .unwrap();
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store, &bdir).unwrap();
    let err = manager.create(&CreateOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Backup);
    assert_eq!(fs::read_dir(&bdir).unwrap().count(), 0);
    assert!(manager.list().unwrap().is_empty());
}

#[test]
fn progress_is_reported_and_the_schedule_backs_up_cleans_and_reports_to_the_monitor() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 10);
    let monitor = Arc::new(Monitor::new(MonitorConfig::default()).unwrap());
    let manager = BackupManager::new(store, dir.path().join("b"))
        .unwrap()
        .with_monitor(monitor.clone());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    manager
        .create(&{
            let mut o = CreateOptions::default();
            o.progress = Some(Arc::new(move |p| {
                s.lock().unwrap().push((p.items, p.expected_items))
            }));
            o
        })
        .unwrap();
    let last = *seen.lock().unwrap().last().unwrap();
    assert_eq!(last, (37, 37));

    let schedule = manager
        .schedule({
            let mut o = ScheduleOptions::default();
            o.interval = Duration::from_secs(1);
            o
        })
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while schedule.status().runs < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(schedule.stop_and_wait(Duration::from_secs(10)));
    let status = schedule.status();
    assert!(status.runs >= 2 && status.failures == 0, "{status:?}");
    assert!(!status.running);
    let sync = monitor.metrics().sync;
    assert!(sync.runs >= 2);
    assert_eq!(sync.last.unwrap().kind, "backup");
    assert!(manager.list().unwrap().len() >= 2);
    assert_eq!(
        manager
            .schedule({
                let mut o = ScheduleOptions::default();
                o.interval = Duration::from_millis(10);
                o
            })
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn a_snapshot_manifest_naming_sql_instead_of_columns_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 10);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    let info = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.format = Some(BackupFormat::Sqlite);
            o
        })
        .unwrap();
    // A column "name" that is an endless query: pasted into SQL it would never return.
    let endless = "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                   SELECT count(*) FROM c)";
    for (n, bad) in [endless, "order_id\" FROM orders; --", "unknown_column"]
        .into_iter()
        .enumerate()
    {
        let name = format!("emag_backup_2026010{}_000000.sqlite", n + 1);
        let copy = bdir.join(&name);
        fs::copy(&info.backup_path, &copy).unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        let text: String = conn
            .query_row("SELECT json FROM magflow_backup_manifest", [], |r| r.get(0))
            .unwrap();
        let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        manifest["tables"][0]["columns"][1] = serde_json::json!(bad);
        conn.execute(
            "UPDATE magflow_backup_manifest SET json = ?1",
            [manifest.to_string()],
        )
        .unwrap();
        drop(conn);
        assert_refused_and_unchanged(&manager, &store, &name, "column");
    }
    // The schedule's cleanup verifies backups too: it finishes.
    manager.cleanup(0.0, 1).unwrap();
}

#[test]
fn appended_data_a_missing_final_newline_and_a_renamed_backup_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 30);
    let bdir = dir.path().join("b");
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    let gz = manager.create(&CreateOptions::default()).unwrap();
    let bytes = fs::read(&gz.backup_path).unwrap();
    let stem = gz.filename.trim_end_matches(".json.gz").to_owned();
    // Bytes after the gzip data, and a second gzip member.
    let mut appended = bytes.clone();
    appended.extend_from_slice(b"trailing garbage");
    let name = format!("{stem}_1.json.gz");
    fs::write(bdir.join(&name), &appended).unwrap();
    assert_refused_and_unchanged(&manager, &store, &name, "after the end of the gzip stream");
    let mut two_members = bytes.clone();
    two_members.extend_from_slice(&bytes);
    let name = format!("{stem}_2.json.gz");
    fs::write(bdir.join(&name), &two_members).unwrap();
    assert_refused_and_unchanged(&manager, &store, &name, "gzip");
    // A plain backup without its final newline.
    let plain = gunzip(&gz.backup_path);
    assert_eq!(plain.last(), Some(&b'\n'));
    let name = format!("{stem}_3.json");
    fs::write(bdir.join(&name), &plain[..plain.len() - 1]).unwrap();
    assert_refused_and_unchanged(&manager, &store, &name, "newline");
    // The intact file verifies under its own time.
    let name = format!("{stem}_4.json");
    fs::write(bdir.join(&name), &plain).unwrap();
    assert!(manager.verify(&name).unwrap().valid);
    // An older backup renamed to a newer time: found.
    let renamed = "emag_backup_20991231_235959.json.gz";
    fs::copy(&gz.backup_path, bdir.join(renamed)).unwrap();
    assert_refused_and_unchanged(&manager, &store, renamed, "not at the time in its name");
    // The same for a snapshot.
    let snap = manager
        .create(&{
            let mut o = CreateOptions::default();
            o.format = Some(BackupFormat::Sqlite);
            o
        })
        .unwrap();
    let renamed = "emag_backup_20991231_235959.sqlite";
    fs::copy(&snap.backup_path, bdir.join(renamed)).unwrap();
    assert_refused_and_unchanged(&manager, &store, renamed, "not at the time in its name");
}

#[test]
fn temporaries_of_killed_backups_are_removed_at_the_next_open_or_create_but_not_live_ones() {
    use std::os::unix::io::AsRawFd;
    let dir = tempfile::tempdir().unwrap();
    let store = filled_store(dir.path(), 5);
    let bdir = dir.path().join("b");
    fs::create_dir_all(&bdir).unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    let leftover = |name: &str| {
        let path = bdir.join(name);
        let mut file = fs::File::create(&path).unwrap();
        file.write_all(&[0u8; 4096]).unwrap();
        file.set_modified(old).unwrap();
        (path, file)
    };
    // Left by a killed backup: nobody holds it.
    let (dead, dead_file) = leftover(".emag_backup_20260101_000000.json.gz_999_0.tmp");
    drop(dead_file);
    // Being written by a live backup (it holds the lock).
    let (live, live_file) = leftover(".emag_backup_20260101_000001.json.gz_998_0.tmp");
    // SAFETY: a valid descriptor.
    assert_eq!(
        unsafe { libc::flock(live_file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) },
        0
    );
    let manager = BackupManager::new(store.clone(), &bdir).unwrap();
    assert!(!dead.exists(), "removed at open");
    assert!(live.exists(), "a live backup's file is kept");
    let (dead, dead_file) = leftover(".emag_backup_20260101_000002.json.gz_997_0.tmp");
    drop(dead_file);
    manager.create(&CreateOptions::default()).unwrap();
    assert!(!dead.exists(), "removed at create");
    assert!(live.exists());
    drop(live_file);
    let report = manager.cleanup(36500.0, 1).unwrap();
    assert_eq!(report.temp_files_removed.len(), 1, "{report:?}");
    assert!(!live.exists());
}
