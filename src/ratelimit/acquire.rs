//! Getting a permit: reserve a slot, wait for it, confirm it (async, blocking, or only when
//! free at once), within the caller's timeout.

use super::*;

impl RateLimiter {
    /// Step 1: reserve a slot (async because of Redis).
    async fn reserve(&self, bucket: Bucket, max_wait_ns: Option<u64>) -> Result<Step> {
        let now = now_ns();
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        if let Backend::Redis(_) = &self.inner.backend {
            // A 429 seen by this process holds at once, before Redis is even asked.
            let held = cells.hold.load(Ordering::Acquire).saturating_sub(now);
            if held > 0 {
                return Ok(if max_wait_ns.is_some_and(|m| held > m) {
                    Step::Refused { wait_ns: held }
                } else {
                    Step::Held { wait_ns: held }
                });
            }
        }
        if let Some(redis) = self.redis(now) {
            match redis.reserve(bucket, spacing, max_wait_ns).await {
                Ok((gcra::Reservation::Granted { wait_ns }, confirmed)) => {
                    return Ok(Step::Reserved { wait_ns, confirmed })
                }
                Ok((gcra::Reservation::TooLong { wait_ns }, _)) => {
                    return Ok(Step::Refused { wait_ns })
                }
                Err(e) => self.redis_failed(e)?,
            }
        }
        Ok(match gcra::reserve(cells, now_ns(), spacing, max_wait_ns) {
            gcra::Reservation::Granted { wait_ns } => Step::Reserved {
                wait_ns,
                confirmed: false,
            },
            gcra::Reservation::TooLong { wait_ns } => Step::Refused { wait_ns },
        })
    }

    /// Step 2: turn the reserved slot into a grant (async because of Redis).
    async fn confirm(&self, bucket: Bucket) -> Result<Confirm> {
        let now = now_ns();
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        if let Some(redis) = self.redis(now) {
            let held = cells.hold.load(Ordering::Acquire).saturating_sub(now);
            if held > 0 {
                return Ok(Confirm::Held { wait_ns: held });
            }
            match redis.confirm(bucket, spacing).await {
                Ok(c) => return Ok(c),
                Err(e) => self.redis_failed(e)?,
            }
        }
        Ok(gcra::confirm(cells, now_ns(), spacing))
    }

    fn too_long(&self, bucket: Bucket, wait_ns: u64, timeout: Option<Duration>) -> Error {
        self.inner.stats.timed_out(bucket);
        let wait_s = wait_ns as f64 / 1e9;
        Error::rate_limited(
            format!(
                "bucket {bucket}: the next permit is {wait_s:.3} s away, more than the timeout \
                 of {:.3} s; nothing was consumed",
                timeout.map_or(0.0, |t| t.as_secs_f64())
            ),
            wait_s,
        )
    }

