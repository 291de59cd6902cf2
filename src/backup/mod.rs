//! Backups of the store that really restore: verified, atomic, retained, scheduled.
//!
//! - [`BackupManager::create`] streams the store, inside one read transaction, to gzip JSON
//!   lines (a header with the manifest, the rows table by table, a trailer with the SHA-256),
//!   or takes an SQLite snapshot; written to a 0600 temporary file, fsynced, and linked into
//!   place under a collision-safe UTC name; the whole store is never held in memory.
//! - [`BackupManager::restore`] verifies the whole file first, then writes it in one
//!   transaction while checking it again: a corrupted, truncated or tampered file leaves the
//!   store exactly as it was.
//! - [`BackupManager::cleanup`] deletes by the UTC time in the names the library gave, never
//!   the newest backup that verifies, never a file that is not a backup.
//!
//! Files: `manager.rs` ([`BackupManager`]), `directory.rs` (the operations on a directory
//! alone), `options.rs`, `reports.rs`, `progress.rs`, `reader.rs` (reading and verifying a
//! backup of any format), `naming.rs` (names, path safety, atomic publish), `tables.rs` (what
//! is backed up), `format.rs` (the JSON-lines format), `cells.rs`, `pipe.rs`, `snapshot.rs`
//! (the SQLite format), `restore.rs` (the all-or-nothing write), `schedule.rs` (the periodic
//! task).

mod cells;
mod directory;
mod format;
mod manager;
mod naming;
mod options;
mod pipe;
mod progress;
mod reader;
mod reports;
mod restore;
mod schedule;
mod snapshot;
mod tables;

pub use directory::{cleanup_in, cleanup_in_at, list_in, verify_in};
pub use format::{Header, TableEntry, FORMAT, FORMAT_VERSION};
pub use manager::BackupManager;
pub use naming::{parse as parse_backup_name, BackupFormat, BackupName};
pub use options::{CreateOptions, RestoreOptions};
pub use progress::{BackupProgress, BackupProgressFn};
pub use reports::{BackupEntry, BackupInfo, CleanupReport, RestoreReport, VerifyReport};
pub use restore::RestoreMode;
pub use schedule::{BackupSchedule, ScheduleOptions, ScheduleStatus};
