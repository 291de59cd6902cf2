//! The eMAG Marketplace API client.
//!
//! Every request goes through [`Client::request`]: rate limiter -> HTTP -> [`response::interpret`]
//! (the one place answers are mapped) -> observers -> retry policy. Resource families are in
//! [`api`]; pagination and one-month order windows in [`pagination`]; a blocking facade over the
//! shared runtime in [`blocking`].

pub mod api;
pub mod blocking;
pub mod client_config;
pub mod pagination;
pub mod raw;
pub mod response;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::Method;
use serde_json::Value;

pub use client_config::{BodyMode, ClientConfig};
pub use raw::{RawItems, RawResults};

use crate::error::{Error, Result};
use crate::hooks::{Outcome, RequestEvent};
use crate::monitor::{Monitor, MonitorConfig};
use crate::phpform;
use crate::platform::Credentials;
use crate::ratelimit::Bucket;
use crate::retry::{retry_safety, should_retry, RetryBudget, RetrySafety};
use crate::runtime::ForkAware;
use crate::validate::request_guards as guards;

/// The `User-Agent` every request carries.
pub const USER_AGENT_VALUE: &str = concat!("magflow-emag/", env!("CARGO_PKG_VERSION"));

/// The log target of request and response bodies (debug level, credentials removed, at most
/// [`WIRE_EXCERPT`] bytes each), written only by a client configured with
/// [`ClientConfig::with_wire_log`]: bodies hold customer data, so turning on the library's
/// debug logs is not enough to write them.
pub const WIRE_TARGET: &str = "magflow_emag::wire";

/// How much of a body the wire log keeps.
pub const WIRE_EXCERPT: usize = 2048;

/// What to send: a route, a method, and a payload.
#[derive(Debug, Clone)]
pub struct Request {
    /// HTTP method (POST for resource/action routes).
    pub method: Method,
    /// Path below the base URL, e.g. `order/read` or `order/acknowledge/123`.
    pub path: String,
    /// The resource name for hooks and retry safety (`order`, `product_offer`, ...).
    pub resource: String,
    /// The action name for hooks and retry safety (`read`, `save`, ...).
    pub action: String,
    /// The `data` payload (None: no body).
    pub data: Option<Value>,
    /// Query parameters (GET routes).
    pub query: Vec<(String, String)>,
    /// A JSON body sent as is (offer_stock PATCH), bypassing the body mode.
    pub raw_json: Option<Value>,
}

impl Request {
    /// A `POST {resource}/{action}` with `data`.
    pub fn post(resource: &str, action: &str, data: Option<Value>) -> Self {
        let resource = resource.trim_matches('/');
        let action = action.trim_matches('/');
        Request {
            method: Method::POST,
            path: format!("{resource}/{action}"),
            resource: resource.to_owned(),
            action: action.to_owned(),
            data,
            query: Vec::new(),
            raw_json: None,
        }
    }
}

/// A finished response body that is not the JSON envelope (PDF/ZPL downloads).
#[derive(Debug, Clone)]
pub struct Download {
    /// `Content-Type` as sent.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Vec<u8>,
}

struct Inner {
    config: ClientConfig,
    monitor: Arc<Monitor>,
    base: String,
    http: ForkAware<reqwest::Client>,
    budget: RetryBudget,
}

/// The asynchronous client. Cheap to clone (an `Arc`); safe to share between tasks and threads.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("username", &self.inner.config.credentials.username)
            .field("platform", &self.inner.config.platform)
            .field("base_url", &self.inner.base)
            .field("account", &self.inner.config.account)
            .finish()
    }
}

