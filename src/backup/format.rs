//! The JSON-lines backup format, written and read in one streaming pass.
//!
//! ```text
//! {"format":"magflow-emag-backup","format_version":1,"created_at":...,"tables":[{"name":"orders","columns":[...],"count":N},...]}
//! {"t":"orders","v":[...column values...]}          one line per row, tables in header order,
//! ...                                                rows in primary-key order
//! {"trailer":{"rows":N,"counts":{...},"sha256":"..."}}
//! ```
//!
//! The SHA-256 covers every byte before the trailer line (the header included, so its counts
//! cannot be edited unnoticed). Gzip adds its own CRC-32, checked at the end of the stream. A
//! missing trailer means a truncated file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};

use flate2::bufread::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use rusqlite::types::{Value as SqlValue, ValueRef};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::cells::{Cell, CellOf};
use super::pipe::{ThreadedReader, ThreadedWriter};
use super::tables;
use crate::error::{Error, Result};

/// The `format` value of every header.
pub const FORMAT: &str = "magflow-emag-backup";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// A row line longer than this is refused (a garbage or hostile file cannot exhaust memory).
const MAX_LINE: usize = 256 * 1024 * 1024;

/// One table in a header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The store table.
    pub name: String,
    /// Column names, in the order of each row's values.
    pub columns: Vec<String>,
    /// Rows of this table in the backup.
    pub count: u64,
}

/// The manifest at the top of a backup (and in an SQLite snapshot's manifest table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// UTC creation time, ISO-8601.
    pub created_at: String,
    /// The store's schema version (`PRAGMA user_version`).
    pub schema_version: i64,
    /// The library version that wrote it.
    pub library_version: String,
    /// The tables, in the order their rows follow.
    pub tables: Vec<TableEntry>,
    /// SHA-256 of the row lines (SQLite snapshots only; a JSON file carries it in its trailer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_sha256: Option<String>,
}

impl Header {
    /// Rows per table.
    pub fn counts(&self) -> BTreeMap<String, u64> {
        self.tables
            .iter()
            .map(|t| (t.name.clone(), t.count))
            .collect()
    }

    /// Refuse a header this build cannot read.
    pub fn check(&self) -> Result<()> {
        if self.format != FORMAT {
            return Err(Error::backup(format!(
                "not a magflow-emag backup (format {:?})",
                self.format
            )));
        }
        if self.format_version != FORMAT_VERSION {
            return Err(Error::backup(format!(
                "backup format version {} is not supported by this build (reads {FORMAT_VERSION})",
                self.format_version
            )));
        }
        let mut seen = Vec::new();
        for t in &self.tables {
            if tables::spec(&t.name).is_none() {
                return Err(Error::backup(format!(
                    "backup holds an unknown table {:?}",
                    t.name
                )));
            }
            if seen.contains(&t.name.as_str()) {
                return Err(Error::backup(format!("table {:?} listed twice", t.name)));
            }
            if t.columns.is_empty() {
                return Err(Error::backup(format!("table {:?} has no columns", t.name)));
            }
            // Names read from a backup are data: only plain column names, each once, a
            // bounded number of them (the snapshot format puts them, quoted, in SQL).
            if t.columns.len() > MAX_COLUMNS {
                return Err(Error::backup(format!(
                    "table {:?} lists {} columns (at most {MAX_COLUMNS})",
                    t.name,
                    t.columns.len()
                )));
            }
            for (i, col) in t.columns.iter().enumerate() {
                if !plain_name(col) {
                    let shown: String = col.chars().take(40).collect();
                    return Err(Error::backup(format!(
                        "table {:?} lists a column {shown:?} that is not a column name",
                        t.name
                    )));
                }
                if t.columns[..i].contains(col) {
                    return Err(Error::backup(format!(
                        "table {:?} lists column {col:?} twice",
                        t.name
                    )));
                }
            }
            seen.push(t.name.as_str());
        }
        Ok(())
    }
}

/// The most columns a backed-up table may list (the store's have about 20).
const MAX_COLUMNS: usize = 64;

/// A column name as the store's schema writes them: lowercase ASCII letters, digits and `_`,
/// not starting with a digit, at most 64 characters.
pub(crate) fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    rows: u64,
    counts: BTreeMap<String, u64>,
    sha256: String,
}

