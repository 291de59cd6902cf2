//! Validation: the core's validators walk Python objects in place through [`PyDoc`], an
//! implementation of the core's read-only document model. Converting a dict to
//! `serde_json::Value` first would cost about what validating it in pure Python costs; this
//! binding only converts types (dict/list/tuple/int/float/str/bool/None), every rule stays in
//! the core.
//!
//! Wrong Python types inside the data produce messages, never `TypeError`; so do unusable
//! parameters (`now`, `mode`, `platform`, `return_period_days`), reported under their own name.
//! With `raise_errors=True` a non-empty result raises `ValidationError` (its
//! `validation_errors` holds the messages) instead.

use std::borrow::Cow;
use std::ffi::c_char;
use std::ptr::addr_of_mut;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use magflow_emag::platform::Platform;
use magflow_emag::validate::{self, Doc, Fields, Key, Kind, OfferMode, Options};
use magflow_emag::Error;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};

use crate::errors::to_py;

extern "C" {
    // Exported by CPython since 3.3 and part of the stable ABI since 3.10; pyo3 hides it from
    // abi3-py39 builds only because 3.9's limited API did not list it. It returns the string's
    // own UTF-8 buffer (for ASCII strings their data itself): no copy, unlike `to_cow` there.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const c_char;
}

/// The exact built-in type of an object, for the common case (what `json.loads` makes);
/// subclasses fall back to the flag checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exact {
    Str,
    Int,
    Bool,
    Float,
    Dict,
    List,
    Tuple,
    NoneType,
    Other,
}

fn exact(obj: &Bound<'_, PyAny>) -> Exact {
    let ptr = obj.as_ptr();
    // SAFETY: `ptr` is a live object (held by `obj`); the type objects are CPython statics.
    unsafe {
        let t = ffi::Py_TYPE(ptr);
        if t == addr_of_mut!(ffi::PyUnicode_Type) {
            Exact::Str
        } else if t == addr_of_mut!(ffi::PyLong_Type) {
            Exact::Int
        } else if t == addr_of_mut!(ffi::PyDict_Type) {
            Exact::Dict
        } else if t == addr_of_mut!(ffi::PyList_Type) {
            Exact::List
        } else if ptr == ffi::Py_None() {
            Exact::NoneType
        } else if t == addr_of_mut!(ffi::PyFloat_Type) {
            Exact::Float
        } else if t == addr_of_mut!(ffi::PyBool_Type) {
            Exact::Bool
        } else if t == addr_of_mut!(ffi::PyTuple_Type) {
            Exact::Tuple
        } else {
            Exact::Other
        }
    }
}

/// One interned Python string per core key (hash cached), indexed by `key as usize`.
static KEYS: PyOnceLock<Vec<Py<PyString>>> = PyOnceLock::new();
static DATETIME: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn keys(py: Python<'_>) -> &'static [Py<PyString>] {
    KEYS.get_or_init(py, || {
        Key::ALL
            .iter()
            .map(|k| PyString::intern(py, k.name()).unbind())
            .collect()
    })
}

/// A Python value seen through the core's document model.
#[derive(Clone)]
pub struct PyDoc<'py> {
    obj: Bound<'py, PyAny>,
    keys: &'static [Py<PyString>],
}

impl<'py> PyDoc<'py> {
    fn new(obj: &Bound<'py, PyAny>) -> Self {
        PyDoc {
            obj: obj.clone(),
            keys: keys(obj.py()),
        }
    }

    fn wrap(&self, obj: Bound<'py, PyAny>) -> Self {
        PyDoc {
            obj,
            keys: self.keys,
        }
    }

    fn dict(&self) -> Option<&Bound<'py, PyDict>> {
        if exact(&self.obj) == Exact::Dict {
            // SAFETY: the exact type is dict.
            Some(unsafe { self.obj.cast_unchecked::<PyDict>() })
        } else {
            self.obj.cast::<PyDict>().ok()
        }
    }

    fn lookup(&self, dict: &Bound<'py, PyDict>, key: Key) -> Option<Self> {
        let name = self.keys[key as usize].bind(dict.py());
        dict.get_item(name).ok().flatten().map(|v| self.wrap(v))
    }
}

