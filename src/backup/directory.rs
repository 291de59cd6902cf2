//! The backup operations that need only a directory (no store): list, verify, clean up.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::progress::ProgressTicker;
use super::reader::{format_of, read_backup, read_header};
use super::reports::iso;
use super::*;
use crate::error::{Error, ErrorKind, Result};

/// [`BackupManager::list`] for a directory (no store needed).
pub fn list_in(dir: &Path) -> Result<Vec<BackupEntry>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::backup(format!(
                "cannot list backup directory {}: {e}",
                dir.display()
            )))
        }
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some(parsed) = naming::parse(&name) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let header = read_header(&entry.path(), parsed.format);
        let (counts, sound, schema_version, error) = match header {
            Ok(h) => (h.counts(), true, Some(h.schema_version), None),
            Err(e) => (BTreeMap::new(), false, None, Some(e.to_string())),
        };
        found.push((
            parsed.created_at,
            parsed.sequence,
            BackupEntry {
                filename: name,
                format: parsed.format,
                created_at: iso(parsed.created_at),
                size_bytes: meta.len(),
                counts,
                sound,
                schema_version,
                error,
            },
        ));
    }
    found.sort_by(|a, b| (b.0, b.1, &b.2.filename).cmp(&(a.0, a.1, &a.2.filename)));
    Ok(found.into_iter().map(|(_, _, e)| e).collect())
}

/// [`BackupManager::verify`] for a directory (no store needed).
pub fn verify_in(
    dir: &Path,
    name: &str,
    progress: Option<&BackupProgressFn>,
) -> Result<VerifyReport> {
    let path = naming::resolve(dir, name)?;
    let format = format_of(name)?;
    let mut ticker = ProgressTicker::new("verify", progress, 0);
    if let Ok(h) = read_header(&path, format) {
        ticker.expected = h.tables.iter().map(|t| t.count).sum();
    }
    let result = read_backup(&path, format, false, &mut |_, _| {
        ticker.tick();
        Ok(())
    });
    ticker.emit();
    Ok(match result {
        Ok(v) => VerifyReport {
            filename: name.to_owned(),
            format,
            valid: true,
            counts: v.header.counts(),
            sha256: Some(v.sha256),
            error: None,
        },
        Err(e) if e.kind() == ErrorKind::Backup => VerifyReport {
            filename: name.to_owned(),
            format,
            valid: false,
            counts: BTreeMap::new(),
            sha256: None,
            error: Some(e.to_string()),
        },
        Err(e) => return Err(e),
    })
}

/// [`BackupManager::cleanup`] for a directory (no store needed), judged at the current time.
pub fn cleanup_in(dir: &Path, retention_days: f64, keep_min: usize) -> Result<CleanupReport> {
    cleanup_in_at(dir, retention_days, keep_min, Utc::now())
}

/// [`BackupManager::cleanup`] for a directory, at `now`.
pub fn cleanup_in_at(
    dir: &Path,
    retention_days: f64,
    keep_min: usize,
    now: DateTime<Utc>,
) -> Result<CleanupReport> {
    if !retention_days.is_finite() || retention_days < 0.0 {
        return Err(Error::invalid_argument(format!(
            "retention_days must be a number >= 0, got {retention_days}"
        )));
    }
    let cutoff =
        now - chrono::Duration::milliseconds((retention_days * 86_400_000.0).min(1e15) as i64);
    let listed = list_in(dir)?;
    let mut report = CleanupReport::default();

    // The newest backup that verifies is never deleted, whatever its age.
    let mut protected: Option<String> = None;
    for entry in listed.iter().filter(|e| e.sound) {
        if verify_in(dir, &entry.filename, None).is_ok_and(|r| r.valid) {
            protected = Some(entry.filename.clone());
            break;
        }
    }
    for (rank, entry) in listed.iter().enumerate() {
        let created = naming::parse(&entry.filename).map(|p| p.created_at);
        let expired = created.is_some_and(|c| c < cutoff);
        let keep = rank < keep_min || protected.as_deref() == Some(entry.filename.as_str());
        if expired && !keep {
            match fs::remove_file(dir.join(&entry.filename)) {
                Ok(()) => {
                    report.bytes_freed += entry.size_bytes;
                    report.deleted.push(entry.filename.clone());
                }
                Err(e) => {
                    log::warn!("backup cleanup could not delete {}: {e}", entry.filename);
                    report.kept.push(entry.filename.clone());
                }
            }
        } else {
            report.kept.push(entry.filename.clone());
        }
    }
    // Temporary files left by a crashed backup (no process holds them locked).
    report.temp_files_removed = naming::remove_stale_temps(dir);
    if !report.deleted.is_empty() {
        naming::sync_dir(dir)?;
    }
    Ok(report)
}
