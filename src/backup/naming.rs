//! Backup file names, the UTC time they carry, and the safety of names a caller passes.
//!
//! The library names its backups `emag_backup_YYYYmmdd_HHMMSS[_N].{json.gz,json,sqlite}` in
//! UTC. Retention is judged by that time (not by mtime, which a copy or a restore of the
//! directory changes), and only files of exactly that shape are ever deleted.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::error::{Error, Result};

/// Every backup file name starts with this.
pub const PREFIX: &str = "emag_backup_";
/// Temporary files of a backup in progress start with this (hidden, never listed).
pub const TEMP_PREFIX: &str = ".emag_backup_";
/// The suffix of a temporary file.
pub const TEMP_SUFFIX: &str = ".tmp";
const STAMP_FORMAT: &str = "%Y%m%d_%H%M%S";

/// The format of a backup file, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupFormat {
    /// gzip-compressed JSON lines (`.json.gz`).
    JsonGz,
    /// Plain JSON lines (`.json`).
    Json,
    /// An SQLite snapshot with a manifest table (`.sqlite`).
    Sqlite,
}

impl BackupFormat {
    /// The file extension, without the leading dot.
    pub fn extension(self) -> &'static str {
        match self {
            BackupFormat::JsonGz => "json.gz",
            BackupFormat::Json => "json",
            BackupFormat::Sqlite => "sqlite",
        }
    }

    /// The stable name used in results (`"json.gz"`, `"json"`, `"sqlite"`).
    pub fn name(self) -> &'static str {
        self.extension()
    }
}

/// A file name the library gave a backup, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupName {
    /// The whole file name.
    pub filename: String,
    /// The UTC creation time in the name.
    pub created_at: DateTime<Utc>,
    /// The collision suffix (0 when none).
    pub sequence: u32,
    /// The format.
    pub format: BackupFormat,
}

/// Parse a backup file name; `None` for anything that is not exactly one of ours.
pub fn parse(filename: &str) -> Option<BackupName> {
    let rest = filename.strip_prefix(PREFIX)?;
    let (stem, format) = if let Some(s) = rest.strip_suffix(".json.gz") {
        (s, BackupFormat::JsonGz)
    } else if let Some(s) = rest.strip_suffix(".json") {
        (s, BackupFormat::Json)
    } else if let Some(s) = rest.strip_suffix(".sqlite") {
        (s, BackupFormat::Sqlite)
    } else {
        return None;
    };
    // "YYYYmmdd_HHMMSS" is 15 ASCII characters, then optionally "_N".
    if stem.len() < 15 || !stem.is_char_boundary(15) {
        return None;
    }
    let (stamp, tail) = stem.split_at(15);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(&stamp[..8]) && &stamp[8..9] == "_" && digits(&stamp[9..])) {
        return None;
    }
    let sequence = match tail {
        "" => 0,
        t => {
            let n = t.strip_prefix('_').filter(|n| digits(n) && n.len() <= 6)?;
            n.parse().ok().filter(|n| *n > 0)?
        }
    };
    let naive = NaiveDateTime::parse_from_str(stamp, STAMP_FORMAT).ok()?;
    Some(BackupName {
        filename: filename.to_owned(),
        created_at: naive.and_utc(),
        sequence,
        format,
    })
}

/// The name for a backup created at `at` with collision suffix `sequence`.
pub fn format_name(at: DateTime<Utc>, sequence: u32, format: BackupFormat) -> String {
    let stamp = at.format(STAMP_FORMAT);
    match sequence {
        0 => format!("{PREFIX}{stamp}.{}", format.extension()),
        n => format!("{PREFIX}{stamp}_{n}.{}", format.extension()),
    }
}

/// Resolve a caller-supplied backup name inside `dir`, refusing anything that could reach
/// outside it: separators, `..`, absolute paths, NUL, and symbolic links.
pub fn resolve(dir: &Path, name: &str) -> Result<PathBuf> {
    let refuse = |why: &str| {
        Err(Error::invalid_argument(format!(
            "backup name {name:?} refused: {why}; pass a file name from list()"
        )))
    };
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.contains('/') || name.contains('\\') {
        return refuse("it contains a path separator");
    }
    if name == "." || name == ".." || name.starts_with('.') {
        return refuse("hidden and relative names are not backups");
    }
    if name.contains('\0') {
        return refuse("it contains a NUL byte");
    }
    let path = dir.join(name);
    match fs::symlink_metadata(&path) {
        Ok(meta) if meta.file_type().is_symlink() => refuse("it is a symbolic link"),
        Ok(meta) if !meta.is_file() => refuse("it is not a regular file"),
        Ok(_) => Ok(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::backup(format!(
            "backup {name:?} not found in {}",
            dir.display()
        ))),
        Err(e) => Err(Error::backup(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Open a resolved backup for reading without following a link swapped in meanwhile.
pub fn open_no_follow(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::backup(format!("cannot open {}: {e}", path.display())))
}

/// Create the backup directory (0700) if it does not exist.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(Error::backup(format!(
            "backup directory {} exists and is not a directory",
            dir.display()
        ))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| {
                Error::backup(format!(
                    "cannot create backup directory {}: {e}",
                    dir.display()
                ))
            })?;
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
            Ok(())
        }
        Err(e) => Err(Error::backup(format!(
            "cannot read backup directory {}: {e}",
            dir.display()
        ))),
    }
}

