//! Shared helpers of the simulator tests: a simulator plus a reqwest client with timeouts.
#![allow(dead_code)]

use std::time::Duration;

use magflow_emag::phpform;
use magflow_emag::sim::{SimConfig, Simulator};
use serde_json::Value;

pub const NOW: &str = "2025-09-15 12:00:00";

pub struct Api {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

pub fn config(orders: usize, offers: usize) -> SimConfig {
    SimConfig {
        orders,
        offers,
        seed: 7,
        enforce_rate_limits: false,
        now: Some(NOW.to_owned()),
        ..SimConfig::default()
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Api {
    pub fn start(config: SimConfig) -> Api {
        let sim = Simulator::start(config).expect("simulator starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .expect("client");
        Api { sim, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.sim.url(), path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request succeeds");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        Reply {
            status,
            headers,
            text,
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .basic_auth(self.sim.username(), Some(self.sim.password()))
    }

    /// POST `data` in the documented form encoding.
    pub async fn form(&self, path: &str, data: &Value) -> Reply {
        self.send(
            self.post(path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(phpform::encode(data)),
        )
        .await
    }

    /// POST `data` as a bare JSON payload.
    pub async fn json(&self, path: &str, data: &Value) -> Reply {
        self.send(
            self.post(path)
                .header("content-type", "application/json")
                .body(data.to_string()),
        )
        .await
    }

    /// Form-encoded call that must answer HTTP 200 with an envelope; returns the envelope.
    pub async fn call(&self, path: &str, data: Value) -> Value {
        let r = self.form(path, &data).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let v = r.json();
        assert!(v["isError"].is_boolean(), "{path}: no isError in {v}");
        v
    }

    /// A call that must succeed (`isError: false`); returns `results`.
    pub async fn ok(&self, path: &str, data: Value) -> Value {
        let v = self.call(path, data).await;
        assert_eq!(v["isError"], false, "{path}: {v}");
        v["results"].clone()
    }

    /// A call that must fail with `isError: true`; returns the messages joined.
    pub async fn err(&self, path: &str, data: Value) -> String {
        let v = self.call(path, data).await;
        assert_eq!(v["isError"], true, "{path} should fail: {v}");
        v["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_owned())
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .unwrap_or_default()
    }

    /// The first order (ground truth) satisfying `pred`.
    pub fn find_order(&self, pred: impl Fn(&Value) -> bool) -> Value {
        self.sim
            .orders()
            .into_iter()
            .find(|o| pred(o))
            .expect("a seeded order matching the predicate")
    }
}

pub fn id(v: &Value) -> u64 {
    v["id"].as_u64().expect("id")
}
