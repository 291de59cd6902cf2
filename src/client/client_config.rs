//! Client configuration: credentials, platform or base URL, timeouts, body mode, retry policy
//! and hooks.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::hooks::{Limiter, RequestObserver};
use crate::platform::{Credentials, Platform};
use crate::retry::RetryPolicy;

/// How the `data` payload travels (spec §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyMode {
    /// `application/x-www-form-urlencoded`, PHP bracket notation: the documented form.
    #[default]
    Form,
    /// `application/json` with the payload itself as the body.
    Json,
    /// `application/json` as `{"data": payload}`.
    JsonData,
}

impl FromStr for BodyMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "form" => Ok(BodyMode::Form),
            "json" => Ok(BodyMode::Json),
            "json_data" => Ok(BodyMode::JsonData),
            _ => Err(Error::invalid_argument(format!(
                "unknown body mode {s:?}: expected \"form\", \"json\" or \"json_data\""
            ))),
        }
    }
}

/// Everything a client needs. Build with [`ClientConfig::new`] and the `with_*` methods, or
/// from JSON (the C and CLI faces) with [`ClientConfig::from_json`].
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// API user and password.
    pub credentials: Credentials,
    /// The platform (its API URL and time zone).
    pub platform: Platform,
    /// Overrides the platform's URL (plain `http://` only for loopback addresses).
    pub base_url: Option<String>,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Connection timeout.
    pub connect_timeout: Duration,
    /// Body encoding.
    pub body_mode: BodyMode,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// The rate limiter every request passes. None with `default_rate_limit` (the default):
    /// the account's shared local limiter with eMAG's quotas ([`RateLimiter::for_account`]);
    /// None without it: no limiting.
    ///
    /// [`RateLimiter::for_account`]: crate::ratelimit::RateLimiter::for_account
    pub limiter: Option<Arc<dyn Limiter>>,
    /// Attach the account's shared local limiter when no `limiter` is given (default true;
    /// [`ClientConfig::without_rate_limit`] turns it off).
    pub default_rate_limit: bool,
    /// Observers told about every attempt (besides the client's monitor).
    pub observers: Vec<Arc<dyn RequestObserver>>,
    /// The monitor fed by every attempt, the limiter's usage and the syncs (None: the client
    /// makes its own with the default configuration).
    pub monitor: Option<Arc<crate::monitor::Monitor>>,
    /// Time zone of eMAG's timestamps (default: the platform's).
    pub time_zone: Option<Tz>,
    /// A label for logs and metrics (e.g. `main`, `fbe`); never a secret.
    pub account: String,
    /// Log request and response bodies (scrubbed of credentials, cut to 2 KiB) at debug level
    /// under [`crate::client::WIRE_TARGET`]. Off by default: bodies hold customer data, so
    /// enabling debug logs for the library must not be enough to write them.
    pub wire_log: bool,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("credentials", &self.credentials)
            .field("platform", &self.platform)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("body_mode", &self.body_mode)
            .field("retry", &self.retry)
            .field("limiter", &self.limiter.is_some())
            .field("default_rate_limit", &self.default_rate_limit)
            .field("observers", &self.observers.len())
            .field("account", &self.account)
            .field("wire_log", &self.wire_log)
            .finish()
    }
}

impl ClientConfig {
    /// Defaults: eMAG Romania, 30 s timeout, 10 s connect timeout, form bodies, the default
    /// retry policy, eMAG's quotas through the account's shared local limiter.
    pub fn new(credentials: Credentials) -> Self {
        ClientConfig {
            credentials,
            platform: Platform::EmagRo,
            base_url: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            body_mode: BodyMode::Form,
            retry: RetryPolicy::default(),
            limiter: None,
            default_rate_limit: true,
            observers: Vec::new(),
            monitor: None,
            time_zone: None,
            account: "main".to_owned(),
            wire_log: false,
        }
    }

    /// Set the platform.
    pub fn with_platform(mut self, platform: Platform) -> Self {
        self.platform = platform;
        self
    }

    /// Override the base URL.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Set the request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Set the body mode.
    pub fn with_body_mode(mut self, mode: BodyMode) -> Self {
        self.body_mode = mode;
        self
    }

    /// Log request and response bodies at debug level (see [`ClientConfig::wire_log`]).
    pub fn with_wire_log(mut self, on: bool) -> Self {
        self.wire_log = on;
        self
    }

