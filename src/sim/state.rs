//! The simulator's state: orders (newest first, each with its JSON document and a cached
//! serialization), offers, AWBs, returns and the reference lists. One `RwLock` guards it all;
//! reads share it, writes validate everything first and then apply (never half a request).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDateTime;
use serde_json::{Map, Value};

use super::clock;

/// One order: the typed fields the filters and rules need, and the document eMAG would send.
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) status: i64,
    pub(crate) kind: i64,
    pub(crate) payment_mode_id: i64,
    pub(crate) is_complete: i64,
    pub(crate) date: NaiveDateTime,
    pub(crate) modified: NaiveDateTime,
    /// When the order last entered status 4 (48 h and RT + 5 days rules).
    pub(crate) finalized_at: Option<NaiveDateTime>,
    /// When the order last entered status 0 (48 h rule).
    pub(crate) cancelled_at: Option<NaiveDateTime>,
    pub(crate) doc: Map<String, Value>,
    json: OnceLock<Arc<str>>,
}

impl Order {
    /// An order from its document (the typed fields are read from it).
    pub(crate) fn from_doc(
        doc: Map<String, Value>,
        date: NaiveDateTime,
        modified: NaiveDateTime,
    ) -> Order {
        let get = |k: &str| doc.get(k).and_then(Value::as_i64).unwrap_or(0);
        Order {
            id: doc.get("id").and_then(Value::as_u64).unwrap_or(0),
            status: get("status"),
            kind: get("type"),
            payment_mode_id: get("payment_mode_id"),
            is_complete: get("is_complete"),
            date,
            modified,
            finalized_at: None,
            cancelled_at: None,
            doc,
            json: OnceLock::new(),
        }
    }

    /// The serialized document (cached until the next change).
    pub(crate) fn json(&self) -> Arc<str> {
        self.json
            .get_or_init(|| Arc::from(Value::Object(self.doc.clone()).to_string()))
            .clone()
    }

    /// Write the typed fields back into the document and drop the cached JSON.
    pub(crate) fn touch(&mut self, now: NaiveDateTime) {
        self.modified = now;
        self.sync();
    }

    pub(crate) fn sync(&mut self) {
        self.doc.insert("status".into(), Value::from(self.status));
        self.doc
            .insert("is_complete".into(), Value::from(self.is_complete));
        self.doc
            .insert("modified".into(), Value::from(clock::format(self.modified)));
        self.json = OnceLock::new();
    }

