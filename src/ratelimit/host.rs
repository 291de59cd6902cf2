//! The host backend: GCRA state in a small memory-mapped file shared by every process on the
//! host that names the same path.
//!
//! Layout (4096 bytes, native endianness, each field an `AtomicU64`):
//! `0` magic `"MFRLIM01"`, `8` format version, `16` boot id hash (CLOCK_MONOTONIC restarts at
//! boot, so a file that outlived a reboot has its TATs reset), then one 64-byte line per
//! bucket at `64` (orders) and `128` (other): TAT, hold-until, last grant.
//!
//! Opening takes `flock(LOCK_EX)` for the few microseconds of checking or initialising the
//! header, which settles creation races: whoever gets the lock first initialises an empty
//! file, the others find it initialised. A file of any other size, or with a foreign magic, is
//! refused with a clear error and never overwritten (the path may name someone else's file).
//! The file is never truncated after creation: shrinking a mapped file would fault every
//! sharer (SIGBUS).

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapRaw;

use super::gcra::Cells;
use crate::error::{Error, Result};
use crate::ratelimit::Bucket;

const SIZE: u64 = 4096;
const MAGIC: u64 = u64::from_ne_bytes(*b"MFRLIM01");
const VERSION: u64 = 1;
const BUCKET_WORDS: [usize; 6] = [
    OFF_ORDERS,
    OFF_ORDERS + 8,
    OFF_ORDERS + 16,
    OFF_OTHER,
    OFF_OTHER + 8,
    OFF_OTHER + 16,
];
const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 8;
const OFF_BOOT: usize = 16;
const OFF_ORDERS: usize = 64;
const OFF_OTHER: usize = 128;

/// A mapped state file.
pub(crate) struct HostState {
    map: MmapRaw,
    path: PathBuf,
    // Kept open for the lifetime of the mapping (and for diagnostics).
    _file: File,
}

impl std::fmt::Debug for HostState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostState")
            .field("path", &self.path)
            .finish()
    }
}

// SAFETY: the mapping is only accessed through atomics.
unsafe impl Send for HostState {}
// SAFETY: as above.
unsafe impl Sync for HostState {}

fn io_error(path: &Path, what: &str, e: io::Error) -> Error {
    let hint = match e.kind() {
        io::ErrorKind::PermissionDenied => {
            " (permission denied: every sharing process needs read and write access)"
        }
        io::ErrorKind::NotFound => " (does the directory exist?)",
        _ => "",
    };
    Error::invalid_argument(format!(
        "rate-limit state file {}: cannot {what}: {e}{hint}",
        path.display()
    ))
}

/// A hash of this boot's id, so TATs from before a reboot are recognised as stale.
fn boot_hash() -> u64 {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.trim().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash | 1 // never 0, which marks an uninitialised file
}

struct FlockGuard<'a>(&'a File);

impl Drop for FlockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: a valid open descriptor.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

impl HostState {
    /// Open (creating if needed) the state file at `path`.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(|e| io_error(path, "open", e))?;
        let fd = file.as_raw_fd();
        // SAFETY: a valid open descriptor; LOCK_EX blocks only while another opener checks
        // or writes the header.
        if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
            return Err(io_error(path, "lock", io::Error::last_os_error()));
        }
        let _lock = FlockGuard(&file);
        let len = file
            .metadata()
            .map_err(|e| io_error(path, "stat", e))?
            .len();
        let fresh = len == 0;
        if fresh {
            file.set_len(SIZE).map_err(|e| io_error(path, "size", e))?;
        } else if len != SIZE {
            return Err(Error::invalid_argument(format!(
                "{} is not a magflow-emag rate-limit state file (size {len} bytes, expected \
                 {SIZE}); it was left untouched: remove it or choose another path",
                path.display()
            )));
        }
        let map = MmapRaw::map_raw(&file).map_err(|e| io_error(path, "map", e))?;
        let state = HostState {
            map,
            path: path.to_owned(),
            _file: file.try_clone().map_err(|e| io_error(path, "dup", e))?,
        };
        let magic = state.word(OFF_MAGIC).load(Ordering::Acquire);
        let boot = boot_hash();
        if fresh || magic == 0 {
            // Empty (or created by an opener that died before writing the header, which is
            // all zeros): initialise. Fields first, magic last.
            for off in BUCKET_WORDS {
                state.word(off).store(0, Ordering::Release);
            }
            state.word(OFF_VERSION).store(VERSION, Ordering::Release);
            state.word(OFF_BOOT).store(boot, Ordering::Release);
            state.word(OFF_MAGIC).store(MAGIC, Ordering::Release);
        } else if magic != MAGIC {
            return Err(Error::invalid_argument(format!(
                "{} is not a magflow-emag rate-limit state file (unknown header); it was left \
                 untouched: remove it or choose another path",
                path.display()
            )));
        } else {
            let version = state.word(OFF_VERSION).load(Ordering::Acquire);
            if version != VERSION {
                return Err(Error::invalid_argument(format!(
                    "{} has rate-limit state format {version}, this library writes {VERSION}: \
                     stop the processes using it and remove it",
                    path.display()
                )));
            }
            if state.word(OFF_BOOT).load(Ordering::Acquire) != boot {
                // Written before a reboot: its monotonic times mean nothing now.
                for off in BUCKET_WORDS {
                    state.word(off).store(0, Ordering::Release);
                }
                state.word(OFF_BOOT).store(boot, Ordering::Release);
            }
        }
        Ok(state)
    }

    fn word(&self, offset: usize) -> &AtomicU64 {
        debug_assert!(offset % 8 == 0 && offset + 8 <= self.map.len());
        // SAFETY: the mapping is SIZE bytes, page-aligned, never shrunk while mapped (we never
        // truncate); offsets are constants, 8-aligned and in bounds. Every access to the
        // shared bytes, in this and other processes, goes through atomics.
        unsafe { &*(self.map.as_mut_ptr().add(offset) as *const AtomicU64) }
    }

    /// The state of `bucket`.
    pub(crate) fn cells(&self, bucket: Bucket) -> Cells<'_> {
        let base = match bucket {
            Bucket::Orders => OFF_ORDERS,
            Bucket::Other => OFF_OTHER,
        };
        Cells {
            tat: self.word(base),
            hold: self.word(base + 8),
            last: self.word(base + 16),
        }
    }

    /// The file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}
