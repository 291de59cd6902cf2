//! The simulator's configuration (also accepted as JSON by the C and Python faces).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::callbacks::CallbackKind;
use super::faults::Fault;
use crate::error::{Error, Result};

/// How a [`Simulator`](super::Simulator) starts. Every field has a default, so JSON or
/// Python keyword arguments may name only what they change.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Number of seeded orders.
    pub orders: usize,
    /// Number of seeded offers (seller products).
    pub offers: usize,
    /// Seed of the data generator and of nothing else: the same seed and the same `now` give
    /// the same data.
    pub seed: u64,
    /// Answer over-quota requests with 429 (eMAG's gateway behaviour). Off for load tests.
    pub enforce_rate_limits: bool,
    /// Multiplies every quota (0.5 halves them, 10 makes tests ten times faster); each quota
    /// stays at least 1.
    pub rate_limit_scale: f64,
    /// The API user the simulator accepts.
    pub username: String,
    /// The password it accepts (never printed by `Debug`).
    pub password: String,
    /// Address to bind; loopback by default.
    pub host: String,
    /// Port to bind; 0 picks an ephemeral port.
    pub port: u16,
    /// The simulated clock's start, `YYYY-mm-dd HH:ii:ss` (eMAG's local time); default: the
    /// current time in Europe/Bucharest. Fix it for byte-identical data across runs.
    pub now: Option<String>,
    /// Seeded orders are spread over this many days before `now`.
    pub history_days: u32,
    /// The customer's return period (RT) in days, for the 4 -> 5 rule (RT + 5 days).
    pub return_period_days: u32,
    /// How long the `timeout` fault holds a response (seconds); longer than the client's timeout.
    pub fault_hold_seconds: f64,
    /// `Retry-After` seconds sent with the injected `rate_limit` fault.
    pub fault_retry_after_seconds: u64,
    /// Probability (0..1) that any request gets a random fault.
    pub fault_rate: f64,
    /// Seed of the random faults.
    pub fault_seed: u64,
    /// The kinds random faults are drawn from (default: all but `timeout`).
    pub fault_kinds: Vec<Fault>,
    /// Refuse `itemsPerPage` above the documented maximum with `isError: true` (else clamp).
    pub strict_pagination: bool,
    /// The seller's callback URL (eMAG's "new order" and other callbacks, spec §7); None: no
    /// callbacks. A secret token belongs in it (`...?token=...`): eMAG signs nothing.
    pub callback_url: Option<String>,
    /// The kinds of callback sent (default: all).
    pub callback_kinds: Vec<CallbackKind>,
    /// How often a new order is announced again while it is not acknowledged (seconds).
    pub callback_interval_seconds: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            orders: 0,
            offers: 0,
            seed: 0,
            enforce_rate_limits: true,
            rate_limit_scale: 1.0,
            username: "sim-user".to_owned(),
            password: "sim-password".to_owned(),
            host: "127.0.0.1".to_owned(),
            port: 0,
            now: None,
            history_days: 180,
            return_period_days: 14,
            fault_hold_seconds: 60.0,
            fault_retry_after_seconds: 1,
            fault_rate: 0.0,
            fault_seed: 0,
            fault_kinds: vec![
                Fault::Http500,
                Fault::Http503,
                Fault::Reset,
                Fault::RateLimit,
                Fault::IsError,
                Fault::MalformedJson,
            ],
            strict_pagination: true,
            callback_url: None,
            callback_kinds: CallbackKind::ALL.to_vec(),
            callback_interval_seconds: 60.0,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("orders", &self.orders)
            .field("offers", &self.offers)
            .field("seed", &self.seed)
            .field("enforce_rate_limits", &self.enforce_rate_limits)
            .field("rate_limit_scale", &self.rate_limit_scale)
            .field("username", &self.username)
            .field("password", &"***")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("now", &self.now)
            .field("fault_rate", &self.fault_rate)
            .field("callback_url", &self.callback_url.as_ref().map(|_| "***"))
            .field("callback_kinds", &self.callback_kinds)
            .finish_non_exhaustive()
    }
}

/// Upper bounds that keep a typo from exhausting memory.
const MAX_ORDERS: usize = 2_000_000;
const MAX_OFFERS: usize = 2_000_000;

impl SimConfig {
    /// Parse a JSON object of fields (unknown fields are refused); `""`/`null` give defaults.
    pub fn from_json(text: &str) -> Result<SimConfig> {
        let trimmed = text.trim();
        if trimmed.is_empty() || trimmed == "null" {
            return Ok(SimConfig::default());
        }
        let config: SimConfig = serde_json::from_str(trimmed)
            .map_err(|e| Error::invalid_argument(format!("simulator config: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// Check ranges (called by `Simulator::start`).
    pub fn validate(&self) -> Result<()> {
        if self.orders > MAX_ORDERS || self.offers > MAX_OFFERS {
            return Err(Error::invalid_argument(format!(
                "simulator config: at most {MAX_ORDERS} orders and {MAX_OFFERS} offers"
            )));
        }
        if !(self.rate_limit_scale.is_finite() && self.rate_limit_scale > 0.0) {
            return Err(Error::invalid_argument(
                "simulator config: rate_limit_scale must be a positive number",
            ));
        }
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(Error::invalid_argument(
                "simulator config: fault_rate must be between 0 and 1",
            ));
        }
        if !(self.fault_hold_seconds.is_finite() && self.fault_hold_seconds >= 0.0) {
            return Err(Error::invalid_argument(
                "simulator config: fault_hold_seconds must be >= 0",
            ));
        }
        if self.fault_rate > 0.0 && self.fault_kinds.is_empty() {
            return Err(Error::invalid_argument(
                "simulator config: fault_rate > 0 needs at least one fault kind",
            ));
        }
        if self.username.contains(':') {
            return Err(Error::invalid_argument(
                "simulator config: username must not contain ':' (Basic auth)",
            ));
        }
        if !(self.callback_interval_seconds.is_finite()
            && (0.05..=86_400.0).contains(&self.callback_interval_seconds))
        {
            return Err(Error::invalid_argument(
                "simulator config: callback_interval_seconds must be between 0.05 and 86400",
            ));
        }
        if self.history_days == 0 {
            return Err(Error::invalid_argument(
                "simulator config: history_days must be at least 1",
            ));
        }
        Ok(())
    }
}
