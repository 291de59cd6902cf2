//! One error type for the whole library.
//!
//! Every variant maps to exactly one [`ErrorKind`]; each kind has a stable small integer (the C
//! status code) and one Python exception class. Whether an error is worth retrying is decided
//! here, once ([`Error::is_retryable`]).

use std::fmt;

use serde_json::Value;

/// Whether an error of a kind is worth retrying (see [`Error::is_retryable`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retry {
    /// Trying again later may succeed.
    Always,
    /// The same request fails the same way.
    Never,
    /// Only when the error says it is transient (an HTML maintenance page is, `isError` is not).
    WhenTransient,
}

impl Retry {
    /// A stable snake_case name: `"always"`, `"never"`, `"when_transient"`.
    pub fn name(self) -> &'static str {
        match self {
            Retry::Always => "always",
            Retry::Never => "never",
            Retry::WhenTransient => "when_transient",
        }
    }
}

/// Declares [`ErrorKind`] from the one table of the kinds below: per row the variant, its
/// stable code, its snake_case name, its Python exception class, its C status name, whether
/// it is worth retrying, and its one-line description. The C `mf_status` enum
/// (`bindings/c/src/status.rs`, generated and checked by a test), the Python exception
/// classes (`magflow_emag/errors.py` reads the table from the native module) and the table in
/// docs/architecture.md (checked by a test) come from here.
macro_rules! error_kinds {
    ($($variant:ident = $code:literal, $name:literal, $py_class:literal, $c_status:ident, $retry:ident,
        $doc:literal;)*) => {
        /// The class of an error. The numbers are part of the C ABI (`mf_status`) and never
        /// change.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[repr(i32)]
        pub enum ErrorKind {
            $(#[doc = $doc] $variant = $code,)*
        }

        impl ErrorKind {
            /// Every kind, in code order.
            pub const ALL: [ErrorKind; [$($code),*].len()] = [$(ErrorKind::$variant),*];

            /// A stable snake_case name (`"rate_limited"`, `"authentication"`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $name,)*
                }
            }

            /// The name of the Python exception class (`"RateLimitError"`, ...).
            pub fn python_class(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $py_class,)*
                }
            }

            /// The name of the C status (`"MF_ERR_RATE_LIMITED"`, ...).
            pub fn c_status_name(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => stringify!($c_status),)*
                }
            }

            /// Whether an error of this kind is worth retrying.
            pub fn retry(self) -> Retry {
                match self {
                    $(ErrorKind::$variant => Retry::$retry,)*
                }
            }

            /// The one-line description (the C header and the Python classes show it).
            pub fn doc(self) -> &'static str {
                match self {
                    $(ErrorKind::$variant => $doc,)*
                }
            }
        }
    };
}

error_kinds! {
    RateLimited = 1, "rate_limited", "RateLimitError", MF_ERR_RATE_LIMITED, Always,
        "Over a quota (local limiter or HTTP 429).";
    Authentication = 2, "authentication", "AuthenticationError", MF_ERR_AUTHENTICATION, Never,
        "Wrong credentials or a caller IP that is not whitelisted.";
    Validation = 3, "validation", "ValidationError", MF_ERR_VALIDATION, Never,
        "Input refused before sending.";
    NotFound = 4, "not_found", "ResourceNotFoundError", MF_ERR_NOT_FOUND, Never,
        "Not found (HTTP 404).";
    BusinessRule = 5, "business_rule", "BusinessLogicError", MF_ERR_BUSINESS_RULE, Never,
        "A business rule refused the operation.";
    Network = 6, "network", "NetworkError", MF_ERR_NETWORK, Always,
        "Connection failure or HTTP 5xx.";
    Timeout = 7, "timeout", "EmagTimeoutError", MF_ERR_TIMEOUT, Always,
        "Timed out.";
    ApiResponse = 8, "api_response", "ApiResponseError", MF_ERR_API_RESPONSE, WhenTransient,
        "eMAG answered isError=true or a malformed body.";
    Store = 9, "store", "StoreError", MF_ERR_STORE, Never,
        "The embedded store failed.";
    Backup = 10, "backup", "BackupError", MF_ERR_BACKUP, Never,
        "A backup failed.";
    InvalidArgument = 11, "invalid_argument", "InvalidArgumentError", MF_ERR_INVALID_ARGUMENT, Never,
        "A NULL, malformed or out-of-range argument.";
    Internal = 12, "internal", "InternalError", MF_ERR_INTERNAL, Never,
        "A bug in the library (including a caught panic).";
}

impl ErrorKind {
    /// The stable integer code (the C `mf_status` value).
    pub fn code(self) -> i32 {
        self as i32
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

/// The constructors of the kinds whose only field is the message.
macro_rules! message_constructors {
    ($($ctor:ident => $variant:ident;)*) => {
        impl Error {
            $(
                #[doc = concat!("An [`Error::", stringify!($variant), "`].")]
                pub fn $ctor(message: impl Into<String>) -> Self {
                    Error::$variant {
                        message: message.into(),
                    }
                }
            )*
        }
    };
}

message_constructors! {
    invalid_argument => InvalidArgument;
    internal => Internal;
    store => Store;
    backup => Backup;
    business => BusinessRule;
    timeout => Timeout;
}

impl Error {
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
    /// The kind decides ([`ErrorKind::retry`]): rate limits, network failures, timeouts and
    /// transient malformed answers (an HTML maintenance page) are; authentication,
    /// validation, business rules, `isError: true` answers and local failures are not.
    pub fn is_retryable(&self) -> bool {
        match self.kind().retry() {
            Retry::Always => true,
            Retry::Never => false,
            Retry::WhenTransient => matches!(
                self,
                Error::ApiResponse {
                    transient: true,
                    ..
                }
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    const DOCS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/architecture.md");
    const TABLE_HEAD: &str =
        "| code | kind | Python class | C status | retry |\n|---|---|---|---|---|\n";

    /// The table of docs/architecture.md ("Error kinds"), as the core's table gives it.
    fn docs_table() -> String {
        let mut table = TABLE_HEAD.to_owned();
        for kind in ErrorKind::ALL {
            table.push_str(&format!(
                "| {} | {} | `{}` | `{}` | {} |\n",
                kind.code(),
                kind.name(),
                kind.python_class(),
                kind.c_status_name(),
                kind.retry().name()
            ));
        }
        table
    }

    #[test]
    fn the_docs_table_is_the_core_table() {
        let docs = std::fs::read_to_string(DOCS).expect("read docs/architecture.md");
        let start = docs
            .find(TABLE_HEAD)
            .expect("the error-kinds table in the docs");
        let len = docs[start..]
            .find("\n\n")
            .map_or(docs.len() - start, |n| n + 1);
        let expected = docs_table();
        if std::env::var_os("MF_REGENERATE").is_some() {
            let updated = format!("{}{expected}{}", &docs[..start], &docs[start + len..]);
            std::fs::write(DOCS, updated).expect("write docs/architecture.md");
            return;
        }
        assert!(
            docs[start..start + len] == expected,
            "the error-kinds table of docs/architecture.md differs from the core's table: \
             run `make status`"
        );
    }
}
