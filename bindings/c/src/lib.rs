//! The C ABI of magflow-emag. Thin: it converts types and errors; all behaviour is in the core.
//!
//! Conventions (see README "C API"): prefix `mf_`; every fallible call returns `mf_status`
//! (0 = `MF_OK`) and writes results through out-params, only on success; strings returned by
//! the library are freed with `mf_string_free`; `mf_last_error_message` is per thread; complex
//! values cross as UTF-8 JSON; no panic crosses the boundary.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

mod callbacks;
mod client;
mod ffi;
mod log;
mod pager;
mod sim;
mod store;

pub use client::mf_client;
pub use log::{mf_log_fn, mf_log_level};
pub use pager::mf_pager;
pub use store::mf_store;
mod monitor;
mod ratelimit;
mod validate;

use std::ffi::{c_char, c_int, CString};
use std::sync::OnceLock;

use mf_core::codes::{self, Lang};

/// Status of every fallible call. 0 is success; the other values are the core's stable
/// error-kind codes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum mf_status {
    /// Success.
    MF_OK = 0,
    /// Over a quota (local limiter or HTTP 429).
    MF_ERR_RATE_LIMITED = 1,
    /// Wrong credentials or a caller IP that is not whitelisted.
    MF_ERR_AUTHENTICATION = 2,
    /// Input refused before sending.
    MF_ERR_VALIDATION = 3,
    /// Not found (HTTP 404).
    MF_ERR_NOT_FOUND = 4,
    /// A business rule refused the operation.
    MF_ERR_BUSINESS_RULE = 5,
    /// Connection failure or HTTP 5xx.
    MF_ERR_NETWORK = 6,
    /// Timed out.
    MF_ERR_TIMEOUT = 7,
    /// eMAG answered isError=true or a malformed body.
    MF_ERR_API_RESPONSE = 8,
    /// The embedded store failed.
    MF_ERR_STORE = 9,
    /// A backup failed.
    MF_ERR_BACKUP = 10,
    /// A NULL, malformed or out-of-range argument.
    MF_ERR_INVALID_ARGUMENT = 11,
    /// A bug in the library (including a caught panic).
    MF_ERR_INTERNAL = 12,
}

/// The ABI version of this header: the number in the library's SONAME
/// (`libmagflow_emag.so.0`). It changes only when a change breaks programs built against an
/// earlier header; compare it with `mf_abi_version()` to check the library loaded at run time.
pub const MF_ABI_VERSION: u32 = 0;
/// The package version this header was generated from (`mf_version()` returns it as text).
pub const MF_VERSION_MAJOR: u32 = 0;
/// See `MF_VERSION_MAJOR`.
pub const MF_VERSION_MINOR: u32 = 1;
/// See `MF_VERSION_MAJOR`.
pub const MF_VERSION_PATCH: u32 = 0;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The ABI version of the library loaded at run time (`MF_ABI_VERSION` of its header).
#[no_mangle]
pub extern "C" fn mf_abi_version() -> u32 {
    MF_ABI_VERSION
}

/// The library version, a static NUL-terminated string (never freed).
#[no_mangle]
pub extern "C" fn mf_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

/// The message of the last failed call on this thread, or NULL if the last call succeeded.
/// Valid until the next library call on the same thread; do not free it.
#[no_mangle]
pub extern "C" fn mf_last_error_message() -> *const c_char {
    ffi::last_error_ptr()
}

/// Free a string the library returned through an out-param. NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or a string returned by this library, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn mf_string_free(s: *mut c_char) {
    if s.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the caller passes a pointer obtained from CString::into_raw in this library.
        drop(unsafe { CString::from_raw(s) });
    });
}

/// A static name for a status value (`"MF_OK"`, `"MF_ERR_NETWORK"`, ...; `"MF_UNKNOWN_STATUS"`
/// for any other number); never freed.
#[no_mangle]
pub extern "C" fn mf_status_name(status: c_int) -> *const c_char {
    // Takes an int, not the enum: a C caller may pass any value, and an out-of-range enum is UB.
    let name: &'static str = match status {
        0 => "MF_OK\0",
        1 => "MF_ERR_RATE_LIMITED\0",
        2 => "MF_ERR_AUTHENTICATION\0",
        3 => "MF_ERR_VALIDATION\0",
        4 => "MF_ERR_NOT_FOUND\0",
        5 => "MF_ERR_BUSINESS_RULE\0",
        6 => "MF_ERR_NETWORK\0",
        7 => "MF_ERR_TIMEOUT\0",
        8 => "MF_ERR_API_RESPONSE\0",
        9 => "MF_ERR_STORE\0",
        10 => "MF_ERR_BACKUP\0",
        11 => "MF_ERR_INVALID_ARGUMENT\0",
        12 => "MF_ERR_INTERNAL\0",
        _ => "MF_UNKNOWN_STATUS\0",
    };
    name.as_ptr().cast()
}