/// The text of a Python string (UTF-8; a string with lone surrogates reads as lossy text).
fn text<'a>(s: &'a Bound<'_, PyString>) -> Cow<'a, str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str; the buffer belongs to it and lives as long as the borrow.
    let data = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size) };
    if data.is_null() {
        // Not encodable (lone surrogates): clear the error, read it lossily.
        let _ = PyErr::take(s.py());
        return Cow::Owned(s.to_string_lossy().into_owned());
    }
    // SAFETY: CPython returns `size` bytes of valid UTF-8 owned by `s`.
    Cow::Borrowed(unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
            data.cast::<u8>(),
            size.max(0) as usize,
        ))
    })
}

impl Doc for PyDoc<'_> {
    fn kind(&self) -> Kind {
        let o = &self.obj;
        match exact(o) {
            Exact::Str => return Kind::Str,
            Exact::Int => return Kind::Int,
            Exact::Dict => return Kind::Map,
            Exact::List | Exact::Tuple => return Kind::List,
            Exact::NoneType => return Kind::Null,
            Exact::Float => return Kind::Float,
            Exact::Bool => return Kind::Bool,
            Exact::Other => {}
        }
        if o.is_none() {
            Kind::Null
        } else if o.is_instance_of::<PyString>() {
            Kind::Str
        } else if o.is_instance_of::<PyBool>() {
            Kind::Bool
        } else if o.is_instance_of::<PyInt>() {
            Kind::Int
        } else if o.is_instance_of::<PyDict>() {
            Kind::Map
        } else if o.is_instance_of::<PyFloat>() {
            Kind::Float
        } else if o.is_instance_of::<PyList>() || o.is_instance_of::<PyTuple>() {
            Kind::List
        } else {
            Kind::Other
        }
    }

    fn get(&self, key: Key) -> Option<Self> {
        let dict = self.dict()?;
        self.lookup(dict, key)
    }

    fn gather<const N: usize>(&self, fields: &Fields<N>) -> [Option<Self>; N] {
        match self.dict() {
            Some(dict) => fields.keys().map(|k| self.lookup(dict, k)),
            None => std::array::from_fn(|_| None),
        }
    }

    fn list_len(&self) -> usize {
        if exact(&self.obj) == Exact::List {
            // SAFETY: the exact type is list.
            return unsafe { self.obj.cast_unchecked::<PyList>() }.len();
        }
        if let Ok(list) = self.obj.cast::<PyList>() {
            list.len()
        } else if let Ok(tuple) = self.obj.cast::<PyTuple>() {
            tuple.len()
        } else {
            0
        }
    }

    fn item(&self, index: usize) -> Option<Self> {
        if exact(&self.obj) == Exact::List {
            // SAFETY: the exact type is list.
            let list = unsafe { self.obj.cast_unchecked::<PyList>() };
            return list.get_item(index).ok().map(|v| self.wrap(v));
        }
        if let Ok(list) = self.obj.cast::<PyList>() {
            list.get_item(index).ok().map(|v| self.wrap(v))
        } else if let Ok(tuple) = self.obj.cast::<PyTuple>() {
            tuple.get_item(index).ok().map(|v| self.wrap(v))
        } else {
            None
        }
    }

    fn as_i64(&self) -> Option<i64> {
        match exact(&self.obj) {
            Exact::Int => {}
            Exact::Other
                if !self.obj.is_instance_of::<PyBool>() && self.obj.is_instance_of::<PyInt>() => {}
            _ => return None,
        }
        let ptr = self.obj.as_ptr();
        // SAFETY: `ptr` is a live int; an overflow sets an error, which is cleared.
        let value = unsafe { ffi::PyLong_AsLongLong(ptr) };
        if value == -1 && PyErr::take(self.obj.py()).is_some() {
            return None;
        }
        Some(value)
    }

    fn as_f64(&self) -> Option<f64> {
        if let Ok(f) = self.obj.cast::<PyFloat>() {
            return Some(f.value());
        }
        if self.obj.is_instance_of::<PyBool>() {
            return None;
        }
        // An int too large for a float raises OverflowError: that reads as None.
        self.obj.cast::<PyInt>().ok()?.extract::<f64>().ok()
    }

    fn as_bool(&self) -> Option<bool> {
        self.obj.cast::<PyBool>().ok().map(|b| b.is_true())
    }

    fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        let s = if exact(&self.obj) == Exact::Str {
            // SAFETY: the exact type is str.
            unsafe { self.obj.cast_unchecked::<PyString>() }
        } else {
            self.obj.cast::<PyString>().ok()?
        };
        Some(f(&text(s)))
    }

    fn for_each_key(&self, f: &mut dyn FnMut(&str)) {
        let Ok(dict) = self.obj.cast::<PyDict>() else {
            return;
        };
        for (k, _) in dict.iter() {
            match k.cast::<PyString>() {
                Ok(s) => f(&text(s)),
                Err(_) => f(&k.str().map(|s| text(&s).into_owned()).unwrap_or_default()),
            }
        }
    }

    fn type_name(&self) -> Option<String> {
        let name = self.obj.get_type().name().ok()?;
        Some(text(&name).into_owned())
    }
}

