//! One error type for the whole library.
//!
//! Every variant maps to exactly one [`ErrorKind`]; each kind has a stable small integer (the C
//! status code) and one Python exception class. Whether an error is worth retrying is decided
//! here, once ([`Error::is_retryable`]).

use std::fmt;

use serde_json::Value;

/// The class of an error. The numbers are part of the C ABI (`mf_status`) and never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(i32)]
pub enum ErrorKind {
    /// Over a quota (local limiter or HTTP 429); carries the seconds to wait.
    RateLimited = 1,
    /// Wrong credentials, or a caller IP not whitelisted (eMAG answers both alike).
    Authentication = 2,
    /// Input refused before sending; carries the list of messages.
    Validation = 3,
    /// The resource or route does not exist (HTTP 404).
    NotFound = 4,
    /// A business rule forbids the operation (e.g. a status transition).
    BusinessRule = 5,
    /// Connection failures and 5xx answers.
    Network = 6,
    /// The request or an operation took longer than allowed.
    Timeout = 7,
    /// eMAG answered `isError: true`, or a body that is not the documented envelope.
    ApiResponse = 8,
    /// The embedded SQLite store failed.
    Store = 9,
    /// A backup could not be created, verified or restored.
    Backup = 10,
    /// An argument is out of range or malformed (not an eMAG rule).
    InvalidArgument = 11,
    /// A bug in this library (including a caught panic).
    Internal = 12,
}

impl ErrorKind {
    /// Every kind, in code order.
    pub const ALL: [ErrorKind; 12] = [
        ErrorKind::RateLimited,
        ErrorKind::Authentication,
        ErrorKind::Validation,
        ErrorKind::NotFound,
        ErrorKind::BusinessRule,
        ErrorKind::Network,
        ErrorKind::Timeout,
        ErrorKind::ApiResponse,
        ErrorKind::Store,
        ErrorKind::Backup,
        ErrorKind::InvalidArgument,
        ErrorKind::Internal,
    ];

    /// The stable integer code (the C `mf_status` value).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// A stable snake_case name (`"rate_limited"`, `"authentication"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Authentication => "authentication",
            ErrorKind::Validation => "validation",
            ErrorKind::NotFound => "not_found",
            ErrorKind::BusinessRule => "business_rule",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::ApiResponse => "api_response",
            ErrorKind::Store => "store",
            ErrorKind::Backup => "backup",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The library's error. Messages never contain credentials.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Over a quota.
    #[error("rate limited: {message} (retry in {remaining_seconds:.3} s)")]
    RateLimited {
        /// What was limited.
        message: String,
        /// Seconds to wait before the next attempt.
        remaining_seconds: f64,
        /// The HTTP status, when the server said so (429).
        status_code: Option<u16>,
    },
    /// Authentication refused.
    #[error("authentication failed: {message}")]
    Authentication {
        /// Explanation (both a wrong password and a non-whitelisted IP are named).
        message: String,
        /// HTTP status (401 or 403).
        status_code: Option<u16>,
        /// The body eMAG sent, when it was JSON.
        response_data: Option<Box<Value>>,
    },
    /// Input refused before sending.
    #[error("validation failed: {}", .errors.join("; "))]
    Validation {
        /// One message per problem, each naming its field path.
        errors: Vec<String>,
    },
    /// Not found (HTTP 404).
    #[error("not found: {message}")]
    NotFound {
        /// What was not found.
        message: String,
        /// HTTP status.
        status_code: Option<u16>,
        /// The body, when it was JSON.
        response_data: Option<Box<Value>>,
    },
    /// A business rule refused the operation.
    #[error("business rule: {message}")]
    BusinessRule {
        /// Which rule.
        message: String,
    },
    /// Connection failure or 5xx.
    #[error("network error: {message}")]
    Network {
        /// What failed.
        message: String,
        /// HTTP status for 5xx answers.
        status_code: Option<u16>,
        /// Whether the request provably never reached the server (connect failure).
        not_sent: bool,
    },
    /// Timed out.
    #[error("timeout: {message}")]
    Timeout {
        /// What timed out.
        message: String,
    },
    /// `isError: true`, or a body that is not the documented envelope.
    #[error("API error: {message}")]
    ApiResponse {
        /// eMAG's messages joined, or a description of the malformed body.
        message: String,
        /// eMAG's `messages`, as sent.
        messages: Vec<String>,
        /// HTTP status.
        status_code: Option<u16>,
        /// The whole body when it was JSON.
        response_data: Option<Box<Value>>,
        /// A malformed answer such as an HTML maintenance page is transient.
        transient: bool,
    },
    /// The embedded store failed.
    #[error("store error: {message}")]
    Store {
        /// What failed.
        message: String,
    },
    /// Backup failure.
    #[error("backup error: {message}")]
    Backup {
        /// What failed.
        message: String,
    },
    /// A malformed or out-of-range argument.
    #[error("invalid argument: {message}")]
    InvalidArgument {
        /// What is wrong.
        message: String,
    },
    /// A bug in this library.
    #[error("internal error: {message}")]
    Internal {
        /// What happened.
        message: String,
    },
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidArgument`].
    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Error::InvalidArgument {
            message: message.into(),
        }
    }

    /// An [`Error::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    /// An [`Error::Store`].
    pub fn store(message: impl Into<String>) -> Self {
        Error::Store {
            message: message.into(),
        }
    }

