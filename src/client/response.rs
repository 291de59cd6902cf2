//! The one place where an HTTP answer becomes a result (spec §5, §6, and what eMAG's gateways
//! really send).

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::platform::Credentials;

/// The wait assumed after a 429 that carries no usable hint: eMAG documents no `Retry-After`,
/// and its quotas are per second, so one second is the natural unit.
pub const DEFAULT_429_WAIT: Duration = Duration::from_secs(1);

/// How much of an unexpected body an error quotes.
const EXCERPT_CHARS: usize = 200;

/// A response as the transport received it.
pub struct RawResponse<'a> {
    /// HTTP status.
    pub status: u16,
    /// `Retry-After` header, if any.
    pub retry_after: Option<&'a str>,
    /// `X-RateLimit-Reset`-style hint in seconds, if any.
    pub reset_hint: Option<&'a str>,
    /// The body bytes.
    pub body: &'a [u8],
}

/// Turn an answer into the `results` value or the right error. `credentials` are only used to
/// scrub excerpts.
// Long on purpose: one decision table from HTTP status and envelope to result or error
// kind; splitting it would hide the order of the cases.
pub fn interpret(resp: &RawResponse<'_>, credentials: &Credentials) -> Result<Value> {
    let status = resp.status;
    let parsed: Option<Value> = serde_json::from_slice(resp.body).ok();

    if status == 429 {
        let wait = wait_hint(resp).unwrap_or(DEFAULT_429_WAIT);
        return Err(Error::RateLimited {
            message: "eMAG answered 429: API rate limit exceeded".into(),
            remaining_seconds: wait.as_secs_f64(),
            status_code: Some(429),
        });
    }
    if status == 401 || status == 403 {
        let said = parsed.as_ref().map(messages_of).unwrap_or_default();
        let mut message = format!(
            "eMAG refused the request (HTTP {status}): the username or password is wrong, the user \
             has no API rights, or this machine's public IP is not whitelisted in the seller account \
             (eMAG answers all of these alike)"
        );
        if !said.is_empty() {
            message.push_str(": ");
            message.push_str(&said.join("; "));
        }
        return Err(Error::Authentication {
            message: credentials.redact(&message),
            status_code: Some(status),
            response_data: parsed.map(Box::new),
        });
    }
    if status == 404 {
        let said = parsed.as_ref().map(messages_of).unwrap_or_default();
        let detail = if said.is_empty() {
            "not found".to_owned()
        } else {
            said.join("; ")
        };
        return Err(Error::NotFound {
            message: credentials.redact(&format!("HTTP 404: {detail}")),
            status_code: Some(404),
            response_data: parsed.map(Box::new),
        });
    }
    if status >= 500 {
        return Err(Error::Network {
            message: credentials.redact(&format!(
                "eMAG answered HTTP {status}{}",
                excerpt_suffix(resp.body)
            )),
            status_code: Some(status),
            not_sent: false,
        });
    }
    if status == 204 && resp.body.is_empty() {
        // offer_stock PATCH answers 204 with no body on success.
        return Ok(Value::Null);
    }

    let Some(body) = parsed else {
        // Not JSON at all: a maintenance page or a proxy's answer, not eMAG's API. Transient.
        return Err(Error::ApiResponse {
            message: credentials.redact(&format!(
                "the answer is not JSON (HTTP {status}, {} bytes){}; eMAG or a proxy in front of it \
                 is likely unavailable",
                resp.body.len(),
                excerpt_suffix(resp.body)
            )),
            messages: Vec::new(),
            status_code: Some(status),
            response_data: None,
            transient: true,
        });
    };

    match body.get("isError") {
        Some(Value::Bool(false)) if (200..300).contains(&status) => Ok(match body {
            Value::Object(mut m) => m.swap_remove("results").unwrap_or(Value::Null),
            _ => Value::Null,
        }),
        Some(Value::Bool(true)) | Some(Value::Bool(false)) => {
            let messages = messages_of(&body);
            let message = if messages.is_empty() {
                format!("eMAG answered isError=true (HTTP {status}) without messages")
            } else {
                messages.join("; ")
            };
            Err(Error::ApiResponse {
                message: credentials.redact(&message),
                messages: messages.iter().map(|m| credentials.redact(m)).collect(),
                status_code: Some(status),
                response_data: Some(Box::new(body)),
                transient: false,
            })
        }
        _ => {
            // Success is only isError === false; anything else was most likely not interpreted.
            let said = messages_of(&body);
            let detail = if said.is_empty() {
                excerpt_suffix(resp.body)
            } else {
                format!(": {}", said.join("; "))
            };
            Err(Error::ApiResponse {
                message: credentials.redact(&format!(
                    "the answer lacks a boolean isError (HTTP {status}){detail}"
                )),
                messages: said,
                status_code: Some(status),
                response_data: Some(Box::new(body)),
                transient: false,
            })
        }
    }
}

