//! Boundary helpers: panic catching, the per-thread last error, and C string conversions.
//!
//! Modelled on rustls-ffi: every entry point runs inside [`guard`], which catches panics and
//! turns every error into an `mf_status` plus a per-thread message. Outputs are written only on
//! success, through [`Out`]; handles are borrowed and released through [`Handle`].

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;

use mf_core::Error;
use serde::Serialize;

use crate::mf_status;

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

pub(crate) fn set_last_error(message: &str) {
    LAST_ERROR.with(|slot| *slot.borrow_mut() = Some(c_text(message)));
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
            mf_status::of(err.kind())
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

/// An optional JSON argument (NULL = absent); text that is not JSON is an invalid argument.
///
/// # Safety
/// As for [`arg_str`].
pub(crate) unsafe fn opt_arg_json(
    ptr: *const c_char,
    name: &str,
) -> Result<Option<serde_json::Value>, Error> {
    // SAFETY: forwarded contract.
    let Some(text) = unsafe { opt_arg_str(ptr, name) }? else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| Error::invalid_argument(format!("{name} is not valid JSON: {e}")))
}

/// An out-parameter: checked non-NULL before any work ([`Out::new`]), written only on
/// success, once (each writer takes `self`).
pub(crate) struct Out<'a, T> {
    ptr: NonNull<T>,
    _borrow: PhantomData<&'a mut T>,
}

impl<T> Out<'_, T> {
    /// Take the out-pointer `ptr` (argument `name`); NULL is an invalid argument.
    ///
    /// # Safety
    /// `ptr` must be NULL or valid for a write of `T` for the whole call.
    pub(crate) unsafe fn new(ptr: *mut T, name: &str) -> Result<Self, Error> {
        Self::optional(ptr).ok_or_else(|| Error::invalid_argument(format!("{name} is NULL")))
    }

    /// An out-pointer the caller may leave NULL (then nothing is written).
    ///
    /// # Safety
    /// As for [`Out::new`].
    pub(crate) unsafe fn optional(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Out {
            ptr,
            _borrow: PhantomData,
        })
    }

    /// Write the result.
    pub(crate) fn write(self, value: T) {
        // SAFETY: valid for a write for the call (the contract of `new`); the old value (a C
        // pointer or number, possibly uninitialised) is not read or dropped.
        unsafe { self.ptr.as_ptr().write(value) }
    }
}

impl Out<'_, *mut c_char> {
    /// Hand a string to C (freed with `mf_string_free`).
    pub(crate) fn string(self, text: String) -> Result<(), Error> {
        self.write(to_c_string(text)?);
        Ok(())
    }

    /// Hand a value to C as JSON text (freed with `mf_string_free`).
    pub(crate) fn json<V: Serialize + ?Sized>(self, value: &V) -> Result<(), Error> {
        let text = serde_json::to_string(value)
            .map_err(|e| Error::internal(format!("result not serializable: {e}")))?;
        self.string(text)
    }
}

impl<H: Handle> Out<'_, *mut H> {
    /// Hand a new handle to C (released with its `_free`).
    pub(crate) fn handle(self, value: H) {
        self.write(Box::into_raw(Box::new(value)));
    }
}

/// A type C holds only through a pointer (rustls-ffi's `Castable`, box ownership): made by
/// [`Out::handle`], borrowed by the entry points while live, released once by [`Handle::free`].
pub(crate) trait Handle: Sized {
    /// The argument's name in error messages (`"store"`, `"client"`, ...).
    const ARG: &'static str;

    /// Borrow a handle argument; NULL is an invalid argument.
    ///
    /// # Safety
    /// `ptr` must be NULL or a live handle of this type.
    unsafe fn arg<'a>(ptr: *const Self) -> Result<&'a Self, Error> {
        // SAFETY: forwarded contract.
        unsafe { ptr.as_ref() }
            .ok_or_else(|| Error::invalid_argument(format!("{} is NULL", Self::ARG)))
    }

    /// Borrow an optional handle argument (NULL = none).
    ///
    /// # Safety
    /// As for [`Handle::arg`].
    unsafe fn opt_arg<'a>(ptr: *const Self) -> Option<&'a Self> {
        // SAFETY: forwarded contract.
        unsafe { ptr.as_ref() }
    }

    /// Take a handle back from C (NULL = none); it is not valid in C afterwards.
    ///
    /// # Safety
    /// `ptr` must be NULL or a live handle of this type, not used by C afterwards.
    unsafe fn take(ptr: *mut Self) -> Option<Box<Self>> {
        // SAFETY: forwarded contract: made by `Box::into_raw` in `Out::handle`.
        (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
    }

    /// Release a handle. NULL is a no-op; a panic in a destructor is caught.
    ///
    /// # Safety
    /// As for [`Handle::take`].
    unsafe fn free(ptr: *mut Self) {
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: forwarded contract.
            drop(unsafe { Self::take(ptr) });
        }));
    }
}

/// Hand a Rust string to C (freed with `mf_string_free`).
pub(crate) fn to_c_string(s: String) -> Result<*mut c_char, Error> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| Error::internal("string with an interior NUL cannot cross to C"))
}

/// A C copy of `text`; interior NULs cannot cross, so they become U+FFFD rather than lose it.
pub(crate) fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{FFFD}")).unwrap_or_default()
}
