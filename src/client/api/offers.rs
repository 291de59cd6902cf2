//! Offers and products: `product_offer` read/count/iter/save, light `offer/save`,
//! `offer_stock` PATCH, `measurements/save`, `campaign_proposals/save`, EAN search, Smart Deals.

use reqwest::Method;
use serde_json::{json, Value};

use super::Resource;
use crate::client::{Client, Request};
use crate::error::{Error, Result};
use crate::limits::{MAX_PRODUCT_ID, MAX_STOCK};

/// Offers (`product_offer`) and the routes around them.
#[derive(Debug, Clone)]
pub struct Offers {
    res: Resource,
    client: Client,
}

impl Offers {
    pub(crate) fn new(client: &Client) -> Self {
        Offers {
            res: Resource::new(client, "product_offer"),
            client: client.clone(),
        }
    }

    /// One page of offers.
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        self.res.read(filters).await
    }

    super::paged_reads!(res, "offers");

    /// `product_offer/save` in chunks of 50. eMAG may answer isError=true yet save the offer:
    /// re-read it after an error (spec §5).
    pub async fn save(&self, offers: Value) -> Result<Vec<Value>> {
        self.res.save(offers).await
    }

    /// The light `offer/save` (existing offers only; `id` plus the keys that change).
    pub async fn save_light(&self, offers: Value) -> Result<Vec<Value>> {
        Resource::new(&self.client, "offer").save(offers).await
    }

    /// `measurements/save` (mm, g).
    pub async fn save_measurements(&self, measurements: Value) -> Result<Vec<Value>> {
        Resource::new(&self.client, "measurements")
            .save(measurements)
            .await
    }

    /// `campaign_proposals/save`.
    pub async fn save_campaign_proposals(&self, proposals: Value) -> Result<Vec<Value>> {
        Resource::new(&self.client, "campaign_proposals")
            .save(proposals)
            .await
    }

    /// `GET documentation/find_by_eans?eans[]=...` (at most 100 EANs).
    pub async fn find_by_eans(&self, eans: &[String]) -> Result<Value> {
        if eans.is_empty() || eans.len() > 100 {
            return Err(Error::validation(vec![format!(
                "eans: between 1 and 100 EANs per search, got {}",
                eans.len()
            )]));
        }
        let mut req = Request::post("documentation", "find_by_eans", None);
        req.method = Method::GET;
        req.query = eans
            .iter()
            .map(|e| ("eans[]".to_owned(), e.clone()))
            .collect();
        self.client.request(req).await
    }

    /// `GET smart-deals-price-check?productId=...`: the price needed for the Smart Deals badge.
    pub async fn smart_deals_price_check(&self, product_id: u64) -> Result<Value> {
        let mut req = Request::post("smart-deals-price-check", "read", None);
        req.method = Method::GET;
        req.path = "smart-deals-price-check".to_owned();
        req.query = vec![("productId".to_owned(), product_id.to_string())];
        self.client.request(req).await
    }
}

/// `offer_stock/{id}` PATCH: a stock-only update.
#[derive(Debug, Clone)]
pub struct Stock {
    client: Client,
}

impl Stock {
    pub(crate) fn new(client: &Client) -> Self {
        Stock {
            client: client.clone(),
        }
    }

    /// Set the stock of one offer (seller product id) to `value` (0..65535).
    pub async fn update(&self, product_id: u64, value: i64) -> Result<Value> {
        let mut errors = Vec::new();
        if !(1..=MAX_PRODUCT_ID as u64).contains(&product_id) {
            errors.push(format!(
                "product_id: must be 1..{MAX_PRODUCT_ID}, got {product_id}"
            ));
        }
        if !(0..=MAX_STOCK).contains(&value) {
            errors.push(format!("stock: must be 0..{MAX_STOCK}, got {value}"));
        }
        if !errors.is_empty() {
            return Err(Error::validation(errors));
        }
        let mut req = Request::post("offer_stock", "update", None);
        req.method = Method::PATCH;
        req.path = format!("offer_stock/{product_id}");
        req.raw_json = Some(json!({ "stock": value }));
        self.client.request(req).await
    }
}
