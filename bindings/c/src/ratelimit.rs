//! `mf_rate_limiter`: eMAG's rate limits through the C ABI.

use std::ffi::c_char;
use std::time::Duration;

use mf_core::ratelimit::{RateLimiter, RateLimiterConfig};
use mf_core::{Bucket, Error};

use crate::ffi::{self, Handle, Out};
use crate::mf_status;

/// An opaque rate limiter. Thread-safe: one handle may be used from several threads at once
/// (its clones share the quota); free it once, after every call on it has returned.
pub struct mf_rate_limiter {
    inner: RateLimiter,
}

impl Handle for mf_rate_limiter {
    const ARG: &'static str = "limiter";
}

impl mf_rate_limiter {
    /// The core limiter (a clone shares the quota), for a client given this handle.
    pub(crate) fn core(&self) -> RateLimiter {
        self.inner.clone()
    }
}

/// Create a rate limiter from a JSON configuration (NULL or `"{}"` = eMAG's quotas, local
/// backend), e.g. `{"backend":"host","path":"/run/shop.rl"}` or
/// `{"backend":"redis","redis_url":"redis://:pw@db:6379/0","account":"shop1",
/// "redis_fallback":"fail"}`; quotas as `"orders":{"per_second":12,"per_minute":720}`.
/// Free `*out` with `mf_rate_limiter_free`.
///
/// # Safety
/// `config_json` must be NULL or a NUL-terminated string; `out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_new(
    config_json: *const c_char,
    out: *mut *mut mf_rate_limiter,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(out, "out") }?;
        let config = match unsafe { ffi::opt_arg_str(config_json, "config_json") }? {
            Some(text) => RateLimiterConfig::from_json(text)?,
            None => RateLimiterConfig::default(),
        };
        let inner = RateLimiter::new(config)?;
        out.handle(mf_rate_limiter { inner });
        Ok(())
    })
}

/// The limiter and the bucket of a call.
///
/// # Safety
/// `limiter` must be NULL or a live handle; `bucket` NULL or NUL-terminated.
unsafe fn limiter_bucket<'a>(
    limiter: *const mf_rate_limiter,
    bucket: *const c_char,
) -> Result<(&'a mf_rate_limiter, Bucket), Error> {
    // SAFETY: forwarded contract.
    let limiter = unsafe { mf_rate_limiter::arg(limiter) }?;
    let bucket = unsafe { ffi::arg_str(bucket, "bucket") }?.parse()?;
    Ok((limiter, bucket))
}

/// Wait (blocking the calling thread) for a permit in `bucket` (`"orders"` or `"other"`).
/// `timeout_s < 0` waits as long as needed; otherwise, when the wait would exceed
/// `timeout_s`, return `MF_ERR_RATE_LIMITED` at once without consuming anything (the message
/// says how many seconds are still needed).
///
/// # Safety
/// `limiter` must be a live handle; `bucket` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_acquire(
    limiter: *mut mf_rate_limiter,
    bucket: *const c_char,
    timeout_s: f64,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let (limiter, bucket) = unsafe { limiter_bucket(limiter, bucket) }?;
        let timeout = if timeout_s.is_nan() {
            return Err(Error::invalid_argument("timeout_s is NaN"));
        } else if timeout_s < 0.0 {
            None
        } else {
            Some(Duration::try_from_secs_f64(timeout_s).unwrap_or(Duration::MAX))
        };
        limiter.inner.acquire_blocking(bucket, timeout).map(|_| ())
    })
}

/// Take a permit only if one is free now: `*acquired_out` is 1 if taken, 0 if not.
///
/// # Safety
/// `limiter` must be a live handle; `bucket` a NUL-terminated string; `acquired_out` valid.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_try_acquire(
    limiter: *mut mf_rate_limiter,
    bucket: *const c_char,
    acquired_out: *mut bool,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(acquired_out, "acquired_out") }?;
        let (limiter, bucket) = unsafe { limiter_bucket(limiter, bucket) }?;
        out.write(limiter.inner.try_acquire_blocking(bucket)?);
        Ok(())
    })
}

/// The server answered 429: hold `bucket` for `wait_s` seconds (0 = one second) for every
/// sharer of the limiter.
///
/// # Safety
/// `limiter` must be a live handle; `bucket` a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_on_rate_limited(
    limiter: *mut mf_rate_limiter,
    bucket: *const c_char,
    wait_s: f64,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let (limiter, bucket) = unsafe { limiter_bucket(limiter, bucket) }?;
        let wait = Duration::try_from_secs_f64(wait_s).map_err(|_| {
            Error::invalid_argument("wait_s must be a non-negative number of seconds")
        })?;
        limiter.inner.hold_blocking(bucket, wait)
    })
}

/// The statistics as JSON: `{"backend":"local","orders":{"requests":..,"waits":..,
/// "total_wait_s":..,"rate_limited":..,"timeouts":..,"usage_last_second":..,
/// "usage_last_minute":..,"available_now":..,"next_free_in_s":..,"per_second":..,
/// "per_minute":..},"other":{...}}`. Free `*json_out` with `mf_string_free`.
///
/// # Safety
/// `limiter` must be a live handle; `json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_stats(
    limiter: *mut mf_rate_limiter,
    json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(json_out, "json_out") }?;
        out.json(&unsafe { mf_rate_limiter::arg(limiter) }?.inner.stats())
    })
}

/// Zero the statistics (the shared quota state is untouched). NULL is a no-op.
///
/// # Safety
/// `limiter` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_reset_stats(limiter: *mut mf_rate_limiter) {
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: forwarded contract.
        if let Some(limiter) = unsafe { mf_rate_limiter::opt_arg(limiter) } {
            limiter.inner.reset_stats();
        }
    });
}

/// Free a limiter. NULL is a no-op.
///
/// # Safety
/// `limiter` must be NULL or a handle from `mf_rate_limiter_new`, not yet freed, with no
/// call on it still running.
#[no_mangle]
pub unsafe extern "C" fn mf_rate_limiter_free(limiter: *mut mf_rate_limiter) {
    // SAFETY: forwarded contract.
    unsafe { mf_rate_limiter::free(limiter) }
}
