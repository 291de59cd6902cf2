//! The request pipeline: stats -> rate limit -> faults -> route -> body -> auth -> handler,
//! and the callbacks a request's changes announce.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;
use tokio::sync::Notify;

use super::auth;
use super::awb;
use super::callbacks::CallbackKind;
use super::envelope::{self, Reply};
use super::faults::Fault;
use super::offer_create;
use super::offers;
use super::order_save;
use super::orders;
use super::resources;
use super::rma;
use super::routes::{parse_route, Route, RouteKind};
use super::server::{lock, Shared};
use crate::ratelimit::Bucket;

/// Largest accepted request body.
const MAX_BODY: usize = 16 * 1024 * 1024;
/// A client that stops sending its body mid-way gets an answer after this long.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

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

pub(super) async fn handle(
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
        match injected(&shared, &kill, fault, bucket, decision.limit_3s).await {
            Some(reply) => {
                lock(&shared.stats).status(reply.status);
                return into_response(reply);
            }
            None => truncate = fault == Fault::MalformedJson,
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

/// What an injected fault does before the request is processed: `Some` answers in its place
/// (or never, for a reset); `None` lets the request go on.
async fn injected(
    shared: &Shared,
    kill: &Notify,
    fault: Fault,
    bucket: Bucket,
    limit_3s: usize,
) -> Option<Reply> {
    lock(&shared.stats).fault(fault.as_str());
    match fault {
        Fault::Http500 => Some(html(500, "Internal Server Error")),
        Fault::Http503 => Some(html(503, "Service Temporarily Unavailable")),
        Fault::IsError => Some(Reply::error("Simulated error (injected is_error fault)")),
        Fault::RateLimit => {
            let mut r = rate_limited(limit_3s, 0);
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
        Fault::MalformedJson => None,
    }
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
pub(super) async fn announce_new_orders(shared: Arc<Shared>, interval: Duration) {
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
    dispatch(shared, &route, &data)
}

/// The handler of a simulated route.
fn dispatch(shared: &Shared, route: &Route, data: &Value) -> Reply {
    let now = shared.clock.now();
    let strict = shared.strict_pagination;
    let id = route.id.as_deref().and_then(|s| s.parse::<u64>().ok());
    match (route.resource.as_str(), route.action.as_str()) {
        ("order", "read") => orders::read(&shared.read(), data, strict),
        ("order", "count") => orders::count(&shared.read(), data),
        ("order", "save") => order_save::save(&mut shared.write(), data, now),
        ("order", "acknowledge") => match id {
            Some(id) => orders::acknowledge(&mut shared.write(), id, now),
            None => Reply::error("order id out of range"),
        },
        ("order", "unlock-courier") => match id {
            Some(id) => orders::unlock_courier(&mut shared.write(), id, now),
            None => Reply::error("order id out of range"),
        },
        ("order/attachments", "save") => orders::attachments_save(&mut shared.write(), data),
        ("product_offer", "read") => offers::read(&shared.read(), data, strict),
        ("product_offer", "count") => offers::count(&shared.read(), data),
        ("product_offer", "save") => offer_create::product_offer_save(&mut shared.write(), data),
        ("offer", "save") => offers::offer_save(&mut shared.write(), data),
        ("measurements", "save") => offers::measurements_save(&mut shared.write(), data),
        ("category", "read") => resources::category_read(data, strict),
        ("category", "count") => resources::category_count(data),
        ("vat", "read") => resources::vat_read(),
        ("handling_time", "read") => resources::handling_time_read(),
        ("locality", "read") => resources::locality_read(data, strict),
        ("locality", "count") => resources::locality_count(data),
        ("courier_accounts", "read") => resources::courier_accounts_read(),
        ("addresses", "read") => resources::addresses_read(),
        ("awb", "save") => awb::awb_save(&mut shared.write(), data, now),
        ("awb", "read") => awb::awb_read(&shared.read(), data, strict),
        ("rma", "read") => rma::rma_read(&shared.read(), data, strict),
        ("rma", "count") => rma::rma_count(&shared.read(), data),
        ("rma", "save") => rma::rma_save(&mut shared.write(), data, now),
        _ => Reply::error("not simulated"),
    }
}
