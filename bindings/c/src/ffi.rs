//! Boundary helpers: panic catching, the per-thread last error, and C string conversions.
//!
//! Modelled on rustls-ffi: every entry point runs inside [`guard`], which catches panics and
//! turns every error into an `mf_status` plus a per-thread message. Outputs are written only on
//! success.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mf_core::{Error, ErrorKind};

use crate::mf_status;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Map a core error kind to its C status (the numbers are the core's stable codes).
pub(crate) fn status_of(kind: ErrorKind) -> mf_status {
    match kind {
        ErrorKind::RateLimited => mf_status::MF_ERR_RATE_LIMITED,
        ErrorKind::Authentication => mf_status::MF_ERR_AUTHENTICATION,
        ErrorKind::Validation => mf_status::MF_ERR_VALIDATION,
        ErrorKind::NotFound => mf_status::MF_ERR_NOT_FOUND,
        ErrorKind::BusinessRule => mf_status::MF_ERR_BUSINESS_RULE,
        ErrorKind::Network => mf_status::MF_ERR_NETWORK,
        ErrorKind::Timeout => mf_status::MF_ERR_TIMEOUT,
        ErrorKind::ApiResponse => mf_status::MF_ERR_API_RESPONSE,
        ErrorKind::Store => mf_status::MF_ERR_STORE,
        ErrorKind::Backup => mf_status::MF_ERR_BACKUP,
        ErrorKind::InvalidArgument => mf_status::MF_ERR_INVALID_ARGUMENT,
        _ => mf_status::MF_ERR_INTERNAL,
    }
}

pub(crate) fn set_last_error(message: &str) {
    // Interior NULs cannot cross as a C string; replace them rather than lose the message.
    let text = CString::new(message.replace('\0', "\u{FFFD}")).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(text));
}

pub(crate) fn clear_last_error() {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = None);
}

/// Pointer to this thread's last error message (valid until the next failing call on this
/// thread), or NULL.
pub(crate) fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|slot| match slot.borrow().as_ref() {
        Some(s) => s.as_ptr(),
        None => std::ptr::null(),
    })
}

/// Run `f` at the boundary: catch panics, record errors, return a status.
pub(crate) fn guard<F>(f: F) -> mf_status
where
    F: FnOnce() -> Result<(), Error>,
{
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => mf_status::MF_OK,
        Ok(Err(err)) => {
            set_last_error(&err.to_string());
            status_of(err.kind())
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(&format!(
                "internal error (panic caught at the C boundary): {what}"
            ));
            mf_status::MF_ERR_INTERNAL
        }
    }
}

/// Borrow a NUL-terminated UTF-8 argument; NULL or invalid UTF-8 is an invalid argument.
///
/// # Safety
/// `ptr` must be NULL or point to a NUL-terminated string valid for the call.
pub(crate) unsafe fn arg_str<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Error> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    let cstr = unsafe { CStr::from_ptr(ptr) };
    cstr.to_str()
        .map_err(|e| Error::invalid_argument(format!("{name} is not valid UTF-8: {e}")))
}

/// Like [`arg_str`] but NULL means "absent".
///
/// # Safety
/// As for [`arg_str`].
pub(crate) unsafe fn opt_arg_str<'a>(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<&'a str>, Error> {
    if ptr.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { arg_str(ptr, name) }.map(Some)
    }
}

/// Check an out-pointer before doing any work.
pub(crate) fn check_out<T>(out: *mut T, name: &str) -> Result<(), Error> {
    if out.is_null() {
        Err(Error::invalid_argument(format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Hand a Rust string to C (freed with `mf_string_free`).
pub(crate) fn to_c_string(s: String) -> Result<*mut c_char, Error> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| Error::internal("string with an interior NUL cannot cross to C"))
}

/// Borrow a handle argument; NULL is an invalid argument.
///
/// # Safety
/// `ptr` must be NULL or a live handle created by this library.
pub(crate) unsafe fn handle_ref<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: forwarded contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
}

/// Hand a new handle to C through `out` (checked non-NULL by the caller).
///
/// # Safety
/// `out` must be a valid, non-NULL pointer.
pub(crate) unsafe fn write_handle<T>(out: *mut *mut T, value: T) {
    // SAFETY: forwarded contract; ownership goes to the caller, who frees it with `_free`.
    unsafe { *out = Box::into_raw(Box::new(value)) };
}

/// Release a handle made by [`write_handle`]; NULL is a no-op and a panic in a destructor is
/// caught.
///
/// # Safety
/// `ptr` must be NULL or a handle from [`write_handle`] not yet freed.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if ptr.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: forwarded contract: the caller gives ownership back.
        drop(unsafe { Box::from_raw(ptr) });
    }));
}
