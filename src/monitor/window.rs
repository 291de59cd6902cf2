//! The sliding window: a ring of time slots per shard, merged on read.
//!
//! Writes must be cheap and must not serialize all threads on one lock, so the state is
//! split into [`SHARDS`] shards; each thread always writes to the same shard (picked once
//! per thread, round-robin), so in the common case a record takes one uncontended lock.
//! Each shard holds a ring of `n` slots of `slot` duration each; a slot carries counters
//! and its own latency histogram, and is recycled (cleared) when time reaches it again.
//! Reads lock the shards one after the other and merge the slots that are inside the
//! window: slot index `idx` counts when `now_idx - n < idx <= now_idx`, so the window
//! covers between `(n - 1) * slot` and `n * slot` of past time.
//!
//! Per `(resource, action)` the shard also keeps a small ring of counters (for the
//! windowed breakdown) and cumulative totals since start (for Prometheus counters and the
//! latency histogram).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hashbrown::Equivalent;
use hdrhistogram::Histogram;

use crate::error::ErrorKind;
use crate::hooks::Outcome;
use crate::ratelimit::Bucket;

/// How many shards the write path is spread over.
pub(crate) const SHARDS: usize = 8;
/// Outcome slots: 0 = success, 1..=14 = error kinds by their stable code, 15 = an error of
/// unstated kind (`record(.., success = false)`).
pub(crate) const OUTCOMES: usize = 16;
const GENERIC_ERROR: usize = OUTCOMES - 1;
/// Upper bounds (microseconds) of the cumulative Prometheus latency buckets; +Inf follows.
pub(crate) const LATENCY_BOUNDS_US: [u64; 9] = [
    50_000, 100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000,
];
/// Number of Prometheus latency buckets, +Inf included.
pub(crate) const NB: usize = LATENCY_BOUNDS_US.len() + 1;
/// Latencies are tracked in microseconds up to 10 minutes (longer ones saturate) with two
/// significant figures: percentiles are within 1 % of the truth.
const HIST_HIGH_US: u64 = 600_000_000;
const HIST_SIGFIG: u8 = 2;
/// Distinct (resource, action) pairs per shard before new ones are folded into
/// [`OVERFLOW_KEY`] (the client's routes are a few dozen; this only bounds memory).
const MAX_KEYS_PER_SHARD: usize = 256;
/// Where pairs beyond [`MAX_KEYS_PER_SHARD`] are counted.
pub(crate) const OVERFLOW_KEY: (&str, &str) = ("_other", "_other");
const EMPTY: u64 = u64::MAX;

/// The outcome slot of an [`Outcome`].
pub(crate) fn outcome_index(outcome: Outcome) -> usize {
    match outcome {
        Outcome::Success => 0,
        Outcome::Error(kind) => match usize::try_from(kind.code()) {
            Ok(i) if (1..GENERIC_ERROR).contains(&i) => i,
            _ => GENERIC_ERROR,
        },
    }
}

/// The label of an outcome slot (`"success"`, an error kind's name, or `"error"`).
pub(crate) fn outcome_name(index: usize) -> &'static str {
    if index == 0 {
        return "success";
    }
    ErrorKind::ALL
        .iter()
        .find(|k| usize::try_from(k.code()).ok() == Some(index))
        .map(|k| k.name())
        .unwrap_or("error")
}

/// The index of the generic error outcome.
pub(crate) const fn generic_error() -> usize {
    GENERIC_ERROR
}

fn bucket_index(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Orders => 0,
        Bucket::Other => 1,
    }
}

/// A route as the key maps store it.
#[derive(Hash, PartialEq, Eq)]
struct Route {
    resource: Box<str>,
    action: Box<str>,
}

/// A borrowed route, hashed exactly like [`Route`] (same fields, same order), so a record
/// looks its route up with one hash and no allocation.
#[derive(Hash)]
struct RouteRef<'a> {
    resource: &'a str,
    action: &'a str,
}

impl Equivalent<Route> for RouteRef<'_> {
    fn equivalent(&self, key: &Route) -> bool {
        *key.resource == *self.resource && *key.action == *self.action
    }
}

/// hashbrown with its default hasher (foldhash: fast on short keys; the keys are the
/// client's own route names, so DoS resistance buys nothing here).
type RouteMap = hashbrown::HashMap<Route, KeyStats>;