    /// Product lines `(line id, product_id, quantity, status)` of the document.
    pub(crate) fn lines(&self) -> Vec<(i64, i64, i64, i64)> {
        self.doc
            .get("products")
            .and_then(Value::as_array)
            .map(|lines| {
                lines
                    .iter()
                    .map(|l| {
                        let get = |k: &str| l.get(k).and_then(Value::as_i64).unwrap_or(0);
                        (get("id"), get("product_id"), get("quantity"), get("status"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One offer: typed fields for rules and filters, the rest in `doc`.
pub(crate) struct Offer {
    pub(crate) id: u64,
    pub(crate) status: i64,
    pub(crate) sale_price: f64,
    pub(crate) min_sale_price: Option<f64>,
    pub(crate) max_sale_price: Option<f64>,
    pub(crate) recommended_price: Option<f64>,
    pub(crate) vat_id: i64,
    /// `(warehouse_id, value)`.
    pub(crate) stock: Vec<(i64, i64)>,
    pub(crate) part_number: String,
    pub(crate) part_number_key: String,
    pub(crate) eans: Vec<String>,
    pub(crate) validation_status: i64,
    pub(crate) offer_validation_status: i64,
    pub(crate) translation_validation_status: Option<i64>,
    /// `{name, address, email}` sets (bool flag in unfiltered reads).
    pub(crate) manufacturer: Vec<Value>,
    pub(crate) eu_representative: Vec<Value>,
    pub(crate) doc: Map<String, Value>,
}

fn price(v: f64) -> Value {
    Value::from(format!("{v:.4}"))
}

impl Offer {
    pub(crate) fn general_stock(&self) -> i64 {
        self.stock.iter().map(|(_, v)| *v).sum()
    }

    /// The document `product_offer/read` sends. `reserved` is the quantity held by
    /// unacknowledged orders; `detailed` (a read filtered to one product) lists GPSR sets.
    pub(crate) fn render(&self, reserved: i64, detailed: bool) -> Value {
        let mut doc = self.doc.clone();
        let general = self.general_stock();
        doc.insert("status".into(), Value::from(self.status));
        doc.insert("sale_price".into(), price(self.sale_price));
        doc.insert(
            "recommended_price".into(),
            self.recommended_price.map(price).unwrap_or(Value::Null),
        );
        doc.insert("vat_id".into(), Value::from(self.vat_id));
        doc.insert("general_stock".into(), Value::from(general));
        doc.insert(
            "estimated_stock".into(),
            Value::from((general - reserved).max(0)),
        );
        doc.insert("part_number".into(), Value::from(self.part_number.clone()));
        doc.insert(
            "part_number_key".into(),
            Value::from(self.part_number_key.clone()),
        );
        doc.insert("ean".into(), Value::from(self.eans.clone()));
        let vs = self.validation_status;
        doc.insert(
            "validation_status".into(),
            serde_json::json!([{ "value": vs, "Description": super::refdata::validation_label(vs), "errors": null }]),
        );
        let ovs = self.offer_validation_status;
        doc.insert(
            "offer_validation_status".into(),
            serde_json::json!({ "value": ovs, "Description": if ovs == 1 { "Valid" } else { "Invalid price" } }),
        );
        doc.insert(
            "translation_validation_status".into(),
            match self.translation_validation_status {
                Some(v) => serde_json::json!([{ "value": v, "Description": super::refdata::validation_label(v), "errors": null }]),
                None => Value::Array(Vec::new()),
            },
        );
        for (key, sets) in [
            ("manufacturer", &self.manufacturer),
            ("eu_representative", &self.eu_representative),
        ] {
            let v = if detailed {
                Value::Array(sets.clone())
            } else {
                Value::Bool(!sets.is_empty())
            };
            doc.insert(key.into(), v);
        }
        Value::Object(doc)
    }

    /// The ground truth (`Simulator::offers()`): the read document plus what reads omit.
    pub(crate) fn ground_truth(&self, reserved: i64) -> Value {
        let mut v = self.render(reserved, true);
        if let Value::Object(map) = &mut v {
            map.insert(
                "stock".into(),
                Value::Array(
                    self.stock
                        .iter()
                        .map(|(w, s)| serde_json::json!({"warehouse_id": w, "value": s}))
                        .collect(),
                ),
            );
            map.insert(
                "min_sale_price".into(),
                self.min_sale_price.map(price).unwrap_or(Value::Null),
            );
            map.insert(
                "max_sale_price".into(),
                self.max_sale_price.map(price).unwrap_or(Value::Null),
            );
        }
        v
    }
}

/// A return request.
pub(crate) struct Rma {
    pub(crate) emag_id: i64,
    pub(crate) order_id: u64,
    pub(crate) request_status: i64,
    pub(crate) kind: i64,
    pub(crate) date: NaiveDateTime,
    pub(crate) doc: Map<String, Value>,
}

impl Rma {
    pub(crate) fn render(&self) -> Value {
        let mut doc = self.doc.clone();
        doc.insert("request_status".into(), Value::from(self.request_status));
        Value::Object(doc)
    }
}

/// Everything the simulator knows.
pub(crate) struct State {
    /// Newest first (`date` descending, then id descending): the order `order/read` pages in.
    pub(crate) orders: Vec<Order>,
    pub(crate) order_index: HashMap<u64, usize>,
    pub(crate) offers: BTreeMap<u64, Offer>,
    pub(crate) awbs: Vec<Value>,
    pub(crate) rmas: Vec<Rma>,
    /// Product lines added by `order/save` get ids from here.
    pub(crate) next_line_id: i64,
    pub(crate) next_awb_id: i64,
    pub(crate) next_reservation_id: i64,
    pub(crate) next_attachment_id: i64,
    /// The customer's return period in days (RT of the 4 -> 5 rule).
    pub(crate) return_period_days: i64,
}

impl State {
    pub(crate) fn order(&self, id: u64) -> Option<&Order> {
        self.order_index.get(&id).map(|&i| &self.orders[i])
    }

    pub(crate) fn order_mut(&mut self, id: u64) -> Option<&mut Order> {
        match self.order_index.get(&id) {
            Some(&i) => self.orders.get_mut(i),
            None => None,
        }
    }

    /// Quantity per seller product held by unacknowledged (status 1) orders.
    pub(crate) fn reserved(&self) -> HashMap<i64, i64> {
        let mut out = HashMap::new();
        for order in self.orders.iter().filter(|o| o.status == 1) {
            for (_, product_id, qty, status) in order.lines() {
                if status == 1 {
                    *out.entry(product_id).or_insert(0) += qty;
                }
            }
        }
        out
    }

    /// Move general stock by `delta` units of seller product `product_id` (first warehouse).
    pub(crate) fn adjust_stock(&mut self, product_id: i64, delta: i64) {
        let Ok(id) = u64::try_from(product_id) else {
            return;
        };
        if let Some(offer) = self.offers.get_mut(&id) {
            if let Some(first) = offer.stock.first_mut() {
                first.1 = (first.1 + delta).clamp(0, 65535);
            }
        }
    }

    pub(crate) fn rebuild_index(&mut self) {
        self.order_index = self
            .orders
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, i))
            .collect();
    }
}
