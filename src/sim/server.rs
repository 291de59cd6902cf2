//! The simulator's handle and its HTTP side: the accept loop, with hyper connections driven
//! here so that a fault can drop one (routing is in `routes`, each request in `pipeline`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::NaiveDateTime;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use super::callbacks::{CallbackKind, Notifier};
use super::clock::{self, Clock};
use super::config::SimConfig;
use super::faults::{Fault, Faults};
use super::pipeline::{announce_new_orders, handle};
use super::ratelimit::RateLimiter;
use super::seed;
use super::seed_orders;
use super::state::State;
use super::stats::Stats;
use crate::error::{Error, Result};
use crate::ratelimit::Bucket;

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Everything the request tasks share.
pub(crate) struct Shared {
    pub(super) username: String,
    pub(super) password: String,
    pub(super) strict_pagination: bool,
    pub(super) fault_hold: Duration,
    pub(super) retry_after: u64,
    pub(super) enforce: AtomicBool,
    pub(super) state: RwLock<State>,
    pub(super) clock: Clock,
    pub(super) limiter: Mutex<RateLimiter>,
    pub(super) stats: Mutex<Stats>,
    pub(super) faults: Mutex<Faults>,
    pub(super) callbacks: Notifier,
    pub(super) shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(super) fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running simulator. Dropping it stops the server (open connections are closed).
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    url: String,
    shutdown: watch::Sender<bool>,
    /// Set by the accept loop once every connection task is gone.
    stopped: Arc<Stopped>,
    /// The fork generation that started it: a forked child holds a copy whose server runs
    /// only in the parent, so its `stop` has nothing to wait for.
    generation: u64,
}

/// A one-shot "the server is gone" flag a synchronous `stop` can wait on. A plain
/// mutex + condvar: waiting creates no per-thread state (which a C caller's leak checker
/// would report).
#[derive(Default)]
struct Stopped {
    done: Mutex<bool>,
    cv: std::sync::Condvar,
}

impl Stopped {
    fn set(&self) {
        *lock(&self.done) = true;
        self.cv.notify_all();
    }

    fn wait(&self, limit: Duration) {
        let guard = lock(&self.done);
        let _ = self.cv.wait_timeout_while(guard, limit, |done| !*done);
    }
}

/// How long `stop`/`Drop` waits for open connections to close.
const STOP_WAIT: Duration = Duration::from_secs(2);

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("url", &self.url)
            .field("username", &self.shared.username)
            .field("password", &"***")
            .finish()
    }
}

