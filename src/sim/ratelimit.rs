//! eMAG's gateway quotas as sliding windows (the strictest reading: a client that passes a
//! sliding window also passes any fixed-window gateway, since every fixed window is one of the
//! sliding ones). Admitted requests -- valid or not -- consume quota; refused ones do not.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::ratelimit::Bucket;

/// Timestamps inside a window of fixed length ending now.
pub(crate) struct Window {
    span: Duration,
    events: VecDeque<Instant>,
}

impl Window {
    pub(crate) fn new(span: Duration) -> Window {
        Window {
            span,
            events: VecDeque::new(),
        }
    }

    /// Events within `(now - span, now]`.
    pub(crate) fn count(&mut self, now: Instant) -> usize {
        while let Some(&first) = self.events.front() {
            if now.saturating_duration_since(first) >= self.span {
                self.events.pop_front();
            } else {
                break;
            }
        }
        self.events.len()
    }

    pub(crate) fn push(&mut self, now: Instant) {
        self.events.push_back(now);
    }
}

/// eMAG's documented quotas (per second, per minute).
pub(crate) fn quotas(bucket: Bucket) -> (usize, usize) {
    let (per_second, per_minute) = crate::limits::quota(bucket);
    (per_second as usize, per_minute as usize)
}

fn scaled(quota: usize, scale: f64) -> usize {
    ((quota as f64) * scale).round().max(1.0) as usize
}

struct BucketLimiter {
    per_second: usize,
    per_minute: usize,
    second: Window,
    minute: Window,
    three: Window,
}

/// What the limiter decided, plus the values of the `X-RateLimit-*-3second` headers.
pub(crate) struct Decision {
    pub(crate) admitted: bool,
    pub(crate) limit_3s: usize,
    pub(crate) remaining_3s: usize,
}

pub(crate) struct RateLimiter {
    buckets: [BucketLimiter; 2],
}

fn index(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Orders => 0,
        Bucket::Other => 1,
    }
}

impl RateLimiter {
    pub(crate) fn new(scale: f64) -> RateLimiter {
        let make = |bucket| {
            let (s, m) = quotas(bucket);
            BucketLimiter {
                per_second: scaled(s, scale),
                per_minute: scaled(m, scale),
                second: Window::new(Duration::from_secs(1)),
                minute: Window::new(Duration::from_secs(60)),
                three: Window::new(Duration::from_secs(3)),
            }
        };
        RateLimiter {
            buckets: [make(Bucket::Orders), make(Bucket::Other)],
        }
    }

    /// The scaled quotas of a bucket `(per_second, per_minute)`.
    pub(crate) fn limits(&self, bucket: Bucket) -> (usize, usize) {
        let b = &self.buckets[index(bucket)];
        (b.per_second, b.per_minute)
    }

    /// Admit (and count) one request, or refuse it when `enforce` and a window is full.
    pub(crate) fn check(&mut self, bucket: Bucket, now: Instant, enforce: bool) -> Decision {
        let b = &mut self.buckets[index(bucket)];
        let in_second = b.second.count(now);
        let in_minute = b.minute.count(now);
        let in_three = b.three.count(now);
        // The 3-second header (eMAG's gateway names its window so) reports three seconds'
        // worth of the per-second quota, capped by the minute quota [inference].
        let limit_3s = (b.per_second * 3).min(b.per_minute);
        let admitted = !enforce || (in_second < b.per_second && in_minute < b.per_minute);
        if admitted {
            b.second.push(now);
            b.minute.push(now);
            b.three.push(now);
        }
        let used = in_three + usize::from(admitted);
        Decision {
            admitted,
            limit_3s,
            remaining_3s: limit_3s.saturating_sub(used),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_window_refuses_the_13th_in_any_second() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(1.0);
        let ms = |n: u64| t0 + Duration::from_millis(n);
        // 12 requests spread over 0..550 ms are admitted, the 13th at 900 ms is not.
        for i in 0..12 {
            assert!(rl.check(Bucket::Orders, ms(i * 50), true).admitted);
        }
        assert!(!rl.check(Bucket::Orders, ms(900), true).admitted);
        // A fixed-window gateway would admit at 1000 ms; the sliding window waits until the
        // first request leaves it (t0 + 1 s), then admits exactly one more.
        assert!(rl.check(Bucket::Orders, ms(1000), true).admitted);
        assert!(!rl.check(Bucket::Orders, ms(1010), true).admitted);
        // The other bucket is independent: 3 per second.
        for _ in 0..3 {
            assert!(rl.check(Bucket::Other, ms(1000), true).admitted);
        }
        assert!(!rl.check(Bucket::Other, ms(1001), true).admitted);
        // Not enforced: everything passes.
        assert!(rl.check(Bucket::Other, ms(1002), false).admitted);
    }

    #[test]
    fn minute_quota_and_scale() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(1.0);
        let mut admitted = 0;
        // 3/s for 70 seconds offered: the minute window caps at 180 in the first minute.
        for s in 0..60u64 {
            for k in 0..4u64 {
                if rl
                    .check(
                        Bucket::Other,
                        t0 + Duration::from_millis(s * 1000 + k * 10),
                        true,
                    )
                    .admitted
                {
                    admitted += 1;
                }
            }
        }
        assert_eq!(admitted, 180);
        assert!(
            !rl.check(Bucket::Other, t0 + Duration::from_millis(59_999), true)
                .admitted
        );
        let scaled = RateLimiter::new(0.1);
        assert_eq!(scaled.limits(Bucket::Orders), (1, 72));
        assert_eq!(scaled.limits(Bucket::Other), (1, 18));
        assert_eq!(RateLimiter::new(10.0).limits(Bucket::Orders), (120, 7200));
    }
}
