//! Validation: JSON in, a JSON list of messages out (`[]` = valid; each message
//! `path: problem`). The rules are the core's.
//!
//! A NULL input or output pointer is `MF_ERR_INVALID_ARGUMENT`. Input that is not UTF-8 or not
//! JSON is *data* that fails validation: the call returns `MF_OK` and the list holds one message
//! saying so. Every function is thread-safe (no shared state).

use std::ffi::{c_char, c_int, CStr};

use mf_core::validate::{self, OfferMode, Options};
use mf_core::Error;
use serde_json::Value;

use crate::ffi::{self, Out};
use crate::mf_status;

/// A JSON input: `Err` for NULL; `Ok(Err(message))` for bytes that are not UTF-8 or not JSON.
///
/// # Safety
/// `ptr` must be NULL or a NUL-terminated string valid for the call.
unsafe fn json_arg(ptr: *const c_char, name: &str) -> Result<Result<Value, String>, Error> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    // SAFETY: the caller promises a valid NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(format!(
                "{name}: is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            )))
        }
    };
    Ok(serde_json::from_str(text).map_err(|e| format!("{name}: is not valid JSON ({e})")))
}

/// Run one validator over one JSON document.
///
/// # Safety
/// As for [`json_arg`]; `out` must be NULL or a valid pointer.
unsafe fn one(
    input: *const c_char,
    name: &str,
    out: *mut *mut c_char,
    check: impl FnOnce(&Value) -> Vec<String>,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { Out::new(out, "errors_json_out") }?;
        let errors = match unsafe { json_arg(input, name) }? {
            Ok(value) => check(&value),
            Err(message) => vec![message],
        };
        out.json(&errors)
    })
}

/// `now` for the timed rules: NULL = the current time; else an eMAG `YYYY-mm-dd HH:ii:ss`
/// (eMAG's local time, Europe/Bucharest) or an RFC 3339 timestamp with an offset.
///
/// # Safety
/// `now` must be NULL or a NUL-terminated string.
unsafe fn now_arg(now: *const c_char) -> Result<Options, String> {
    let mut options = Options::default();
    if now.is_null() {
        return Ok(options);
    }
    // SAFETY: forwarded contract.
    let bytes = unsafe { CStr::from_ptr(now) }.to_bytes();
    let text = std::str::from_utf8(bytes)
        .map_err(|_| "now: is not valid UTF-8".to_owned())?
        .trim();
    match mf_core::time::parse_instant(text, options.tz) {
        Ok(t) => {
            options.now = Some(t);
            Ok(options)
        }
        Err(_) => Err(format!(
            "now: must be \"YYYY-mm-dd HH:ii:ss\" (eMAG's local time) or RFC 3339, got {:?}",
            text.chars().take(40).collect::<String>()
        )),
    }
}

/// Validate an order as read (`order/read`): ids and codes, products (each with `id`,
/// `quantity` > 0, `sale_price` >= 0, `status` 0/1, `vat` 0-100), customer name and phone and a
/// plausible email, `payment_status` for card payments, dates, voucher values.
/// `*errors_json_out` receives a JSON list of messages (`[]` when valid); free it with
/// `mf_string_free`. Malformed JSON or non-UTF-8 input is `MF_OK` with a message saying so.
///
/// # Safety
/// `order_json` must be NULL or a NUL-terminated string; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_order(
    order_json: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe {
        one(order_json, "order_json", errors_json_out, |v| {
            validate::validate_order_data(v)
        })
    }
}

/// Validate an order before `order/save`. `current_json` (NULL = unknown) is the order as
/// eMAG has it: with it the status matrix, the 48 h and RT + 5 days windows (RT = 14 days;
/// `current.modified` stands for the time the order entered status 4 or 0) and the line edits
/// are checked. `now` (NULL = the current time) is `"YYYY-mm-dd HH:ii:ss"` in eMAG's local
/// time or RFC 3339; an unusable `now` is reported as a message. Output as for
/// `mf_validate_order`.
///
/// # Safety
/// `order_json` must be NULL or a NUL-terminated string; `current_json` and `now` NULL or
/// NUL-terminated strings; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_order_for_update(
    order_json: *const c_char,
    current_json: *const c_char,
    now: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(errors_json_out, "errors_json_out") }?;
        // SAFETY: forwarded contract.
        let order = unsafe { json_arg(order_json, "order_json") }?;
        let current = if current_json.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            Some(unsafe { json_arg(current_json, "current_json") }?)
        };
        // SAFETY: forwarded contract.
        let options = unsafe { now_arg(now) };
        let mut errors = Vec::new();
        for bad in [
            order.as_ref().err(),
            current.as_ref().and_then(|c| c.as_ref().err()),
        ]
        .into_iter()
        .flatten()
        {
            errors.push(bad.clone());
        }
        if let Err(message) = &options {
            errors.push(message.clone());
        }
        if errors.is_empty() {
            if let (Ok(order), Ok(options)) = (&order, &options) {
                let current = current.as_ref().and_then(|c| c.as_ref().ok());
                errors = validate::validate_order_for_update_with(order, current, options);
            }
        }
        out.json(&errors)
    })
}