    /// Wait for a permit in `bucket`. With a `timeout`, fail at once (consuming nothing) with
    /// a [`Error::RateLimited`] carrying the seconds still needed when the wait would be
    /// longer. Returns how long it waited.
    ///
    /// Dropping the future after it reserved a slot wastes that slot (never exceeds the quota).
    pub async fn acquire(&self, bucket: Bucket, timeout: Option<Duration>) -> Result<Duration> {
        let start = now_ns();
        let deadline = timeout.map(|t| start.saturating_add(nanos(t)));
        'reserve: loop {
            let max_wait = deadline.map(|d| d.saturating_sub(now_ns()));
            match self.reserve(bucket, max_wait).await? {
                Step::Refused { wait_ns } => return Err(self.too_long(bucket, wait_ns, timeout)),
                Step::Held { wait_ns } => {
                    tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                    continue 'reserve;
                }
                Step::Reserved {
                    confirmed: true, ..
                } => return Ok(self.granted(bucket, start)),
                Step::Reserved { wait_ns, .. } => {
                    if wait_ns > 0 {
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                    }
                }
            }
            loop {
                match self.confirm(bucket).await? {
                    Confirm::Go => return Ok(self.granted(bucket, start)),
                    Confirm::Wait { wait_ns } => {
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await
                    }
                    Confirm::Held { wait_ns } => {
                        if deadline.is_some_and(|d| now_ns().saturating_add(wait_ns) > d) {
                            return Err(self.too_long(bucket, wait_ns, timeout));
                        }
                        tokio::time::sleep(Duration::from_nanos(wait_ns)).await;
                        continue 'reserve;
                    }
                }
            }
        }
    }

    fn granted(&self, bucket: Bucket, start: u64) -> Duration {
        let now = now_ns();
        let waited = now.saturating_sub(start);
        // A few microseconds are the cost of the call itself, not a wait.
        let counted = if waited > 50_000 { waited } else { 0 };
        self.inner.stats.granted(bucket, now, counted);
        Duration::from_nanos(counted)
    }

    /// [`RateLimiter::acquire`] for synchronous callers (the thread sleeps; no runtime is
    /// involved for the local and host backends).
    pub fn acquire_blocking(&self, bucket: Bucket, timeout: Option<Duration>) -> Result<Duration> {
        if matches!(self.inner.backend, Backend::Redis(_)) {
            return crate::runtime::block_on(self.acquire(bucket, timeout));
        }
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        let start = now_ns();
        let deadline = timeout.map(|t| start.saturating_add(nanos(t)));
        'reserve: loop {
            let now = now_ns();
            let max_wait = deadline.map(|d| d.saturating_sub(now));
            match gcra::reserve(cells, now, spacing, max_wait) {
                gcra::Reservation::TooLong { wait_ns } => {
                    return Err(self.too_long(bucket, wait_ns, timeout))
                }
                gcra::Reservation::Granted { wait_ns } => {
                    if wait_ns > 0 {
                        std::thread::sleep(Duration::from_nanos(wait_ns));
                    }
                }
            }
            loop {
                match gcra::confirm(cells, now_ns(), spacing) {
                    Confirm::Go => return Ok(self.granted(bucket, start)),
                    Confirm::Wait { wait_ns } => std::thread::sleep(Duration::from_nanos(wait_ns)),
                    Confirm::Held { wait_ns } => {
                        std::thread::sleep(Duration::from_nanos(wait_ns));
                        continue 'reserve;
                    }
                }
            }
        }
    }

    /// Take a permit only if one is free right now. Never waits; `false` consumes nothing
    /// (except in a lost race between two sharers, which can void one slot).
    pub async fn try_acquire(&self, bucket: Bucket) -> Result<bool> {
        match self.reserve(bucket, Some(0)).await? {
            Step::Reserved {
                confirmed: true, ..
            } => {}
            Step::Reserved { .. } => {
                if self.confirm(bucket).await? != Confirm::Go {
                    return Ok(false);
                }
            }
            Step::Refused { .. } | Step::Held { .. } => return Ok(false),
        }
        self.granted(bucket, now_ns());
        Ok(true)
    }

    /// [`RateLimiter::try_acquire`] for synchronous callers.
    pub fn try_acquire_blocking(&self, bucket: Bucket) -> Result<bool> {
        if matches!(self.inner.backend, Backend::Redis(_)) {
            return crate::runtime::block_on(self.try_acquire(bucket));
        }
        let cells = self.cells(bucket);
        let spacing = self.spacing(bucket);
        match gcra::reserve(cells, now_ns(), spacing, Some(0)) {
            gcra::Reservation::Granted { .. } => {
                if gcra::confirm(cells, now_ns(), spacing) != Confirm::Go {
                    return Ok(false);
                }
                self.granted(bucket, now_ns());
                Ok(true)
            }
            gcra::Reservation::TooLong { .. } => Ok(false),
        }
    }
}

/// What a reservation told the caller to do.
enum Step {
    /// A slot is reserved: sleep `wait_ns`, then confirm (unless already `confirmed`).
    Reserved { wait_ns: u64, confirmed: bool },
    /// The wait exceeds the caller's timeout; nothing was consumed.
    Refused { wait_ns: u64 },
    /// A 429 hold is pending: sleep through it, then reserve again.
    Held { wait_ns: u64 },
}
