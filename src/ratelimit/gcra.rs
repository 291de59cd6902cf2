//! The one algorithm: GCRA with a burst of 1 (even spacing), by reservation, plus a floor on
//! the gap between actual grants.
//!
//! A bucket's state is three times in CLOCK_MONOTONIC nanoseconds (on Linux one clock for
//! every process of the host): the theoretical arrival time `tat`, the end of a 429 `hold`,
//! and the `last` actual grant.
//!
//! 1. **Reserve.** A caller takes the slot `max(tat, now)` and moves `tat` one *paced*
//!    interval on (the quota's spacing widened by the safety margin) with a compare-and-swap,
//!    then sleeps until its slot. A queue of callers keeps every slot busy: the wake-up latency
//!    of one caller is not lost by the next (unlike check-then-sleep loops). A caller whose
//!    wait exceeds its timeout gives up *before* swapping, so a refusal consumes nothing.
//! 2. **Confirm.** On waking, the caller checks the hold (a 429 that arrived meanwhile voids
//!    its slot) and swaps `last` to now only if at least one *exact* quota interval has passed
//!    since the previous grant. A caller that woke late therefore never crowds the next one:
//!    in any window of length `w` there are at most `w / gap + 1` grants whatever the
//!    scheduler did, and the margin between the paced and the exact interval lets late
//!    wakers catch up instead of losing throughput.
//!
//! The same functions run over a process-local `AtomicU64` triple (local backend) and over
//! one in a shared memory-mapped file (host backend); the Redis backend runs the same
//! arithmetic in Lua scripts on the server's clock.

use std::sync::atomic::{AtomicU64, Ordering};

/// Nanoseconds of CLOCK_MONOTONIC (system-wide on Linux; not moved by `settimeofday`).
pub(crate) fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

/// One bucket's shared state.
#[derive(Clone, Copy)]
pub(crate) struct Cells<'a> {
    pub(crate) tat: &'a AtomicU64,
    pub(crate) hold: &'a AtomicU64,
    pub(crate) last: &'a AtomicU64,
}

/// The spacing of one bucket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spacing {
    /// Between reserved slots: the quota's interval widened by the safety margin.
    pub(crate) paced_ns: u64,
    /// The least gap between two actual grants: the quota's exact interval (plus 1 ns, so
    /// that even a closed window holds no more than the quota).
    pub(crate) min_gap_ns: u64,
}

/// The answer to a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reservation {
    /// A slot is reserved: sleep this many nanoseconds, then confirm.
    Granted { wait_ns: u64 },
    /// The wait is longer than the caller accepts; nothing was consumed.
    TooLong { wait_ns: u64 },
}

/// The answer to a confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Confirm {
    /// Send now.
    Go,
    /// The previous grant is too recent: sleep this long and confirm again.
    Wait { wait_ns: u64 },
    /// A 429 hold is on: the slot is void; sleep through it and reserve again.
    Held { wait_ns: u64 },
}

/// Reserve the next slot.
pub(crate) fn reserve(
    cells: Cells<'_>,
    now: u64,
    spacing: Spacing,
    max_wait_ns: Option<u64>,
) -> Reservation {
    let mut current = cells.tat.load(Ordering::Acquire);
    loop {
        let floor = cells
            .last
            .load(Ordering::Acquire)
            .saturating_add(spacing.min_gap_ns);
        let slot = current.max(now);
        let wait_ns = slot.max(floor) - now;
        if max_wait_ns.is_some_and(|max| wait_ns > max) {
            return Reservation::TooLong { wait_ns };
        }
        match cells.tat.compare_exchange_weak(
            current,
            slot.saturating_add(spacing.paced_ns),
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return Reservation::Granted { wait_ns },
            Err(actual) => current = actual,
        }
    }
}

/// Turn a reserved slot into a grant at `now`.
pub(crate) fn confirm(cells: Cells<'_>, now: u64, spacing: Spacing) -> Confirm {
    let held = cells.hold.load(Ordering::Acquire).saturating_sub(now);
    if held > 0 {
        return Confirm::Held { wait_ns: held };
    }
    let mut last = cells.last.load(Ordering::Acquire);
    loop {
        let earliest = last.saturating_add(spacing.min_gap_ns);
        if now < earliest {
            return Confirm::Wait {
                wait_ns: earliest - now,
            };
        }
        match cells
            .last
            .compare_exchange_weak(last, now, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => return Confirm::Go,
            Err(actual) => last = actual,
        }
    }
}

/// Hold the bucket until `until` (after a 429): no slot before it, for every sharer.
pub(crate) fn hold(cells: Cells<'_>, until: u64) {
    cells.hold.fetch_max(until, Ordering::AcqRel);
    cells.tat.fetch_max(until, Ordering::AcqRel);
}

/// Nanoseconds until a permit is free (0 = available now).
pub(crate) fn next_free_in(cells: Cells<'_>, now: u64, spacing: Spacing) -> u64 {
    let tat = cells.tat.load(Ordering::Acquire);
    let floor = cells
        .last
        .load(Ordering::Acquire)
        .saturating_add(spacing.min_gap_ns);
    tat.max(floor).saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_paced_refusals_consume_nothing_and_grants_keep_the_gap() {
        let (tat, hold_until, last) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
        let cells = Cells {
            tat: &tat,
            hold: &hold_until,
            last: &last,
        };
        let sp = Spacing {
            paced_ns: 110,
            min_gap_ns: 100,
        };
        assert_eq!(
            reserve(cells, 1000, sp, None),
            Reservation::Granted { wait_ns: 0 }
        );
        assert_eq!(confirm(cells, 1000, sp), Confirm::Go);
        assert_eq!(
            reserve(cells, 1000, sp, None),
            Reservation::Granted { wait_ns: 110 }
        );
        assert_eq!(
            reserve(cells, 1000, sp, Some(150)),
            Reservation::TooLong { wait_ns: 220 }
        );
        assert_eq!(tat.load(Ordering::Relaxed), 1220);
        // The second caller woke late (at 1200); the third, due at 1220, must keep the gap.
        assert_eq!(confirm(cells, 1200, sp), Confirm::Go);
        assert_eq!(
            reserve(cells, 1220, sp, None),
            Reservation::Granted { wait_ns: 80 }
        );
        assert_eq!(confirm(cells, 1220, sp), Confirm::Wait { wait_ns: 80 });
        assert_eq!(confirm(cells, 1300, sp), Confirm::Go);
        hold(cells, 5000);
        assert_eq!(confirm(cells, 1400, sp), Confirm::Held { wait_ns: 3600 });
        assert_eq!(
            reserve(cells, 1400, sp, None),
            Reservation::Granted { wait_ns: 3600 }
        );
        assert_eq!(next_free_in(cells, 1400, sp), 3710);
    }
}