impl Client {
    /// Build a client (checks the base URL; builds one connection pool). The client feeds its
    /// monitor (the configured one, or a new one) with every attempt and polls its limiter's
    /// usage when the monitor is read.
    pub fn new(mut config: ClientConfig) -> Result<Self> {
        let monitor = match &config.monitor {
            Some(m) => m.clone(),
            None => Arc::new(Monitor::new(MonitorConfig::default())?),
        };
        config.observers.push(monitor.clone());
        config.limiter = config.effective_limiter();
        if let Some(limiter) = &config.limiter {
            let limiter = limiter.clone();
            monitor.add_usage_source(Arc::new(move || limiter.usage()));
        }
        let base = config
            .resolved_base_url()?
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        let mut auth =
            HeaderValue::from_str(&format!("Basic {}", config.credentials.basic_token())).map_err(
                |_| {
                    Error::invalid_argument(
                        "username or password contains characters not allowed in a header",
                    )
                },
            )?;
        auth.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, auth);
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let timeout = config.timeout;
        let connect_timeout = config.connect_timeout;
        let http = ForkAware::new(move || {
            reqwest::Client::builder()
                .default_headers(headers.clone())
                .timeout(timeout)
                .connect_timeout(connect_timeout)
                .pool_idle_timeout(Duration::from_secs(60))
                // Certificates are always verified; redirects are not followed (a redirect of a
                // POST is a misconfiguration to report, not to chase with credentials).
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| Error::internal(format!("cannot build the HTTP client: {e}")))
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                monitor,
                base,
                http,
                budget: RetryBudget::default(),
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// The monitor this client feeds.
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.inner.monitor
    }

    /// The effective base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Tokens left in the retry budget.
    pub fn retry_budget_available(&self) -> u32 {
        self.inner.budget.available()
    }

    /// The JSON escape hatch: `POST {resource}/{action}` with `data`; returns `results`.
    pub async fn call(&self, resource: &str, action: &str, data: Option<Value>) -> Result<Value> {
        guards::check_route_name("resource", resource)?;
        guards::check_route_name("action", action)?;
        if let Some(d) = &data {
            guards::check_payload(resource, action, d)?;
        }
        self.request(Request::post(resource, action, data)).await
    }

    /// [`Client::call`] with `results` kept as the JSON text eMAG sent.
    pub async fn call_raw(
        &self,
        resource: &str,
        action: &str,
        data: Option<Value>,
    ) -> Result<RawResults> {
        guards::check_route_name("resource", resource)?;
        guards::check_route_name("action", action)?;
        if let Some(d) = &data {
            guards::check_payload(resource, action, d)?;
        }
        self.request_raw(Request::post(resource, action, data))
            .await
    }

    /// Send a request with the limiter, retries and observers; return `results`.
    pub async fn request(&self, req: Request) -> Result<Value> {
        self.send_with_retries(&req).await?.to_value()
    }

    /// [`Client::request`], with `results` kept as the JSON text eMAG sent (no `Value` is
    /// built): for callers that store the text or build their own objects from it.
    pub async fn request_raw(&self, req: Request) -> Result<RawResults> {
        self.send_with_retries(&req).await
    }

