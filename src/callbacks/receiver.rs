//! The answer to one callback: check the token, read the id, record it in the queue.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::{Scope, Store};

/// The longest query accepted (eMAG's are a few dozen bytes; a flood of huge ones is refused
/// before any work).
const MAX_QUERY: usize = 2048;

/// The largest order id the project accepts (eMAG's ids are unsigned 32-bit).
pub const MAX_ORDER_ID: u64 = crate::limits::MAX_ORDER_ID as u64;

/// The HTTP answer to give eMAG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackAnswer {
    /// 200 recorded (or a kind with nothing to do), 400 malformed, 403 token missing or
    /// wrong, 503 the store could not record it (eMAG retries).
    pub status: u16,
    /// A short text saying why (never the token).
    pub body: String,
}

impl CallbackAnswer {
    fn new(status: u16, body: &str) -> Self {
        CallbackAnswer {
            status,
            body: body.to_owned(),
        }
    }
}

/// Equal in time independent of where they differ: both sides are hashed first, so neither
/// the length nor the content of the expected token leaks through timing.
fn token_matches(given: &str, expected: &str) -> bool {
    let a = Sha256::digest(given.as_bytes());
    let b = Sha256::digest(expected.as_bytes());
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y));
    diff == 0 && !expected.is_empty()
}

/// A decimal order id within 1..=2^32-1 (no sign, no spaces, no leading `+`).
fn parse_id(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let id: u64 = text.parse().ok()?;
    (1..=MAX_ORDER_ID).contains(&id).then_some(id as i64)
}

/// Handle one callback's query string (`order_id=..&token=..[&kind=..]`, a leading `?`
/// allowed): the token must equal `token` (compared in constant time); `kind` absent is a
/// new order (eMAG's own format), else `order_cancellation`, `return` or `awb` (each with
/// the affected order's `order_id`); `documentation` is answered 200 with nothing queued.
/// The callback is recorded in the store's queue before the answer, so a crash after a 200
/// loses nothing; a repeat only bumps a counter. Wakes the workers of this process.
pub fn handle_callback(store: &Store, scope: &Scope, token: &str, query: &str) -> CallbackAnswer {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_QUERY {
        return CallbackAnswer::new(400, "query too long");
    }
    let mut given_token = None;
    let mut kind = None;
    let mut order_id = None;
    let mut repeated = false;
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "token" => &mut given_token,
            "kind" => &mut kind,
            "order_id" => &mut order_id,
            _ => continue,
        };
        repeated |= slot.is_some();
        *slot = Some(value.into_owned());
    }
    // The token first: nothing else is said to a caller without it.
    match &given_token {
        Some(t) if token_matches(t, token) => {}
        _ => return CallbackAnswer::new(403, "forbidden"),
    }
    if repeated {
        return CallbackAnswer::new(400, "a parameter is repeated");
    }
    let kind = match kind.as_deref() {
        None | Some("order_new") => "order_new",
        Some("order_cancellation") => "order_cancellation",
        Some("return") => "return",
        Some("awb") => "awb",
        Some("documentation") => return CallbackAnswer::new(200, "OK (nothing to do)"),
        Some(_) => return CallbackAnswer::new(400, "unknown kind"),
    };
    let Some(id) = order_id.as_deref().and_then(parse_id) else {
        return CallbackAnswer::new(400, "order_id must be an integer in 1..4294967295");
    };
    match store.enqueue_callback(scope, kind, id) {
        Ok(pending) => {
            if pending {
                super::worker::wake();
            }
            CallbackAnswer::new(200, "OK")
        }
        Err(e) => {
            log::error!("callback {kind} for order {id} not recorded: {e}");
            CallbackAnswer::new(503, "not recorded, try again")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tokens() {
        assert_eq!(parse_id("1"), Some(1));
        assert_eq!(parse_id("4294967295"), Some(4294967295));
        for bad in [
            "0",
            "4294967296",
            "-1",
            "+1",
            " 1",
            "1.0",
            "",
            "99999999999",
            "0x1",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
        assert!(token_matches("a-long-secret", "a-long-secret"));
        assert!(!token_matches("a-long-secreT", "a-long-secret"));
        assert!(!token_matches("", ""));
    }
}
