//! Return requests: `rma/read|count|save`.

use serde_json::Value;

use super::Resource;
use crate::client::Client;
use crate::error::Result;

/// Return requests (RMA).
#[derive(Debug, Clone)]
pub struct Rma(Resource);

impl Rma {
    pub(crate) fn new(client: &Client) -> Self {
        Rma(Resource::new(client, "rma"))
    }

    /// One page of returns.
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        self.0.read(filters).await
    }

    /// The number of returns.
    pub async fn count(&self, filters: Value) -> Result<u64> {
        self.0.count(filters).await
    }

    /// Every return of every page.
    pub async fn iter(&self, filters: Value) -> Result<Vec<Value>> {
        self.0.iter(filters).await
    }

    /// `rma/save` (status changes per the RMA matrix), in chunks of 50.
    pub async fn save(&self, returns: Value) -> Result<Vec<Value>> {
        self.0.save(returns).await
    }
}
