//! # magflow-emag
//!
//! The core of an eMAG Marketplace (API v4.4.9) integration: reference codes, errors, and (as
//! the project grows) the client, rate limiter, retry policy, validation, store, sync,
//! monitoring, backup and a simulator of the API. Python (`magflow_emag`) and C
//! (`include/magflow_emag.h`) reach the same behaviour through thin bindings.
//!
//! ```
//! use magflow_emag::codes::{cancellation_reason_text, Lang};
//! assert_eq!(cancellation_reason_text(1, Lang::En), "Out of stock");
//! assert_eq!(cancellation_reason_text(999, Lang::Ro), "Motiv necunoscut (cod: 999)");
//! ```
#![warn(missing_docs)]

pub mod backup;
pub mod callbacks;
pub mod client;
pub mod codes;
pub mod error;
pub mod hooks;
// Internal (the store's and the validators' borrowed JSON tree): public only for the crate's
// benches, not API.
#[doc(hidden)]
pub mod jsonview;
pub mod lenient;
pub mod limits;
pub mod models;
pub mod monitor;
// Internal (the client's and the simulator's form encoding): public only for the crate's
// tests, not API.
#[doc(hidden)]
pub mod phpform;
pub mod platform;
pub mod ratelimit;
pub mod retry;
pub mod runtime;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod store;
pub mod sync;
pub mod time;
pub mod validate;

pub use backup::BackupManager;
pub use client::blocking::BlockingClient;
pub use client::{BodyMode, Client, ClientConfig};
pub use error::{Error, ErrorKind, Result, Retry};
pub use hooks::{Limiter, NoLimiter, Outcome, RequestEvent, RequestObserver};
pub use monitor::{Monitor, MonitorConfig};
pub use platform::{Credentials, Platform, Secret};
pub use ratelimit::{Bucket, RateLimiter, RateLimiterConfig};
pub use retry::RetryPolicy;
pub use store::{Scope, Store};
pub use validate::{
    validate_awb, validate_bulk_order_update, validate_offer, validate_order_cancellation,
    validate_order_data, validate_order_for_update,
};

/// The crate version (also `magflow_emag.__version__` and `mf_version()`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
