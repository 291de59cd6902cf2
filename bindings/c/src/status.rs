//! GENERATED from the core's table of error kinds (`error_kinds!` in src/error.rs) by
//! bindings/c/tests/status.rs; do not edit. Regenerate with `make status`.

use std::ffi::{c_int, CStr};

use mf_core::ErrorKind;

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

impl mf_status {
    /// The status of a core error kind (a kind unknown to this table is internal).
    pub(crate) fn of(kind: ErrorKind) -> Self {
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
            ErrorKind::Internal => mf_status::MF_ERR_INTERNAL,
            _ => mf_status::MF_ERR_INTERNAL,
        }
    }
}

/// The name of a status number (`MF_UNKNOWN_STATUS` for any other number).
pub(crate) fn status_name(status: c_int) -> &'static CStr {
    match status {
        0 => c"MF_OK",
        1 => c"MF_ERR_RATE_LIMITED",
        2 => c"MF_ERR_AUTHENTICATION",
        3 => c"MF_ERR_VALIDATION",
        4 => c"MF_ERR_NOT_FOUND",
        5 => c"MF_ERR_BUSINESS_RULE",
        6 => c"MF_ERR_NETWORK",
        7 => c"MF_ERR_TIMEOUT",
        8 => c"MF_ERR_API_RESPONSE",
        9 => c"MF_ERR_STORE",
        10 => c"MF_ERR_BACKUP",
        11 => c"MF_ERR_INVALID_ARGUMENT",
        12 => c"MF_ERR_INTERNAL",
        _ => c"MF_UNKNOWN_STATUS",
    }
}