#[derive(Serialize, Deserialize)]
struct TrailerLine {
    trailer: Trailer,
}

/// Append one row line (`{"t":...,"v":[...]}\n`) to `line`: the exact bytes every format
/// hashes, so a JSON file and an SQLite snapshot of the same data hash alike.
pub fn encode_row(line: &mut Vec<u8>, table: &str, values: &[ValueRef<'_>]) -> Result<()> {
    line.extend_from_slice(b"{\"t\":");
    serde_json::to_writer(&mut *line, table)?;
    line.extend_from_slice(b",\"v\":[");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        match *v {
            ValueRef::Null => line.extend_from_slice(b"null"),
            ValueRef::Integer(n) => write!(line, "{n}")
                .map_err(|e| Error::internal(format!("writing to memory: {e}")))?,
            ValueRef::Real(f) => {
                if !f.is_finite() {
                    return Err(Error::backup(format!(
                        "table {table}: a REAL value {f} cannot be written as JSON"
                    )));
                }
                serde_json::to_writer(&mut *line, &f)?;
            }
            ValueRef::Text(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|_| {
                    Error::backup(format!("table {table}: a TEXT value is not UTF-8"))
                })?;
                serde_json::to_writer(&mut *line, text)?;
            }
            ValueRef::Blob(b) => {
                let json = tables::to_json(SqlValue::Blob(b.to_vec()))?;
                serde_json::to_writer(&mut *line, &json)?;
            }
        }
    }
    line.extend_from_slice(b"]}\n");
    Ok(())
}

/// Writes a backup file: header, rows, trailer; hashing everything before the trailer.
pub struct JsonWriter {
    out: Box<dyn Finish>,
    hasher: Sha256,
    counts: BTreeMap<String, u64>,
    rows: u64,
    line: Vec<u8>,
}

/// A writer that can be finished (gzip needs its trailer written) and hands back its file.
trait Finish: Write {
    fn finish(self: Box<Self>) -> std::io::Result<File>;
}

impl Finish for BufWriter<File> {
    fn finish(self: Box<Self>) -> std::io::Result<File> {
        self.into_inner().map_err(|e| e.into_error())
    }
}

impl Finish for ThreadedWriter<GzEncoder<BufWriter<File>>> {
    fn finish(self: Box<Self>) -> std::io::Result<File> {
        ThreadedWriter::finish(*self)?
            .finish()?
            .into_inner()
            .map_err(|e| e.into_error())
    }
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::backup(format!("{what}: {e}"))
}

impl JsonWriter {
    /// Start a backup file on `file` (compressed with gzip when `compress`).
    pub fn new(file: File, compress: bool, header: &Header) -> Result<JsonWriter> {
        let buffered = BufWriter::with_capacity(1 << 20, file);
        let out: Box<dyn Finish> = if compress {
            // Level 1 on its own thread: compression keeps pace with reading the store (JSON
            // still shrinks about 10x); rows are read and hashed meanwhile.
            Box::new(ThreadedWriter::new(GzEncoder::new(
                buffered,
                Compression::fast(),
            )))
        } else {
            Box::new(buffered)
        };
        let mut writer = JsonWriter {
            out,
            hasher: Sha256::new(),
            counts: BTreeMap::new(),
            rows: 0,
            line: Vec::with_capacity(16 * 1024),
        };
        let mut line = serde_json::to_vec(header)?;
        line.push(b'\n');
        writer.write_hashed(&line)?;
        for t in &header.tables {
            writer.counts.insert(t.name.clone(), 0);
        }
        Ok(writer)
    }

    fn write_hashed(&mut self, bytes: &[u8]) -> Result<()> {
        self.hasher.update(bytes);
        self.out
            .write_all(bytes)
            .map_err(|e| io_err("cannot write the backup", e))
    }

