//! HTTP Basic authentication as eMAG answers it: wrong or missing credentials get `403` with
//! the envelope `messages: ["You are not allowed to use this API."]` (the only refusal the
//! documentation shows, in the `offer_stock` example; applied to every route [inference]).

use base64::Engine;

/// The message eMAG sends with a refused call.
pub(crate) const NOT_ALLOWED: &str = "You are not allowed to use this API.";

/// Whether an `Authorization` header value carries exactly `username:password`.
pub(crate) fn allowed(header: Option<&[u8]>, username: &str, password: &str) -> bool {
    let Some(header) = header.and_then(|h| std::str::from_utf8(h).ok()) else {
        return false;
    };
    let header = header.trim();
    let Some((scheme, encoded)) = header.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim()) else {
        return false;
    };
    let expected = format!("{username}:{password}");
    constant_time_eq(&decoded, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        let ok = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("u:p")
        );
        assert!(allowed(Some(ok.as_bytes()), "u", "p"));
        assert!(!allowed(Some(ok.as_bytes()), "u", "q"));
        assert!(!allowed(None, "u", "p"));
        assert!(!allowed(Some(b"Bearer x"), "u", "p"));
        assert!(!allowed(Some(b"Basic !!!"), "u", "p"));
    }
}