    /// Send a GET download (PDF/ZPL): same hooks and retries; returns the bytes.
    pub async fn download(&self, req: Request) -> Result<Download> {
        let safety = retry_safety(&req.resource, &req.action);
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            let result = self.attempt(&req, retry, true, started).await;
            match result {
                Ok(Attempt::Bytes(d)) => {
                    self.inner.budget.refund();
                    return Ok(d);
                }
                Ok(Attempt::Json(_)) => return Err(Error::internal("download answered JSON")),
                Err(err) => {
                    let delay = self.plan_retry(&req, &err, retry, safety, started)?;
                    tokio::time::sleep(delay).await;
                    retry += 1;
                }
            }
        }
    }

    async fn send_with_retries(&self, req: &Request) -> Result<RawResults> {
        let safety = retry_safety(&req.resource, &req.action);
        let started = Instant::now();
        let mut retry = 0u32;
        loop {
            match self.attempt(req, retry, false, started).await {
                Ok(Attempt::Json(v)) => {
                    self.inner.budget.refund();
                    return Ok(v);
                }
                Ok(Attempt::Bytes(_)) => return Err(Error::internal("JSON route answered bytes")),
                Err(err) => {
                    let delay = self.plan_retry(req, &err, retry, safety, started)?;
                    log::debug!(
                        "retrying {} after {:?} (retry {} of {}): {}",
                        req.path,
                        delay,
                        retry + 1,
                        self.inner.config.retry.max_retries,
                        err
                    );
                    tokio::time::sleep(delay).await;
                    retry += 1;
                }
            }
        }
    }

    /// Decide whether to retry `err`; returns the sleep or the error to give up with.
    fn plan_retry(
        &self,
        req: &Request,
        err: &Error,
        retry: u32,
        safety: RetrySafety,
        started: Instant,
    ) -> Result<Duration> {
        let policy = &self.inner.config.retry;
        let give_up = || err.clone();
        if !should_retry(policy, err, retry, safety) {
            return Err(give_up());
        }
        if let Error::RateLimited {
            status_code: None, ..
        } = err
        {
            // The limiter refused: its wait is longer than the call's deadline.
            return Err(give_up());
        }
        let hint = err.remaining_seconds().map(Duration::from_secs_f64);
        if let Some(hint) = hint {
            if hint > self.wait_budget(started) {
                log::debug!(
                    "not retrying {}: eMAG asks to wait {:.3} s, past the call's deadline",
                    req.path,
                    hint.as_secs_f64()
                );
                return Err(give_up());
            }
        }
        let delay = policy.delay(retry, hint);
        if let Some(deadline) = policy.deadline {
            if started.elapsed() + delay > deadline {
                log::debug!("not retrying {}: the deadline would pass", req.path);
                return Err(give_up());
            }
        }
        if !self.inner.budget.try_spend(err) {
            log::warn!("retry budget exhausted: not retrying {}", req.path);
            return Err(give_up());
        }
        Ok(delay)
    }

    /// How long a call that started at `started` may still wait for a permit or a server's
    /// rate-limit hint: until the retry policy's deadline when it has one, else for one
    /// client timeout. A longer wait fails at once with `RateLimited` (its seconds say how
    /// long), instead of holding the caller past the time it allowed.
    fn wait_budget(&self, started: Instant) -> Duration {
        match self.inner.config.retry.deadline {
            Some(deadline) => deadline.saturating_sub(started.elapsed()),
            None => self.inner.config.timeout,
        }
    }

    /// One attempt: limiter, HTTP, interpretation, observers.
    async fn attempt(
        &self,
        req: &Request,
        retry: u32,
        binary: bool,
        call_started: Instant,
    ) -> Result<Attempt> {
        let bucket = Bucket::for_resource(&req.resource);
        if let Some(limiter) = &self.inner.config.limiter {
            limiter
                .acquire_within(bucket, Some(self.wait_budget(call_started)))
                .await?;
        }
        let started = Instant::now();
        let (result, http_status) = self.send_once(req, binary).await;
        let latency = started.elapsed();
        if let Err(Error::RateLimited {
            status_code: Some(429),
            remaining_seconds,
            ..
        }) = &result
        {
            if let Some(limiter) = &self.inner.config.limiter {
                limiter.on_rate_limited(bucket, Duration::from_secs_f64(*remaining_seconds));
            }
        }
        let outcome = match &result {
            Ok(_) => Outcome::Success,
            Err(e) => Outcome::Error(e.kind()),
        };
        log::debug!(
            "{} {}/{} -> {} in {:.1} ms ({})",
            req.method,
            self.inner.config.account,
            req.path,
            http_status.map_or_else(|| "no answer".to_owned(), |s| s.to_string()),
            latency.as_secs_f64() * 1000.0,
            outcome.as_str()
        );
        if !self.inner.config.observers.is_empty() {
            let event = RequestEvent {
                resource: &req.resource,
                action: &req.action,
                bucket,
                http_status,
                outcome,
                latency,
                attempt: retry,
            };
            for observer in &self.inner.config.observers {
                observer.observe(&event);
            }
        }
        result
    }

    async fn send_once(&self, req: &Request, binary: bool) -> (Result<Attempt>, Option<u16>) {
        let url = format!("{}/{}", self.inner.base, req.path);
        let http = match self.inner.http.get() {
            Ok(http) => http,
            Err(e) => return (Err(e), None),
        };
        let mut builder = http.request(req.method.clone(), &url);
        if !req.query.is_empty() {
            builder = builder.query(&req.query);
        }
        if let Some(json) = &req.raw_json {
            builder = builder.json(json);
        } else if let Some(data) = &req.data {
            builder = match self.inner.config.body_mode {
                BodyMode::Form => builder
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(phpform::encode(data)),
                BodyMode::Json => builder.json(data),
                BodyMode::JsonData => builder.json(&serde_json::json!({ "data": data })),
            };
        } else if req.method == Method::POST {
            builder = match self.inner.config.body_mode {
                BodyMode::Form => builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded"),
                BodyMode::Json | BodyMode::JsonData => builder.json(&serde_json::json!({})),
            };
        }
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => return (Err(self.transport_error(&e)), None),
        };
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let reset_hint = header("x-ratelimit-reset");
        let content_type = header("content-type");
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return (Err(self.transport_error(&e)), Some(status)),
        };
        if binary && (200..300).contains(&status) {
            let is_json = content_type.as_deref().is_some_and(|c| c.contains("json"));
            if !is_json {
                return (
                    Ok(Attempt::Bytes(Download {
                        content_type,
                        bytes: bytes.to_vec(),
                    })),
                    Some(status),
                );
            }
        }
        if self.inner.config.wire_log && log::log_enabled!(target: WIRE_TARGET, log::Level::Debug) {
            self.log_wire(req, status, &bytes);
        }
        let raw = response::RawResponse {
            status,
            retry_after: retry_after.as_deref(),
            reset_hint: reset_hint.as_deref(),
            body: &bytes,
        };
        if (200..300).contains(&status) {
            // The common case: `isError: false`, read without building the whole body.
            if let Some(results) = RawResults::from_success_body(bytes.clone()) {
                return (Ok(Attempt::Json(results)), Some(status));
            }
        }
        let result = response::interpret(&raw, &self.inner.config.credentials)
            .map(|v| Attempt::Json(RawResults::from_value(&v)));
        (result, Some(status))
    }

    /// The request's data and the answer's body, scrubbed and cut to [`WIRE_EXCERPT`].
    fn log_wire(&self, req: &Request, status: u16, body: &[u8]) {
        let creds = &self.inner.config.credentials;
        if !creds.password_is_scrubbable() {
            log::debug!(
                target: WIRE_TARGET,
                "{} {} answered {status}: bodies not logged (a password this short cannot be scrubbed)",
                req.method,
                req.path
            );
            return;
        }
        let sent = req
            .raw_json
            .as_ref()
            .or(req.data.as_ref())
            .map_or_else(|| "(no data)".to_owned(), Value::to_string);
        log::debug!(
            target: WIRE_TARGET,
            "{} {} sent {} | answered {status}: {}",
            req.method,
            req.path,
            scrubbed_excerpt(creds, sent.as_bytes()),
            scrubbed_excerpt(creds, body),
        );
    }

    fn transport_error(&self, e: &reqwest::Error) -> Error {
        let creds = &self.inner.config.credentials;
        // reqwest's Display names the URL (never the Authorization header); scrub anyway.
        let text = creds.redact(&error_chain(e));
        if e.is_timeout() {
            Error::timeout(format!(
                "no answer within {:?}: {text}",
                self.inner.config.timeout
            ))
        } else {
            Error::Network {
                message: text,
                status_code: None,
                // A connect failure provably never reached the server.
                not_sent: e.is_connect(),
            }
        }
    }
}

