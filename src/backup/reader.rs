//! Reading a backup whatever its format: verified completely, on the caller's thread or on a
//! thread of its own handing rows over in batches.

use std::path::Path;

use chrono::DateTime;
use rusqlite::types::Value as SqlValue;

use super::format::{self, Header};
use super::naming::{self, BackupFormat};
use super::snapshot;
use crate::error::{Error, Result};

/// Read a backup completely, whatever its format.
///
/// `values`: whether `row` needs the values (restore) or the rows are only checked (verify:
/// `row` gets an empty list for the JSON formats).
pub(super) fn read_backup(
    path: &Path,
    format: BackupFormat,
    values: bool,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<format::Verified> {
    let verified = match format {
        BackupFormat::Sqlite => {
            // Refuse a link swapped in after the name was resolved.
            drop(naming::open_no_follow(path)?);
            snapshot::read_all(path, row)
        }
        BackupFormat::JsonGz | BackupFormat::Json => format::read_all(
            naming::open_no_follow(path)?,
            format == BackupFormat::JsonGz,
            values,
            row,
        ),
    }?;
    check_name_time(path, &verified.header)?;
    Ok(verified)
}

/// A backup's name carries its creation time (cleanup and "the newest backup" go by it): it
/// must be the time its manifest records, so an older backup renamed to a newer name is found.
pub(super) fn check_name_time(path: &Path, header: &Header) -> Result<()> {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(());
    };
    let Some(parsed) = naming::parse(name) else {
        return Ok(());
    };
    let created = DateTime::parse_from_rfc3339(&header.created_at)
        .map_err(|e| Error::backup(format!("backup {name}: its created_at does not read: {e}")))?;
    if created.timestamp() != parsed.created_at.timestamp() {
        return Err(Error::backup(format!(
            "backup {name} was created at {}, not at the time in its name (renamed from \
             another backup?)",
            header.created_at
        )));
    }
    Ok(())
}

/// [`read_backup`] on a thread of its own, handing rows over in batches: parsing and checking
/// the file runs while the caller writes the previous batch into SQLite.
pub(super) fn read_backup_threaded(
    path: &Path,
    format: BackupFormat,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<format::Verified> {
    type Batch = Vec<(usize, Vec<SqlValue>)>;
    const BATCH: usize = 256;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(8);
    let path = path.to_path_buf();
    let producer = std::thread::Builder::new()
        .name("mf-backup-parse".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            let result = read_backup(&path, format, true, &mut |index, values| {
                batch.push((index, values));
                if batch.len() == BATCH {
                    tx.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                        .map_err(|_| Error::backup("the restore stopped reading"))?;
                }
                Ok(())
            });
            if result.is_ok() && !batch.is_empty() {
                let _ = tx.send(batch);
            }
            result
        })
        .map_err(|e| Error::internal(format!("cannot start the backup reader: {e}")))?;
    let mut failed = None;
    'batches: for batch in rx.iter() {
        for (index, values) in batch {
            if let Err(e) = row(index, values) {
                failed = Some(e);
                break 'batches;
            }
        }
    }
    // Dropping the receiver ends a producer still sending.
    drop(rx);
    let produced = producer
        .join()
        .map_err(|_| Error::internal("the backup reader panicked"))?;
    match failed {
        Some(e) => Err(e),
        None => produced,
    }
}

pub(super) fn read_header(path: &Path, format: BackupFormat) -> Result<Header> {
    match format {
        BackupFormat::Sqlite => snapshot::read_header(path),
        BackupFormat::JsonGz | BackupFormat::Json => format::read_header(
            naming::open_no_follow(path)?,
            format == BackupFormat::JsonGz,
        ),
    }
}

/// The format of a file that may or may not carry one of the library's names.
pub(super) fn format_of(name: &str) -> Result<BackupFormat> {
    if let Some(parsed) = naming::parse(name) {
        return Ok(parsed.format);
    }
    if name.ends_with(".json.gz") {
        Ok(BackupFormat::JsonGz)
    } else if name.ends_with(".json") {
        Ok(BackupFormat::Json)
    } else if name.ends_with(".sqlite") {
        Ok(BackupFormat::Sqlite)
    } else {
        Err(Error::invalid_argument(format!(
            "{name:?} is not a backup file name (.json.gz, .json or .sqlite)"
        )))
    }
}
