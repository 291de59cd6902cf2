//! Quotas and limiter configuration (also the JSON accepted by `mf_rate_limiter_new`).
//!
//! Defaults are eMAG's published quotas. The configuration carries the Redis URL, which may
//! hold a password: it lives in a [`SecretUrl`] whose `Debug`/`Display` redact it.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ratelimit::Bucket;

/// One bucket's quota: both limits hold in every sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    /// Most requests in any one-second window.
    pub per_second: u32,
    /// Most requests in any sixty-second window.
    pub per_minute: u32,
}

impl Quota {
    /// eMAG's orders quota: 12/s and 720/min ([`crate::limits`]).
    pub const ORDERS: Quota = Quota::documented(Bucket::Orders);
    /// eMAG's quota for every other resource together: 3/s and 180/min.
    pub const OTHER: Quota = Quota::documented(Bucket::Other);

    /// eMAG's documented quota of `bucket`.
    pub const fn documented(bucket: Bucket) -> Quota {
        let (per_second, per_minute) = crate::limits::quota(bucket);
        Quota {
            per_second,
            per_minute,
        }
    }

    /// The even spacing that keeps both windows within the quota, widened by `margin`
    /// (0.01 = 1 %). With spacing `s`, a window of length `w` holds at most `floor(w/s) + 1`
    /// grants; `s = w/n * (1 + margin)` makes that `n` even for closed windows.
    pub fn interval(&self, margin: f64) -> Duration {
        let per_second = 1e9 / f64::from(self.per_second.max(1));
        let per_minute = 60e9 / f64::from(self.per_minute.max(1));
        let ns = per_second.max(per_minute) * (1.0 + margin);
        Duration::from_nanos(ns.ceil() as u64)
    }

    fn check(&self, name: &str) -> Result<()> {
        if self.per_second == 0 || self.per_minute == 0 {
            return Err(Error::invalid_argument(format!(
                "quota of bucket {name:?} must be positive (got {}/s, {}/min)",
                self.per_second, self.per_minute
            )));
        }
        Ok(())
    }
}

/// Where the limiter keeps its state, i.e. who shares the quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// This process only (every clone of the `RateLimiter` shares it).
    #[default]
    Local,
    /// Every process on this host that names the same `path`.
    Host,
    /// Every process on every host that uses the same Redis server and account key.
    Redis,
}

impl BackendKind {
    /// `"local"`, `"host"` or `"redis"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Local => "local",
            BackendKind::Host => "host",
            BackendKind::Redis => "redis",
        }
    }
}

impl FromStr for BackendKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "local" => Ok(BackendKind::Local),
            "host" => Ok(BackendKind::Host),
            "redis" => Ok(BackendKind::Redis),
            _ => Err(Error::invalid_argument(format!(
                "unknown rate-limiter backend {s:?}: expected \"local\", \"host\" or \"redis\""
            ))),
        }
    }
}

/// What to do when Redis cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisFallback {
    /// Refuse with a network error (safe: no process exceeds the shared quota).
    #[default]
    Fail,
    /// Warn and limit this process alone until Redis answers again (other processes may then
    /// together exceed the quota).
    Local,
}

impl FromStr for RedisFallback {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "fail" => Ok(RedisFallback::Fail),
            "local" => Ok(RedisFallback::Local),
            _ => Err(Error::invalid_argument(format!(
                "unknown redis fallback {s:?}: expected \"fail\" or \"local\""
            ))),
        }
    }
}

/// A connection URL that may carry a password. `Debug` and `Display` show it redacted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    /// Wrap a URL.
    pub fn new(url: impl Into<String>) -> Self {
        SecretUrl(url.into())
    }

    /// The URL itself, password included (for connecting only).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }

    /// The password, if the URL carries one (to scrub it from foreign error texts).
    pub(crate) fn password(&self) -> Option<String> {
        url::Url::parse(&self.0)
            .ok()
            .and_then(|u| u.password().map(str::to_owned))
            .filter(|p| !p.is_empty())
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `redis://user:secret@host/0` -> `redis://user:***@host/0`; an unparsable URL is hidden
/// whole (it may still contain a password).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) => {
            if u.password().is_some() && u.set_password(Some("***")).is_err() {
                return "<redacted url>".to_owned();
            }
            u.to_string()
        }
        Err(_) => "<unparsable url>".to_owned(),
    }
}

fn default_prefix() -> String {
    "magflow-emag:ratelimit".to_owned()
}

fn default_account() -> String {
    "default".to_owned()
}

fn default_margin() -> f64 {
    0.01
}

fn default_redis_timeout() -> f64 {
    2.0
}

