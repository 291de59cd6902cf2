//! The worker draining the callback queue: each entry costs one `order/read` by id (two for
//! an id eMAG does not know as type 3), stored through the sync's path, and the order's
//! acknowledgement when it is new and the worker acknowledges.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::json;
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use crate::client::Client;
use crate::error::{Error, Result};
// Whether eMAG refused the order: the sync's acknowledgements decide it the same way.
use crate::store::{CallbackEntry, Scope, Store};
use crate::sync::refused_order as refused;

/// Wakes the workers of this process when a callback is queued (they also poll, for
/// callbacks recorded by another process).
fn wake_signal() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

pub(crate) fn wake() {
    wake_signal().notify_waiters();
}

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Acknowledge new orders (status 1, type 3) once stored, as the sync's `acknowledge`.
    pub acknowledge: bool,
    /// How often the queue is looked at without a wake-up from this process's receiver.
    pub poll_interval: Duration,
    /// The wait after a connection or quota error before trying again.
    pub retry_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            acknowledge: true,
            poll_interval: Duration::from_millis(250),
            retry_delay: Duration::from_secs(2),
        }
    }
}

impl WorkerOptions {
    /// Options from JSON (the C face): `{"acknowledge": true, "poll_interval_s": 0.25}`,
    /// every key optional; unknown keys are refused.
    pub fn from_json(text: &str) -> Result<WorkerOptions> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Wire {
            acknowledge: Option<bool>,
            poll_interval_s: Option<f64>,
        }
        let text = if text.trim().is_empty() { "{}" } else { text };
        let wire: Wire = serde_json::from_str(text)
            .map_err(|e| Error::invalid_argument(format!("callback worker options: {e}")))?;
        let mut options = WorkerOptions::default();
        if let Some(ack) = wire.acknowledge {
            options.acknowledge = ack;
        }
        if let Some(s) = wire.poll_interval_s {
            if !(s.is_finite() && (0.01..=3600.0).contains(&s)) {
                return Err(Error::invalid_argument(
                    "callback worker options: poll_interval_s must be between 0.01 and 3600",
                ));
            }
            options.poll_interval = Duration::from_secs_f64(s);
        }
        Ok(options)
    }
}

/// What processing one entry did.
enum Outcome {
    Done,
    /// eMAG refused or does not know the order: the entry fails for good.
    Refused(String),
    /// Connection, quota, store: the entry stays pending.
    Retry(Error),
}

/// Process one entry: read the order, store it as the sync does, acknowledge it if due.
async fn process(
    client: &Client,
    store: &Store,
    scope: &Scope,
    entry: &CallbackEntry,
    options: &WorkerOptions,
) -> Outcome {
    let id = entry.ref_id;
    let mut items = None;
    // eMAG's order/read filters type 3 unless told: an id it does not find as type 3 is
    // asked again as type 2 (fulfilled by eMAG).
    for filters in [json!({"id": id}), json!({"id": id, "type": 2})] {
        let read = match client.call_raw("order", "read", Some(filters)).await {
            Ok(raw) => raw.items("order/read"),
            Err(e) => Err(e),
        };
        match read {
            Ok(found) if found.is_empty() => continue,
            Ok(found) => {
                items = Some(found);
                break;
            }
            Err(e) if refused(&e) => return Outcome::Refused(e.to_string()),
            Err(e) => return Outcome::Retry(e),
        }
    }
    let Some(items) = items else {
        return Outcome::Refused(format!("eMAG has no order {id}"));
    };
    let page = crate::sync::prepare_orders_page(scope, items);
    if let Err(e) = crate::sync::store_prepared_page(store, scope, page, None) {
        return Outcome::Retry(e);
    }
    if options.acknowledge {
        match store.order_awaits_acknowledgement(scope, id) {
            Ok(false) => {}
            Ok(true) => match client.orders().acknowledge(id as u64).await {
                Ok(_) => {
                    if let Err(e) = store.mark_acknowledged(scope, &[id]) {
                        return Outcome::Retry(e);
                    }
                }
                // Stale here (cancelled meanwhile, say): stored as read; the sync catches up.
                Err(e) if refused(&e) => {
                    log::warn!("eMAG refused to acknowledge order {id}: {e}")
                }
                Err(e) => return Outcome::Retry(e),
            },
            Err(e) => return Outcome::Retry(e),
        }
    }
    Outcome::Done
}

/// Drain the queue of `client`'s account once (up to `limit` entries, oldest first);
/// returns how many entries were finished (done or failed). A connection or quota error
/// stops the pass (the entry stays pending) and is returned.
pub async fn drain_callbacks(
    client: &Client,
    store: &Store,
    options: &WorkerOptions,
    limit: usize,
) -> Result<usize> {
    let scope = crate::sync::scope_of(client);
    let entries = store.pending_callbacks(&scope, limit)?;
    let mut finished = 0;
    for entry in &entries {
        match process(client, store, &scope, entry, options).await {
            Outcome::Done => store.finish_callback(entry, None)?,
            Outcome::Refused(why) => {
                log::warn!("callback {} for order {}: {why}", entry.kind, entry.ref_id);
                store.finish_callback(entry, Some(&why))?
            }
            Outcome::Retry(e) => {
                store.retry_callback(entry, &e.to_string())?;
                return Err(e);
            }
        }
        finished += 1;
        // Let a sync waiting on the same limiter and store take its turn.
        tokio::task::yield_now().await;
    }
    Ok(finished)
}

/// The worker task, running on the shared runtime until stopped.
pub struct CallbackWorker {
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl CallbackWorker {
    /// Start draining `client`'s account's queue in `store`.
    pub fn start(client: Client, store: Arc<Store>, options: WorkerOptions) -> CallbackWorker {
        let (stop, stopped) = watch::channel(false);
        let task = crate::runtime::handle().spawn(run(client, store, options, stopped));
        CallbackWorker {
            stop,
            task: Some(task),
        }
    }

    /// Whether the task is still running.
    pub fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stop after the entry in progress and wait for the task to end.
    pub fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = crate::runtime::block_on(task);
        }
    }
}

impl Drop for CallbackWorker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(
    client: Client,
    store: Arc<Store>,
    options: WorkerOptions,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        // Registered before looking at the queue: a callback queued meanwhile still wakes us.
        let notified = wake_signal().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pass = tokio::select! {
            pass = drain_callbacks(&client, &store, &options, 50) => pass,
            _ = stopped.wait_for(|s| *s) => return,
        };
        let pause = match pass {
            Ok(n) if n > 0 => continue,
            Ok(_) => options.poll_interval,
            Err(e) => {
                log::warn!("callback worker: {e}; trying again shortly");
                options.retry_delay
            }
        };
        tokio::select! {
            _ = &mut notified, if pause == options.poll_interval => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}