enum Attempt {
    Json(RawResults),
    Bytes(Download),
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// At most [`WIRE_EXCERPT`] bytes of a body as text, scrubbed of credentials, with the body's
/// full length when it was cut. Only a prefix is scrubbed (a long answer is not copied
/// whole); the scrubbing happens before the cut, and the prefix's last `longest secret` bytes
/// are dropped, so a secret that the prefix cuts in two leaves no part behind.
fn scrubbed_excerpt(creds: &Credentials, body: &[u8]) -> String {
    let margin = creds.longest_secret_len();
    let prefix_len = WIRE_EXCERPT + 2 * margin;
    if body.len() <= prefix_len {
        return excerpt(&creds.redact(&String::from_utf8_lossy(body)), None);
    }
    let scrubbed = creds.redact(&String::from_utf8_lossy(&body[..prefix_len]));
    let keep = char_floor(&scrubbed, scrubbed.len().saturating_sub(margin));
    excerpt(&scrubbed[..keep], Some(body.len()))
}

/// `text` cut to at most [`WIRE_EXCERPT`] bytes at a character boundary, saying the full
/// length when anything is left out. `cut_from`: the length of the whole body when `text` is
/// already only its beginning (None: `text` is all of it).
fn excerpt(text: &str, cut_from: Option<usize>) -> String {
    if text.len() <= WIRE_EXCERPT && cut_from.is_none() {
        return text.to_owned();
    }
    let end = char_floor(text, WIRE_EXCERPT);
    let total = cut_from.unwrap_or(text.len());
    format!("{}... ({total} bytes in all)", &text[..end])
}

/// The largest character boundary of `text` at or below `at`.
fn char_floor(text: &str, at: usize) -> usize {
    let mut end = at.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_excerpts_are_cut_at_a_character_and_say_the_length() {
        assert_eq!(excerpt("{\"isError\":false}", None), "{\"isError\":false}");
        // 'ă' is two bytes: a cut inside it backs up to its start.
        let body = format!("{}ă{}", "a".repeat(WIRE_EXCERPT - 1), "b".repeat(10));
        let cut = excerpt(&body, None);
        assert!(cut.starts_with(&"a".repeat(WIRE_EXCERPT - 1)));
        assert!(
            cut.ends_with(&format!("... ({} bytes in all)", body.len())),
            "{cut}"
        );
        assert!(!cut.contains('ă') && !cut.contains('\u{FFFD}'));
    }

    #[test]
    fn wire_excerpts_leave_no_part_of_a_secret_wherever_the_cuts_fall() {
        let creds = Credentials::new("user", "Pa\"ss-w0rd-long").unwrap();
        let escaped = "Pa\\\"ss-w0rd-long";
        let basic = creds.basic_token();
        let margin = creds.longest_secret_len();
        for secret in ["Pa\"ss-w0rd-long", escaped, basic.as_str()] {
            // The secret at every offset around both cuts (the excerpt's and the prefix's),
            // after a run of earlier copies that the scrubbing shortens.
            for at in WIRE_EXCERPT - 40..WIRE_EXCERPT + 3 * margin + 40 {
                let head = format!("{secret} ").repeat(20);
                let pad = "x".repeat(at.saturating_sub(head.len()));
                let body = format!("{head}{pad}{secret}{}", "y".repeat(5000));
                let out = scrubbed_excerpt(&creds, body.as_bytes());
                assert!(out.len() <= WIRE_EXCERPT + 40, "{}", out.len());
                assert!(out.ends_with(&format!("({} bytes in all)", body.len())));
                for part in [&secret[..8], &secret[secret.len() - 8..]] {
                    assert!(!out.contains(part), "part {part:?} of a secret at {at}");
                }
            }
        }
        // A short answer is scrubbed whole and kept whole.
        let short = format!("{{\"x\":\"{escaped}\"}}");
        assert_eq!(
            scrubbed_excerpt(&creds, short.as_bytes()),
            "{\"x\":\"***\"}"
        );
    }
}
