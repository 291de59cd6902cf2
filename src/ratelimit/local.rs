//! The local backend: the GCRA state of both buckets in this process's memory.

use std::sync::atomic::AtomicU64;

use super::gcra::Cells;
use crate::ratelimit::Bucket;

/// Per-bucket GCRA state (TAT, 429 hold, last grant), shared by every clone of one `RateLimiter`.
#[derive(Debug, Default)]
pub(crate) struct LocalState {
    // Padded so that the two buckets do not share a cache line.
    orders: Padded,
    other: Padded,
}

#[derive(Debug, Default)]
#[repr(align(64))]
struct Padded {
    tat: AtomicU64,
    hold: AtomicU64,
    last: AtomicU64,
}

impl LocalState {
    /// The state of `bucket`.
    pub(crate) fn cells(&self, bucket: Bucket) -> Cells<'_> {
        let p = match bucket {
            Bucket::Orders => &self.orders,
            Bucket::Other => &self.other,
        };
        Cells {
            tat: &p.tat,
            hold: &p.hold,
            last: &p.last,
        }
    }
}