/// Validate a cancellation: `order_id` 1..4294967295 and `reason` one of the 32 documented
/// codes (1-3, 15-43); any other reason gives a message containing "cancellation reason".
/// Output as for `mf_validate_order`.
///
/// # Safety
/// `errors_json_out` must be a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_order_cancellation(
    order_id: i64,
    reason: c_int,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(errors_json_out, "errors_json_out") }?;
        let errors = validate::validate_order_cancellation(order_id, i64::from(reason));
        out.json(&errors)
    })
}

/// Validate a bulk `order/save` (a JSON list of orders, each checked without its current
/// state). `*errors_json_out` receives a JSON object `{"<order id>": [messages], ...}` holding
/// only the orders that have messages (`{}` when all are valid; an order without a usable id is
/// keyed by its position, `"[3]"`; input that is not a list, not JSON or not UTF-8 is keyed
/// `"orders"`). Free it with `mf_string_free`.
///
/// # Safety
/// `orders_json` must be NULL or a NUL-terminated string; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_bulk_order_update(
    orders_json: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(errors_json_out, "errors_json_out") }?;
        // SAFETY: forwarded contract.
        let report = match unsafe { json_arg(orders_json, "orders_json") }? {
            Ok(value) => validate::validate_bulk_order_update(&value),
            Err(message) => vec![("orders".to_owned(), vec![message])],
        };
        let map: serde_json::Map<String, Value> = report
            .into_iter()
            .map(|(id, errors)| (id, Value::from(errors)))
            .collect();
        out.json(&map)
    })
}

/// Validate an offer for `product_offer/save` in mode "auto" (the keys every use needs and the
/// values of every key sent); see `mf_validate_offer_as` for the other modes. Output as for
/// `mf_validate_order`.
///
/// # Safety
/// `offer_json` must be NULL or a NUL-terminated string; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_offer(
    offer_json: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe {
        one(offer_json, "offer_json", errors_json_out, |v| {
            validate::validate_offer(v)
        })
    }
}

/// Validate an offer for one save: `mode` is `"auto"` (NULL), `"create"`, `"update"`,
/// `"attach"` or `"light"` (`offer/save`). An unknown mode is `MF_ERR_INVALID_ARGUMENT`.
/// Output as for `mf_validate_order`.
///
/// # Safety
/// `offer_json` must be NULL or a NUL-terminated string; `mode` NULL or a NUL-terminated
/// string; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_offer_as(
    offer_json: *const c_char,
    mode: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    ffi::guard(|| {
        // SAFETY: the caller's contract (above) on every pointer.
        let out = unsafe { Out::new(errors_json_out, "errors_json_out") }?;
        // SAFETY: forwarded contract.
        let mode: OfferMode = match unsafe { ffi::opt_arg_str(mode, "mode") }? {
            Some(m) => m.parse()?,
            None => OfferMode::Auto,
        };
        // SAFETY: forwarded contract.
        let errors = match unsafe { json_arg(offer_json, "offer_json") }? {
            Ok(value) => validate::validate_offer_with(&value, &{
                let mut o = Options::default();
                o.offer_mode = mode;
                o
            }),
            Err(message) => vec![message],
        };
        out.json(&errors)
    })
}

/// Validate an AWB for `awb/save` (return AWBs judged against today in Europe/Bucharest).
/// Output as for `mf_validate_order`.
///
/// # Safety
/// `awb_json` must be NULL or a NUL-terminated string; `errors_json_out` a valid pointer.
#[no_mangle]
pub unsafe extern "C" fn mf_validate_awb(
    awb_json: *const c_char,
    errors_json_out: *mut *mut c_char,
) -> mf_status {
    // SAFETY: forwarded contract.
    unsafe {
        one(awb_json, "awb_json", errors_json_out, |v| {
            validate::validate_awb(v)
        })
    }
}
