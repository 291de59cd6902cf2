//! The retry policy: exponential backoff with full jitter, a total deadline, only retryable
//! errors, only where repeating a request is harmless, and a retry budget per client.

use std::sync::Mutex;
use std::time::Duration;

use rand::Rng;

use crate::error::{Error, Result};

/// How and how long to retry.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// The first backoff ceiling; it doubles each retry (2, 4, 8, ... s).
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// Full jitter: sleep a uniform random time in `[0, ceiling]` (AWS's "full jitter").
    pub jitter: bool,
    /// Give up when the next sleep would end later than this after the first attempt.
    pub deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(64),
            jitter: true,
            deadline: None,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        }
    }

    /// Build from seconds, checking the values.
    pub fn from_secs(
        max_retries: u32,
        base_delay: f64,
        max_delay: f64,
        jitter: bool,
        deadline: Option<f64>,
    ) -> Result<Self> {
        let secs = |v: f64, name: &str| {
            Duration::try_from_secs_f64(v).map_err(|_| {
                Error::invalid_argument(format!(
                    "{name} must be a finite number of seconds >= 0, got {v}"
                ))
            })
        };
        let policy = RetryPolicy {
            max_retries,
            base_delay: secs(base_delay, "base_delay")?,
            max_delay: secs(max_delay, "max_delay")?,
            jitter,
            deadline: deadline.map(|d| secs(d, "deadline")).transpose()?,
        };
        if policy.max_delay < policy.base_delay {
            return Err(Error::invalid_argument("max_delay must be >= base_delay"));
        }
        Ok(policy)
    }

    /// The backoff ceiling before retry number `retry` (0-based): `base * 2^retry`, capped.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The sleep before retry number `retry`, at least `server_hint` when the server gave one
    /// (a 429's wait): jitter never shortens a server's hint.
    pub fn delay(&self, retry: u32, server_hint: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(retry);
        let backoff = if self.jitter && !ceiling.is_zero() {
            let nanos =
                rand::rng().random_range(0..=ceiling.as_nanos().min(u128::from(u64::MAX)) as u64);
            Duration::from_nanos(nanos)
        } else {
            ceiling
        };
        match server_hint {
            Some(hint) => backoff.max(hint),
            None => backoff,
        }
    }
}

/// Whether repeating a request is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrySafety {
    /// Reads, counts and saves that set absolute state (an order saved whole, a stock value):
    /// repeating them leaves the same state.
    Idempotent,
    /// Repeating would act twice (`awb/save` issues a second AWB): retry only when the request
    /// provably never reached the server.
    OnlyIfNotSent,
}

/// The retry safety of a route. Documented per action:
///
/// | route | safety | why |
/// |---|---|---|
/// | every `read`, `count`, `read_pdf`, `read_zpl`, GET search | idempotent | no state changes |
/// | `order/save` | idempotent | the full order is sent, not a diff |
/// | `order/acknowledge/{id}` | idempotent | 1 -> 2, then a no-op |
/// | `product_offer/save`, `offer/save`, `offer_stock` | idempotent | upsert by seller id with absolute values |
/// | `measurements/save`, `campaign_proposals/save`, `rma/save`, `order/attachments/save` | idempotent | absolute values keyed by id / URL |
/// | `order/{id}/unlock-courier` | idempotent | releasing twice is releasing |
/// | `awb/save` | only if not sent | a repeat issues a second AWB |
/// | any other route (e.g. a custom action through `call`) | only if not sent | not known to be safe |
pub fn retry_safety(resource: &str, action: &str) -> RetrySafety {
    let resource = resource.trim_matches('/');
    let idempotent = match action {
        "read" | "count" | "read_pdf" | "read_zpl" | "find_by_eans" => true,
        "save" => matches!(
            resource,
            "order"
                | "product_offer"
                | "offer"
                | "measurements"
                | "campaign_proposals"
                | "rma"
                | "order/attachments"
        ),
        "acknowledge" | "unlock-courier" => resource == "order",
        "update" => resource == "offer_stock",
        _ => false,
    };
    if idempotent {
        RetrySafety::Idempotent
    } else {
        RetrySafety::OnlyIfNotSent
    }
}

/// Whether `error` on attempt `retry` (0-based count of retries already made) may be retried.
pub fn should_retry(policy: &RetryPolicy, error: &Error, retry: u32, safety: RetrySafety) -> bool {
    if retry >= policy.max_retries || !error.is_retryable() {
        return false;
    }
    match safety {
        RetrySafety::Idempotent => true,
        RetrySafety::OnlyIfNotSent => error.provably_not_sent(),
    }
}

