//! Time sources for the monitor: a monotonic reading (slot placement, uptime) and a UTC
//! wall clock (timestamps in health reports and alerts). Injectable so that tests move time
//! forward instead of sleeping.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Where the monitor reads the time from.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic time since an arbitrary fixed origin (never goes backwards).
    fn monotonic(&self) -> Duration;
    /// The current UTC time, for timestamps only (never for window arithmetic).
    fn utc(&self) -> DateTime<Utc>;
}

/// The real clocks: a monotonic clock for windows, the system clock for timestamps.
///
/// On Linux the monotonic reading is `CLOCK_MONOTONIC_COARSE` (a few milliseconds of
/// resolution, read from the vDSO without a syscall or a TSC read): the monitor only needs to
/// place a request into a slot of seconds, and this read is several times cheaper than
/// [`Instant::now`] on the hot path. Elsewhere it is [`Instant`].
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
    #[cfg(target_os = "linux")]
    coarse_origin: Duration,
}

#[cfg(target_os = "linux")]
fn coarse_now() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    Some(Duration::new(secs, nanos))
}

impl SystemClock {
    /// A clock whose monotonic origin is now.
    pub fn new() -> Self {
        SystemClock {
            origin: Instant::now(),
            #[cfg(target_os = "linux")]
            coarse_origin: coarse_now().unwrap_or_default(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn monotonic(&self) -> Duration {
        #[cfg(target_os = "linux")]
        if let Some(now) = coarse_now() {
            return now.saturating_sub(self.coarse_origin);
        }
        self.origin.elapsed()
    }

    fn utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, simulations, replays). Its UTC time is a
/// fixed origin plus the monotonic offset, so both move together.
#[derive(Debug)]
pub struct ManualClock {
    nanos: AtomicU64,
    utc_origin: DateTime<Utc>,
}

impl ManualClock {
    /// A clock at monotonic zero whose UTC time starts at `utc_origin`.
    pub fn new(utc_origin: DateTime<Utc>) -> Self {
        ManualClock {
            nanos: AtomicU64::new(0),
            utc_origin,
        }
    }

    /// Move time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let add = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .nanos
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_add(add))
            });
    }

    /// Set the monotonic reading; a value earlier than the current one is ignored (the
    /// clock never goes backwards).
    pub fn set(&self, to: Duration) {
        let to = u64::try_from(to.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_max(to, Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    /// Starts at 2026-01-01T00:00:00Z.
    fn default() -> Self {
        ManualClock::new(DateTime::<Utc>::from_timestamp(1_767_225_600, 0).unwrap_or_default())
    }
}

impl Clock for ManualClock {
    fn monotonic(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }

    fn utc(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::from_std(self.monotonic()).unwrap_or_default();
        self.utc_origin
            .checked_add_signed(offset)
            .unwrap_or(self.utc_origin)
    }
}

/// ISO-8601 UTC with milliseconds and a `Z` suffix, e.g. `2026-01-01T00:00:05.000Z`.
pub(crate) fn iso8601(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