    /// Set the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Attach a rate limiter (e.g. a `host` or `redis` one shared with other processes).
    pub fn with_limiter(mut self, limiter: Arc<dyn Limiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// No rate limiting at all (tests against a simulator with its limits off; benchmarks).
    pub fn without_rate_limit(mut self) -> Self {
        self.limiter = None;
        self.default_rate_limit = false;
        self
    }

    /// The limiter requests will pass: the configured one, else the account's shared one.
    pub fn effective_limiter(&self) -> Option<Arc<dyn Limiter>> {
        match &self.limiter {
            Some(l) => Some(l.clone()),
            None if self.default_rate_limit => {
                Some(Arc::new(crate::ratelimit::RateLimiter::for_account(
                    self.platform,
                    &self.credentials.username,
                )))
            }
            None => None,
        }
    }

    /// Use this monitor (e.g. one shared by the clients of several accounts).
    pub fn with_monitor(mut self, monitor: Arc<crate::monitor::Monitor>) -> Self {
        self.monitor = Some(monitor);
        self
    }

    /// Add a request observer.
    pub fn with_observer(mut self, observer: Arc<dyn RequestObserver>) -> Self {
        self.observers.push(observer);
        self
    }

    /// The time zone eMAG timestamps are read in.
    pub fn time_zone(&self) -> Tz {
        self.time_zone.unwrap_or_else(|| self.platform.time_zone())
    }

    /// The effective base URL, checked: `https://` anywhere, `http://` only on loopback.
    pub fn resolved_base_url(&self) -> Result<url::Url> {
        let raw = self.base_url.as_deref().unwrap_or(self.platform.api_url());
        let url = url::Url::parse(raw.trim_end_matches('/')).map_err(|e| {
            Error::invalid_argument(format!(
                "base_url {:?} is not a URL: {e}",
                redact_userinfo(raw)
            ))
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_argument(
                "base_url must not carry credentials; pass username and password separately",
            ));
        }
        match url.scheme() {
            "https" => Ok(url),
            "http" if is_loopback(&url) => Ok(url),
            "http" => Err(Error::invalid_argument(format!(
                "base_url {:?} uses plain http to a non-loopback host: credentials are only \
                 sent over https (plain http is allowed for 127.0.0.0/8, ::1 and localhost)",
                redact_userinfo(raw)
            ))),
            other => Err(Error::invalid_argument(format!(
                "base_url scheme {other:?} is not supported (https, or http on loopback)"
            ))),
        }
    }

    /// Read a JSON configuration:
    /// `{"username", "password", "platform", "base_url", "timeout_s", "body_mode",
    ///   "retry": {"max_retries", "base_delay", "max_delay", "jitter", "deadline"}, "account",
    ///   "rate_limit": true, "rate_limiter": null, "wire_log": false}` (`rate_limit` false: no
    ///   local limiter with eMAG's quotas; `rate_limiter`: a limiter of its own, configured as
    ///   [`RateLimiterConfig::from_json`](crate::ratelimit::RateLimiterConfig::from_json) reads
    ///   it, e.g. `{"backend": "host", "path": "/run/shop.rl"}` to share the quota with other
    ///   processes; `wire_log` true: bodies at debug level, see [`ClientConfig::wire_log`]).
    // Long on purpose: the wire struct of the JSON configuration and its mapping, key by key.
    pub fn from_json(text: &str) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct RetryJson {
            max_retries: Option<u32>,
            base_delay: Option<f64>,
            max_delay: Option<f64>,
            jitter: Option<bool>,
            deadline: Option<f64>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct ConfigJson {
            username: String,
            password: String,
            platform: Option<String>,
            base_url: Option<String>,
            timeout_s: Option<f64>,
            connect_timeout_s: Option<f64>,
            body_mode: Option<String>,
            retry: Option<RetryJson>,
            account: Option<String>,
            rate_limit: Option<bool>,
            rate_limiter: Option<Box<serde_json::value::RawValue>>,
            wire_log: Option<bool>,
        }
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: ConfigJson = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            // Field names are not secrets; values are (a password typed as a number).
            let path = e.path().to_string();
            let problem = without_values(e.inner());
            Error::invalid_argument(if path.is_empty() || path == "." {
                format!("client configuration: {problem}")
            } else {
                format!("client configuration: {path}: {problem}")
            })
        })?;
        de.end().map_err(|e| {
            Error::invalid_argument(format!("client configuration: {}", without_values(&e)))
        })?;
        let mut config = ClientConfig::new(Credentials::new(raw.username, raw.password)?);
        if let Some(p) = raw.platform {
            config.platform = p.parse()?;
        }
        config.base_url = raw.base_url;
        if let Some(t) = raw.timeout_s {
            config.timeout = secs(t, "timeout_s")?;
        }
        if let Some(t) = raw.connect_timeout_s {
            config.connect_timeout = secs(t, "connect_timeout_s")?;
        }
        if let Some(m) = raw.body_mode {
            config.body_mode = m.parse()?;
        }
        if let Some(r) = raw.retry {
            let d = RetryPolicy::default();
            config.retry = RetryPolicy::from_secs(
                r.max_retries.unwrap_or(d.max_retries),
                r.base_delay.unwrap_or(d.base_delay.as_secs_f64()),
                r.max_delay.unwrap_or(d.max_delay.as_secs_f64()),
                r.jitter.unwrap_or(d.jitter),
                r.deadline,
            )?;
        }
        if let Some(a) = raw.account {
            config.account = a;
        }
        config.wire_log = raw.wire_log.unwrap_or(false);
        match (raw.rate_limit, raw.rate_limiter) {
            (Some(false), Some(_)) => {
                return Err(Error::invalid_argument(
                    "client configuration: \"rate_limit\": false and \"rate_limiter\" \
                     contradict each other (give one)",
                ))
            }
            (Some(false), None) => config = config.without_rate_limit(),
            (_, Some(limiter)) => {
                use crate::ratelimit::{RateLimiter, RateLimiterConfig};
                let limiter = RateLimiterConfig::from_json(limiter.get())
                    .and_then(RateLimiter::new)
                    .map_err(|e| {
                        Error::invalid_argument(format!(
                            "client configuration: rate_limiter: {}",
                            e.message()
                        ))
                    })?;
                config = config.with_limiter(Arc::new(limiter));
            }
            (_, None) => {}
        }
        config.resolved_base_url()?;
        Ok(config)
    }
}

