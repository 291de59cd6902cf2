//! The simulator's controllable clock: eMAG's local time (Europe/Bucharest, as the
//! `YYYY-mm-dd HH:ii:ss` strings carry no zone), running with real time from a settable
//! point. Business rules (48 h windows, RT + 5 days) read it; rate limits use the monotonic
//! clock instead, so moving this clock never changes a quota.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, TimeDelta, Timelike, Utc};

/// The format of every eMAG timestamp.
pub(crate) const FORMAT: &str = "%Y-%m-%d %H:%M:%S";

pub(crate) struct Clock {
    inner: Mutex<(NaiveDateTime, Instant)>,
}

/// The current wall time in Europe/Bucharest, to the second.
pub(crate) fn bucharest_now() -> NaiveDateTime {
    let now = Utc::now().with_timezone(&chrono_tz::Europe::Bucharest);
    whole_seconds(now.naive_local())
}

fn whole_seconds(t: NaiveDateTime) -> NaiveDateTime {
    t.with_nanosecond(0).unwrap_or(t)
}

/// Parse `YYYY-mm-dd HH:ii:ss` (also `YYYY-mm-ddTHH:ii:ss` and a bare `YYYY-mm-dd`, read as
/// midnight).
pub(crate) fn parse(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, FORMAT)
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

pub(crate) fn format(t: NaiveDateTime) -> String {
    t.format(FORMAT).to_string()
}

impl Clock {
    pub(crate) fn new(start: NaiveDateTime) -> Clock {
        Clock {
            inner: Mutex::new((start, Instant::now())),
        }
    }

    pub(crate) fn now(&self) -> NaiveDateTime {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = TimeDelta::from_std(guard.1.elapsed()).unwrap_or_default();
        whole_seconds(guard.0.checked_add_signed(elapsed).unwrap_or(guard.0))
    }

    pub(crate) fn set(&self, now: NaiveDateTime) {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *guard = (now, Instant::now());
    }

    /// Move the clock forward; refused (nothing changes) past the year 9999, which eMAG's
    /// `YYYY-mm-dd HH:ii:ss` cannot write.
    pub(crate) fn advance(&self, by: Duration) -> crate::error::Result<()> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let latest = chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_opt(23, 59, 59))
            .unwrap_or(NaiveDateTime::MAX);
        match TimeDelta::from_std(by)
            .ok()
            .and_then(|delta| guard.0.checked_add_signed(delta))
            .filter(|t| *t <= latest)
        {
            Some(t) => {
                guard.0 = t;
                Ok(())
            }
            None => Err(crate::error::Error::invalid_argument(format!(
                "advance_clock: {:.0} s would take the simulated clock past the year 9999",
                by.as_secs_f64()
            ))),
        }
    }
}
