//! The hooks every request of the client passes through: a rate limiter and request
//! observers. They are traits so that the client, the limiter (`ratelimit`) and monitoring
//! (`monitor`) stay independent of each other.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::{ErrorKind, Result};
use crate::ratelimit::Bucket;

/// A boxed future, as returned by the hook traits.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the client asks of a rate limiter before each request.
pub trait Limiter: Send + Sync {
    /// Wait for a permit in `bucket` (the client calls this before every attempt).
    fn acquire(&self, bucket: Bucket) -> BoxFuture<'_, Result<()>>;

    /// Wait for a permit for at most `max_wait`: when the wait would be longer, fail at once
    /// with [`crate::Error::RateLimited`] carrying the seconds still needed (consuming
    /// nothing). The client passes the call's deadline. The default waits as
    /// [`Limiter::acquire`] does, for limiters that cannot tell their wait ahead.
    fn acquire_within(
        &self,
        bucket: Bucket,
        max_wait: Option<Duration>,
    ) -> BoxFuture<'_, Result<()>> {
        let _ = max_wait;
        self.acquire(bucket)
    }

    /// The server answered 429: hold `bucket` for `wait` for every caller.
    fn on_rate_limited(&self, bucket: Bucket, wait: Duration) {
        let _ = (bucket, wait);
    }

    /// The fraction of each bucket's quota used recently (for monitoring; polled on reads).
    fn usage(&self) -> Vec<(Bucket, f64)> {
        Vec::new()
    }

    /// The quota this limiter keeps for `bucket`, when it has one (the sync reports the
    /// least time it allows for a run's requests); `None` by default.
    fn quota(&self, bucket: Bucket) -> Option<crate::ratelimit::Quota> {
        let _ = bucket;
        None
    }
}

/// A limiter that never waits (for tests and for callers that limit elsewhere).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoLimiter;

impl Limiter for NoLimiter {
    fn acquire(&self, _bucket: Bucket) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// How one HTTP attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `isError: false`.
    Success,
    /// Failed with an error of this kind.
    Error(ErrorKind),
}

impl Outcome {
    /// `"success"` or the error kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Error(kind) => kind.name(),
        }
    }
}

/// One finished HTTP attempt, as observers see it. Carries no credentials and no bodies.
#[derive(Debug, Clone)]
pub struct RequestEvent<'a> {
    /// The resource path, e.g. `"order"` or `"product_offer"`.
    pub resource: &'a str,
    /// The action, e.g. `"read"`.
    pub action: &'a str,
    /// The rate-limit bucket it counted against.
    pub bucket: Bucket,
    /// The HTTP status, when an answer arrived.
    pub http_status: Option<u16>,
    /// How it ended.
    pub outcome: Outcome,
    /// Time from sending to the end of the answer (not including limiter waits).
    pub latency: Duration,
    /// 0 for the first attempt, then 1, 2, ... for retries.
    pub attempt: u32,
}

/// Something told about every finished attempt (monitoring). Must be cheap: it runs on the
/// request path.
pub trait RequestObserver: Send + Sync {
    /// Called once per attempt.
    fn observe(&self, event: &RequestEvent<'_>);
}
