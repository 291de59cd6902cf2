//! The redis backend: GCRA state on a Redis server, shared by processes on several hosts.
//!
//! Each bucket is one hash `<prefix>:<account>:<bucket>` with fields `tat` and `hold` in
//! microseconds of the server's clock (`TIME`), so the hosts' clocks never need to agree.
//! The reservation is one Lua script (atomic on the server): the same arithmetic as
//! [`super::gcra::reserve`]. Keys expire a minute after their last slot.

use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};

use super::gcra::{Confirm, Reservation, Spacing};
use super::limiter_config::SecretUrl;
use crate::error::{Error, Result};
use crate::ratelimit::Bucket;

// ARGV: paced interval, least gap, max wait (-1: none), all in microseconds.
// Returns {granted, wait, confirmed}: a slot needing no wait is confirmed at once (one round
// trip for the common case).
const RESERVE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0') or 0
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0') or 0
local slot = math.max(tat, now)
local wait = math.max(slot, last + tonumber(ARGV[2])) - now
local max_wait = tonumber(ARGV[3])
if max_wait >= 0 and wait > max_wait then
  return {0, wait, 0}
end
local new_tat = slot + tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', new_tat))
local confirmed = 0
if wait == 0 then
  redis.call('HSET', KEYS[1], 'last', string.format('%.0f', now))
  confirmed = 1
end
redis.call('PEXPIRE', KEYS[1], math.ceil((new_tat - now) / 1000) + 60000)
return {1, wait, confirmed}
";

// ARGV: least gap in microseconds. Returns {0, 0} go, {1, wait} too early, {2, wait} held.
const CONFIRM: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0') or 0
if hold > now then
  return {2, hold - now}
end
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0') or 0
local earliest = last + tonumber(ARGV[1])
if now < earliest then
  return {1, earliest - now}
end
redis.call('HSET', KEYS[1], 'last', string.format('%.0f', now))
redis.call('PEXPIRE', KEYS[1], 120000)
return {0, 0}
";

const HOLD: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local hold_until = now + tonumber(ARGV[1])
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0') or 0
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0') or 0
if hold_until > hold then
  redis.call('HSET', KEYS[1], 'hold', string.format('%.0f', hold_until))
end
if hold_until > tat then
  tat = hold_until
  redis.call('HSET', KEYS[1], 'tat', string.format('%.0f', hold_until))
end
redis.call('PEXPIRE', KEYS[1], math.ceil((tat - now) / 1000) + 60000)
return {1}
";

const STATUS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0') or 0
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0') or 0
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0') or 0
local free = math.max(tat, last + tonumber(ARGV[1]))
return {math.max(free - now, 0), math.max(hold - now, 0)}
";

/// A connection to the shared Redis state.
pub(crate) struct RedisBackend {
    url: SecretUrl,
    client: redis::Client,
    // The connection and the pid that made it: a forked child must not reuse the parent's
    // (its driver task lived on the parent's runtime).
    conn: Mutex<Option<(u32, MultiplexedConnection)>>,
    keys: [String; 2],
    timeout: Duration,
    reserve: Script,
    confirm: Script,
    hold: Script,
    status: Script,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("url", &self.url)
            .field("keys", &self.keys)
            .finish()
    }
}

impl RedisBackend {
    /// Prepare (no connection is made until the first use).
    pub(crate) fn new(
        url: &SecretUrl,
        prefix: &str,
        account: &str,
        timeout: Duration,
    ) -> Result<Self> {
        let client = redis::Client::open(url.expose()).map_err(|e| {
            Error::invalid_argument(format!(
                "invalid redis_url {}: {}",
                url.redacted(),
                scrub(url, &e.to_string())
            ))
        })?;
        Ok(RedisBackend {
            url: url.clone(),
            client,
            conn: Mutex::new(None),
            keys: [
                format!("{prefix}:{account}:orders"),
                format!("{prefix}:{account}:other"),
            ],
            timeout,
            reserve: Script::new(RESERVE),
            confirm: Script::new(CONFIRM),
            hold: Script::new(HOLD),
            status: Script::new(STATUS),
        })
    }

    /// The redacted URL.
    pub(crate) fn url(&self) -> &SecretUrl {
        &self.url
    }