/// One request as the window stores it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample<'a> {
    /// `(resource, action)`, when known.
    pub key: Option<(&'a str, &'a str)>,
    /// Outcome slot ([`outcome_index`]).
    pub outcome: usize,
    /// Latency in microseconds.
    pub latency_us: u64,
    /// The quota bucket, when known.
    pub bucket: Option<Bucket>,
    /// The answer was HTTP 429.
    pub rate_limited: bool,
    /// A retry (attempt > 0).
    pub retry: bool,
}

/// The counters a slot keeps and a read of the window adds up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tally {
    pub requests: u64,
    pub errors: u64,
    pub retries: u64,
    pub outcomes: [u64; OUTCOMES],
    pub sum_us: u64,
    pub max_us: u64,
    /// Fastest request (`u64::MAX` without requests).
    pub min_us: u64,
    pub rate_limited: [u64; 2],
    pub usage_peak: [f64; 2],
}

impl Tally {
    const EMPTY: Tally = Tally {
        requests: 0,
        errors: 0,
        retries: 0,
        outcomes: [0; OUTCOMES],
        sum_us: 0,
        max_us: 0,
        min_us: u64::MAX,
        rate_limited: [0; 2],
        usage_peak: [0.0; 2],
    };

    fn add(&mut self, other: &Tally) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.retries += other.retries;
        for (o, c) in self.outcomes.iter_mut().zip(other.outcomes.iter()) {
            *o += c;
        }
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        self.max_us = self.max_us.max(other.max_us);
        self.min_us = self.min_us.min(other.min_us);
        for b in 0..2 {
            self.rate_limited[b] += other.rate_limited[b];
            self.usage_peak[b] = self.usage_peak[b].max(other.usage_peak[b]);
        }
    }
}

struct Slot {
    idx: u64,
    tally: Tally,
    /// Allocated on first use, then reused (reset) when the slot is recycled.
    hist: Option<Histogram<u32>>,
}

impl Slot {
    fn empty() -> Self {
        Slot {
            idx: EMPTY,
            tally: Tally::EMPTY,
            hist: None,
        }
    }

    /// Make this slot hold time index `t`, clearing what an older index left.
    fn claim(&mut self, t: u64) -> &mut Self {
        if self.idx == EMPTY || self.idx < t {
            let hist = self.hist.take().map(|mut h| {
                h.reset();
                h
            });
            *self = Slot::empty();
            self.hist = hist;
            self.idx = t;
        }
        self
    }
}

#[derive(Clone, Copy)]
struct KeySlot {
    idx: u64,
    counts: KeyWindow,
}

impl KeySlot {
    const EMPTY: KeySlot = KeySlot {
        idx: EMPTY,
        counts: KeyWindow {
            requests: 0,
            errors: 0,
            sum_us: 0,
            max_us: 0,
        },
    };
}

/// Cumulative totals of one `(resource, action)` since start (or the last reset).
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTotals {
    /// Requests per outcome slot.
    pub outcomes: [u64; OUTCOMES],
    /// Requests per latency bucket (not cumulative; [`LATENCY_BOUNDS_US`] then +Inf).
    pub buckets: [u64; NB],
    /// Sum of latencies, microseconds.
    pub sum_us: u64,
    /// Requests.
    pub count: u64,
}

struct KeyStats {
    ring: Box<[KeySlot]>,
    totals: KeyTotals,
}

struct Shard {
    slots: Box<[Slot]>,
    keys: RouteMap,
    requests_total: u64,
    errors_total: u64,
    rate_limited_total: [u64; 2],
}

impl Shard {
    fn new(n: usize) -> Self {
        Shard {
            slots: (0..n).map(|_| Slot::empty()).collect(),
            keys: RouteMap::default(),
            requests_total: 0,
            errors_total: 0,
            rate_limited_total: [0; 2],
        }
    }

    /// Apply `f` to the stats of `(resource, action)`, creating them (or using the overflow
    /// pair once the shard holds too many) on first sight.
    fn with_key(&mut self, n: usize, resource: &str, action: &str, f: impl FnOnce(&mut KeyStats)) {
        if let Some(stats) = self.keys.get_mut(&RouteRef { resource, action }) {
            f(stats);
            return;
        }
        let (resource, action) = if self.keys.len() >= MAX_KEYS_PER_SHARD {
            OVERFLOW_KEY
        } else {
            (resource, action)
        };
        let route = Route {
            resource: resource.into(),
            action: action.into(),
        };
        let stats = self.keys.entry(route).or_insert_with(|| KeyStats {
            ring: vec![KeySlot::EMPTY; n].into_boxed_slice(),
            totals: KeyTotals::default(),
        });
        f(stats);
    }
}

/// Shards sit on their own cache lines so that two threads writing to neighbouring shards
/// do not invalidate each other's line.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