/// A parameter that cannot be used: one message under its name.
fn param_error(name: &str, problem: String) -> Vec<String> {
    vec![format!("{name}: {problem}")]
}

fn describe(obj: &Bound<'_, PyAny>) -> String {
    let shown = obj
        .repr()
        .map(|r| text(&r).chars().take(60).collect::<String>())
        .unwrap_or_else(|_| "?".to_owned());
    let kind = obj
        .get_type()
        .name()
        .map(|n| text(&n).into_owned())
        .unwrap_or_default();
    format!("{shown} (type {kind})")
}

fn time_zone(platform: &Bound<'_, PyAny>) -> Result<Tz, Vec<String>> {
    let name = platform
        .cast::<PyString>()
        .map(|s| text(s).into_owned())
        .map_err(|_| {
            param_error(
                "platform",
                format!(
                    "must be a platform name such as \"emag_ro\", got {}",
                    describe(platform)
                ),
            )
        })?;
    name.parse::<Platform>()
        .map(|p| p.time_zone())
        .map_err(|e| param_error("platform", e.message()))
}

/// `now`: None (the current time), an eMAG `YYYY-mm-dd HH:ii:ss` string or a naive
/// `datetime` (both read as the platform's local time, like eMAG's own timestamps), or an
/// aware `datetime` (converted).
fn read_now(obj: Option<&Bound<'_, PyAny>>, tz: Tz) -> Result<Option<DateTime<Utc>>, Vec<String>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let bad = || {
        param_error(
            "now",
            format!(
                "must be a datetime or an eMAG timestamp \"YYYY-mm-dd HH:ii:ss\", got {}",
                describe(obj)
            ),
        )
    };
    if let Ok(s) = obj.cast::<PyString>() {
        return magflow_emag::time::parse_local(&text(s), tz)
            .map(Some)
            .map_err(|_| bad());
    }
    let py = obj.py();
    let datetime = DATETIME
        .get_or_try_init(py, || {
            PyResult::Ok(
                py.import("datetime")?
                    .getattr("datetime")?
                    .cast_into::<PyType>()?
                    .unbind(),
            )
        })
        .map_err(|_| bad())?
        .bind(py);
    if !obj.is_instance(datetime).unwrap_or(false) {
        return Err(bad());
    }
    let aware = obj
        .call_method0("utcoffset")
        .map(|o| !o.is_none())
        .unwrap_or(false);
    if aware {
        let ts: f64 = obj
            .call_method0("timestamp")
            .and_then(|t| t.extract())
            .map_err(|_| bad())?;
        let secs = ts.floor();
        let nanos = ((ts - secs) * 1e9) as u32;
        return Utc
            .timestamp_opt(secs as i64, nanos.min(999_999_999))
            .single()
            .map(Some)
            .ok_or_else(bad);
    }
    let field = |name: &str| -> Result<u32, Vec<String>> {
        obj.getattr(name)
            .and_then(|v| v.extract::<u32>())
            .map_err(|_| bad())
    };
    let (hour, minute, second) = (field("hour")?, field("minute")?, field("second")?);
    let naive = NaiveDate::from_ymd_opt(field("year")? as i32, field("month")?, field("day")?)
        .and_then(|d| d.and_hms_opt(hour, minute, second))
        .ok_or_else(bad)?;
    magflow_emag::time::parse_local(
        &naive.format(magflow_emag::time::EMAG_FORMAT).to_string(),
        tz,
    )
    .map(Some)
    .map_err(|_| bad())
}

