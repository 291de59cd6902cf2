//! `order/*`: read, count, iter, acknowledge, save, unlock-courier, attachments.

use serde_json::Value;

use super::Resource;
use crate::client::{Client, Request};
use crate::error::{Error, Result};
use crate::limits::MAX_ORDER_ID;
use crate::models::Order;

/// Orders. Note that eMAG's `order/read` defaults to type 3 (fulfilled by the seller) when no
/// `type` filter is sent; pass `{"type": 2}` for orders fulfilled by eMAG.
#[derive(Debug, Clone)]
pub struct Orders {
    res: Resource,
    attachments: Resource,
}

impl Orders {
    pub(crate) fn new(client: &Client) -> Self {
        Orders {
            res: Resource::new(client, "order"),
            attachments: Resource::new(client, "order/attachments"),
        }
    }

    /// One page of orders as read (JSON).
    pub async fn read(&self, filters: Value) -> Result<Vec<Value>> {
        self.res.read(filters).await
    }

    /// One page of orders as typed models (unknown fields kept).
    pub async fn read_typed(&self, filters: Value) -> Result<Vec<Order>> {
        self.read(filters)
            .await?
            .into_iter()
            .map(Order::from_value)
            .collect()
    }

    super::paged_reads!(res, "orders");

    /// `order/acknowledge/{id}`: moves a new order (1) to in progress (2).
    pub async fn acknowledge(&self, order_id: u64) -> Result<Value> {
        check_id(order_id)?;
        let mut req = Request::post("order", "acknowledge", None);
        req.path = format!("order/acknowledge/{order_id}");
        self.res_client().request(req).await
    }

    /// `order/save` with full orders as read (not diffs), in chunks of 50.
    pub async fn save(&self, orders: Value) -> Result<Vec<Value>> {
        self.res.save(orders).await
    }

    /// `order/{id}/unlock-courier`.
    pub async fn unlock_courier(&self, order_id: u64) -> Result<Value> {
        check_id(order_id)?;
        let mut req = Request::post("order", "unlock-courier", None);
        req.path = format!("order/{order_id}/unlock-courier");
        self.res_client().request(req).await
    }

    /// `order/attachments/save` (invoices, warranties, ...), in chunks of 50.
    pub async fn save_attachments(&self, attachments: Value) -> Result<Vec<Value>> {
        self.attachments.save(attachments).await
    }

    fn res_client(&self) -> Client {
        self.res.client.clone()
    }
}

fn check_id(order_id: u64) -> Result<()> {
    if (1..=MAX_ORDER_ID as u64).contains(&order_id) {
        Ok(())
    } else {
        Err(Error::validation(vec![format!(
            "order_id: must be 1..{MAX_ORDER_ID}, got {order_id}"
        )]))
    }
}
