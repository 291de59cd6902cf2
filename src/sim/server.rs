//! The HTTP side: the accept loop (hyper connections driven here, so a fault can drop one),
//! routing, and the request pipeline: stats -> rate limit -> faults -> route -> auth -> handler.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::NaiveDateTime;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};

use super::auth;
use super::callbacks::{CallbackKind, Notifier};
use super::clock::{self, Clock};
use super::config::SimConfig;
use super::envelope::{self, Reply};
use super::faults::{Fault, Faults};
use super::offers;
use super::orders;
use super::ratelimit::RateLimiter;
use super::resources;
use super::seed;
use super::state::State;
use super::stats::Stats;
use crate::error::{Error, Result};
use crate::hooks::Bucket;

/// Largest accepted request body.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// A client that stops sending its body mid-way gets an answer after this long.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Everything the request tasks share.
pub(crate) struct Shared {
    username: String,
    password: String,
    strict_pagination: bool,
    fault_hold: Duration,
    retry_after: u64,
    enforce: AtomicBool,
    state: RwLock<State>,
    clock: Clock,
    limiter: Mutex<RateLimiter>,
    stats: Mutex<Stats>,
    faults: Mutex<Faults>,
    callbacks: Notifier,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
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
        let state = seed::generate(
            config.orders,
            config.offers,
            config.seed,
            now,
            config.history_days,
            config.return_period_days,
        );
        let (tx, rx) = watch::channel(false);
        let callbacks = Notifier::start(
            config.callback_url.as_deref(),
            &config.callback_kinds,
            rx.clone(),
        )?;
        let shared = Arc::new(Shared {
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
            shutdown: rx.clone(),
        });
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
            let mut order = seed::one_new_order(id, salt, now, state.next_line_id);
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

/// A parsed route.
struct Route {
    /// `order`, `order/attachments`, `product_offer`, ...
    resource: String,
    /// `read`, `save`, `acknowledge`, `unlock-courier`, `patch` (offer_stock), ...
    action: String,
    /// The id in `order/acknowledge/{id}`, `order/{id}/unlock-courier`, `offer_stock/{id}`.
    id: Option<String>,
    kind: RouteKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RouteKind {
    /// A POST resource/action route the simulator implements.
    Simulated,
    /// Documented but not simulated: answered `isError: true`, "not simulated".
    NotSimulated,
    /// `offer_stock/{id}` (PATCH).
    OfferStock,
    /// Nothing documented here.
    Unknown,
}

const SIMULATED: &[(&str, &[&str])] = &[
    (
        "order",
        &["read", "count", "save", "acknowledge", "unlock-courier"],
    ),
    ("order/attachments", &["save"]),
    ("product_offer", &["read", "count", "save"]),
    ("offer", &["save"]),
    ("measurements", &["save"]),
    ("category", &["read", "count"]),
    ("vat", &["read"]),
    ("handling_time", &["read"]),
    ("locality", &["read", "count"]),
    ("courier_accounts", &["read"]),
    ("addresses", &["read"]),
    ("awb", &["read", "save"]),
    ("rma", &["read", "count", "save"]),
];

const NOT_SIMULATED: &[(&str, &[&str])] = &[
    ("campaign_proposals", &["save"]),
    ("message", &["read", "save", "count"]),
    ("awb", &["read_pdf", "read_zpl"]),
    ("invoice/categories", &["read"]),
    ("invoice", &["read"]),
    ("customer-invoice", &["read"]),
    ("smart-deals-price-check", &[""]),
    ("documentation/find_by_eans", &[""]),
];

fn known(table: &[(&str, &[&str])], resource: &str, action: &str) -> bool {
    table
        .iter()
        .any(|(r, actions)| *r == resource && actions.contains(&action))
}

fn parse_route(path: &str) -> Route {
    let unknown = || Route {
        resource: String::new(),
        action: String::new(),
        id: None,
        kind: RouteKind::Unknown,
    };
    let Some(rest) = path.strip_prefix("/api-3/") else {
        return unknown();
    };
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let is_id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (resource, action, id) = match segs.as_slice() {
        ["order", "acknowledge", id] if is_id(id) => {
            ("order".to_owned(), "acknowledge".to_owned(), Some(*id))
        }
        ["order", id, "unlock-courier"] if is_id(id) => {
            ("order".to_owned(), "unlock-courier".to_owned(), Some(*id))
        }
        ["offer_stock", id] if !id.is_empty() => {
            return Route {
                resource: "offer_stock".into(),
                action: "patch".into(),
                id: Some((*id).to_owned()),
                kind: RouteKind::OfferStock,
            }
        }
        [a, b, action] => (format!("{a}/{b}"), (*action).to_owned(), None),
        [resource, action] => ((*resource).to_owned(), (*action).to_owned(), None),
        [resource] => ((*resource).to_owned(), String::new(), None),
        _ => return unknown(),
    };
    // `documentation/find_by_eans` has no action segment of its own.
    let (resource, action) = if resource == "documentation" && action == "find_by_eans" {
        ("documentation/find_by_eans".to_owned(), String::new())
    } else {
        (resource, action)
    };
    let kind = if (action == "acknowledge" || action == "unlock-courier") && id.is_none() {
        RouteKind::Unknown
    } else if known(SIMULATED, &resource, &action) {
        RouteKind::Simulated
    } else if known(NOT_SIMULATED, &resource, &action) {
        RouteKind::NotSimulated
    } else {
        RouteKind::Unknown
    };
    Route {
        resource,
        action,
        id: id.map(str::to_owned),
        kind,
    }
}

impl Route {
    /// The key of `stats()["routes"]`.
    fn key(&self) -> String {
        match self.kind {
            RouteKind::Unknown => "unknown".to_owned(),
            RouteKind::OfferStock => "offer_stock".to_owned(),
            _ if self.action.is_empty() => self.resource.clone(),
            _ => format!("{}/{}", self.resource, self.action),
        }
    }

