//! Error kinds: stable codes, names, and the retry decision made once in the core.

use magflow_emag::{Error, ErrorKind};

#[test]
fn kinds_have_stable_unique_codes() {
    let codes: Vec<i32> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
    assert_eq!(codes, (1..=12).collect::<Vec<_>>());
    let mut names: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ErrorKind::ALL.len());
}

#[test]
fn retryable_kinds() {
    let network = Error::Network {
        message: "reset".into(),
        status_code: None,
        not_sent: false,
    };
    assert!(network.is_retryable());
    assert!(Error::timeout("slow").is_retryable());
    assert!(Error::rate_limited("429", 2.0).is_retryable());
    let is_error = Error::ApiResponse {
        message: "bad".into(),
        messages: vec!["bad".into()],
        status_code: Some(200),
        response_data: None,
        transient: false,
    };
    assert!(!is_error.is_retryable());
    let maintenance = Error::ApiResponse {
        message: "html".into(),
        messages: vec![],
        status_code: Some(200),
        response_data: None,
        transient: true,
    };
    assert!(maintenance.is_retryable());
    let auth = Error::Authentication {
        message: "no".into(),
        status_code: Some(401),
        response_data: None,
    };
    assert!(!auth.is_retryable());
    assert!(!Error::validation(vec!["x".into()]).is_retryable());
    assert!(!Error::business("matrix").is_retryable());
    assert!(!Error::store("disk").is_retryable());
}

#[test]
fn accessors() {
    let e = Error::rate_limited("orders bucket", 0.25);
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert_eq!(e.remaining_seconds(), Some(0.25));
    assert_eq!(e.message(), "orders bucket");
    let v = Error::validation(vec!["a: bad".into(), "b: worse".into()]);
    assert_eq!(v.validation_errors(), ["a: bad", "b: worse"]);
    assert_eq!(v.to_string(), "validation failed: a: bad; b: worse");
    assert_eq!(v.remaining_seconds(), None);
}

#[test]
fn the_error_stays_small_enough_to_return_by_value() {
    // Clippy's result_large_err threshold is 128 bytes; large payloads are boxed.
    assert!(
        std::mem::size_of::<Error>() < 128,
        "{}",
        std::mem::size_of::<Error>()
    );
}
