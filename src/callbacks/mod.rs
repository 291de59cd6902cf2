//! eMAG's callbacks (issue 20): the fast path for new orders, polling (the sync) being the
//! safety net.
//!
//! eMAG calls a URL the seller configures (`GET <url>?order_id=<id>` for a new order,
//! repeated until it is acknowledged; cancellations, returns and AWB changes too). eMAG signs
//! nothing, so the URL carries a long random token of the seller's (`...?token=<secret>`),
//! compared in constant time. [`handle_callback`] records each callback in the store's queue
//! (`callback_queue`, one row per kind and order id) before answering 200; the
//! [`CallbackWorker`] drains the queue: it reads the order by id, stores it through the
//! sync's path (validation, change detection, the text as eMAG sent it), acknowledges it if
//! new and configured to, and marks the entry done. A crash anywhere loses nothing: an entry
//! is done only after its order is stored, and storing again is idempotent.

mod receiver;
mod worker;

use std::sync::{Arc, Mutex};

pub use receiver::{handle_callback, CallbackAnswer, MAX_ORDER_ID};
pub use worker::{drain_callbacks, CallbackWorker, WorkerOptions};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::platform::Secret;
use crate::store::{Scope, Store};

/// The shortest token accepted: it is the only thing standing between the internet and the
/// quota.
pub const MIN_TOKEN_LEN: usize = 16;

/// A receiver for one account: the handler and its worker.
pub struct CallbackReceiver {
    store: Arc<Store>,
    client: Client,
    scope: Scope,
    token: Secret,
    options: WorkerOptions,
    worker: Mutex<Option<CallbackWorker>>,
}

impl std::fmt::Debug for CallbackReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackReceiver")
            .field("store", &self.store.path())
            .field("account", &self.scope.account)
            .field("token", &"***")
            .finish()
    }
}

impl CallbackReceiver {
    /// A receiver for `client`'s account, recording into `store`, accepting `token`
    /// (at least [`MIN_TOKEN_LEN`] characters).
    pub fn new(
        store: Arc<Store>,
        client: Client,
        token: &str,
        options: WorkerOptions,
    ) -> Result<CallbackReceiver> {
        check_token(token)?;
        Ok(CallbackReceiver {
            scope: crate::sync::scope_of(&client),
            store,
            client,
            token: Secret::new(token),
            options,
            worker: Mutex::new(None),
        })
    }

    /// Answer one callback (see [`handle_callback`]).
    pub fn handle(&self, query: &str) -> CallbackAnswer {
        handle_callback(&self.store, &self.scope, self.token.expose(), query)
    }

    /// Start the worker (no-op when running).
    pub fn start(&self) {
        let mut worker = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        if !worker.as_ref().is_some_and(|w| w.is_running()) {
            *worker = Some(CallbackWorker::start(
                self.client.clone(),
                self.store.clone(),
                self.options.clone(),
            ));
        }
    }

    /// Stop the worker after the entry in progress (no-op when stopped).
    pub fn stop(&self) {
        let taken = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(mut worker) = taken {
            worker.stop();
        }
    }

    /// Whether the worker runs.
    pub fn is_running(&self) -> bool {
        self.worker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|w| w.is_running())
    }
}

/// Refuse a token too short to be a secret.
pub fn check_token(token: &str) -> Result<()> {
    if token.chars().count() < MIN_TOKEN_LEN {
        return Err(Error::invalid_argument(format!(
            "callback token: at least {MIN_TOKEN_LEN} characters (a long random secret)"
        )));
    }
    Ok(())
}
