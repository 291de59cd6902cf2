//! eMAG's rate limits, kept across tasks, worker processes and hosts.
//!
//! eMAG allows the orders routes 12 requests/s and 720/min, every other route together 3/s
//! and 180/min, and answers 429 beyond. [`RateLimiter`] keeps both limits in *every* sliding
//! window by spacing grants evenly (GCRA with a burst of 1, see `gcra`): a token bucket with a
//! burst of 12 refilled at 12/s would let 23 requests through in its first second. Spacing is
//! widened by a safety margin (1 % by default) because requests can reach eMAG closer
//! together than they left.
//!
//! Who shares the quota is the backend's choice: `local` (this process), `host` (every process
//! on the host naming the same state file) or `redis` (every process on every host using the
//! same Redis server and account). A 429 reported through [`Limiter::on_rate_limited`] holds
//! the bucket for every sharer. Nothing is spent on jitter after a grant; scheduled jobs use
//! [`scheduled_start_offset`] to avoid round clock times instead.

mod config;
mod gcra;
mod host;
mod local;
mod redis;
mod registry;
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    redact_url, scheduled_start_offset, BackendKind, Quota, RateLimiterConfig, RedisFallback,
    SecretUrl,
};
pub use stats::{BucketStats, RateLimiterStats};

use crate::error::{Error, Result};
use crate::hooks::{BoxFuture, Bucket, Limiter};
use gcra::{now_ns, Cells, Confirm, Spacing};
use host::HostState;
use local::LocalState;
use redis::RedisBackend;

/// How long a 429 without a usable hint holds its bucket: one full per-second window.
const DEFAULT_HOLD: Duration = Duration::from_secs(1);

/// The longest 429 hold: eMAG's quotas are per second and per minute, so a longer
/// `Retry-After` is capped to this (when it comes from a server) or refused (when a caller
/// asks for it), instead of holding every caller of the account for hours.
pub const MAX_HOLD: Duration = Duration::from_secs(300);

/// A hold a caller asked for: 0 means the default one-second hold; longer than [`MAX_HOLD`]
/// is refused.
fn checked_hold(wait: Duration) -> Result<Duration> {
    if wait > MAX_HOLD {
        return Err(Error::invalid_argument(format!(
            "a 429 hold of {:.3} s is longer than the {} s maximum (eMAG's windows are a second \
             and a minute)",
            wait.as_secs_f64(),
            MAX_HOLD.as_secs()
        )));
    }
    Ok(if wait.is_zero() { DEFAULT_HOLD } else { wait })
}
/// After Redis failed with the `local` fallback, how long to limit locally before trying
/// Redis again.
const FALLBACK_RETRY: Duration = Duration::from_secs(5);

enum Backend {
    Local,
    Host(HostState),
    Redis(Box<RedisBackend>),
}

struct Inner {
    config: RateLimiterConfig,
    spacing: [Spacing; 2],
    backend: Backend,
    // The local backend's state; for the redis backend the local mirror of 429 holds and the
    // state used while falling back.
    local: LocalState,
    fallback_until_ns: AtomicU64,
    stats: stats::Recorder,
}

/// The rate limiter. Cheap to clone; clones share state and statistics. Create one per eMAG
/// account and give it to the client.
#[derive(Clone)]
pub struct RateLimiter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::local(Quota::ORDERS, Quota::OTHER)
    }
}

impl RateLimiter {
    /// The process's local limiter of one eMAG account (platform + API user), created on first
    /// use: every client of that account in this process that was not given a limiter shares
    /// it, so two clients of one account never get twice the quota. (Across processes or
    /// hosts, give the clients a `host` or `redis` limiter.)
    pub fn for_account(platform: crate::platform::Platform, username: &str) -> RateLimiter {
        registry::for_account(platform, username)
    }
}