impl Simulator {
    /// Seed the state, bind the port and serve on the shared runtime
    /// ([`crate::runtime`]). Callable from synchronous and asynchronous code alike.
    pub fn start(config: SimConfig) -> Result<Simulator> {
        config.validate()?;
        let now = match &config.now {
            Some(text) => clock::parse(text).ok_or_else(|| {
                Error::invalid_argument(format!(
                    "simulator config: now {text:?} is not formatted YYYY-mm-dd HH:ii:ss"
                ))
            })?,
            None => clock::bucharest_now(),
        };
        let (listener, addr) = bind(&config)?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(&config, now, rx.clone())?);
        let handle = crate::runtime::handle();
        let listener = {
            let _guard = handle.enter();
            TcpListener::from_std(listener)
                .map_err(|e| Error::internal(format!("simulator: {e}")))?
        };
        let stopped = Arc::new(Stopped::default());
        if shared.callbacks.enabled() {
            let interval = Duration::from_secs_f64(config.callback_interval_seconds);
            handle.spawn(announce_new_orders(shared.clone(), interval));
        }
        handle.spawn(accept_loop(listener, shared.clone(), rx, stopped.clone()));
        let host = if addr.is_ipv6() {
            format!("[{}]", addr.ip())
        } else {
            addr.ip().to_string()
        };
        Ok(Simulator {
            url: format!("http://{host}:{}/api-3", addr.port()),
            shared,
            addr,
            shutdown: tx,
            stopped,
            generation: crate::runtime::fork_generation(),
        })
    }

    /// Same as [`Simulator::start`] (kept for symmetry with blocking facades).
    pub fn start_blocking(config: SimConfig) -> Result<Simulator> {
        Simulator::start(config)
    }

    /// The base URL to give a client (`http://127.0.0.1:PORT/api-3`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The accepted user name.
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The accepted password.
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// Every order as `order/read` would send it (newest first).
    pub fn orders(&self) -> Vec<Value> {
        let state = self.shared.read();
        state
            .orders
            .iter()
            .map(|o| Value::Object(o.doc.clone()))
            .collect()
    }

    /// One order by id.
    pub fn order(&self, id: u64) -> Option<Value> {
        self.shared
            .read()
            .order(id)
            .map(|o| Value::Object(o.doc.clone()))
    }

    /// Change an order as eMAG does when anything about it changes (a test hook): its
    /// `modified` becomes the simulated clock's now. False when there is no such order.
    pub fn touch_order(&self, id: u64) -> bool {
        let now = self.shared.clock.now();
        let mut state = self.shared.write();
        match state.order_mut(id) {
            Some(order) => {
                order.touch(now);
                true
            }
            None => false,
        }
    }

    /// Every offer: the `product_offer/read` document plus `stock`, `min_sale_price` and
    /// `max_sale_price`, which reads do not show.
    pub fn offers(&self) -> Vec<Value> {
        let state = self.shared.read();
        let reserved = state.reserved();
        state
            .offers
            .values()
            .map(|o| o.ground_truth(reserved.get(&(o.id as i64)).copied().unwrap_or(0)))
            .collect()
    }

    /// Every AWB issued so far.
    pub fn awbs(&self) -> Vec<Value> {
        self.shared.read().awbs.clone()
    }

    /// Every return request.
    pub fn rmas(&self) -> Vec<Value> {
        self.shared.read().rmas.iter().map(|r| r.render()).collect()
    }

    /// Counters: `requests_total`, `responses_429`, `routes`, `status_codes`,
    /// `faults_injected`, `max_in_any_second` / `max_in_any_minute` per bucket (`orders`,
    /// `other`), and `buckets` with the same per bucket.
    pub fn stats(&self) -> Value {
        let mut v = lock(&self.shared.stats).to_json();
        let limiter = lock(&self.shared.limiter);
        if let Value::Object(map) = &mut v {
            let mut limits = serde_json::Map::new();
            for bucket in Bucket::ALL {
                let (s, m) = limiter.limits(bucket);
                limits.insert(
                    bucket.as_str().into(),
                    serde_json::json!({"per_second": s, "per_minute": m}),
                );
            }
            map.insert("limits".into(), Value::Object(limits));
            map.insert(
                "enforce_rate_limits".into(),
                Value::Bool(self.shared.enforce.load(Ordering::Relaxed)),
            );
            map.insert(
                "faults_pending".into(),
                Value::from(lock(&self.shared.faults).pending()),
            );
            let callbacks = &self.shared.callbacks.stats;
            map.insert(
                "callbacks_sent".into(),
                Value::from(callbacks.sent.load(Ordering::Relaxed)),
            );
            map.insert(
                "callbacks_answered".into(),
                Value::from(callbacks.answered.load(Ordering::Relaxed)),
            );
            map.insert(
                "callbacks_failed".into(),
                Value::from(callbacks.failed.load(Ordering::Relaxed)),
            );
        }
        v
    }

    /// Forget every counter (the gateway's own windows are not reset).
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::new();
    }

    /// Create a new order now (status 1, seller-fulfilled type 3, dated at the simulated
    /// clock, lines drawn from the seeded offers) and send its new-order callback when
    /// callbacks are configured; returns the order as `order/read` sends it.
    pub fn new_order(&self) -> Value {
        let now = self.shared.clock.now();
        let order = {
            let mut state = self.shared.write();
            let id = state
                .orders
                .iter()
                .map(|o| o.id)
                .max()
                .unwrap_or(300_000_000)
                + 1;
            let salt = id ^ state.next_line_id as u64;
            let mut order = seed_orders::one_new_order(id, salt, now, state.next_line_id);
            state.next_line_id += order.lines().len() as i64 + 1;
            order.touch(now);
            let doc = Value::Object(order.doc.clone());
            state.orders.insert(0, order);
            state.rebuild_index();
            doc
        };
        if let Some(id) = order["id"].as_u64() {
            self.shared.callbacks.new_order(id);
        }
        order
    }

    /// Cancel an order as eMAG's staff would (status 0 with `reason`, e.g. at the customer's
    /// request) and send the cancellation callback; false when there is no such order.
    pub fn cancel_order(&self, id: u64, reason: i64) -> bool {
        let now = self.shared.clock.now();
        {
            let mut state = self.shared.write();
            let Some(order) = state.order_mut(id) else {
                return false;
            };
            order.status = 0;
            order.cancelled_at = Some(now);
            order
                .doc
                .insert("reason_cancellation".into(), Value::from(reason));
            order.touch(now);
        }
        self.shared
            .callbacks
            .notify(CallbackKind::OrderCancellation, vec![("order_id", id)]);
        true
    }

    /// Queue `count` faults for requests matching `resource` / `action` (None = any).
    pub fn inject(&self, fault: Fault, count: u32, resource: Option<&str>, action: Option<&str>) {
        lock(&self.shared.faults).push(
            fault,
            count,
            resource.map(str::to_owned),
            action.map(str::to_owned),
        );
    }

    /// Drop every queued fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Random faults from now on: each request fails with probability `rate`, the kind drawn
    /// from `kinds` by a generator seeded with `seed`.
    pub fn set_random_faults(&self, rate: f64, kinds: Vec<Fault>, seed: u64) -> Result<()> {
        if !(0.0..=1.0).contains(&rate) || (rate > 0.0 && kinds.is_empty()) {
            return Err(Error::invalid_argument(
                "random faults: rate must be in 0..1 and kinds non-empty",
            ));
        }
        lock(&self.shared.faults).set_random(rate, kinds, seed);
        Ok(())
    }

    /// Switch rate limiting on or off while running.
    pub fn set_enforce_rate_limits(&self, enforce: bool) {
        self.shared.enforce.store(enforce, Ordering::Relaxed);
    }

    /// The simulated clock (eMAG local time).
    pub fn now(&self) -> NaiveDateTime {
        self.shared.clock.now()
    }

    /// The simulated clock as `YYYY-mm-dd HH:ii:ss`.
    pub fn now_string(&self) -> String {
        clock::format(self.now())
    }

    /// Move the simulated clock forward (the 48 h and RT + 5 days rules read it). Refused
    /// (an invalid argument; nothing changes) past the year 9999.
    pub fn advance_clock(&self, by: Duration) -> crate::error::Result<()> {
        self.shared.clock.advance(by)
    }

    /// Set the simulated clock.
    pub fn set_now(&self, now: NaiveDateTime) {
        self.shared.clock.set(now);
    }

    /// Stop serving: close the port and every open connection, waiting (at most 2 s) until
    /// they are gone. Also done by `Drop`; calling it twice is harmless.
    /// In a forked child (the server runs in the parent only) it returns at once.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
        if self.generation == crate::runtime::fork_generation() {
            self.stopped.wait(STOP_WAIT);
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    /// The seeded state and everything the request tasks need.
    fn new(
        config: &SimConfig,
        now: NaiveDateTime,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Shared> {
        let state = seed::generate(
            config.orders,
            config.offers,
            config.seed,
            now,
            config.history_days,
            config.return_period_days,
        );
        let callbacks = Notifier::start(
            config.callback_url.as_deref(),
            &config.callback_kinds,
            shutdown.clone(),
        )?;
        Ok(Shared {
            username: config.username.clone(),
            password: config.password.clone(),
            strict_pagination: config.strict_pagination,
            fault_hold: Duration::from_secs_f64(config.fault_hold_seconds),
            retry_after: config.fault_retry_after_seconds,
            enforce: AtomicBool::new(config.enforce_rate_limits),
            state: RwLock::new(state),
            clock: Clock::new(now),
            limiter: Mutex::new(RateLimiter::new(config.rate_limit_scale)),
            stats: Mutex::new(Stats::new()),
            faults: Mutex::new(Faults::new(
                config.fault_rate,
                config.fault_kinds.clone(),
                config.fault_seed,
            )),
            callbacks,
            shutdown,
        })
    }
}

/// Bind the configured address (port 0: a free one), non-blocking for tokio.
fn bind(config: &SimConfig) -> Result<(std::net::TcpListener, SocketAddr)> {
    let listener =
        std::net::TcpListener::bind((config.host.as_str(), config.port)).map_err(|e| {
            Error::invalid_argument(format!(
                "simulator: cannot bind {}:{}: {e}",
                config.host, config.port
            ))
        })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::internal(format!("simulator: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::internal(format!("simulator: {e}")))?;
    Ok((listener, addr))
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
    stopped: Arc<Stopped>,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(connection(stream, shared.clone(), shutdown.clone()));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
    drop(listener);
    connections.abort_all();
    while connections.join_next().await.is_some() {}
    drop(shared);
    stopped.set();
}

/// Make the close of `fd` a TCP reset (SO_LINGER with zero timeout).
fn reset_on_close(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: `fd` belongs to a socket owned by the connection future, which is still alive
    // (it is dropped right after this call); the option value is a valid `linger`.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    let fd = stream.as_raw_fd();
    let kill = Arc::new(Notify::new());
    let kill_for_requests = kill.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let shared = shared.clone();
        let kill = kill_for_requests.clone();
        async move { Ok::<_, Infallible>(handle(shared, kill, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = &mut conn => {}
        _ = kill.notified() => reset_on_close(fd),
        _ = shutdown.wait_for(|stop| *stop) => {}
    }
}