    /// Write one row.
    pub fn row(&mut self, table: &str, values: &[ValueRef<'_>]) -> Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        encode_row(&mut line, table, values)?;
        let written = self.write_hashed(&line);
        self.line = line;
        written?;
        *self.counts.entry(table.to_owned()).or_default() += 1;
        self.rows += 1;
        Ok(())
    }

    /// Write the trailer, finish the stream and fsync the file. Returns the SHA-256 (hex) and
    /// the rows written per table.
    pub fn finish(mut self) -> Result<(String, BTreeMap<String, u64>)> {
        let sha = hex::encode(self.hasher.finalize_reset());
        let trailer = TrailerLine {
            trailer: Trailer {
                rows: self.rows,
                counts: self.counts.clone(),
                sha256: sha.clone(),
            },
        };
        let mut line = serde_json::to_vec(&trailer)?;
        line.push(b'\n');
        self.out
            .write_all(&line)
            .map_err(|e| io_err("cannot write the backup", e))?;
        let file = self
            .out
            .finish()
            .map_err(|e| io_err("cannot finish the backup", e))?;
        file.sync_all()
            .map_err(|e| io_err("cannot fsync the backup", e))?;
        Ok((sha, self.counts))
    }
}

/// What a full read of a backup proved.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The header.
    pub header: Header,
    /// The SHA-256 the file carries (and that was recomputed).
    pub sha256: String,
}

/// Read only the header of a JSON-lines backup (cheap: `list()` calls it for every file).
pub fn read_header(file: File, compressed: bool) -> Result<Header> {
    let mut reader = open_reader(file, compressed);
    let mut line = Vec::new();
    read_line(&mut reader, &mut line, 1 << 20)
        .map_err(|e| Error::backup(format!("unreadable header: {e}")))?;
    if line.is_empty() {
        return Err(Error::backup("empty file"));
    }
    let header: Header = serde_json::from_slice(&line)
        .map_err(|e| Error::backup(format!("the header is not a backup header: {e}")))?;
    header.check()?;
    Ok(header)
}

/// A gzip stream that must be the whole file: one member and nothing after it (a second
/// member or appended bytes would otherwise be ignored, and `verify` would vouch for a file
/// that is not what was written).
struct WholeGz {
    decoder: GzDecoder<BufReader<File>>,
}

impl Read for WholeGz {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.decoder.read(buf)?;
        if n == 0 && !buf.is_empty() && !self.decoder.get_mut().fill_buf()?.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "data after the end of the gzip stream",
            ));
        }
        Ok(n)
    }
}

fn open_reader(file: File, compressed: bool) -> Box<dyn BufRead> {
    if compressed {
        // Decompression on its own thread while lines are parsed.
        Box::new(BufReader::with_capacity(
            1 << 20,
            ThreadedReader::new(WholeGz {
                decoder: GzDecoder::new(BufReader::with_capacity(1 << 16, file)),
            }),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    }
}

/// Read one line (with its `\n`) into `line`; empty at the end. A line over `max` is an error.
fn read_line(reader: &mut dyn BufRead, line: &mut Vec<u8>, max: usize) -> std::io::Result<()> {
    line.clear();
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|b| *b == b'\n') {
            Some(i) => {
                line.extend_from_slice(&available[..=i]);
                reader.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = available.len();
                line.extend_from_slice(available);
                reader.consume(n);
            }
        }
        if line.len() > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {max} bytes"),
            ));
        }
    }
}

/// A row read back: its table's name and its cells (built or only checked).
struct ReadRow {
    t: String,
    v: Vec<Cell>,
}

fn parse_row<const BUILD: bool>(line: &[u8]) -> serde_json::Result<(String, Vec<Cell>)> {
    let row: super::cells::RowLine<'_, CellOf<BUILD>> = serde_json::from_slice(line)?;
    Ok((row.t.into_owned(), row.v.into_iter().map(|c| c.0).collect()))
}

