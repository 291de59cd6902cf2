//! eMAG's rate-limit buckets: which quota a request counts against.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// eMAG's rate-limit buckets: all orders routes share one quota (12/s, 720/min), every other
/// resource together shares another (3/s, 180/min); the numbers are in [`crate::limits`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// `order/*` routes (including `order/attachments`, `order/acknowledge`, unlock-courier).
    Orders,
    /// Everything else, cumulatively.
    Other,
}

impl Bucket {
    /// Both buckets.
    pub const ALL: [Bucket; 2] = [Bucket::Orders, Bucket::Other];

    /// The bucket a resource path counts against (`"order"`, `"order/attachments"` ->
    /// orders; anything else -> other).
    pub fn for_resource(resource: &str) -> Bucket {
        let first = resource
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("");
        if first == "order" {
            Bucket::Orders
        } else {
            Bucket::Other
        }
    }

    /// `"orders"` or `"other"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Orders => "orders",
            Bucket::Other => "other",
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Bucket {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "orders" | "order" => Ok(Bucket::Orders),
            "other" => Ok(Bucket::Other),
            _ => Err(Error::invalid_argument(format!(
                "unknown rate-limit bucket {s:?}: expected \"orders\" or \"other\""
            ))),
        }
    }
}
