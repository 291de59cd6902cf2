//! Resource families, one file each. Every method is a thin layer over [`Resource`] (generic
//! read/count/iter/save over one resource path) or over [`Client::request`] for the routes that
//! break the `POST resource/action` pattern.

mod catalog;
mod invoices;
mod logistics;
mod offers;
mod orders;
mod rma;

pub use catalog::{Categories, HandlingTime, Vat};
pub use invoices::Invoices;
pub use logistics::{Addresses, Awb, CourierAccounts, Localities};
pub use offers::{Offers, Stock};
pub use orders::Orders;
pub use rma::Rma;

use serde_json::Value;

use super::pagination::{count_from_results, Pager};
use super::{Client, RawResults, Request};
use crate::error::{Error, Result};
use crate::limits::MAX_BULK_ENTITIES;

/// Generic operations on one resource path (`order`, `product_offer`, `category`, ...).
#[derive(Debug, Clone)]
pub struct Resource {
    client: Client,
    path: String,
}

impl Resource {
    /// A resource of `client`.
    pub fn new(client: &Client, path: &str) -> Self {
        Resource {
            client: client.clone(),
            path: path.trim_matches('/').to_owned(),
        }
    }

    /// The resource path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// One `read`: the list of results of the page the filters ask for.
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        let data = filters_or_empty(filters)?;
        crate::validate::request_guards::check_payload(&self.path, "read", &data)?;
        match self
            .client
            .request(Request::post(&self.path, "read", Some(data)))
            .await?
        {
            Value::Array(items) => Ok(items),
            Value::Null => Ok(Vec::new()),
            // Single-entity reads (e.g. category by id) answer an object: one result.
            other => Ok(vec![other]),
        }
    }

    /// [`Resource::read`] with `results` kept as the JSON text eMAG sent (a list, an object
    /// for single-entity reads, or `null`).
    pub async fn read_raw(&self, filters: Value) -> Result<RawResults> {
        let data = filters_or_empty(filters)?;
        crate::validate::request_guards::check_payload(&self.path, "read", &data)?;
        self.client
            .request_raw(Request::post(&self.path, "read", Some(data)))
            .await
    }

    /// `count`, as a number.
    pub async fn count(&self, filters: Value) -> Result<u64> {
        let data = filters_or_empty(filters)?;
        crate::validate::request_guards::check_payload(&self.path, "count", &data)?;
        let results = self
            .client
            .request(Request::post(&self.path, "count", Some(data)))
            .await?;
        count_from_results(&results)
    }

    /// A pager over every page (and every one-month window for orders).
    pub fn pages(&self, filters: Value) -> Result<Pager> {
        Pager::new(self.client.clone(), &self.path, filters)
    }

    /// Every item of every page.
    pub async fn iter(&self, filters: Value) -> Result<Vec<Value>> {
        self.pages(filters)?.collect().await
    }

    /// `save` in chunks of at most 50 entities; returns the `results` of each chunk.
    pub async fn save(&self, entities: Value) -> Result<Vec<Value>> {
        self.save_as("save", entities).await
    }

    /// Like [`Resource::save`] with another action name.
    pub async fn save_as(&self, action: &str, entities: Value) -> Result<Vec<Value>> {
        let items = match entities {
            Value::Array(items) => items,
            Value::Object(_) => vec![entities],
            other => {
                return Err(Error::invalid_argument(format!(
                    "{}/{action} takes a list of entities (or one object), got {other}",
                    self.path
                )))
            }
        };
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut results = Vec::new();
        for chunk in items.chunks(MAX_BULK_ENTITIES) {
            let data = Value::Array(chunk.to_vec());
            crate::validate::request_guards::check_payload(&self.path, action, &data)?;
            results.push(
                self.client
                    .request(Request::post(&self.path, action, Some(data)))
                    .await?,
            );
        }
        Ok(results)
    }
}

fn filters_or_empty(filters: Value) -> Result<Value> {
    match filters {
        Value::Null => Ok(Value::Object(Default::default())),
        Value::Object(_) => Ok(filters),
        other => Err(Error::invalid_argument(format!(
            "filters must be an object, got {other}"
        ))),
    }
}

impl Client {
    /// Generic operations on any resource path.
    pub fn resource(&self, path: &str) -> Resource {
        Resource::new(self, path)
    }
    /// Orders (`order/*`).
    pub fn orders(&self) -> Orders {
        Orders::new(self)
    }
    /// Offers and products (`product_offer`, `offer`, `measurements`, `campaign_proposals`, ...).
    pub fn offers(&self) -> Offers {
        Offers::new(self)
    }
    /// Stock-only updates (`offer_stock/{id}` PATCH).
    pub fn stock(&self) -> Stock {
        Stock::new(self)
    }
    /// Categories.
    pub fn categories(&self) -> Categories {
        Categories::new(self)
    }
    /// VAT rates.
    pub fn vat(&self) -> Vat {
        Vat::new(self)
    }
    /// Handling times.
    pub fn handling_time(&self) -> HandlingTime {
        HandlingTime::new(self)
    }
    /// AWBs.
    pub fn awb(&self) -> Awb {
        Awb::new(self)
    }
    /// Localities.
    pub fn localities(&self) -> Localities {
        Localities::new(self)
    }
    /// Courier accounts.
    pub fn courier_accounts(&self) -> CourierAccounts {
        CourierAccounts::new(self)
    }
    /// Seller addresses.
    pub fn addresses(&self) -> Addresses {
        Addresses::new(self)
    }
    /// Return requests.
    pub fn rma(&self) -> Rma {
        Rma::new(self)
    }
    /// Invoices.
    pub fn invoices(&self) -> Invoices {
        Invoices::new(self)
    }
}

/// The paged reads of a resource family, delegated to its [`Resource`] field `$res`:
/// `count`, `pages` and `iter`.
macro_rules! paged_reads {
    ($res:ident, $items:literal) => {
        #[doc = concat!("The number of ", $items, " matching the filters.")]
        pub async fn count(&self, filters: serde_json::Value) -> crate::Result<u64> {
            self.$res.count(filters).await
        }

        /// A pager over every page; order ranges longer than a month are split into windows.
        pub fn pages(
            &self,
            filters: serde_json::Value,
        ) -> crate::Result<crate::client::pagination::Pager> {
            self.$res.pages(filters)
        }

        #[doc = concat!("Every ", $items, " of every page.")]
        pub async fn iter(
            &self,
            filters: serde_json::Value,
        ) -> crate::Result<Vec<serde_json::Value>> {
            self.$res.iter(filters).await
        }
    };
}
pub(crate) use paged_reads;

/// Declares a read-only resource family with `read` (and optionally `count`).
macro_rules! read_only_resource {
    ($(#[$doc:meta])* $name:ident, $path:literal $(, $count:ident)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name(super::Resource);

        impl $name {
            pub(crate) fn new(client: &super::Client) -> Self {
                $name(super::Resource::new(client, $path))
            }

            /// One page of results.
            pub async fn read(&self, filters: serde_json::Value) -> crate::Result<Vec<serde_json::Value>> {
                self.0.read(filters).await
            }

            /// Every item of every page.
            pub async fn iter(&self, filters: serde_json::Value) -> crate::Result<Vec<serde_json::Value>> {
                self.0.iter(filters).await
            }

            $(
            /// The number of items matching the filters.
            pub async fn $count(&self, filters: serde_json::Value) -> crate::Result<u64> {
                self.0.count(filters).await
            }
            )?
        }
    };
}
pub(crate) use read_only_resource;