/// Read a whole JSON-lines backup, checking every line, the counts, the trailer, the SHA-256
/// and (for gzip) the CRC; `row` is called for each row with the index of its table in the
/// header. Any failure is a [`Error::Backup`] saying what is wrong and where.
///
/// With `values` false the cells are only checked and `row` gets an empty list (verify).
// Long on purpose: one streaming pass (header, rows in header order, trailer, hash) whose
// line-by-line state is clearer in one loop than spread over helpers.
pub fn read_all(
    file: File,
    compressed: bool,
    values: bool,
    row: &mut dyn FnMut(usize, Vec<SqlValue>) -> Result<()>,
) -> Result<Verified> {
    let mut reader = open_reader(file, compressed);
    let mut hasher = Sha256::new();
    let mut line = Vec::with_capacity(64 * 1024);
    let corrupt = |line_no: u64, what: String| {
        Error::backup(format!("backup is corrupt at line {line_no}: {what}"))
    };

    read_line(&mut *reader, &mut line, 1 << 20).map_err(|e| corrupt(1, e.to_string()))?;
    if line.is_empty() {
        return Err(Error::backup("backup is empty"));
    }
    let header: Header = serde_json::from_slice(&line)
        .map_err(|e| corrupt(1, format!("not a backup header: {e}")))?;
    header.check()?;
    hasher.update(&line);

    let mut seen = vec![0u64; header.tables.len()];
    let mut current = 0usize;
    let mut line_no = 1u64;
    let trailer = loop {
        line_no += 1;
        read_line(&mut *reader, &mut line, MAX_LINE)
            .map_err(|e| corrupt(line_no, e.to_string()))?;
        if line.is_empty() {
            return Err(Error::backup(format!(
                "backup is truncated: it ends after {} lines without its trailer",
                line_no - 1
            )));
        }
        if line.starts_with(b"{\"trailer\"") {
            // Every line the writer wrote ends with a newline, the trailer's too.
            if line.last() != Some(&b'\n') {
                return Err(corrupt(
                    line_no,
                    "the trailer line has no final newline".into(),
                ));
            }
            let t: TrailerLine = serde_json::from_slice(&line)
                .map_err(|e| corrupt(line_no, format!("bad trailer: {e}")))?;
            break t.trailer;
        }
        hasher.update(&line);
        let cells = if values {
            parse_row::<true>(&line)
        } else {
            parse_row::<false>(&line)
        };
        let (table, cells) = cells.map_err(|e| corrupt(line_no, format!("not a row: {e}")))?;
        let parsed = ReadRow { t: table, v: cells };
        // Rows come table by table in header order.
        while current < header.tables.len() && header.tables[current].name != parsed.t {
            current += 1;
        }
        let Some(entry) = header.tables.get(current) else {
            return Err(corrupt(
                line_no,
                format!(
                    "row of table {:?} out of order or not in the header",
                    parsed.t
                ),
            ));
        };
        if parsed.v.len() != entry.columns.len() {
            return Err(corrupt(
                line_no,
                format!(
                    "row of {} has {} values for {} columns",
                    entry.name,
                    parsed.v.len(),
                    entry.columns.len()
                ),
            ));
        }
        seen[current] += 1;
        if seen[current] > entry.count {
            return Err(corrupt(
                line_no,
                format!("more {} rows than the header's {}", entry.name, entry.count),
            ));
        }
        let mut built = Vec::with_capacity(if values { parsed.v.len() } else { 0 });
        for (cell, col) in parsed.v.into_iter().zip(&entry.columns) {
            match cell {
                Cell::Value(v) => built.push(v),
                Cell::Checked => {}
                Cell::Bad(why) => {
                    return Err(corrupt(line_no, format!("{}.{col}: {why}", entry.name)))
                }
            }
        }
        row(current, built)?;
    };

    for (entry, n) in header.tables.iter().zip(&seen) {
        if *n != entry.count {
            return Err(Error::backup(format!(
                "backup is incomplete: {} has {n} rows, the header says {}",
                entry.name, entry.count
            )));
        }
        if trailer.counts.get(&entry.name) != Some(n) {
            return Err(Error::backup(format!(
                "backup trailer disagrees with the rows of {}",
                entry.name
            )));
        }
    }
    if trailer.rows != seen.iter().sum::<u64>() || trailer.counts.len() != header.tables.len() {
        return Err(Error::backup("backup trailer disagrees with the rows read"));
    }
    let sha = hex::encode(hasher.finalize());
    if sha != trailer.sha256 {
        return Err(Error::backup(format!(
            "backup checksum mismatch: content hashes to {sha}, the trailer says {} (the file \
             was modified or damaged)",
            trailer.sha256
        )));
    }
    // Nothing may follow the trailer; reading to the end also makes gzip check its CRC.
    let mut rest = [0u8; 1];
    match reader.read(&mut rest) {
        Ok(0) => {}
        Ok(_) => return Err(Error::backup("backup has data after its trailer")),
        Err(e) => return Err(Error::backup(format!("backup is corrupt at its end: {e}"))),
    }
    Ok(Verified {
        header,
        sha256: sha,
    })
}