    /// An [`Error::Backup`].
    pub fn backup(message: impl Into<String>) -> Self {
        Error::Backup {
            message: message.into(),
        }
    }

    /// An [`Error::BusinessRule`].
    pub fn business(message: impl Into<String>) -> Self {
        Error::BusinessRule {
            message: message.into(),
        }
    }

    /// An [`Error::Timeout`].
    pub fn timeout(message: impl Into<String>) -> Self {
        Error::Timeout {
            message: message.into(),
        }
    }

    /// An [`Error::Validation`] with these messages.
    pub fn validation(errors: Vec<String>) -> Self {
        Error::Validation { errors }
    }

    /// An [`Error::RateLimited`].
    pub fn rate_limited(message: impl Into<String>, remaining_seconds: f64) -> Self {
        Error::RateLimited {
            message: message.into(),
            remaining_seconds,
            status_code: None,
        }
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::BusinessRule { .. } => ErrorKind::BusinessRule,
            Error::Network { .. } => ErrorKind::Network,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::ApiResponse { .. } => ErrorKind::ApiResponse,
            Error::Store { .. } => ErrorKind::Store,
            Error::Backup { .. } => ErrorKind::Backup,
            Error::InvalidArgument { .. } => ErrorKind::InvalidArgument,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// The human-readable message, without the kind prefix.
    pub fn message(&self) -> String {
        match self {
            Error::Validation { errors } => errors.join("; "),
            Error::RateLimited { message, .. }
            | Error::Authentication { message, .. }
            | Error::NotFound { message, .. }
            | Error::BusinessRule { message }
            | Error::Network { message, .. }
            | Error::Timeout { message }
            | Error::ApiResponse { message, .. }
            | Error::Store { message }
            | Error::Backup { message }
            | Error::InvalidArgument { message }
            | Error::Internal { message } => message.clone(),
        }
    }

    /// The HTTP status that produced this error, if any.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Error::RateLimited { status_code, .. }
            | Error::Authentication { status_code, .. }
            | Error::NotFound { status_code, .. }
            | Error::Network { status_code, .. }
            | Error::ApiResponse { status_code, .. } => *status_code,
            _ => None,
        }
    }

    /// Seconds to wait, for rate-limit errors.
    pub fn remaining_seconds(&self) -> Option<f64> {
        match self {
            Error::RateLimited {
                remaining_seconds, ..
            } => Some(*remaining_seconds),
            _ => None,
        }
    }

    /// The validation messages, for validation errors (empty otherwise).
    pub fn validation_errors(&self) -> &[String] {
        match self {
            Error::Validation { errors } => errors,
            _ => &[],
        }
    }

    /// The JSON body of the answer that produced this error, if any.
    pub fn response_data(&self) -> Option<&Value> {
        match self {
            Error::Authentication { response_data, .. }
            | Error::NotFound { response_data, .. }
            | Error::ApiResponse { response_data, .. } => response_data.as_deref(),
            _ => None,
        }
    }

    /// Whether trying the same request again later may succeed.
    ///
    /// Rate limits, network failures, timeouts and transient malformed answers (an HTML
    /// maintenance page) are; authentication, validation, business rules, `isError: true`
    /// answers and local failures are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Network { .. } | Error::Timeout { .. } => true,
            Error::ApiResponse { transient, .. } => *transient,
            _ => false,
        }
    }

    /// Whether the request provably never reached the server (safe to retry even a
    /// non-idempotent save).
    pub fn provably_not_sent(&self) -> bool {
        match self {
            Error::Network { not_sent, .. } => *not_sent,
            // The local limiter refuses before anything is sent; a 429 is answered by the
            // gateway before the API sees the request.
            Error::RateLimited { .. } => true,
            _ => false,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::store(e.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::invalid_argument(format!("invalid JSON: {e}"))
    }
}
