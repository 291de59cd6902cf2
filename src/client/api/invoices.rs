//! Invoices: categories, marketplace invoices, customer invoices (pages of up to 1000).

use serde_json::Value;

use super::Resource;
use crate::client::Client;
use crate::error::Result;

/// `invoice/categories/read`, `invoice/read`, `customer-invoice/read`.
#[derive(Debug, Clone)]
pub struct Invoices {
    client: Client,
}

impl Invoices {
    pub(crate) fn new(client: &Client) -> Self {
        Invoices {
            client: client.clone(),
        }
    }

    /// The invoice categories (e.g. `FC` / Commission).
    pub async fn categories(&self) -> Result<Vec<Value>> {
        Resource::new(&self.client, "invoice/categories")
            .read(Value::Null)
            .await
    }

    /// Marketplace invoices to the seller (`results` as sent: `total_results` and `invoices`).
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        Resource::new(&self.client, "invoice").read(filters).await
    }

    /// The seller's invoices to customers.
    pub async fn customer_invoices(&self, filters: Value) -> Result<Vec<Value>> {
        Resource::new(&self.client, "customer-invoice")
            .read(filters)
            .await
    }
}