/// The cancellation reasons as static C strings, built once and kept for the process lifetime.
/// A plain Vec (not a HashMap, whose interior pointers valgrind reports as "possibly lost").
fn reason_table() -> &'static [(i64, Lang, CString)] {
    static TABLE: OnceLock<Vec<(i64, Lang, CString)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Vec::with_capacity(codes::CANCELLATION_REASONS.len() * 2);
        for reason in codes::CANCELLATION_REASONS.iter() {
            for lang in [Lang::En, Lang::Ro] {
                if let Ok(text) = CString::new(reason.text(lang)) {
                    table.push((reason.code, lang, text));
                }
            }
        }
        table
    })
}

/// The text of a cancellation reason (`lang` is `"en"` or `"ro"`), a static string that is
/// never freed; NULL for an unknown code, an unknown language or a NULL `lang`.
///
/// # Safety
/// `lang` must be NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mf_cancellation_reason_text(
    code: c_int,
    lang: *const c_char,
) -> *const c_char {
    let found = std::panic::catch_unwind(|| {
        // SAFETY: forwarded contract on `lang`.
        let lang: Lang = unsafe { ffi::arg_str(lang, "lang") }.ok()?.parse().ok()?;
        let code = i64::from(code);
        reason_table()
            .iter()
            .find(|(c, l, _)| *c == code && *l == lang)
            .map(|(_, _, text)| text.as_ptr())
    });
    match found {
        Ok(Some(ptr)) => ptr,
        _ => std::ptr::null(),
    }
}

/// Every documented cancellation reason as a JSON object `{"1": "Out of stock", ...}` in `lang`
/// (`"en"`, `"ro"`; NULL means `"en"`). Free `*json_out` with `mf_string_free`.
///
/// # Safety
/// `lang` must be NULL or a NUL-terminated string; `json_out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_cancellation_reasons(
    lang: *const c_char,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        ffi::check_out(json_out, "json_out")?;
        // SAFETY: forwarded contract on `lang`.
        let lang: Lang = unsafe { ffi::opt_arg_str(lang, "lang") }?
            .unwrap_or("en")
            .parse()?;
        let map: serde_json::Map<String, serde_json::Value> = codes::CANCELLATION_REASONS
            .iter()
            .map(|r| (r.code.to_string(), serde_json::Value::from(r.text(lang))))
            .collect();
        let text = ffi::to_c_string(serde_json::Value::Object(map).to_string())?;
        // SAFETY: checked non-NULL above; written only on success.
        unsafe { *json_out = text };
        Ok(())
    })
}

/// The rule for moving an order from status `from_status` to `to_status`, as a static string:
/// `"no"`, `"yes"`, `"ack_only"`, `"within_48h"` or `"within_return_time_plus_5_days"`.
/// An unknown status gives `MF_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `rule_out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_transition_rule(
    from_status: c_int,
    to_status: c_int,
    rule_out: *mut *const c_char,
) -> mf_status {
    ffi::guard(|| {
        ffi::check_out(rule_out, "rule_out")?;
        let rule = codes::transition_rule(i64::from(from_status), i64::from(to_status))?;
        let text: &'static str = match rule {
            codes::TransitionRule::No => "no\0",
            codes::TransitionRule::Yes => "yes\0",
            codes::TransitionRule::AckOnly => "ack_only\0",
            codes::TransitionRule::Within48h => "within_48h\0",
            codes::TransitionRule::WithinReturnTimePlus5Days => "within_return_time_plus_5_days\0",
        };
        // SAFETY: checked non-NULL above.
        unsafe { *rule_out = text.as_ptr().cast() };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mf_core::ErrorKind;

    #[test]
    fn the_header_version_is_the_package_version() {
        let version = format!("{MF_VERSION_MAJOR}.{MF_VERSION_MINOR}.{MF_VERSION_PATCH}");
        assert_eq!(version, env!("CARGO_PKG_VERSION"));
        // The SONAME set by build.rs carries the ABI number.
        assert_eq!(
            env!("MF_SONAME"),
            format!("libmagflow_emag.so.{MF_ABI_VERSION}")
        );
    }

    #[test]
    fn every_error_kind_maps_to_the_status_with_its_code() {
        for kind in ErrorKind::ALL {
            let status = ffi::status_of(kind);
            assert_eq!(status as i32, kind.code(), "{kind}");
            assert_ne!(status, mf_status::MF_OK);
        }
    }

    #[test]
    fn a_panic_becomes_an_internal_status_with_a_message() {
        let status = ffi::guard(|| panic!("boom"));
        assert_eq!(status, mf_status::MF_ERR_INTERNAL);
        // SAFETY: the pointer is this thread's last error, valid until the next call.
        let msg = unsafe { std::ffi::CStr::from_ptr(mf_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"));
        assert_eq!(ffi::guard(|| Ok(())), mf_status::MF_OK);
        assert!(mf_last_error_message().is_null());
    }
}