/// Windowed counters of one `(resource, action)`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeyWindow {
    pub requests: u64,
    pub errors: u64,
    pub sum_us: u64,
    pub max_us: u64,
}

impl KeyWindow {
    fn add(&mut self, other: &KeyWindow) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.sum_us = self.sum_us.saturating_add(other.sum_us);
        self.max_us = self.max_us.max(other.max_us);
    }
}

/// Cumulative totals since start.
#[derive(Debug, Clone, Default)]
pub(crate) struct Totals {
    pub keys: BTreeMap<(String, String), KeyTotals>,
    pub requests: u64,
    pub errors: u64,
    pub rate_limited: [u64; 2],
}

/// The merged content of the window (and, when asked, the cumulative totals).
#[derive(Debug, Clone)]
pub(crate) struct WindowRead {
    pub tally: Tally,
    pub usage_current: [f64; 2],
    pub hist: Histogram<u64>,
    pub keys: BTreeMap<(String, String), KeyWindow>,
    pub totals: Option<Totals>,
}

/// The sharded ring of slots.
pub(crate) struct Window {
    shards: Box<[Padded]>,
    slot_nanos: u64,
    n: usize,
    /// Latest reported usage per bucket (f64 bits) and the slot index it was reported in,
    /// plus one (0 = never).
    usage_bits: [AtomicU64; 2],
    usage_at: [AtomicU64; 2],
}

fn new_hist<T: hdrhistogram::Counter>() -> Histogram<T> {
    // Constant bounds that satisfy hdrhistogram's rules (high >= 2 * low, sigfig <= 5):
    // this never depends on input and cannot fail.
    #[allow(clippy::expect_used)]
    Histogram::new_with_bounds(1, HIST_HIGH_US, HIST_SIGFIG).expect("constant histogram bounds")
}

thread_local! {
    static SHARD_HINT: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed)
    };
}

impl Window {
    /// A window of `n` slots of `slot` each.
    pub fn new(n: usize, slot: Duration) -> Self {
        let slot_nanos = u64::try_from(slot.as_nanos()).unwrap_or(u64::MAX).max(1);
        Window {
            shards: (0..SHARDS)
                .map(|_| Padded(Mutex::new(Shard::new(n))))
                .collect(),
            slot_nanos,
            n,
            usage_bits: [AtomicU64::new(0), AtomicU64::new(0)],
            usage_at: [AtomicU64::new(0), AtomicU64::new(0)],
        }
    }

