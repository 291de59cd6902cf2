//! What the backup operations report: the backup written, the backups listed, verified,
//! restored and cleaned up.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::BackupFormat;

/// What [`BackupManager::create`](super::BackupManager::create) wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupInfo {
    /// The full path of the new backup.
    pub backup_path: PathBuf,
    /// Its file name (what `verify`/`restore` take).
    pub filename: String,
    /// `json.gz`, `json` or `sqlite`.
    pub format: BackupFormat,
    /// UTC creation time (also in the name).
    pub created_at: String,
    /// Rows per table.
    pub counts: BTreeMap<String, u64>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// File size.
    pub size_bytes: u64,
    /// Seconds it took.
    pub duration_s: f64,
}

/// One backup in [`BackupManager::list`](super::BackupManager::list).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupEntry {
    /// File name.
    pub filename: String,
    /// `json.gz`, `json` or `sqlite`.
    pub format: BackupFormat,
    /// UTC creation time from the name.
    pub created_at: String,
    /// File size.
    pub size_bytes: u64,
    /// Rows per table from the header (empty when the header is not sound).
    pub counts: BTreeMap<String, u64>,
    /// Whether the header reads as a backup this build can restore (a quick check; `verify`
    /// reads everything).
    pub sound: bool,
    /// Schema version of the store it came from.
    pub schema_version: Option<i64>,
    /// Why the header is not sound.
    pub error: Option<String>,
}

/// The result of [`BackupManager::verify`](super::BackupManager::verify).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// File name.
    pub filename: String,
    /// The format.
    pub format: BackupFormat,
    /// Whether every check passed.
    pub valid: bool,
    /// Rows per table (when valid).
    pub counts: BTreeMap<String, u64>,
    /// The content's SHA-256 (when valid).
    pub sha256: Option<String>,
    /// What is wrong (when not valid).
    pub error: Option<String>,
}

/// The result of [`BackupManager::restore`](super::BackupManager::restore).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RestoreReport {
    /// File name.
    pub filename: String,
    /// `replace` or `merge`.
    pub mode: &'static str,
    /// Rows written per table.
    pub counts: BTreeMap<String, u64>,
    /// Rows left as they were per table (`merge`: the store's copy was as fresh or fresher).
    pub skipped: BTreeMap<String, u64>,
    /// The verified SHA-256.
    pub sha256: String,
    /// Seconds it took (both passes).
    pub duration_s: f64,
}

/// The result of [`BackupManager::cleanup`](super::BackupManager::cleanup).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CleanupReport {
    /// Backups deleted.
    pub deleted: Vec<String>,
    /// Bytes those files held.
    pub bytes_freed: u64,
    /// Backups kept.
    pub kept: Vec<String>,
    /// Temporary files of crashed backups (older than an hour) removed.
    pub temp_files_removed: Vec<String>,
}

pub(super) fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}
