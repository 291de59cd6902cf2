//! Arguments that PyO3 would reject with its own wording (a bare `OverflowError` naming no
//! argument for `-1` or `2**70` given to an unsigned parameter, "Can't extract `str` to
//! `Vec`" for a string given where a list is expected) are extracted here instead, so that
//! every such mistake is an `InvalidArgumentError` (an `EmagApiError` and a `ValueError`)
//! naming the argument and what it accepts.
//!
//! Use: `#[pyo3(from_py_with = args::order_id)] order_id: u64`. Each function below is
//! generic over the parameter's type ([`Arg`]) and only supplies the argument's name.

use magflow_emag::Error;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyString};

use crate::errors::to_py;

fn invalid(name: &str, accepts: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    let type_name = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned());
    let shown = obj
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| type_name.clone());
    let mut shown: String = shown.chars().take(60).collect();
    if shown.len() >= 60 {
        shown.push('…');
    }
    to_py(Error::invalid_argument(format!(
        "{name}: must be {accepts}, got {type_name} {shown}"
    )))
}

/// A parameter type extracted with a named, typed error.
pub trait Arg: Sized {
    /// Extract `obj` for the argument `name`.
    fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self>;
}

macro_rules! int_arg {
    ($($ty:ty),*) => {$(
        impl Arg for $ty {
            fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
                int_value::<$ty>(obj, name)
            }
        }
    )*};
}

fn int_value<T>(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<T>
where
    T: TryFrom<i128> + Bounded,
{
    let accepts = format!("an integer from {} to {}", T::MIN_TEXT, T::max_text());
    if obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyString>() {
        return Err(invalid(name, &accepts, obj));
    }
    if !obj.is_instance_of::<PyInt>() && !obj.hasattr("__index__").unwrap_or(false) {
        return Err(invalid(name, &accepts, obj));
    }
    match obj.extract::<i128>() {
        Ok(v) => T::try_from(v).map_err(|_| invalid(name, &accepts, obj)),
        Err(_) => Err(invalid(name, &accepts, obj)),
    }
}

/// The bounds of an integer type, for messages.
pub trait Bounded {
    /// The lowest value, as text.
    const MIN_TEXT: &'static str;
    /// The highest value, as text.
    fn max_text() -> String;
}

macro_rules! bounded {
    ($($ty:ty => $min:literal),*) => {$(
        impl Bounded for $ty {
            const MIN_TEXT: &'static str = $min;
            fn max_text() -> String {
                <$ty>::MAX.to_string()
            }
        }
    )*};
}

bounded!(u8 => "0", u16 => "0", u32 => "0", u64 => "0", usize => "0", i32 => "-2147483648", i64 => "-9223372036854775808");

int_arg!(u8, u16, u32, u64, usize, i32, i64);

impl Arg for f64 {
    fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() || obj.is_instance_of::<PyString>() {
            return Err(invalid(name, "a number", obj));
        }
        obj.extract::<f64>()
            .map_err(|_| invalid(name, "a number", obj))
    }
}

impl Arg for String {
    fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
        obj.downcast::<PyString>()
            .map_err(|_| invalid(name, "a string", obj))?
            .to_cow()
            .map(|c| c.into_owned())
    }
}

impl<T: Arg> Arg for Vec<T> {
    fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
        // A string is iterable, but "orders" is not a list of names.
        if obj.is_instance_of::<PyString>() || obj.is_instance_of::<pyo3::types::PyDict>() {
            return Err(invalid(name, "a list", obj));
        }
        let items = obj.try_iter().map_err(|_| invalid(name, "a list", obj))?;
        let mut out = Vec::new();
        for (i, item) in items.enumerate() {
            out.push(T::extract_arg(&item?, &format!("{name}[{i}]"))?);
        }
        Ok(out)
    }
}

impl<T: Arg> Arg for Option<T> {
    fn extract_arg(obj: &Bound<'_, PyAny>, name: &str) -> PyResult<Self> {
        if obj.is_none() {
            Ok(None)
        } else {
            T::extract_arg(obj, name).map(Some)
        }
    }
}

macro_rules! named {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("The argument `", stringify!($name), "`.")]
        pub fn $name<T: Arg>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
            T::extract_arg(obj, stringify!($name))
        }
    )*};
}

/// The argument `type` (a Rust keyword).
pub fn r#type<T: Arg>(obj: &Bound<'_, PyAny>) -> PyResult<T> {
    T::extract_arg(obj, "type")
}

named!(
    order_id,
    offer_id,
    product_id,
    emag_id,
    value,
    code,
    from_status,
    to_status,
    limit,
    hours,
    keep_min,
    include,
    order_types,
    eans,
    max_retries,
    retry,
    orders,
    offers,
    seed,
    port,
    history_days,
    return_period_days,
    fault_retry_after_seconds,
    fault_seed,
    fault_kinds,
    kinds,
    count,
    orders_per_second,
    orders_per_minute,
    other_per_second,
    other_per_minute,
    window_seconds,
    slot_seconds,
    sync_window_seconds,
    history_limit,
    min_samples,
    items,
    callback_kinds,
    reason,
);
