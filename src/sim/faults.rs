//! Scriptable and random fault injection.

use std::fmt;
use std::str::FromStr;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A failure the simulator can inject into a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500 with an HTML error page (not the envelope); the request is not processed.
    Http500,
    /// HTTP 503 with an HTML maintenance page; the request is not processed.
    Http503,
    /// Hold the response for `fault_hold_seconds` (past the client's timeout), then process it.
    Timeout,
    /// Drop the connection (TCP reset) without an answer; the request is not processed.
    Reset,
    /// HTTP 429 `{"message":"API rate limit exceeded"}` plus a `Retry-After` wait hint.
    RateLimit,
    /// HTTP 200 with `isError: true`; the request is not processed.
    IsError,
    /// The request is processed, but the JSON body is cut in half.
    MalformedJson,
}

impl Fault {
    /// Every fault kind.
    pub const ALL: [Fault; 7] = [
        Fault::Http500,
        Fault::Http503,
        Fault::Timeout,
        Fault::Reset,
        Fault::RateLimit,
        Fault::IsError,
        Fault::MalformedJson,
    ];

    /// The snake_case name (`"http_500"`, `"malformed_json"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Http500 => "http_500",
            Fault::Http503 => "http_503",
            Fault::Timeout => "timeout",
            Fault::Reset => "reset",
            Fault::RateLimit => "rate_limit",
            Fault::IsError => "is_error",
            Fault::MalformedJson => "malformed_json",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fault {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Fault::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown fault {s:?}: expected one of http_500, http_503, timeout, reset, \
                     rate_limit, is_error, malformed_json"
                ))
            })
    }
}

struct Rule {
    fault: Fault,
    remaining: u32,
    resource: Option<String>,
    action: Option<String>,
}

/// The scripted queue (first matching rule wins) and the random source.
pub(crate) struct Faults {
    rules: Vec<Rule>,
    rate: f64,
    kinds: Vec<Fault>,
    rng: SmallRng,
    pub(crate) injected: u64,
}

impl Faults {
    pub(crate) fn new(rate: f64, kinds: Vec<Fault>, seed: u64) -> Faults {
        Faults {
            rules: Vec::new(),
            rate,
            kinds,
            rng: SmallRng::seed_from_u64(seed),
            injected: 0,
        }
    }

    pub(crate) fn push(
        &mut self,
        fault: Fault,
        count: u32,
        resource: Option<String>,
        action: Option<String>,
    ) {
        if count > 0 {
            self.rules.push(Rule {
                fault,
                remaining: count,
                resource,
                action,
            });
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn set_random(&mut self, rate: f64, kinds: Vec<Fault>, seed: u64) {
        self.rate = rate;
        self.kinds = kinds;
        self.rng = SmallRng::seed_from_u64(seed);
    }

    /// The fault for a request to `resource`/`action`, if any (consumes one use).
    pub(crate) fn take(&mut self, resource: &str, action: &str) -> Option<Fault> {
        let matches = |rule: &Rule| {
            rule.resource.as_deref().is_none_or(|r| r == resource)
                && rule.action.as_deref().is_none_or(|a| a == action)
        };
        if let Some(pos) = self.rules.iter().position(matches) {
            let rule = &mut self.rules[pos];
            let fault = rule.fault;
            rule.remaining -= 1;
            if rule.remaining == 0 {
                self.rules.remove(pos);
            }
            self.injected += 1;
            return Some(fault);
        }
        if self.rate > 0.0 && !self.kinds.is_empty() && self.rng.random_bool(self.rate) {
            let idx = self.rng.random_range(0..self.kinds.len());
            self.injected += 1;
            return Some(self.kinds[idx]);
        }
        None
    }

    pub(crate) fn pending(&self) -> u64 {
        self.rules.iter().map(|r| u64::from(r.remaining)).sum()
    }
}
