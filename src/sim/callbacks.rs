//! eMAG's callbacks, as the simulator sends them (spec §7 and §10.7).
//!
//! eMAG calls a URL the seller configures: for a new order `GET <url>?order_id=<id>`, repeated
//! until the order is acknowledged, and on cancellations, return (RMA) changes, AWB status
//! changes and approved documentation. The simulator sends the new-order callback exactly that
//! way, and the others to the same URL with `kind=<kind>` and the affected id added
//! (`order_cancellation`: `order_id`; `return`: `return_id` and `order_id`; `awb`: `awb_id`
//! and `order_id`; `documentation` is accepted in the kinds but the simulator has no event
//! for it). Callbacks go out one at a time from one task, in the order of their events;
//! answers other than 2xx (and failures to connect) are counted as failed and not retried,
//! except that a new order is announced again every `callback_interval_seconds` while it is
//! still new (status 1).

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::error::{Error, Result};

/// The kinds of callback eMAG sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackKind {
    /// A new order (`?order_id=`), repeated until acknowledged.
    OrderNew,
    /// An order was cancelled.
    OrderCancellation,
    /// A return request was created or changed status.
    Return,
    /// An AWB changed status (the simulator: an AWB was issued).
    Awb,
    /// Product documentation was approved (no event in the simulator).
    Documentation,
}

impl CallbackKind {
    /// Every kind.
    pub const ALL: [CallbackKind; 5] = [
        CallbackKind::OrderNew,
        CallbackKind::OrderCancellation,
        CallbackKind::Return,
        CallbackKind::Awb,
        CallbackKind::Documentation,
    ];

    /// The name used in configurations and in the `kind` query parameter.
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackKind::OrderNew => "order_new",
            CallbackKind::OrderCancellation => "order_cancellation",
            CallbackKind::Return => "return",
            CallbackKind::Awb => "awb",
            CallbackKind::Documentation => "documentation",
        }
    }
}

impl FromStr for CallbackKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        CallbackKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "unknown callback kind {s:?} (order_new, order_cancellation, return, awb, \
                     documentation)"
                ))
            })
    }
}

/// Counters of the callbacks sent.
#[derive(Debug, Default)]
pub(crate) struct CallbackStats {
    pub(crate) sent: AtomicU64,
    pub(crate) answered: AtomicU64,
    pub(crate) failed: AtomicU64,
}

/// One callback to send: its kind and query parameters.
struct Call {
    kind: CallbackKind,
    params: Vec<(&'static str, u64)>,
}

/// Sends the configured callbacks (none when no URL is configured).
pub(crate) struct Notifier {
    kinds: BTreeSet<CallbackKind>,
    queue: Option<mpsc::UnboundedSender<Call>>,
    pub(crate) stats: Arc<CallbackStats>,
    /// Orders announced as new at run time, announced again while still new.
    announced: Mutex<BTreeSet<u64>>,
}

impl Notifier {
    /// A notifier for `url` (None: callbacks off) sending `kinds`, its task on the shared
    /// runtime until `shutdown`.
    pub(crate) fn start(
        url: Option<&str>,
        kinds: &[CallbackKind],
        shutdown: watch::Receiver<bool>,
    ) -> Result<Notifier> {
        let stats = Arc::new(CallbackStats::default());
        let queue = match url {
            None => None,
            Some(raw) => {
                let url = url::Url::parse(raw).map_err(|e| {
                    Error::invalid_argument(format!(
                        "simulator config: callback_url is not a URL: {e}"
                    ))
                })?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(Error::invalid_argument(
                        "simulator config: callback_url must be http:// or https://",
                    ));
                }
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(5))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| Error::internal(format!("simulator: {e}")))?;
                let (tx, rx) = mpsc::unbounded_channel();
                crate::runtime::handle().spawn(send_loop(url, http, rx, stats.clone(), shutdown));
                Some(tx)
            }
        };
        Ok(Notifier {
            kinds: kinds.iter().copied().collect(),
            queue,
            stats,
            announced: Mutex::new(BTreeSet::new()),
        })
    }

    /// Whether callbacks are configured at all.
    pub(crate) fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queue a callback of `kind` (dropped when that kind is not configured).
    pub(crate) fn notify(&self, kind: CallbackKind, params: Vec<(&'static str, u64)>) {
        if let Some(queue) = &self.queue {
            if self.kinds.contains(&kind) {
                let _ = queue.send(Call { kind, params });
            }
        }
    }

    /// Announce a new order, now and again on every tick while it stays new.
    pub(crate) fn new_order(&self, order_id: u64) {
        if self.enabled() && self.kinds.contains(&CallbackKind::OrderNew) {
            self.announced
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(order_id);
            self.notify(CallbackKind::OrderNew, vec![("order_id", order_id)]);
        }
    }

    /// Announce again every announced order that `still_new` says is new; forget the rest.
    pub(crate) fn repeat(&self, still_new: impl Fn(u64) -> bool) {
        let due: Vec<u64> = {
            let mut announced = self.announced.lock().unwrap_or_else(|p| p.into_inner());
            announced.retain(|id| still_new(*id));
            announced.iter().copied().collect()
        };
        for id in due {
            self.notify(CallbackKind::OrderNew, vec![("order_id", id)]);
        }
    }
}

async fn send_loop(
    url: url::Url,
    http: reqwest::Client,
    mut queue: mpsc::UnboundedReceiver<Call>,
    stats: Arc<CallbackStats>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let call = tokio::select! {
            call = queue.recv() => match call {
                Some(call) => call,
                None => return,
            },
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let mut target = url.clone();
        {
            let mut query = target.query_pairs_mut();
            if call.kind != CallbackKind::OrderNew {
                query.append_pair("kind", call.kind.as_str());
            }
            for (name, value) in &call.params {
                query.append_pair(name, &value.to_string());
            }
        }
        stats.sent.fetch_add(1, Ordering::Relaxed);
        let answered = tokio::select! {
            r = http.get(target).send() => matches!(r, Ok(resp) if resp.status().is_success()),
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        let counter = if answered {
            &stats.answered
        } else {
            &stats.failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
