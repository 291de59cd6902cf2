//! What a test observes: counts per route, 429s, and the largest number of arrivals that fit
//! in any one-second and any one-minute window, per bucket (served or refused alike), so a
//! test can prove a client never sent more than the quota.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::ratelimit::Window;
use crate::ratelimit::Bucket;

struct BucketStats {
    requests: u64,
    responses_429: u64,
    second: Window,
    minute: Window,
    max_second: usize,
    max_minute: usize,
}

impl BucketStats {
    fn new() -> BucketStats {
        BucketStats {
            requests: 0,
            responses_429: 0,
            second: Window::new(Duration::from_secs(1)),
            minute: Window::new(Duration::from_secs(60)),
            max_second: 0,
            max_minute: 0,
        }
    }
}

pub(crate) struct Stats {
    requests_total: u64,
    responses_429: u64,
    routes: BTreeMap<String, u64>,
    status_codes: BTreeMap<u16, u64>,
    faults: BTreeMap<&'static str, u64>,
    buckets: [BucketStats; 2],
}

fn index(bucket: Bucket) -> usize {
    match bucket {
        Bucket::Orders => 0,
        Bucket::Other => 1,
    }
}

impl Stats {
    pub(crate) fn new() -> Stats {
        Stats {
            requests_total: 0,
            responses_429: 0,
            routes: BTreeMap::new(),
            status_codes: BTreeMap::new(),
            faults: BTreeMap::new(),
            buckets: [BucketStats::new(), BucketStats::new()],
        }
    }

    /// One request arrived (before any decision about it).
    pub(crate) fn arrival(&mut self, bucket: Bucket, route: &str, now: Instant) {
        self.requests_total += 1;
        match self.routes.get_mut(route) {
            Some(n) => *n += 1,
            None => {
                self.routes.insert(route.to_owned(), 1);
            }
        }
        let b = &mut self.buckets[index(bucket)];
        b.requests += 1;
        b.second.push(now);
        b.minute.push(now);
        b.max_second = b.max_second.max(b.second.count(now));
        b.max_minute = b.max_minute.max(b.minute.count(now));
    }

    pub(crate) fn refused(&mut self, bucket: Bucket) {
        self.responses_429 += 1;
        self.buckets[index(bucket)].responses_429 += 1;
    }

    pub(crate) fn fault(&mut self, name: &'static str) {
        *self.faults.entry(name).or_insert(0) += 1;
    }

    pub(crate) fn status(&mut self, code: u16) {
        *self.status_codes.entry(code).or_insert(0) += 1;
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut buckets = Map::new();
        let mut max_second = Map::new();
        let mut max_minute = Map::new();
        for bucket in Bucket::ALL {
            let b = &self.buckets[index(bucket)];
            buckets.insert(
                bucket.as_str().to_owned(),
                json!({
                    "requests": b.requests,
                    "responses_429": b.responses_429,
                    "max_in_any_second": b.max_second,
                    "max_in_any_minute": b.max_minute,
                }),
            );
            max_second.insert(bucket.as_str().to_owned(), json!(b.max_second));
            max_minute.insert(bucket.as_str().to_owned(), json!(b.max_minute));
        }
        let status_codes: Map<String, Value> = self
            .status_codes
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "requests_total": self.requests_total,
            "responses_429": self.responses_429,
            "routes": self.routes,
            "status_codes": status_codes,
            "faults_injected": self.faults,
            "max_in_any_second": max_second,
            "max_in_any_minute": max_minute,
            "buckets": buckets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_in_any_window_counts_arrivals() {
        let t0 = Instant::now();
        let mut s = Stats::new();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        // 5 arrivals within 400 ms, then 5 more 1.5 s later: max per second is 5, per minute 10.
        for i in 0..5 {
            s.arrival(Bucket::Orders, "order/read", at(i * 100));
        }
        for i in 0..5 {
            s.arrival(Bucket::Orders, "order/read", at(1500 + i * 100));
        }
        // Two arrivals exactly 1 s apart do not share a one-second window.
        s.arrival(Bucket::Other, "vat/read", at(0));
        s.arrival(Bucket::Other, "vat/read", at(1000));
        let v = s.to_json();
        assert_eq!(v["max_in_any_second"]["orders"], 5);
        assert_eq!(v["max_in_any_minute"]["orders"], 10);
        assert_eq!(v["max_in_any_second"]["other"], 1);
        assert_eq!(v["max_in_any_minute"]["other"], 2);
        assert_eq!(v["routes"]["order/read"], 10);
        assert_eq!(v["requests_total"], 12);
    }
}
