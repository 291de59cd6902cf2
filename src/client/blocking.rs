//! A blocking facade over the shared runtime, for synchronous callers (C, scripts, the
//! Python `Client` with the GIL released).

use std::future::Future;

use serde_json::Value;

use super::{Client, ClientConfig};
use crate::error::Result;
use crate::runtime;

/// The blocking client: the async [`Client`] driven by the one shared runtime.
#[derive(Debug, Clone)]
pub struct BlockingClient {
    inner: Client,
}

impl BlockingClient {
    /// Build a client.
    pub fn new(config: ClientConfig) -> Result<Self> {
        Ok(BlockingClient {
            inner: Client::new(config)?,
        })
    }

    /// Wrap an existing async client.
    pub fn from_client(client: Client) -> Self {
        BlockingClient { inner: client }
    }

    /// The async client inside.
    pub fn client(&self) -> &Client {
        &self.inner
    }

    /// The JSON escape hatch, blocking.
    pub fn call(&self, resource: &str, action: &str, data: Option<Value>) -> Result<Value> {
        runtime::block_on(self.inner.call(resource, action, data))
    }

    /// [`BlockingClient::call`] with `results` kept as the JSON text eMAG sent.
    pub fn call_raw(
        &self,
        resource: &str,
        action: &str,
        data: Option<Value>,
    ) -> Result<crate::client::RawResults> {
        runtime::block_on(self.inner.call_raw(resource, action, data))
    }

    /// Run any async operation of the client to completion:
    /// `blocking.run(|c| async move { c.orders().iter(filters).await })`.
    pub fn run<F, Fut, T>(&self, op: F) -> T
    where
        F: FnOnce(Client) -> Fut + Send,
        Fut: Future<Output = T> + Send,
        T: Send,
    {
        let client = self.inner.clone();
        runtime::block_on(async move { op(client).await })
    }
}