/// `raw` with whatever stands where a URL's userinfo would (`user:password@`) replaced by
/// `***@`, whether or not the text parses as a URL: an error message may quote a base URL,
/// and a password pasted into one must not travel with it.
pub(crate) fn redact_userinfo(raw: &str) -> String {
    let authority_start = raw.find("://").map_or(0, |i| i + 3);
    let rest = &raw[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!(
            "{}***{}",
            &raw[..authority_start],
            &raw[authority_start + at..]
        ),
        None => raw.to_owned(),
    }
}

/// serde's message without the values it quotes in backticks: a mistyped password (a number
/// where a string belongs) would otherwise be echoed into the error text.
fn without_values(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // `invalid type: string "hunter2", expected u32`: keep the kind, drop the value.
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = text.strip_prefix(lead) {
            if let Some(comma) = rest.find(", expected") {
                let kind = rest[..comma]
                    .split([' ', '`', '"'])
                    .next()
                    .unwrap_or("value");
                let kind = if kind == "floating" { "number" } else { kind };
                return format!("{lead}{kind}{}", &rest[comma..]);
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut inside = false;
    for part in text.split('`') {
        out.push_str(if inside { "..." } else { part });
        inside = !inside;
    }
    // A field's name is useful and never a secret; serde quotes names and values the same
    // way, so keep the name for the error classes that quote only a name.
    if text.starts_with("missing field") || text.starts_with("duplicate field") {
        return text;
    }
    if text.starts_with("unknown field") {
        return text
            .split(", expected")
            .next()
            .unwrap_or("unknown field")
            .to_owned();
    }
    out
}

/// Seconds to a positive Duration.
pub(crate) fn secs(v: f64, name: &str) -> Result<Duration> {
    match Duration::try_from_secs_f64(v) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(Error::invalid_argument(format!(
            "{name} must be a positive number of seconds, got {v}"
        ))),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_limiter_in_the_json_is_the_clients_and_is_shared_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let limiter_json = format!(
            r#"{{"backend": "host", "path": {:?}, "other": {{"per_second": 1, "per_minute": 60}}}}"#,
            dir.path().join("shop.rl").display().to_string()
        );
        let json =
            format!(r#"{{"username": "u", "password": "p", "rate_limiter": {limiter_json}}}"#);
        let config = ClientConfig::from_json(&json).unwrap();
        let limiter = config.effective_limiter().unwrap();
        crate::runtime::block_on(limiter.acquire(crate::ratelimit::Bucket::Other)).unwrap();
        // Another process naming the same file finds the quota spent.
        let other = crate::ratelimit::RateLimiter::new(
            crate::ratelimit::RateLimiterConfig::from_json(&limiter_json).unwrap(),
        )
        .unwrap();
        assert!(!other
            .try_acquire_blocking(crate::ratelimit::Bucket::Other)
            .unwrap());
    }

    #[test]
    fn rate_limiter_errors_name_the_field_and_hide_secrets() {
        let err = |json: &str| ClientConfig::from_json(json).unwrap_err();
        let e = err(r#"{"username": "u", "password": "p", "rate_limiter": {"backend": "host"}}"#);
        assert_eq!(e.kind(), crate::ErrorKind::InvalidArgument);
        assert!(e.message().contains("rate_limiter"), "{e}");
        let e = err(
            r#"{"username": "u", "password": "p", "rate_limiter": {"backend": "redis",
                "redis_url": "rediss://:hunter2@h/0"}}"#,
        );
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e =
            err(r#"{"username": "u", "password": "p", "rate_limit": false, "rate_limiter": {}}"#);
        assert!(e.message().contains("contradict"), "{e}");
        // "rate_limit": true with a limiter of its own is fine.
        let ok = ClientConfig::from_json(
            r#"{"username": "u", "password": "p", "rate_limit": true, "rate_limiter": {}}"#,
        )
        .unwrap();
        assert!(ok.limiter.is_some());
    }

    fn config(url: &str) -> ClientConfig {
        ClientConfig::new(Credentials::new("u", "p").unwrap()).with_base_url(url)
    }

    #[test]
    fn http_only_on_loopback() {
        assert!(config("http://127.0.0.1:8080/api-3")
            .resolved_base_url()
            .is_ok());
        assert!(config("http://127.8.0.1/api-3").resolved_base_url().is_ok());
        assert!(config("http://[::1]:9/api-3").resolved_base_url().is_ok());
        assert!(config("http://localhost:9/api-3")
            .resolved_base_url()
            .is_ok());
        assert!(config("https://marketplace-api.emag.ro/api-3")
            .resolved_base_url()
            .is_ok());
        let err = config("http://marketplace-api.emag.ro/api-3")
            .resolved_base_url()
            .unwrap_err();
        assert!(err.message().contains("https"));
        assert!(config("http://10.0.0.1/api-3").resolved_base_url().is_err());
        assert!(config("ftp://127.0.0.1/").resolved_base_url().is_err());
        assert!(config("https://u:p@example.com/")
            .resolved_base_url()
            .is_err());
        assert!(config("not a url").resolved_base_url().is_err());
    }

    #[test]
    fn json_config_and_debug_without_secret() {
        let c = ClientConfig::from_json(
            r#"{"username":"u","password":"s3cr3t!","platform":"fd_bg","timeout_s":2.5,
                "retry":{"max_retries":1,"base_delay":0.01,"max_delay":0.02}}"#,
        )
        .unwrap();
        assert_eq!(c.platform, Platform::FdBg);
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.retry.max_retries, 1);
        assert!(!format!("{c:?}").contains("s3cr3t!"));
        assert!(!c.wire_log, "bodies are not logged unless asked for");
        let loud =
            ClientConfig::from_json(r#"{"username":"u","password":"p","wire_log":true}"#).unwrap();
        assert!(loud.wire_log);
        assert!(
            ClientConfig::from_json(r#"{"username":"u","password":"p","wire_log":"yes"}"#).is_err()
        );
        let missing = ClientConfig::from_json(r#"{"username":"u"}"#).unwrap_err();
        assert!(missing.to_string().contains("`password`"), "{missing}");
        let mistyped =
            ClientConfig::from_json(r#"{"username":"u","password":123456789}"#).unwrap_err();
        assert!(
            mistyped.to_string().contains("password: invalid type"),
            "{mistyped}"
        );
        assert!(!mistyped.to_string().contains("123456789"), "{mistyped}");
        let nested = ClientConfig::from_json(
            r#"{"username":"u","password":"p","retry":{"max_retries":"many"}}"#,
        )
        .unwrap_err();
        assert!(nested.to_string().contains("retry.max_retries"), "{nested}");
        assert!(!nested.to_string().contains("many"), "{nested}");
        assert!(
            ClientConfig::from_json(r#"{"username":"u","password":"p","timeout_s":-1}"#).is_err()
        );
        assert!(
            ClientConfig::from_json(r#"{"username":"u","password":"p","platform":"emag_de"}"#)
                .is_err()
        );
        assert!(ClientConfig::from_json(r#"{"username":"u","password":"p","typo":1}"#).is_err());
        let err = ClientConfig::from_json(r#"{"username":"u","password":87654321}"#).unwrap_err();
        assert!(!err.to_string().contains("87654321"), "{err}");
    }

    #[test]
    fn a_password_in_a_base_url_never_reaches_an_error() {
        for raw in [
            "https://user:hunter2-secret@[bad",
            "https://user:hunter2-secret@ex ample.com/api-3",
            "user:hunter2-secret@host:notaport",
            "http://u:hunter2-secret@10.0.0.1:99999/x",
            "ftp://u:hunter2-secret@host/x",
        ] {
            let err = config(raw).resolved_base_url().unwrap_err();
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
        assert_eq!(
            redact_userinfo("https://a:b@h/p@q"),
            "https://***@h/p@q".to_owned()
        );
        assert_eq!(redact_userinfo("https://h/p"), "https://h/p".to_owned());
    }
}
