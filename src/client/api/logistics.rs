//! Shipping: AWBs, localities, courier accounts, addresses.

use reqwest::Method;
use serde_json::Value;

use super::{read_only_resource, Resource};
use crate::client::{Client, Download, Request};
use crate::error::{Error, Result};

read_only_resource!(
    /// `locality/read|count`.
    Localities, "locality", count
);
read_only_resource!(
    /// `courier_accounts/read`.
    CourierAccounts, "courier_accounts"
);
read_only_resource!(
    /// `addresses/read` (4.4.9).
    Addresses, "addresses"
);

/// AWBs: `awb/save` (never retried once sent: a repeat would issue a second AWB), `awb/read`,
/// and the label downloads.
#[derive(Debug, Clone)]
pub struct Awb {
    res: Resource,
    client: Client,
}

impl Awb {
    pub(crate) fn new(client: &Client) -> Self {
        Awb {
            res: Resource::new(client, "awb"),
            client: client.clone(),
        }
    }

    /// `awb/save` with one AWB object; issuing the first AWB finalizes the order.
    pub async fn save(&self, awb: Value) -> Result<Value> {
        if !awb.is_object() {
            return Err(Error::invalid_argument("awb/save takes one AWB object"));
        }
        self.client
            .request(Request::post("awb", "save", Some(awb)))
            .await
    }

    /// `awb/read` by `emag_id` or `reservation_id`.
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        self.res.read(filters).await
    }

    /// `GET awb/read_pdf?emag_id=..&awb_format=A4|A5|A6`: the label as PDF bytes.
    pub async fn read_pdf(&self, emag_id: u64, format: &str) -> Result<Download> {
        if !["A4", "A5", "A6"].contains(&format) {
            return Err(Error::validation(vec![format!(
                "awb_format: must be A4, A5 or A6, got {format:?}"
            )]));
        }
        let mut req = Request::post("awb", "read_pdf", None);
        req.method = Method::GET;
        req.query = vec![
            ("emag_id".into(), emag_id.to_string()),
            ("awb_format".into(), format.into()),
        ];
        self.client.download(req).await
    }

    /// `awb/read_zpl?emag_id=..`: the label in ZPL, base64-encoded as eMAG sends it.
    pub async fn read_zpl(&self, emag_id: u64) -> Result<Download> {
        let mut req = Request::post("awb", "read_zpl", None);
        req.method = Method::GET;
        req.query = vec![("emag_id".into(), emag_id.to_string())];
        self.client.download(req).await
    }
}