/// Hold an exclusive `flock` on a backup's temporary file while it is written, so a stale
/// one (its writer killed) can be told from one still being written, in any process.
pub fn lock_temp(path: &Path) -> Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| Error::backup(format!("cannot open {}: {e}", path.display())))?;
    // SAFETY: a valid descriptor owned by `file`.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc != 0 {
        return Err(Error::backup(format!(
            "cannot lock {}: {}",
            path.display(),
            io::Error::last_os_error()
        )));
    }
    Ok(file)
}

/// Remove the temporary files of backups whose writer is gone (killed, crashed): those no
/// process holds locked. Returns their names.
pub fn remove_stale_temps(dir: &Path) -> Vec<String> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        // A file seconds old may be one a writer created and has not locked yet.
        let settled = fs::symlink_metadata(entry.path()).is_ok_and(|m| {
            m.is_file()
                && m.modified().is_ok_and(|t| {
                    t.elapsed()
                        .is_ok_and(|age| age > std::time::Duration::from_secs(10))
                })
        });
        // Locked by nobody: its writer is gone. (The lock is dropped with the handle.)
        if settled && lock_temp(&entry.path()).is_ok() && fs::remove_file(entry.path()).is_ok() {
            removed.push(name);
        }
    }
    removed
}

/// A temporary file (0600) in `dir` for a backup being written.
pub fn create_temp(dir: &Path, final_hint: &str) -> Result<(PathBuf, File)> {
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            "{TEMP_PREFIX}{}_{}_{attempt}{TEMP_SUFFIX}",
            final_hint.trim_start_matches(PREFIX),
            std::process::id()
        ));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::backup(format!(
                    "cannot create a temporary file in {}: {e}",
                    dir.display()
                )))
            }
        }
    }
    Err(Error::backup(format!(
        "cannot create a temporary file in {}: too many leftovers",
        dir.display()
    )))
}

/// Put a finished, fsynced temporary file in place under the first free name for `at`:
/// a hard link fails atomically when the name exists, so two backups in one second (or two
/// processes) never overwrite each other. The directory is fsynced so the name survives a
/// crash.
pub fn publish(dir: &Path, temp: &Path, at: DateTime<Utc>, format: BackupFormat) -> Result<String> {
    for sequence in 0..10_000u32 {
        let name = format_name(at, sequence, format);
        match fs::hard_link(temp, dir.join(&name)) {
            Ok(()) => {
                let _ = fs::remove_file(temp);
                sync_dir(dir)?;
                return Ok(name);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(Error::backup(format!(
                    "cannot move the backup into place in {}: {e}",
                    dir.display()
                )))
            }
        }
    }
    Err(Error::backup("no free backup name left for this second"))
}

/// fsync a directory (makes a new or removed name durable).
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::backup(format!("cannot fsync {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn names_round_trip_and_junk_is_refused() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 21, 28, 5).unwrap();
        for format in [
            BackupFormat::JsonGz,
            BackupFormat::Json,
            BackupFormat::Sqlite,
        ] {
            for seq in [0, 1, 17] {
                let name = format_name(at, seq, format);
                let parsed = parse(&name).unwrap();
                assert_eq!(parsed.created_at, at);
                assert_eq!(parsed.sequence, seq);
                assert_eq!(parsed.format, format);
            }
        }
        assert_eq!(
            format_name(at, 0, BackupFormat::JsonGz),
            "emag_backup_20261201_212805.json.gz"
        );
        for junk in [
            "emag_backup_20261301_000000.json",
            "emag_backup_2026120_000000.json",
            "emag_backup_20261201_000000_0.json",
            "emag_backup_20261201_000000.json.gz.bak",
            "emag_backup_20261201_000000.txt",
            "backup.json.gz",
            "emag_backup_20261201_000000_x.json",
            "emag_backup_é0261201_000000.json",
        ] {
            assert!(parse(junk).is_none(), "{junk}");
        }
    }
}