/// A retry budget shared by one client's requests (as aws-sdk-rust's standard retry does):
/// each retry spends tokens, each success refunds one, so a failing eMAG is not hammered by
/// every request retrying at once.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: Mutex<u32>,
    capacity: u32,
}

impl RetryBudget {
    /// The default capacity (aws-sdk-rust's: 500).
    pub const DEFAULT_CAPACITY: u32 = 500;
    /// Tokens a retry after an error costs.
    pub const RETRY_COST: u32 = 5;
    /// Tokens a retry after a timeout costs.
    pub const TIMEOUT_RETRY_COST: u32 = 10;
    /// Tokens a success refunds.
    pub const SUCCESS_REFUND: u32 = 1;

    /// A full budget of `capacity` tokens.
    pub fn new(capacity: u32) -> Self {
        RetryBudget {
            tokens: Mutex::new(capacity),
            capacity,
        }
    }

    /// Spend the cost of retrying after `error`; false when the budget cannot pay.
    pub fn try_spend(&self, error: &Error) -> bool {
        let cost = match error {
            Error::Timeout { .. } => Self::TIMEOUT_RETRY_COST,
            _ => Self::RETRY_COST,
        };
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Refund after a success.
    pub fn refund(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *tokens = (*tokens + Self::SUCCESS_REFUND).min(self.capacity);
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        *self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new(Self::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_double_and_cap() {
        let p = RetryPolicy::default();
        let secs: Vec<u64> = (0..8).map(|r| p.ceiling(r).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 64, 64]);
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(64));
    }

    #[test]
    fn full_jitter_stays_under_the_ceiling_and_respects_hints() {
        let p = RetryPolicy::default();
        for r in 0..6 {
            for _ in 0..200 {
                assert!(p.delay(r, None) <= p.ceiling(r));
            }
        }
        let hint = Duration::from_secs(30);
        assert!(p.delay(0, Some(hint)) >= hint);
        let fixed = RetryPolicy { jitter: false, ..p };
        assert_eq!(fixed.delay(2, None), Duration::from_secs(8));
    }

    #[test]
    fn only_retryable_errors_and_only_safe_routes() {
        let p = RetryPolicy::default();
        let net_sent = Error::Network {
            message: "reset".into(),
            status_code: None,
            not_sent: false,
        };
        let net_unsent = Error::Network {
            message: "refused".into(),
            status_code: None,
            not_sent: true,
        };
        let auth = Error::Authentication {
            message: "x".into(),
            status_code: Some(401),
            response_data: None,
        };
        assert!(should_retry(
            &p,
            &net_sent,
            0,
            retry_safety("order", "read")
        ));
        assert!(!should_retry(&p, &net_sent, 3, RetrySafety::Idempotent));
        assert!(!should_retry(&p, &auth, 0, RetrySafety::Idempotent));
        assert_eq!(retry_safety("awb", "save"), RetrySafety::OnlyIfNotSent);
        assert_eq!(retry_safety("order", "save"), RetrySafety::Idempotent);
        assert_eq!(
            retry_safety("offer_stock", "update"),
            RetrySafety::Idempotent
        );
        assert_eq!(
            retry_safety("order", "attachments/save"),
            RetrySafety::OnlyIfNotSent
        );
        assert_eq!(retry_safety("message", "save"), RetrySafety::OnlyIfNotSent);
        assert_eq!(
            retry_safety("order", "frobnicate"),
            RetrySafety::OnlyIfNotSent
        );
        assert!(!should_retry(&p, &net_sent, 0, retry_safety("awb", "save")));
        assert!(should_retry(
            &p,
            &net_unsent,
            0,
            retry_safety("awb", "save")
        ));
        assert!(!should_retry(
            &RetryPolicy::none(),
            &net_unsent,
            0,
            RetrySafety::Idempotent
        ));
    }

    #[test]
    fn budget_spends_and_refunds() {
        let b = RetryBudget::new(12);
        let e = Error::timeout("slow");
        assert!(b.try_spend(&e));
        assert_eq!(b.available(), 2);
        assert!(!b.try_spend(&e));
        b.refund();
        b.refund();
        b.refund();
        assert_eq!(b.available(), 5);
        assert!(b.try_spend(&Error::rate_limited("x", 1.0)));
        assert_eq!(b.available(), 0);
    }

    #[test]
    fn bad_policy_values() {
        assert!(RetryPolicy::from_secs(3, -1.0, 64.0, true, None).is_err());
        assert!(RetryPolicy::from_secs(3, 2.0, 1.0, true, None).is_err());
        assert!(RetryPolicy::from_secs(3, 2.0, 64.0, true, Some(f64::NAN)).is_err());
        assert!(RetryPolicy::from_secs(3, 0.001, 0.01, true, Some(5.0)).is_ok());
    }
}
