//! What one `RateLimiter` object saw: grants, waits, 429s, and its recent grant times (for
//! the usage of each quota over the last second and minute).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use super::limiter_config::Quota;
use crate::ratelimit::Bucket;

const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
/// Recent grant times kept per bucket; only absurd quotas (benchmarks) exceed it, and then the
/// usage figures undercount.
const MAX_RECENT: usize = 1 << 16;

/// The figures of one bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BucketStats {
    /// Permits granted.
    pub requests: u64,
    /// Grants that had to wait.
    pub waits: u64,
    /// Seconds spent waiting, in total.
    pub total_wait_s: f64,
    /// 429 answers reported through `on_rate_limited`.
    pub rate_limited: u64,
    /// Acquisitions refused because the wait would exceed their timeout.
    pub timeouts: u64,
    /// Grants of the last second as a fraction of the per-second quota (this object's).
    pub usage_last_second: f64,
    /// Grants of the last minute as a fraction of the per-minute quota (this object's).
    pub usage_last_minute: f64,
    /// Permits available without waiting right now, across every sharer (0 or 1: the
    /// limiter spaces requests evenly, it keeps no burst).
    pub available_now: u32,
    /// Seconds until the next free slot, across every sharer (-1 when unknown).
    pub next_free_in_s: f64,
    /// The configured per-second quota.
    pub per_second: u32,
    /// The configured per-minute quota.
    pub per_minute: u32,
}

/// The figures of both buckets.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RateLimiterStats {
    /// `"local"`, `"host"` or `"redis"` (or `"redis (local fallback)"` during an outage).
    pub backend: String,
    /// The orders bucket.
    pub orders: BucketStats,
    /// Every other resource.
    pub other: BucketStats,
}

#[derive(Debug, Default)]
struct Counters {
    requests: u64,
    waits: u64,
    total_wait_ns: u64,
    rate_limited: u64,
    timeouts: u64,
    recent: VecDeque<u64>,
}

/// The recorder, one slot per bucket.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    buckets: [Mutex<Counters>; 2],
}

fn index(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Orders => 0,
        Bucket::Other => 1,
    }
}

impl Recorder {
    fn with<R>(&self, bucket: Bucket, f: impl FnOnce(&mut Counters) -> R) -> R {
        let mut guard = self.buckets[index(bucket)]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    pub(crate) fn granted(&self, bucket: Bucket, at_ns: u64, waited_ns: u64) {
        self.with(bucket, |c| {
            c.requests += 1;
            if waited_ns > 0 {
                c.waits += 1;
                c.total_wait_ns = c.total_wait_ns.saturating_add(waited_ns);
            }
            while c.recent.len() >= MAX_RECENT
                || c.recent
                    .front()
                    .is_some_and(|t| at_ns.saturating_sub(*t) > MINUTE)
            {
                c.recent.pop_front();
            }
            c.recent.push_back(at_ns);
        });
    }

    pub(crate) fn rate_limited(&self, bucket: Bucket) {
        self.with(bucket, |c| c.rate_limited += 1);
    }

    pub(crate) fn timed_out(&self, bucket: Bucket) {
        self.with(bucket, |c| c.timeouts += 1);
    }

    pub(crate) fn reset(&self) {
        for bucket in Bucket::ALL {
            self.with(bucket, |c| *c = Counters::default());
        }
    }

    pub(crate) fn snapshot(
        &self,
        bucket: Bucket,
        quota: Quota,
        now_ns: u64,
        next_free_ns: Option<u64>,
    ) -> BucketStats {
        self.with(bucket, |c| {
            let in_last = |span: u64| {
                c.recent
                    .iter()
                    .rev()
                    .take_while(|t| now_ns.saturating_sub(**t) < span)
                    .count()
            };
            BucketStats {
                requests: c.requests,
                waits: c.waits,
                total_wait_s: c.total_wait_ns as f64 / 1e9,
                rate_limited: c.rate_limited,
                timeouts: c.timeouts,
                usage_last_second: in_last(SECOND) as f64 / f64::from(quota.per_second),
                usage_last_minute: in_last(MINUTE) as f64 / f64::from(quota.per_minute),
                available_now: u32::from(next_free_ns == Some(0)),
                next_free_in_s: next_free_ns.map_or(-1.0, |ns| ns as f64 / 1e9),
                per_second: quota.per_second,
                per_minute: quota.per_minute,
            }
        })
    }
}