fn options(
    now: Option<&Bound<'_, PyAny>>,
    platform: &Bound<'_, PyAny>,
) -> Result<Options, Vec<String>> {
    let tz = time_zone(platform)?;
    Ok({
        let mut o = Options::default();
        o.now = read_now(now, tz)?;
        o.tz = tz;
        o
    })
}

/// The list, or `ValidationError` when asked to raise and there are messages.
fn finish(errors: Vec<String>, raise_errors: bool) -> PyResult<Vec<String>> {
    if raise_errors && !errors.is_empty() {
        Err(to_py(Error::validation(errors)))
    } else {
        Ok(errors)
    }
}

/// Options with `require_type` (the legacy ERP's validators did not require `type`).
fn typed(require_type: bool) -> Options {
    {
        let mut o = Options::default();
        o.require_type = require_type;
        o
    }
}

/// Check an order as read; returns the messages (`[]` = valid).
#[pyfunction]
#[pyo3(signature = (order, *, raise_errors = false, require_type = true))]
fn validate_order_data(
    order: &Bound<'_, PyAny>,
    raise_errors: bool,
    require_type: bool,
) -> PyResult<Vec<String>> {
    finish(
        validate::validate_order_data_with(PyDoc::new(order), &typed(require_type)),
        raise_errors,
    )
}

/// Check an order before `order/save`, against `current` (the order as read) when given.
#[pyfunction]
#[pyo3(signature = (order, current = None, now = None, *, return_period_days = None, platform = None, raise_errors = false, require_type = true))]
#[allow(clippy::too_many_arguments)]
fn validate_order_for_update(
    py: Python<'_>,
    order: &Bound<'_, PyAny>,
    current: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    return_period_days: Option<&Bound<'_, PyAny>>,
    platform: Option<&Bound<'_, PyAny>>,
    raise_errors: bool,
    require_type: bool,
) -> PyResult<Vec<String>> {
    let default_platform = PyString::new(py, "emag_ro").into_any();
    let errors = match options(now, platform.unwrap_or(&default_platform)) {
        Err(e) => e,
        Ok(mut opts) => {
            opts.require_type = require_type;
            let days = return_period_days.filter(|d| !d.is_none());
            match days.map(|d| (d, d.extract::<i64>())) {
                Some((d, Ok(n))) if (0..=3650).contains(&n) && !d.is_instance_of::<PyBool>() => {
                    opts.return_period_days = n;
                    check_update(order, current, &opts)
                }
                Some((d, _)) => param_error(
                    "return_period_days",
                    format!(
                        "must be a whole number of days from 0 to 3650, got {}",
                        describe(d)
                    ),
                ),
                None => check_update(order, current, &opts),
            }
        }
    };
    finish(errors, raise_errors)
}

fn check_update(
    order: &Bound<'_, PyAny>,
    current: Option<&Bound<'_, PyAny>>,
    opts: &Options,
) -> Vec<String> {
    let current = current.filter(|c| !c.is_none()).map(PyDoc::new);
    validate::validate_order_for_update_with(PyDoc::new(order), current, opts)
}

/// Check a cancellation: `order_id` and one of the 32 documented `reason_cancellation` codes.
#[pyfunction]
#[pyo3(signature = (order_id, reason, *, raise_errors = false))]
fn validate_order_cancellation(
    order_id: &Bound<'_, PyAny>,
    reason: &Bound<'_, PyAny>,
    raise_errors: bool,
) -> PyResult<Vec<String>> {
    finish(
        validate::validate_order_cancellation_doc(PyDoc::new(order_id), PyDoc::new(reason)),
        raise_errors,
    )
}