    fn key(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Orders => &self.keys[0],
            Bucket::Other => &self.keys[1],
        }
    }

    fn unreachable(&self, e: &dyn std::fmt::Display) -> Error {
        Error::Network {
            message: format!(
                "rate-limit backend redis at {} unreachable: {} (the request was not sent; \
                 set redis_fallback=\"local\" to limit per process instead)",
                self.url.redacted(),
                scrub(&self.url, &e.to_string())
            ),
            status_code: None,
            not_sent: true,
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection> {
        let pid = std::process::id();
        if let Some((owner, conn)) = self.conn.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *owner == pid {
                return Ok(conn.clone());
            }
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout);
        let conn = tokio::time::timeout(
            self.timeout,
            self.client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await
        .map_err(|_| self.unreachable(&"connect timed out"))?
        .map_err(|e| self.unreachable(&e))?;
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some((pid, conn.clone()));
        Ok(conn)
    }

    async fn run(&self, script: &Script, bucket: Bucket, args: &[i64]) -> Result<Vec<i64>> {
        let mut conn = self.connection().await?;
        let mut invocation = script.key(self.key(bucket));
        for arg in args {
            invocation.arg(*arg);
        }
        let answer =
            tokio::time::timeout(self.timeout, invocation.invoke_async::<Vec<i64>>(&mut conn))
                .await;
        match answer {
            Ok(Ok(values)) => Ok(values),
            Ok(Err(e)) => {
                self.drop_connection();
                Err(self.unreachable(&e))
            }
            Err(_) => {
                self.drop_connection();
                Err(self.unreachable(&"no answer in time"))
            }
        }
    }

    fn drop_connection(&self) {
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Reserve a slot (see [`super::gcra::reserve`]); `true` when it is already confirmed.
    pub(crate) async fn reserve(
        &self,
        bucket: Bucket,
        spacing: Spacing,
        max_wait_ns: Option<u64>,
    ) -> Result<(Reservation, bool)> {
        let paced_us = micros_ceil(spacing.paced_ns).max(1);
        // Rounding the least gap up, plus 1 us, keeps "strictly more than quota spacing".
        let gap_us = micros_ceil(spacing.min_gap_ns) + 1;
        let max_wait_us = max_wait_ns.map_or(-1, |ns| i64::try_from(ns / 1000).unwrap_or(i64::MAX));
        let values = self
            .run(&self.reserve, bucket, &[paced_us, gap_us, max_wait_us])
            .await?;
        match values.as_slice() {
            [granted, wait_us, confirmed] => {
                let wait_ns = u64::try_from(*wait_us).unwrap_or(0).saturating_mul(1000);
                Ok(if *granted == 1 {
                    (Reservation::Granted { wait_ns }, *confirmed == 1)
                } else {
                    (Reservation::TooLong { wait_ns }, false)
                })
            }
            _ => Err(Error::internal(
                "unexpected answer from the redis reserve script",
            )),
        }
    }

    /// Turn a reserved slot into a grant (see [`super::gcra::confirm`]).
    pub(crate) async fn confirm(&self, bucket: Bucket, spacing: Spacing) -> Result<Confirm> {
        let gap_us = micros_ceil(spacing.min_gap_ns) + 1;
        let values = self.run(&self.confirm, bucket, &[gap_us]).await?;
        let wait = |us: i64| u64::try_from(us).unwrap_or(0).saturating_mul(1000);
        match values.as_slice() {
            [0, _] => Ok(Confirm::Go),
            [1, us] => Ok(Confirm::Wait { wait_ns: wait(*us) }),
            [2, us] => Ok(Confirm::Held { wait_ns: wait(*us) }),
            _ => Err(Error::internal(
                "unexpected answer from the redis confirm script",
            )),
        }
    }

    /// Hold the bucket for `wait` for every process.
    pub(crate) async fn hold(&self, bucket: Bucket, wait: Duration) -> Result<()> {
        self.run(&self.hold, bucket, &[micros_ceil(nanos(wait))])
            .await
            .map(|_| ())
    }

    /// (time until the next free slot, time left of a 429 hold).
    pub(crate) async fn status(
        &self,
        bucket: Bucket,
        spacing: Spacing,
    ) -> Result<(Duration, Duration)> {
        let gap_us = micros_ceil(spacing.min_gap_ns) + 1;
        let values = self.run(&self.status, bucket, &[gap_us]).await?;
        match values.as_slice() {
            [next, hold] => Ok((
                Duration::from_micros(u64::try_from(*next).unwrap_or(0)),
                Duration::from_micros(u64::try_from(*hold).unwrap_or(0)),
            )),
            _ => Err(Error::internal(
                "unexpected answer from the redis status script",
            )),
        }
    }
}

fn micros_ceil(ns: u64) -> i64 {
    i64::try_from(ns.div_ceil(1000)).unwrap_or(i64::MAX)
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Remove the URL's password from a foreign error text, in case a library quoted it.
fn scrub(url: &SecretUrl, text: &str) -> String {
    let mut text = text.replace(url.expose(), &url.redacted());
    if let Some(password) = url.password() {
        text = text.replace(&password, "***");
    }
    text
}
