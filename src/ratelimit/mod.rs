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

mod acquire;
mod bucket;
mod gcra;
mod host;
mod limiter_config;
mod limiter_stats;
mod local;
mod redis;
mod registry;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use bucket::Bucket;
pub use limiter_config::{
    redact_url, scheduled_start_offset, BackendKind, Quota, RateLimiterConfig, RedisFallback,
    SecretUrl,
};
pub use limiter_stats::{BucketStats, RateLimiterStats};

use crate::error::{Error, Result};
use crate::hooks::{BoxFuture, Limiter};
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
    stats: limiter_stats::Recorder,
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
                stats: limiter_stats::Recorder::default(),
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

    fn quota(&self, bucket: Bucket) -> Option<Quota> {
        Some(self.inner.config.quota(bucket))
    }
}
