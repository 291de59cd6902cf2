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
#[cfg(feature = "simulator")]
mod sim;
mod status;
mod store;

pub use client::mf_client;
pub use log::{mf_log_fn, mf_log_level};
pub use pager::mf_pager;
pub use status::mf_status;
pub use store::mf_store;
mod monitor;
mod ratelimit;
mod validate;

use std::ffi::{c_char, c_int, CStr, CString};
use std::sync::OnceLock;

use mf_core::codes::{self, Lang};

use crate::ffi::Out;

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
    status::status_name(status).as_ptr()
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
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        let lang: Lang = unsafe { ffi::opt_arg_str(lang, "lang") }?
            .unwrap_or("en")
            .parse()?;
        let map: serde_json::Map<String, serde_json::Value> = codes::CANCELLATION_REASONS
            .iter()
            .map(|r| (r.code.to_string(), serde_json::Value::from(r.text(lang))))
            .collect();
        out.json(&map)
    })
}

/// The static C text of each rule (its `as_str`), built once.
fn rule_text(rule: codes::TransitionRule) -> &'static CStr {
    static TEXTS: OnceLock<Vec<(codes::TransitionRule, CString)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        codes::TransitionRule::ALL
            .into_iter()
            .map(|r| (r, ffi::c_text(r.as_str())))
            .collect()
    });
    texts
        .iter()
        .find(|(r, _)| *r == rule)
        .map_or(c"", |(_, text)| text.as_c_str())
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
        // SAFETY: the caller's contract (above) on `rule_out`.
        let out = unsafe { Out::new(rule_out, "rule_out") }?;
        let rule = codes::transition_rule(i64::from(from_status), i64::from(to_status))?;
        out.write(rule_text(rule).as_ptr());
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
            let status = mf_status::of(kind);
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