/// eMAG's `messages` (strings, or objects whose text is taken), plus a top-level `message`.
pub fn messages_of(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(list) = body.get("messages").and_then(Value::as_array) {
        for m in list {
            match m {
                Value::String(s) => out.push(s.clone()),
                Value::Object(o) => match o.get("message").or_else(|| o.get("text")) {
                    Some(Value::String(s)) => out.push(s.clone()),
                    _ => out.push(m.to_string()),
                },
                other => out.push(other.to_string()),
            }
        }
    }
    if let Some(Value::String(s)) = body.get("message") {
        out.push(s.clone());
    }
    out
}

fn wait_hint(resp: &RawResponse<'_>) -> Option<Duration> {
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    resp.retry_after
        .and_then(parse)
        .or_else(|| resp.reset_hint.and_then(parse))
        .map(|secs| Duration::from_secs_f64(secs.min(crate::ratelimit::MAX_HOLD.as_secs_f64())))
}

fn excerpt_suffix(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(body);
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut excerpt: String = flat.chars().take(EXCERPT_CHARS).collect();
    if flat.chars().count() > EXCERPT_CHARS {
        excerpt.push('…');
    }
    format!(": {excerpt:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn creds() -> Credentials {
        Credentials::new("seller", "hunter2-secret").unwrap()
    }

    fn answer(status: u16, body: &str) -> Result<Value> {
        interpret(
            &RawResponse {
                status,
                retry_after: None,
                reset_hint: None,
                body: body.as_bytes(),
            },
            &creds(),
        )
    }

    #[test]
    fn success_returns_results() {
        let v = answer(
            200,
            r#"{"isError":false,"messages":[],"results":[{"id":1}]}"#,
        )
        .unwrap();
        assert_eq!(v, serde_json::json!([{"id":1}]));
    }

    #[test]
    fn each_failure_has_its_kind() {
        let cases = [
            (
                200,
                r#"{"isError":true,"messages":["Invalid id"],"results":[]}"#,
                ErrorKind::ApiResponse,
                false,
            ),
            (200, r#"{"results":[]}"#, ErrorKind::ApiResponse, false),
            (
                200,
                "<html>Maintenance</html>",
                ErrorKind::ApiResponse,
                true,
            ),
            (
                200,
                r#"{"isError":false,"resu"#,
                ErrorKind::ApiResponse,
                true,
            ),
            (
                401,
                r#"{"isError":true,"messages":["You are not allowed to use this API."]}"#,
                ErrorKind::Authentication,
                false,
            ),
            (403, "", ErrorKind::Authentication, false),
            (
                404,
                r#"{"message":"Invalid URL"}"#,
                ErrorKind::NotFound,
                false,
            ),
            (
                429,
                r#"{"message":"API rate limit exceeded"}"#,
                ErrorKind::RateLimited,
                true,
            ),
            (502, "Bad Gateway", ErrorKind::Network, true),
            (503, "", ErrorKind::Network, true),
        ];
        for (status, body, kind, retryable) in cases {
            let err = answer(status, body).unwrap_err();
            assert_eq!(err.kind(), kind, "{status} {body}");
            assert_eq!(err.is_retryable(), retryable, "{status} {body}");
            assert_eq!(err.status_code(), Some(status));
        }
    }

    #[test]
    fn auth_error_names_both_causes_and_429_has_a_wait() {
        let err = answer(401, "").unwrap_err();
        assert!(err.message().contains("password") && err.message().contains("IP"));
        let err = answer(429, "").unwrap_err();
        assert_eq!(err.remaining_seconds(), Some(1.0));
        let hinted = interpret(
            &RawResponse {
                status: 429,
                retry_after: Some("7"),
                reset_hint: None,
                body: b"",
            },
            &creds(),
        )
        .unwrap_err();
        assert_eq!(hinted.remaining_seconds(), Some(7.0));
    }

    #[test]
    fn excerpts_are_short_and_scrubbed() {
        let body = format!("<html>{} hunter2-secret</html>", "x".repeat(5000));
        let err = answer(200, &body).unwrap_err();
        assert!(err.message().len() < 600, "{}", err.message().len());
        let err = answer(500, "echo hunter2-secret").unwrap_err();
        assert!(!err.to_string().contains("hunter2-secret"));
    }
}