/// Errors of a bulk `order/save` per order id (as a string), only for orders that have some.
/// `orders` is a list of dicts (walked in place), or the JSON text of one (str or bytes:
/// parsed and checked with the GIL released).
#[pyfunction]
#[pyo3(signature = (orders, *, raise_errors = false, require_type = true))]
fn validate_bulk_order_update<'py>(
    py: Python<'py>,
    orders: &Bound<'py, PyAny>,
    raise_errors: bool,
    require_type: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = typed(require_type);
    let json: Option<Vec<u8>> = if let Ok(s) = orders.cast::<PyString>() {
        Some(text(s).into_owned().into_bytes())
    } else if let Ok(b) = orders.cast::<pyo3::types::PyBytes>() {
        Some(b.as_bytes().to_vec())
    } else {
        None
    };
    let report = match json {
        Some(bytes) => {
            py.detach(
                move || match serde_json::from_slice::<serde_json::Value>(&bytes) {
                    Ok(value) => validate::validate_bulk_order_update_with(&value, &opts),
                    Err(e) => vec![(
                        "orders".to_owned(),
                        vec![format!("orders: is not valid JSON ({e})")],
                    )],
                },
            )
        }
        None => validate::validate_bulk_order_update_with(PyDoc::new(orders), &opts),
    };
    if raise_errors && !report.is_empty() {
        let flat = report
            .iter()
            .flat_map(|(id, errors)| errors.iter().map(move |e| format!("{id}: {e}")))
            .collect();
        return Err(to_py(Error::validation(flat)));
    }
    let out = PyDict::new(py);
    for (id, errors) in report {
        out.set_item(id, errors)?;
    }
    Ok(out)
}

/// Check an offer for `product_offer/save` or `offer/save` (`mode`: "auto", "create",
/// "update", "attach", "light").
#[pyfunction]
#[pyo3(signature = (offer, *, mode = None, now = None, platform = None, raise_errors = false))]
fn validate_offer(
    py: Python<'_>,
    offer: &Bound<'_, PyAny>,
    mode: Option<&Bound<'_, PyAny>>,
    now: Option<&Bound<'_, PyAny>>,
    platform: Option<&Bound<'_, PyAny>>,
    raise_errors: bool,
) -> PyResult<Vec<String>> {
    let default_platform = PyString::new(py, "emag_ro").into_any();
    let mode = match mode.filter(|m| !m.is_none()) {
        None => Ok(OfferMode::Auto),
        Some(m) => match m.cast::<PyString>() {
            Ok(s) => text(s)
                .parse::<OfferMode>()
                .map_err(|e| param_error("mode", e.message())),
            Err(_) => Err(param_error(
                "mode",
                format!(
                    "must be \"auto\", \"create\", \"update\", \"attach\" or \"light\", got {}",
                    describe(m)
                ),
            )),
        },
    };
    let errors = match (mode, options(now, platform.unwrap_or(&default_platform))) {
        (Ok(mode), Ok(opts)) => validate::validate_offer_with(PyDoc::new(offer), &{
            let mut o = opts;
            o.offer_mode = mode;
            o
        }),
        (Err(e), _) | (_, Err(e)) => e,
    };
    finish(errors, raise_errors)
}

/// Check an AWB for `awb/save`; `now` judges the return-AWB date (default: now).
#[pyfunction]
#[pyo3(signature = (awb, *, now = None, platform = None, raise_errors = false))]
fn validate_awb(
    py: Python<'_>,
    awb: &Bound<'_, PyAny>,
    now: Option<&Bound<'_, PyAny>>,
    platform: Option<&Bound<'_, PyAny>>,
    raise_errors: bool,
) -> PyResult<Vec<String>> {
    let default_platform = PyString::new(py, "emag_ro").into_any();
    let errors = match options(now, platform.unwrap_or(&default_platform)) {
        Ok(opts) => validate::validate_awb_with(PyDoc::new(awb), &opts),
        Err(e) => e,
    };
    finish(errors, raise_errors)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(validate_order_data, m)?)?;
    m.add_function(wrap_pyfunction!(validate_order_for_update, m)?)?;
    m.add_function(wrap_pyfunction!(validate_order_cancellation, m)?)?;
    m.add_function(wrap_pyfunction!(validate_bulk_order_update, m)?)?;
    m.add_function(wrap_pyfunction!(validate_offer, m)?)?;
    m.add_function(wrap_pyfunction!(validate_awb, m)?)?;
    Ok(())
}