fn default_orders() -> Quota {
    Quota::ORDERS
}

fn default_other() -> Quota {
    Quota::OTHER
}

/// Everything a [`super::RateLimiter`] needs. `Default` is eMAG's quotas, local backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimiterConfig {
    /// Who shares the quota.
    #[serde(default)]
    pub backend: BackendKind,
    /// The state file of the `host` backend.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// The server of the `redis` backend (`redis://[:password@]host:port/db`).
    #[serde(default)]
    pub redis_url: Option<SecretUrl>,
    /// Redis key prefix.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// The eMAG account the quota belongs to (part of the Redis key): one quota per account.
    #[serde(default = "default_account")]
    pub account: String,
    /// The orders bucket's quota.
    #[serde(default = "default_orders")]
    pub orders: Quota,
    /// The quota of every other resource together.
    #[serde(default = "default_other")]
    pub other: Quota,
    /// Extra spacing (0.01 = 1 %) against requests arriving closer together than they left.
    #[serde(default = "default_margin")]
    pub safety_margin: f64,
    /// What to do when Redis cannot be reached.
    #[serde(default)]
    pub redis_fallback: RedisFallback,
    /// Connect and response timeout for Redis, in seconds.
    #[serde(default = "default_redis_timeout")]
    pub redis_timeout_s: f64,
}

impl Default for RateLimiterConfig {
    fn default() -> Self {
        RateLimiterConfig {
            backend: BackendKind::Local,
            path: None,
            redis_url: None,
            key_prefix: default_prefix(),
            account: default_account(),
            orders: Quota::ORDERS,
            other: Quota::OTHER,
            safety_margin: default_margin(),
            redis_fallback: RedisFallback::Fail,
            redis_timeout_s: default_redis_timeout(),
        }
    }
}

impl RateLimiterConfig {
    /// Parse the JSON form (unknown fields are refused, missing ones take the defaults).
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("invalid rate-limiter config: {e}")))
    }

    /// The quota of `bucket`.
    pub fn quota(&self, bucket: Bucket) -> Quota {
        match bucket {
            Bucket::Orders => self.orders,
            Bucket::Other => self.other,
        }
    }

    /// Check every field; the error names the first problem.
    pub fn validate(&self) -> Result<()> {
        self.orders.check("orders")?;
        self.other.check("other")?;
        if !(0.0..=1.0).contains(&self.safety_margin) {
            return Err(Error::invalid_argument(format!(
                "safety_margin must be within 0..=1 (got {})",
                self.safety_margin
            )));
        }
        if !(self.redis_timeout_s.is_finite() && self.redis_timeout_s > 0.0) {
            return Err(Error::invalid_argument(
                "redis_timeout_s must be a positive number of seconds",
            ));
        }
        match self.backend {
            BackendKind::Local => {}
            BackendKind::Host => {
                if self.path.as_ref().is_none_or(|p| p.as_os_str().is_empty()) {
                    return Err(Error::invalid_argument(
                        "the host backend needs a path (a state file shared by the processes)",
                    ));
                }
            }
            BackendKind::Redis => {
                let Some(url) = &self.redis_url else {
                    return Err(Error::invalid_argument(
                        "the redis backend needs redis_url (redis://[:password@]host:port/db)",
                    ));
                };
                let parsed = url::Url::parse(url.expose()).map_err(|e| {
                    Error::invalid_argument(format!("invalid redis_url {}: {e}", url.redacted()))
                })?;
                if !matches!(parsed.scheme(), "redis" | "redis+unix" | "unix") {
                    return Err(Error::invalid_argument(format!(
                        "redis_url {} must use the redis:// scheme (rediss:// is not built in)",
                        url.redacted()
                    )));
                }
                if self.account.is_empty() {
                    return Err(Error::invalid_argument("account must not be empty"));
                }
            }
        }
        Ok(())
    }
}

/// A start offset for a scheduled job, so jobs do not fire at round clock times (eMAG's advice:
/// start at 12:04:42 rather than 12:00:00). Deterministic per `job_name`, so a job keeps its
/// offset across restarts while different jobs spread out; within 5-95 % of `period` and never
/// a whole second.
pub fn scheduled_start_offset(job_name: &str, period: Duration) -> Duration {
    // FNV-1a: stable across Rust versions and platforms (unlike `DefaultHasher`).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in job_name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let fraction = (hash >> 11) as f64 / (1u64 << 53) as f64;
    let period_s = period.as_secs_f64();
    let mut offset = period_s * (0.05 + 0.9 * fraction);
    if offset >= 1.0 && offset.fract() < 0.1 {
        offset += 0.37;
    }
    Duration::from_secs_f64(offset.min(period_s))
}