    fn slot_index(&self, now: Duration) -> u64 {
        // u64 nanoseconds cover 584 years of uptime; a u128 division would cost more.
        let ns = now
            .as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(now.subsec_nanos()));
        (ns / self.slot_nanos).min(EMPTY - 1)
    }

    fn in_window(&self, idx: u64, t: u64) -> bool {
        idx != EMPTY && idx <= t && idx.saturating_add(self.n as u64) > t
    }

    fn my_shard(&self) -> MutexGuard<'_, Shard> {
        // SHARDS is a power of two: a mask, not a division.
        let i = SHARD_HINT.try_with(|h| *h).unwrap_or(0) & (SHARDS - 1);
        lock(&self.shards[i].0)
    }

    fn pos(&self, t: u64) -> usize {
        (t % self.n as u64) as usize
    }

    /// Count one request.
    pub fn record(&self, now: Duration, s: &Sample<'_>) {
        let t = self.slot_index(now);
        let pos = self.pos(t);
        let n = self.n;
        let is_error = s.outcome != 0;
        let mut shard = self.my_shard();
        shard.requests_total += 1;
        shard.errors_total += u64::from(is_error);
        let slot = shard.slots[pos].claim(t);
        let c = &mut slot.tally;
        c.requests += 1;
        c.errors += u64::from(is_error);
        c.retries += u64::from(s.retry);
        c.outcomes[s.outcome] += 1;
        c.sum_us = c.sum_us.saturating_add(s.latency_us);
        c.max_us = c.max_us.max(s.latency_us);
        c.min_us = c.min_us.min(s.latency_us);
        slot.hist
            .get_or_insert_with(new_hist)
            .saturating_record(s.latency_us);
        if s.rate_limited {
            if let Some(b) = s.bucket {
                slot.tally.rate_limited[bucket_index(b)] += 1;
                shard.rate_limited_total[bucket_index(b)] += 1;
            }
        }
        if let Some((resource, action)) = s.key {
            let latency_us = s.latency_us;
            let outcome = s.outcome;
            shard.with_key(n, resource, action, |stats| {
                let ks = &mut stats.ring[pos];
                if ks.idx == EMPTY || ks.idx < t {
                    *ks = KeySlot::EMPTY;
                    ks.idx = t;
                }
                ks.counts.add(&KeyWindow {
                    requests: 1,
                    errors: u64::from(is_error),
                    sum_us: latency_us,
                    max_us: latency_us,
                });
                let tot = &mut stats.totals;
                tot.outcomes[outcome] += 1;
                let b = LATENCY_BOUNDS_US
                    .iter()
                    .position(|bound| latency_us <= *bound)
                    .unwrap_or(NB - 1);
                tot.buckets[b] += 1;
                tot.sum_us = tot.sum_us.saturating_add(latency_us);
                tot.count += 1;
            });
        }
    }

    /// Count a 429 that did not pass through [`Window::record`].
    pub fn record_429(&self, now: Duration, bucket: Bucket) {
        let t = self.slot_index(now);
        let pos = self.pos(t);
        let b = bucket_index(bucket);
        let mut shard = self.my_shard();
        shard.rate_limited_total[b] += 1;
        shard.slots[pos].claim(t).tally.rate_limited[b] += 1;
    }

    /// Note the usage ratio of a quota.
    pub fn record_usage(&self, now: Duration, bucket: Bucket, ratio: f64) {
        let t = self.slot_index(now);
        let pos = self.pos(t);
        let b = bucket_index(bucket);
        self.usage_bits[b].store(ratio.to_bits(), Ordering::Relaxed);
        self.usage_at[b].store(t.saturating_add(1), Ordering::Relaxed);
        let mut shard = self.my_shard();
        let slot = shard.slots[pos].claim(t);
        slot.tally.usage_peak[b] = slot.tally.usage_peak[b].max(ratio);
    }

    /// Merge the window as of `now` (and the cumulative totals when `with_totals`).
    pub fn read(&self, now: Duration, with_totals: bool) -> WindowRead {
        let t = self.slot_index(now);
        let mut out = WindowRead {
            tally: Tally::EMPTY,
            usage_current: [0.0; 2],
            hist: new_hist(),
            keys: BTreeMap::new(),
            totals: with_totals.then(Totals::default),
        };
        for padded in self.shards.iter() {
            let shard = lock(&padded.0);
            for slot in shard.slots.iter().filter(|s| self.in_window(s.idx, t)) {
                out.tally.add(&slot.tally);
                if let Some(h) = &slot.hist {
                    for v in h.iter_recorded() {
                        let _ = out
                            .hist
                            .record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
                    }
                }
            }
            for (route, stats) in shard.keys.iter() {
                let mut kw = KeyWindow::default();
                for ks in stats.ring.iter().filter(|k| self.in_window(k.idx, t)) {
                    kw.add(&ks.counts);
                }
                let key = (route.resource.to_string(), route.action.to_string());
                if kw.requests > 0 {
                    out.keys.entry(key.clone()).or_default().add(&kw);
                }
                if let Some(totals) = out.totals.as_mut() {
                    let e = totals.keys.entry(key).or_default();
                    for (o, c) in e.outcomes.iter_mut().zip(stats.totals.outcomes.iter()) {
                        *o += c;
                    }
                    for (o, c) in e.buckets.iter_mut().zip(stats.totals.buckets.iter()) {
                        *o += c;
                    }
                    e.sum_us = e.sum_us.saturating_add(stats.totals.sum_us);
                    e.count += stats.totals.count;
                }
            }
            if let Some(totals) = out.totals.as_mut() {
                totals.requests += shard.requests_total;
                totals.errors += shard.errors_total;
                for b in 0..2 {
                    totals.rate_limited[b] += shard.rate_limited_total[b];
                }
            }
        }
        for b in 0..2 {
            let at = self.usage_at[b].load(Ordering::Relaxed);
            if at != 0 && self.in_window(at - 1, t) {
                out.usage_current[b] = f64::from_bits(self.usage_bits[b].load(Ordering::Relaxed));
            }
        }
        out
    }

    /// Forget everything.
    pub fn reset(&self) {
        for padded in self.shards.iter() {
            *lock(&padded.0) = Shard::new(self.n);
        }
        for b in 0..2 {
            self.usage_at[b].store(0, Ordering::Relaxed);
            self.usage_bits[b].store(0, Ordering::Relaxed);
        }
    }
}

/// Lock, ignoring poisoning: the guarded data are plain counters that a panicking writer
/// cannot leave inconsistent in a way that matters more than losing the monitor.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
