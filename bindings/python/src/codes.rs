//! Reference codes: thin wrappers over `magflow_emag::codes`.

use std::collections::BTreeMap;

use magflow_emag::codes::{self, Lang};
use pyo3::prelude::*;

use crate::errors::IntoPy;

fn lang(lang: &str) -> PyResult<Lang> {
    lang.parse::<Lang>().py()
}

/// The text of a cancellation reason; unknown codes give "Unknown reason (code: N)".
#[pyfunction]
#[pyo3(signature = (code, lang = "en"))]
fn cancellation_reason_text(
    #[pyo3(from_py_with = crate::args::code)] code: i64,
    lang: &str,
) -> PyResult<String> {
    Ok(codes::cancellation_reason_text(code, self::lang(lang)?))
}

/// Every documented cancellation reason, code -> text.
#[pyfunction]
#[pyo3(signature = (lang = "en"))]
fn cancellation_reasons(lang: &str) -> PyResult<BTreeMap<i64, &'static str>> {
    let lang = self::lang(lang)?;
    Ok(codes::CANCELLATION_REASONS
        .iter()
        .map(|r| (r.code, r.text(lang)))
        .collect())
}

/// The text of an order status.
#[pyfunction]
#[pyo3(signature = (code, lang = "en"))]
fn order_status_text(
    #[pyo3(from_py_with = crate::args::code)] code: i64,
    lang: &str,
) -> PyResult<String> {
    Ok(codes::order_status_text(code, self::lang(lang)?))
}

/// The text of a payment mode.
#[pyfunction]
#[pyo3(signature = (code, lang = "en"))]
fn payment_mode_text(
    #[pyo3(from_py_with = crate::args::code)] code: i64,
    lang: &str,
) -> PyResult<String> {
    Ok(codes::payment_mode_text(code, self::lang(lang)?))
}

/// The text of an order type.
#[pyfunction]
#[pyo3(signature = (code, lang = "en"))]
fn order_type_text(
    #[pyo3(from_py_with = crate::args::code)] code: i64,
    lang: &str,
) -> PyResult<String> {
    Ok(codes::order_type_text(code, self::lang(lang)?))
}

/// The rule for moving an order from one status to another.
#[pyfunction]
fn transition_rule(
    #[pyo3(from_py_with = crate::args::from_status)] from_status: i64,
    #[pyo3(from_py_with = crate::args::to_status)] to_status: i64,
) -> PyResult<&'static str> {
    codes::transition_rule(from_status, to_status)
        .map(|r| r.as_str())
        .py()
}

/// Whether a code is a valid `reason_cancellation`.
#[pyfunction]
fn is_valid_cancellation_reason(#[pyo3(from_py_with = crate::args::code)] code: i64) -> bool {
    codes::is_valid_cancellation_reason(code)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(cancellation_reason_text, m)?)?;
    m.add_function(wrap_pyfunction!(cancellation_reasons, m)?)?;
    m.add_function(wrap_pyfunction!(order_status_text, m)?)?;
    m.add_function(wrap_pyfunction!(payment_mode_text, m)?)?;
    m.add_function(wrap_pyfunction!(order_type_text, m)?)?;
    m.add_function(wrap_pyfunction!(transition_rule, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid_cancellation_reason, m)?)?;
    Ok(())
}
