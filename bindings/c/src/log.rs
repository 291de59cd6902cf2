//! `mf_set_log_callback`, `mf_set_log_level`: the library's log records, handed to C.
//!
//! The core logs through the `log` crate (retries and 429 holds at debug/warn, the request
//! line at debug, sync and backup warnings). A C program has no logger of its own, so this
//! installs one (once, on first use) that passes each record to the registered callback.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{PoisonError, RwLock};

use mf_core::Error;

use crate::{ffi, mf_status};

/// Log levels for `mf_set_log_callback` and `mf_set_log_level` (and the `level` argument the
/// callback receives). A level lets through its own records and the more severe ones.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mf_log_level {
    /// No records at all.
    MF_LOG_OFF = 0,
    /// Failures the library could not handle itself.
    MF_LOG_ERROR = 1,
    /// Problems handled: 429 holds, a rate-limit backend falling back, a sync warning.
    MF_LOG_WARN = 2,
    /// Progress: scheduled backups written, sync runs.
    MF_LOG_INFO = 3,
    /// One line per request (method, account, route, status, latency, outcome) and each retry.
    MF_LOG_DEBUG = 4,
    /// Everything, including the HTTP stack's own records (at the other levels only the
    /// library's own records, targets `magflow_emag::...`, are passed on).
    MF_LOG_TRACE = 5,
}

/// The log callback: `level` (an `mf_log_level` value), `target` (the module, e.g.
/// `"magflow_emag::client"`), `message` (one line, no trailing newline), and the `user_data`
/// given to `mf_set_log_callback`. Both strings are valid only during the call.
pub type mf_log_fn = Option<
    unsafe extern "C" fn(
        level: c_int,
        target: *const c_char,
        message: *const c_char,
        user_data: *mut c_void,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    callback: unsafe extern "C" fn(c_int, *const c_char, *const c_char, *mut c_void),
    // The caller's pointer, only handed back to its callback.
    user_data: usize,
}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

thread_local! {
    // Set while this thread runs the callback: records logged by library calls made from
    // inside the callback are dropped (no recursion), and the sink cannot be changed from
    // there (the change would wait for the call it is made from).
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct CLogger;

static LOGGER: CLogger = CLogger;

fn level_number(level: log::Level) -> c_int {
    match level {
        log::Level::Error => 1,
        log::Level::Warn => 2,
        log::Level::Info => 3,
        log::Level::Debug => 4,
        log::Level::Trace => 5,
    }
}

fn filter_of(level: c_int) -> Result<log::LevelFilter, Error> {
    Ok(match level {
        0 => log::LevelFilter::Off,
        1 => log::LevelFilter::Error,
        2 => log::LevelFilter::Warn,
        3 => log::LevelFilter::Info,
        4 => log::LevelFilter::Debug,
        5 => log::LevelFilter::Trace,
        other => {
            return Err(Error::invalid_argument(format!(
                "level must be an mf_log_level from 0 (MF_LOG_OFF) to 5 (MF_LOG_TRACE), got {other}"
            )))
        }
    })
}

impl log::Log for CLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // The library's own records; the HTTP stack's (hyper, reqwest, rustls) only at trace,
        // where a C program asks for everything.
        let max = log::max_level();
        metadata.level() <= max
            && (max == log::LevelFilter::Trace || metadata.target().starts_with("magflow_emag"))
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) || IN_CALLBACK.with(Cell::get) {
            return;
        }
        // The read lock is held during the call, so that once mf_set_log_callback returns no
        // call to the previous callback is still running (its user_data may then be freed).
        let sink = SINK.read().unwrap_or_else(PoisonError::into_inner);
        let Some(sink) = *sink else { return };
        let target = ffi::c_text(record.target());
        let message = ffi::c_text(&record.args().to_string());
        IN_CALLBACK.with(|c| c.set(true));
        // A C callback cannot unwind into Rust; the guard is for the formatting above.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the caller registered this function pointer for this signature; the
            // strings live until the call returns.
            unsafe {
                (sink.callback)(
                    level_number(record.level()),
                    target.as_ptr(),
                    message.as_ptr(),
                    sink.user_data as *mut c_void,
                )
            }
        }));
        IN_CALLBACK.with(|c| c.set(false));
    }

    fn flush(&self) {}
}

fn install_logger() -> Result<(), Error> {
    static INSTALLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ours = *INSTALLED.get_or_init(|| log::set_logger(&LOGGER).is_ok());
    if ours {
        Ok(())
    } else {
        Err(Error::invalid_argument(
            "another logger is already installed in this process (a Rust program linking the \
             library sets its own with the log crate)",
        ))
    }
}

fn not_from_callback() -> Result<(), Error> {
    if IN_CALLBACK.with(Cell::get) {
        Err(Error::invalid_argument(
            "the log callback cannot be changed from inside the log callback",
        ))
    } else {
        Ok(())
    }
}

/// Send the library's log records of `level` and more severe to `callback` (NULL removes the
/// callback: records are dropped). `callback` is called from any thread the library runs
/// on (the caller's, the runtime's workers, a backup's threads), possibly from several at
/// once, so it must be thread-safe and return quickly; it must not unwind (no C++
/// exception), must not call `mf_set_log_callback` itself (that returns
/// `MF_ERR_INVALID_ARGUMENT`) and should not make blocking library calls such as requests
/// (records those log on this thread are dropped; a concurrent `mf_set_log_callback` waits
/// for the callback to return). When this returns, no call to the previous callback
/// is still running, so its `user_data` may be freed. Messages never contain the password
/// (bodies are logged only by a client with `"wire_log": true`, scrubbed). Sets the level as
/// `mf_set_log_level` does.
///
/// # Safety
/// `callback` must be NULL or a function of the `mf_log_fn` signature that stays valid (and
/// `user_data` with it) until the callback is replaced or removed.
#[no_mangle]
pub unsafe extern "C" fn mf_set_log_callback(
    level: c_int,
    callback: mf_log_fn,
    user_data: *mut c_void,
) -> mf_status {
    ffi::guard(|| {
        let filter = filter_of(level)?;
        not_from_callback()?;
        install_logger()?;
        let mut sink = SINK.write().unwrap_or_else(PoisonError::into_inner);
        *sink = callback.map(|callback| Sink {
            callback,
            user_data: user_data as usize,
        });
        log::set_max_level(if sink.is_some() {
            filter
        } else {
            log::LevelFilter::Off
        });
        Ok(())
    })
}

/// Change the level of the records passed to the callback (`MF_LOG_OFF` to `MF_LOG_TRACE`);
/// takes effect at once on every thread. Another number gives `MF_ERR_INVALID_ARGUMENT`.
#[no_mangle]
pub extern "C" fn mf_set_log_level(level: c_int) -> mf_status {
    ffi::guard(|| {
        let filter = filter_of(level)?;
        install_logger()?;
        log::set_max_level(filter);
        Ok(())
    })
}
