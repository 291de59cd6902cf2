//! The fast format: an SQLite snapshot of the store (`VACUUM INTO`, a consistent copy taken
//! inside one read transaction), with a manifest table holding the same header as the JSON
//! format plus the SHA-256 of its rows encoded as JSON-format row lines, so verification
//! proves the content, not only SQLite's page structure.

use std::path::Path;

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};

use super::format::{encode_row, Header, Verified};
use super::tables;
use crate::error::{Error, Result};

const MANIFEST_TABLE: &str = "magflow_backup_manifest";

fn open(path: &Path, writable: bool) -> Result<Connection> {
    let flags = if writable {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| Error::backup(format!("cannot open snapshot {}: {e}", path.display())))?;
    Ok(conn)
}

fn snap_err(e: rusqlite::Error) -> Error {
    Error::backup(format!("snapshot: {e}"))
}

/// Copy the store into the empty file `temp` through `source` (a read connection of the
/// store), keep only the `include`d tables' rows, and write the manifest. `header` arrives
/// with the columns; its counts and hash are filled from the snapshot itself.
pub fn create(source: &Connection, temp: &Path, header: &mut Header) -> Result<()> {
    let target = temp
        .to_str()
        .ok_or_else(|| Error::backup("the backup directory path is not UTF-8"))?;
    source
        .execute("VACUUM INTO ?1", [target])
        .map_err(snap_err)?;
    let conn = open(temp, true)?;
    conn.pragma_update(None, "journal_mode", "DELETE")
        .map_err(snap_err)?;
    let included: Vec<&str> = header.tables.iter().map(|t| t.name.as_str()).collect();
    for spec in tables::TABLES {
        if !included.contains(&spec.name) {
            conn.execute(&format!("DELETE FROM {}", spec.name), [])
                .map_err(snap_err)?;
        }
    }
    let mut hasher = Sha256::new();
    for entry in &mut header.tables {
        entry.count = hash_rows(&conn, entry, &mut hasher, &mut |_| Ok(()))?;
    }
    header.rows_sha256 = Some(hex::encode(hasher.finalize()));
    conn.execute_batch(&format!(
        "CREATE TABLE {MANIFEST_TABLE} (json TEXT NOT NULL)"
    ))
    .map_err(snap_err)?;
    conn.execute(
        &format!("INSERT INTO {MANIFEST_TABLE} (json) VALUES (?1)"),
        [serde_json::to_string(header)?],
    )
    .map_err(snap_err)?;
    conn.close().map_err(|(_, e)| snap_err(e))?;
    std::fs::File::open(temp)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::backup(format!("cannot fsync the snapshot: {e}")))?;
    Ok(())
}

/// Walk one table's rows in key order, hashing each as its JSON-format line.
fn hash_rows(
    conn: &Connection,
    entry: &super::format::TableEntry,
    hasher: &mut Sha256,
    row: &mut dyn FnMut(Vec<SqlValue>) -> Result<()>,
) -> Result<u64> {
    let spec = tables::spec(&entry.name)
        .ok_or_else(|| Error::backup(format!("unknown table {:?}", entry.name)))?;
    // The manifest's names were checked to be plain column names ([`Header::check`]); each
    // must also be a column of the snapshot's table, and goes into SQL quoted.
    let present = tables::columns(conn, spec.name).map_err(|e| Error::backup(e.message()))?;
    for col in &entry.columns {
        if !super::format::plain_name(col) || !present.iter().any(|c| &c.name == col) {
            return Err(Error::backup(format!(
                "snapshot manifest lists a column {col:?} its {} table does not have",
                spec.name
            )));
        }
    }
    let cols = entry
        .columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let order = spec.key.join(", ");
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {cols} FROM {} ORDER BY {order}",
            spec.name
        ))
        .map_err(snap_err)?;
    let mut rows = stmt.query([]).map_err(snap_err)?;
    let mut line = Vec::with_capacity(16 * 1024);
    let mut n = 0u64;
    while let Some(r) = rows.next().map_err(snap_err)? {
        let refs = (0..entry.columns.len())
            .map(|i| r.get_ref(i))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(snap_err)?;
        line.clear();
        encode_row(&mut line, &entry.name, &refs)?;
        hasher.update(&line);
        row(refs.iter().map(|v| SqlValue::from(*v)).collect())?;
        n += 1;
    }
    Ok(n)
}

/// The manifest of a snapshot (cheap; `list()` uses it).
pub fn read_header(path: &Path) -> Result<Header> {
    let conn = open(path, false)?;
    read_manifest(&conn)
}

fn read_manifest(conn: &Connection) -> Result<Header> {
    let text: String = conn
        .query_row(&format!("SELECT json FROM {MANIFEST_TABLE}"), [], |r| {
            r.get(0)
        })
        .map_err(|e| Error::backup(format!("not a magflow-emag snapshot (no manifest: {e})")))?;
    let header: Header = serde_json::from_str(&text)
        .map_err(|e| Error::backup(format!("snapshot manifest is corrupt: {e}")))?;
    header.check()?;
    if header.rows_sha256.is_none() {
        return Err(Error::backup("snapshot manifest has no checksum"));
    }
    Ok(header)
}

/// Check a snapshot fully (SQLite's integrity check, the manifest, the counts and the rows'
/// SHA-256), calling `row` for each row with the index of its table in the manifest.
pub fn read_all(
    path: &Path,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<Verified> {
    let conn = open(path, false)?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| Error::backup(format!("snapshot is not a sound SQLite file: {e}")))?;
    if check != "ok" {
        return Err(Error::backup(format!(
            "snapshot failed SQLite's integrity check: {check}"
        )));
    }
    let header = read_manifest(&conn)?;
    let user_version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(snap_err)?;
    if user_version != header.schema_version {
        return Err(Error::backup(format!(
            "snapshot schema version {user_version} disagrees with its manifest's {}",
            header.schema_version
        )));
    }
    let mut hasher = Sha256::new();
    for (index, entry) in header.tables.iter().enumerate() {
        let n = hash_rows(&conn, entry, &mut hasher, &mut |values| row(index, values))?;
        if n != entry.count {
            return Err(Error::backup(format!(
                "snapshot has {n} {} rows, its manifest says {}",
                entry.name, entry.count
            )));
        }
    }
    let sha = hex::encode(hasher.finalize());
    if Some(&sha) != header.rows_sha256.as_ref() {
        return Err(Error::backup(format!(
            "snapshot checksum mismatch: rows hash to {sha}, the manifest says {} (the file was \
             modified or damaged)",
            header.rows_sha256.as_deref().unwrap_or("")
        )));
    }
    Ok(Verified {
        header,
        sha256: sha,
    })
}