fn index(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Orders => 0,
        Bucket::Other => 1,
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl RateLimiter {
    /// Build a limiter; for `host` this opens (or creates) the state file, for `redis` it only
    /// checks the URL (the connection is made on first use).
    pub fn new(config: RateLimiterConfig) -> Result<Self> {
        config.validate()?;
        let backend = match config.backend {
            BackendKind::Local => Backend::Local,
            BackendKind::Host => {
                let path = config
                    .path
                    .as_deref()
                    .ok_or_else(|| Error::invalid_argument("the host backend needs a path"))?;
                Backend::Host(HostState::open(path)?)
            }
            BackendKind::Redis => {
                let url = config
                    .redis_url
                    .as_ref()
                    .ok_or_else(|| Error::invalid_argument("the redis backend needs redis_url"))?;
                Backend::Redis(Box::new(RedisBackend::new(
                    url,
                    &config.key_prefix,
                    &config.account,
                    Duration::from_secs_f64(config.redis_timeout_s),
                )?))
            }
        };
        Ok(Self::build(config, backend))
    }

    fn build(config: RateLimiterConfig, backend: Backend) -> Self {
        let spacing = |q: Quota| Spacing {
            paced_ns: nanos(q.interval(config.safety_margin)),
            min_gap_ns: nanos(q.interval(0.0)) + 1,
        };
        let spacing = [spacing(config.orders), spacing(config.other)];
        RateLimiter {
            inner: Arc::new(Inner {
                config,
                spacing,
                backend,
                local: LocalState::default(),
                fallback_until_ns: AtomicU64::new(0),
                stats: stats::Recorder::default(),
            }),
        }
    }

    /// A process-local limiter with these quotas (a quota of 0 counts as 1).
    pub fn local(orders: Quota, other: Quota) -> Self {
        let positive = |q: Quota| Quota {
            per_second: q.per_second.max(1),
            per_minute: q.per_minute.max(1),
        };
        let config = RateLimiterConfig {
            orders: positive(orders),
            other: positive(other),
            ..RateLimiterConfig::default()
        };
        Self::build(config, Backend::Local)
    }

    /// The configuration (its Redis URL prints redacted).
    pub fn config(&self) -> &RateLimiterConfig {
        &self.inner.config
    }

    /// The spacing between two grants of `bucket` (quota plus safety margin).
    pub fn interval(&self, bucket: Bucket) -> Duration {
        Duration::from_nanos(self.spacing(bucket).paced_ns)
    }

    /// A one-line description without secrets, e.g.
    /// `RateLimiter(backend="redis", redis_url="redis://:***@db:6379/0", account="shop1")`.
    pub fn describe(&self) -> String {
        let c = &self.inner.config;
        let quotas = format!(
            "orders={}/s,{}/min, other={}/s,{}/min",
            c.orders.per_second, c.orders.per_minute, c.other.per_second, c.other.per_minute
        );
        match &self.inner.backend {
            Backend::Local => format!("RateLimiter(backend=\"local\", {quotas})"),
            Backend::Host(h) => format!(
                "RateLimiter(backend=\"host\", path={:?}, {quotas})",
                h.path().display().to_string()
            ),
            Backend::Redis(r) => format!(
                "RateLimiter(backend=\"redis\", redis_url={:?}, account={:?}, {quotas})",
                r.url().redacted(),
                c.account
            ),
        }
    }

    /// Whether this process's state of both buckets is back at rest at `now`: no slot
    /// reserved ahead, no 429 hold, the last grant at least one interval ago. A new limiter
    /// would then decide exactly as this one (the per-account registry drops such limiters
    /// once no client holds them).
    fn at_rest(&self, now: u64) -> bool {
        Bucket::ALL.into_iter().all(|bucket| {
            let cells = self.inner.local.cells(bucket);
            let gap = self.spacing(bucket).min_gap_ns;
            now >= cells.tat.load(Ordering::Acquire)
                && now >= cells.hold.load(Ordering::Acquire)
                && now >= cells.last.load(Ordering::Acquire).saturating_add(gap)
        })
    }

    /// Whether the redis backend currently limits locally after a failure.
    fn falling_back(&self, now: u64) -> bool {
        self.inner.fallback_until_ns.load(Ordering::Acquire) > now
    }

    fn spacing(&self, bucket: Bucket) -> Spacing {
        self.inner.spacing[index(bucket)]
    }

    /// The in-memory state of `bucket`: the file's for `host`, this process's otherwise (for
    /// `redis`: the local mirror of 429 holds and the fallback state).
    fn cells(&self, bucket: Bucket) -> Cells<'_> {
        match &self.inner.backend {
            Backend::Host(h) => h.cells(bucket),
            _ => self.inner.local.cells(bucket),
        }
    }

    /// The Redis backend, unless it is absent or we are falling back from it.
    fn redis(&self, now: u64) -> Option<&RedisBackend> {
        match &self.inner.backend {
            Backend::Redis(r) if !self.falling_back(now) => Some(r),
            _ => None,
        }
    }

    /// On a Redis failure: the error (fail closed), or switch to local limiting for a while.
    fn redis_failed(&self, err: Error) -> Result<()> {
        match self.inner.config.redis_fallback {
            RedisFallback::Fail => Err(err),
            RedisFallback::Local => {
                let now = now_ns();
                let previous = self
                    .inner
                    .fallback_until_ns
                    .swap(now.saturating_add(nanos(FALLBACK_RETRY)), Ordering::AcqRel);
                if previous <= now {
                    log::warn!(
                        "{}; limiting this process alone for {} s (other processes may together \
                         exceed the quota meanwhile)",
                        err.message(),
                        FALLBACK_RETRY.as_secs()
                    );
                }
                Ok(())
            }
        }
    }

    /// Step 1: reserve a slot (async because of Redis).
    async fn reserve(&self, bucket: Bucket, max_wait_ns: Option<u64>) -> Result<Step> {
        let now = now_ns();
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        if let Backend::Redis(_) = &self.inner.backend {
            // A 429 seen by this process holds at once, before Redis is even asked.
            let held = cells.hold.load(Ordering::Acquire).saturating_sub(now);
            if held > 0 {
                return Ok(if max_wait_ns.is_some_and(|m| held > m) {
                    Step::Refused { wait_ns: held }
                } else {
                    Step::Held { wait_ns: held }
                });
            }
        }
        if let Some(redis) = self.redis(now) {
            match redis.reserve(bucket, spacing, max_wait_ns).await {
                Ok((gcra::Reservation::Granted { wait_ns }, confirmed)) => {
                    return Ok(Step::Reserved { wait_ns, confirmed })
                }
                Ok((gcra::Reservation::TooLong { wait_ns }, _)) => {
                    return Ok(Step::Refused { wait_ns })
                }
                Err(e) => self.redis_failed(e)?,
            }
        }
        Ok(match gcra::reserve(cells, now_ns(), spacing, max_wait_ns) {
            gcra::Reservation::Granted { wait_ns } => Step::Reserved {
                wait_ns,
                confirmed: false,
            },
            gcra::Reservation::TooLong { wait_ns } => Step::Refused { wait_ns },
        })
    }

    /// Step 2: turn the reserved slot into a grant (async because of Redis).
    async fn confirm(&self, bucket: Bucket) -> Result<Confirm> {
        let now = now_ns();
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        if let Some(redis) = self.redis(now) {
            let held = cells.hold.load(Ordering::Acquire).saturating_sub(now);
            if held > 0 {
                return Ok(Confirm::Held { wait_ns: held });
            }
            match redis.confirm(bucket, spacing).await {
                Ok(c) => return Ok(c),
                Err(e) => self.redis_failed(e)?,
            }
        }
        Ok(gcra::confirm(cells, now_ns(), spacing))
    }

    fn too_long(&self, bucket: Bucket, wait_ns: u64, timeout: Option<Duration>) -> Error {
        self.inner.stats.timed_out(bucket);
        let wait_s = wait_ns as f64 / 1e9;
        Error::rate_limited(
            format!(
                "bucket {bucket}: the next permit is {wait_s:.3} s away, more than the timeout \
                 of {:.3} s; nothing was consumed",
                timeout.map_or(0.0, |t| t.as_secs_f64())
            ),
            wait_s,
        )
    }

    /// Wait for a permit in `bucket`. With a `timeout`, fail at once (consuming nothing) with
    /// a [`Error::RateLimited`] carrying the seconds still needed when the wait would be
    /// longer. Returns how long it waited.
    ///
    /// Dropping the future after it reserved a slot wastes that slot (never exceeds the quota).
    pub async fn acquire(&self, bucket: Bucket, timeout: Option<Duration>) -> Result<Duration> {
        let start = now_ns();
        let deadline = timeout.map(|t| start.saturating_add(nanos(t)));
        'reserve: loop {
            let max_wait = deadline.map(|d| d.saturating_sub(now_ns()));
            match self.reserve(bucket, max_wait).await? {
                Step::Refused { wait_ns } => return Err(self.too_long(bucket, wait_ns, timeout)),
                Step::Held { wait_ns } => {
                    tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                    continue 'reserve;
                }
                Step::Reserved {
                    confirmed: true, ..
                } => return Ok(self.granted(bucket, start)),
                Step::Reserved { wait_ns, .. } => {
                    if wait_ns > 0 {
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                    }
                }
            }
            loop {
                match self.confirm(bucket).await? {
                    Confirm::Go => return Ok(self.granted(bucket, start)),
                    Confirm::Wait { wait_ns } => {
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await
                    }
                    Confirm::Held { wait_ns } => {
                        if deadline.is_some_and(|d| now_ns().saturating_add(wait_ns) > d) {
                            return Err(self.too_long(bucket, wait_ns, timeout));
                        }
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                        continue 'reserve;
                    }
                }
            }
        }
    }

    fn granted(&self, bucket: Bucket, start: u64) -> Duration {
        let now = now_ns();
        let waited = now.saturating_sub(start);
        // A few microseconds are the cost of the call itself, not a wait.
        let counted = if waited > 50_000 { waited } else { 0 };
        self.inner.stats.granted(bucket, now, counted);
        Duration::from_nanos(counted)
    }

    /// [`RateLimiter::acquire`] for synchronous callers (the thread sleeps; no runtime is
    /// involved for the local and host backends).
    pub fn acquire_blocking(&self, bucket: Bucket, timeout: Option<Duration>) -> Result<Duration> {
        if matches!(self.inner.backend, Backend::Redis(_)) {
            return crate::runtime::block_on(self.acquire(bucket, timeout));
        }
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        let start = now_ns();
        let deadline = timeout.map(|t| start.saturating_add(nanos(t)));
        'reserve: loop {
            let now = now_ns();
            let max_wait = deadline.map(|d| d.saturating_sub(now));
            match gcra::reserve(cells, now, spacing, max_wait) {
                gcra::Reservation::TooLong { wait_ns } => {
                    return Err(self.too_long(bucket, wait_ns, timeout))
                }
                gcra::Reservation::Granted { wait_ns } => {
                    if wait_ns > 0 {
                        std::thread::sleep(Duration::from_nanos(wait_ns));
                    }
                }
            }
            loop {
                match gcra::confirm(cells, now_ns(), spacing) {
                    Confirm::Go => return Ok(self.granted(bucket, start)),
                    Confirm::Wait { wait_ns } => std::thread::sleep(Duration::from_nanos(wait_ns)),
                    Confirm::Held { wait_ns } => {
                        std::thread::sleep(Duration::from_nanos(wait_ns));
                        continue 'reserve;
                    }
                }
            }
        }
    }

    /// Take a permit only if one is free right now. Never waits; `false` consumes nothing
    /// (except in a lost race between two sharers, which can void one slot).
    pub async fn try_acquire(&self, bucket: Bucket) -> Result<bool> {
        match self.reserve(bucket, Some(0)).await? {
            Step::Reserved {
                confirmed: true, ..
            } => {}
            Step::Reserved { .. } => {
                if self.confirm(bucket).await? != Confirm::Go {
                    return Ok(false);
                }
            }
            Step::Refused { .. } | Step::Held { .. } => return Ok(false),
        }
        self.granted(bucket, now_ns());
        Ok(true)
    }

    /// [`RateLimiter::try_acquire`] for synchronous callers.
    pub fn try_acquire_blocking(&self, bucket: Bucket) -> Result<bool> {
        if matches!(self.inner.backend, Backend::Redis(_)) {
            return crate::runtime::block_on(self.try_acquire(bucket));
        }
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        match gcra::reserve(cells, now_ns(), spacing, Some(0)) {
            gcra::Reservation::Granted { .. } => {
                if gcra::confirm(cells, now_ns(), spacing) != Confirm::Go {
                    return Ok(false);
                }
                self.granted(bucket, now_ns());
                Ok(true)
            }
            gcra::Reservation::TooLong { .. } => Ok(false),
        }
    }

    /// The server answered 429: hold `bucket` for `wait` (one second when zero) for every
    /// caller, and for the host and redis backends for every process.
    /// A hint longer than [`MAX_HOLD`] is capped to it.
    pub fn on_rate_limited(&self, bucket: Bucket, wait: Duration) {
        let wait = checked_hold(wait.min(MAX_HOLD)).unwrap_or(MAX_HOLD);
        self.inner.stats.rate_limited(bucket);
        log::warn!(
            "eMAG answered 429 for bucket {bucket}: holding it for {:.3} s",
            wait.as_secs_f64()
        );
        let until = now_ns().saturating_add(nanos(wait));
        gcra::hold(self.cells(bucket), until);
        if let Backend::Redis(_) = &self.inner.backend {
            let this = self.clone();
            crate::runtime::handle().spawn(async move {
                if let Backend::Redis(redis) = &this.inner.backend {
                    if let Err(e) = redis.hold(bucket, wait).await {
                        log::warn!(
                            "could not share the 429 hold through redis: {}",
                            e.message()
                        );
                    }
                }
            });
        }
    }

    /// [`RateLimiter::on_rate_limited`] that waits until the hold is recorded everywhere (the
    /// hook's redis write is otherwise in the background) and reports a Redis failure.
    /// A hold longer than [`MAX_HOLD`] is refused (an invalid argument).
    pub async fn hold(&self, bucket: Bucket, wait: Duration) -> Result<()> {
        let wait = checked_hold(wait)?;
        self.inner.stats.rate_limited(bucket);
        let until = now_ns().saturating_add(nanos(wait));
        gcra::hold(self.cells(bucket), until);
        if let Backend::Redis(redis) = &self.inner.backend {
            redis.hold(bucket, wait).await?;
        }
        Ok(())
    }

    /// [`RateLimiter::hold`] for synchronous callers (no runtime is involved for the local and
    /// host backends).
    pub fn hold_blocking(&self, bucket: Bucket, wait: Duration) -> Result<()> {
        if matches!(self.inner.backend, Backend::Redis(_)) {
            return crate::runtime::block_on(self.hold(bucket, wait));
        }
        let wait = checked_hold(wait)?;
        self.inner.stats.rate_limited(bucket);
        gcra::hold(self.cells(bucket), now_ns().saturating_add(nanos(wait)));
        Ok(())
    }

    /// Counters and usage of both buckets. `available_now` and `next_free_in_s` are read from
    /// the shared state (for redis: one round trip; when Redis cannot be asked they read 0
    /// and -1).
    pub fn stats(&self) -> RateLimiterStats {
        let now = now_ns();
        let fallback = self.falling_back(now);
        let next_free = |bucket: Bucket| -> Option<u64> {
            match self.redis(now) {
                Some(redis) => crate::runtime::block_on(redis.status(bucket, self.spacing(bucket)))
                    .ok()
                    .map(|(next, _)| nanos(next)),
                None => Some(gcra::next_free_in(
                    self.cells(bucket),
                    now,
                    self.spacing(bucket),
                )),
            }
        };
        let snapshot = |bucket: Bucket| {
            let free = next_free(bucket);
            self.inner
                .stats
                .snapshot(bucket, self.inner.config.quota(bucket), now_ns(), free)
        };
        let backend = match (&self.inner.backend, fallback) {
            (Backend::Redis(_), true) => "redis (local fallback)".to_owned(),
            _ => self.inner.config.backend.as_str().to_owned(),
        };
        RateLimiterStats {
            backend,
            orders: snapshot(Bucket::Orders),
            other: snapshot(Bucket::Other),
        }
    }

    /// The fraction of each bucket's per-minute quota this limiter granted over the last minute
    /// (local counters only: no round trip, cheap enough to poll on every health read).
    pub fn usage(&self) -> Vec<(Bucket, f64)> {
        let now = now_ns();
        Bucket::ALL
            .into_iter()
            .map(|bucket| {
                let quota = self.inner.config.quota(bucket);
                let snap = self.inner.stats.snapshot(bucket, quota, now, None);
                (bucket, snap.usage_last_minute)
            })
            .collect()
    }

    /// Zero the counters (the shared limiter state is untouched).
    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }
}

/// What a reservation told the caller to do.
enum Step {
    /// A slot is reserved: sleep `wait_ns`, then confirm (unless already `confirmed`).
    Reserved { wait_ns: u64, confirmed: bool },
    /// The wait exceeds the caller's timeout; nothing was consumed.
    Refused { wait_ns: u64 },
    /// A 429 hold is pending: sleep through it, then reserve again.
    Held { wait_ns: u64 },
}

impl Limiter for RateLimiter {
    fn acquire(&self, bucket: Bucket) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move { RateLimiter::acquire(self, bucket, None).await.map(|_| ()) })
    }

    fn acquire_within(
        &self,
        bucket: Bucket,
        max_wait: Option<Duration>,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            RateLimiter::acquire(self, bucket, max_wait)
                .await
                .map(|_| ())
        })
    }

    fn on_rate_limited(&self, bucket: Bucket, wait: Duration) {
        RateLimiter::on_rate_limited(self, bucket, wait);
    }

    fn usage(&self) -> Vec<(Bucket, f64)> {
        RateLimiter::usage(self)
    }
}