    fn allows(&self, method: &hyper::Method) -> bool {
        use hyper::Method;
        match self.kind {
            RouteKind::OfferStock => method == Method::PATCH,
            RouteKind::Unknown => true,
            _ => match (self.resource.as_str(), self.action.as_str()) {
                ("smart-deals-price-check", _)
                | ("documentation/find_by_eans", _)
                | ("awb", "read_pdf") => method == Method::GET,
                ("awb", "read_zpl") => method == Method::GET || method == Method::POST,
                _ => method == Method::POST,
            },
        }
    }
}

fn html(status: u16, title: &str) -> Reply {
    Reply {
        status,
        body: Bytes::from(format!(
            "<html>\r\n<head><title>{status} {title}</title></head>\r\n<body>\r\n<center><h1>{status} {title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )),
        content_type: "text/html",
        headers: Vec::new(),
    }
}

fn rate_limited(limit_3s: usize, remaining_3s: usize) -> Reply {
    let mut r = Reply::message(429, "API rate limit exceeded");
    r.content_type = "application/json; charset=utf-8";
    r.headers.push(("server", "kong/0.12.1".to_owned()));
    r.headers
        .push(("x-ratelimit-limit-3second", limit_3s.to_string()));
    r.headers
        .push(("x-ratelimit-remaining-3second", remaining_3s.to_string()));
    r
}

fn into_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(reply.status);
    if !reply.content_type.is_empty() {
        builder = builder.header("content-type", reply.content_type);
    }
    if !reply.headers.iter().any(|(k, _)| *k == "server") {
        builder = builder.header("server", "nginx");
    }
    for (k, v) in &reply.headers {
        builder = builder.header(*k, v.as_str());
    }
    builder.body(Full::new(reply.body)).unwrap_or_else(|_| {
        Response::new(Full::new(Bytes::from_static(
            b"{\"message\":\"internal error\"}",
        )))
    })
}

async fn read_body(body: Incoming) -> std::result::Result<Bytes, Reply> {
    let limited = Limited::new(body, MAX_BODY);
    match tokio::time::timeout(BODY_TIMEOUT, limited.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Reply::error(format!("Request body larger than {MAX_BODY} bytes")).with_status(413))
        }
        Ok(Err(_)) => Err(Reply::message(400, "Malformed request body")),
        Err(_) => Err(Reply::message(408, "Request body not received in time")),
    }
}

async fn handle(
    shared: Arc<Shared>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let arrived = Instant::now();
    let route = parse_route(req.uri().path());
    let bucket = Bucket::for_resource(&route.resource);
    lock(&shared.stats).arrival(bucket, &route.key(), arrived);
    let decision =
        lock(&shared.limiter).check(bucket, arrived, shared.enforce.load(Ordering::Relaxed));
    if !decision.admitted {
        let mut stats = lock(&shared.stats);
        stats.refused(bucket);
        stats.status(429);
        drop(stats);
        return into_response(rate_limited(decision.limit_3s, decision.remaining_3s));
    }
    let rate_headers = [
        ("x-ratelimit-limit-3second", decision.limit_3s.to_string()),
        (
            "x-ratelimit-remaining-3second",
            decision.remaining_3s.to_string(),
        ),
    ];
    let fault = lock(&shared.faults).take(&route.resource, &route.action);
    let mut truncate = false;
    if let Some(fault) = fault {
        lock(&shared.stats).fault(fault.as_str());
        let early = match fault {
            Fault::Http500 => Some(html(500, "Internal Server Error")),
            Fault::Http503 => Some(html(503, "Service Temporarily Unavailable")),
            Fault::IsError => Some(Reply::error("Simulated error (injected is_error fault)")),
            Fault::RateLimit => {
                let mut r = rate_limited(decision.limit_3s, 0);
                r.headers
                    .push(("retry-after", shared.retry_after.to_string()));
                lock(&shared.stats).refused(bucket);
                Some(r)
            }
            Fault::Reset => {
                lock(&shared.stats).status(0);
                kill.notify_one();
                // The connection task drops this request together with the socket.
                std::future::pending::<()>().await;
                None
            }
            Fault::Timeout => {
                let mut stop = shared.shutdown.clone();
                tokio::select! {
                    _ = tokio::time::sleep(shared.fault_hold) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
                None
            }
            Fault::MalformedJson => {
                truncate = true;
                None
            }
        };
        if let Some(reply) = early {
            lock(&shared.stats).status(reply.status);
            return into_response(reply);
        }
    }
    let events_before = callback_events(&shared, &route).map(|b| (route.resource.clone(), b));
    let mut reply = process(&shared, route, req).await;
    if let Some((resource, before)) = events_before {
        announce_changes(&shared, &resource, before);
    }
    if truncate && reply.body.len() > 1 {
        let cut = reply.body.len() / 2;
        reply.body = reply.body.slice(..cut.max(1));
        reply.content_type = "application/json";
    }
    for (k, v) in rate_headers {
        reply.headers.push((k, v));
    }
    lock(&shared.stats).status(reply.status);
    into_response(reply)
}

/// What the AWB and return callbacks compare: the AWBs issued and each return's status.
type EventSnapshot = (usize, Vec<(i64, u64, i64)>);

/// Before an `awb/save` or `rma/save` (the routes with callback events), when callbacks are on.
fn callback_events(shared: &Shared, route: &Route) -> Option<EventSnapshot> {
    let relevant = matches!(
        (route.resource.as_str(), route.action.as_str()),
        ("awb", "save") | ("rma", "save")
    );
    if !relevant || !shared.callbacks.enabled() {
        return None;
    }
    let state = shared.read();
    Some((
        state.awbs.len(),
        state
            .rmas
            .iter()
            .map(|r| (r.emag_id, r.order_id, r.request_status))
            .collect(),
    ))
}

/// Send the callbacks of what changed since `before`: new AWBs, new or changed returns.
fn announce_changes(shared: &Shared, resource: &str, before: EventSnapshot) {
    let (awbs_before, rmas_before) = before;
    // (AWB or return id, order id) pairs.
    type Ids = Vec<(u64, u64)>;
    let (new_awbs, changed_rmas): (Ids, Ids) = {
        let state = shared.read();
        let awbs = state
            .awbs
            .iter()
            .skip(awbs_before)
            .filter_map(|a| {
                let emag_id = a["awb"][0]["emag_id"].as_u64()?;
                Some((emag_id, a["order_id"].as_u64().unwrap_or(0)))
            })
            .collect();
        let rmas = state
            .rmas
            .iter()
            .filter(|r| !rmas_before.contains(&(r.emag_id, r.order_id, r.request_status)))
            .map(|r| (u64::try_from(r.emag_id).unwrap_or(0), r.order_id))
            .collect();
        (awbs, rmas)
    };
    if resource == "awb" {
        for (awb_id, order_id) in new_awbs {
            shared.callbacks.notify(
                CallbackKind::Awb,
                vec![("awb_id", awb_id), ("order_id", order_id)],
            );
        }
    }
    for (return_id, order_id) in changed_rmas {
        shared.callbacks.notify(
            CallbackKind::Return,
            vec![("return_id", return_id), ("order_id", order_id)],
        );
    }
}

/// Announce every run-time order again while it is new (eMAG repeats the new-order callback
/// until the order is acknowledged).
async fn announce_new_orders(shared: Arc<Shared>, interval: Duration) {
    let mut stop = shared.shutdown.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        let state = shared.read();
        shared
            .callbacks
            .repeat(|id| state.order(id).is_some_and(|o| o.status == 1));
    }
}

async fn process(shared: &Shared, route: Route, req: Request<Incoming>) -> Reply {
    if route.kind == RouteKind::Unknown || !route.allows(req.method()) {
        // The documented answer for a route the gateway does not know [inference: also used
        // for a documented path called with the wrong method].
        return Reply::message(404, "Invalid URL");
    }
    let authorized = auth::allowed(
        req.headers().get("authorization").map(|h| h.as_bytes()),
        &shared.username,
        &shared.password,
    );
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match read_body(req.into_body()).await {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    if !authorized {
        return Reply::error(auth::NOT_ALLOWED).with_status(403);
    }
    if route.kind == RouteKind::OfferStock {
        let id = route.id.unwrap_or_default();
        return offers::offer_stock(&mut shared.write(), &id, &body);
    }
    if route.kind == RouteKind::NotSimulated {
        return Reply::error(format!(
            "{}{}{} is documented but not simulated",
            route.resource,
            if route.action.is_empty() { "" } else { "/" },
            route.action
        ));
    }
    let (data, elements) = match envelope::parse_data(content_type.as_deref(), &body) {
        Ok((data, n, _form)) => (data, n),
        Err(message) => return Reply::error(message),
    };
    if elements > envelope::MAX_INPUT_VARS {
        return Reply::error(envelope::MAX_INPUT_VARS_MESSAGE);
    }
    let now = shared.clock.now();
    let strict = shared.strict_pagination;
    let id = route.id.as_deref().and_then(|s| s.parse::<u64>().ok());
    match (route.resource.as_str(), route.action.as_str()) {
        ("order", "read") => orders::read(&shared.read(), &data, strict),
        ("order", "count") => orders::count(&shared.read(), &data),
        ("order", "save") => orders::save(&mut shared.write(), &data, now),
        ("order", "acknowledge") => match id {
            Some(id) => orders::acknowledge(&mut shared.write(), id, now),
            None => Reply::error("order id out of range"),
        },
        ("order", "unlock-courier") => match id {
            Some(id) => orders::unlock_courier(&mut shared.write(), id, now),
            None => Reply::error("order id out of range"),
        },
        ("order/attachments", "save") => orders::attachments_save(&mut shared.write(), &data),
        ("product_offer", "read") => offers::read(&shared.read(), &data, strict),
        ("product_offer", "count") => offers::count(&shared.read(), &data),
        ("product_offer", "save") => offers::product_offer_save(&mut shared.write(), &data),
        ("offer", "save") => offers::offer_save(&mut shared.write(), &data),
        ("measurements", "save") => resources::measurements_save(&mut shared.write(), &data),
        ("category", "read") => resources::category_read(&data, strict),
        ("category", "count") => resources::category_count(&data),
        ("vat", "read") => resources::vat_read(),
        ("handling_time", "read") => resources::handling_time_read(),
        ("locality", "read") => resources::locality_read(&data, strict),
        ("locality", "count") => resources::locality_count(&data),
        ("courier_accounts", "read") => resources::courier_accounts_read(),
        ("addresses", "read") => resources::addresses_read(),
        ("awb", "save") => resources::awb_save(&mut shared.write(), &data, now),
        ("awb", "read") => resources::awb_read(&shared.read(), &data, strict),
        ("rma", "read") => resources::rma_read(&shared.read(), &data, strict),
        ("rma", "count") => resources::rma_count(&shared.read(), &data),
        ("rma", "save") => resources::rma_save(&mut shared.write(), &data, now),
        _ => Reply::error("not simulated"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let r = parse_route("/api-3/order/read");
        assert!(r.kind == RouteKind::Simulated && r.key() == "order/read");
        let r = parse_route("/api-3/order/acknowledge/123");
        assert!(r.kind == RouteKind::Simulated && r.id.as_deref() == Some("123"));
        let r = parse_route("/api-3/order/123/unlock-courier");
        assert!(r.kind == RouteKind::Simulated && r.action == "unlock-courier");
        assert!(parse_route("/api-3/order/attachments/save").kind == RouteKind::Simulated);
        assert!(parse_route("/api-3/offer_stock/5").kind == RouteKind::OfferStock);
        assert!(parse_route("/api-3/invoice/read").kind == RouteKind::NotSimulated);
        assert!(parse_route("/api-3/documentation/find_by_eans").kind == RouteKind::NotSimulated);
        assert!(parse_route("/api-3/nope/read").kind == RouteKind::Unknown);
        assert!(parse_route("/other").kind == RouteKind::Unknown);
        assert!(parse_route("/api-3/order/acknowledge").kind == RouteKind::Unknown);
    }
}
