//! JSON text -> Python objects in one pass: serde_json's parser calling straight into CPython
//! (dicts, lists, str, int, float), object keys made once per call and reused, as `json.loads`
//! does. Any text this reader does not build exactly as `json.loads` would (not strict JSON:
//! `NaN`, lone surrogates; an integer too long for 64 bits, which serde_json reads as a float)
//! is handed to `json.loads` instead, so the result is always what `json.loads` gives.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// JSON text -> Python value.
pub fn loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    let keys = RefCell::new(HashMap::new());
    let mut de = serde_json::Deserializer::from_str(text);
    let built = ValueSeed { py, keys: &keys }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    match built {
        Ok(v) => Ok(v.unbind()),
        // Not strict JSON, or a value this reader would not build as json.loads does.
        Err(_) => json_loads(py, text),
    }
}

/// A JSON value -> Python value.
///
/// Scalars go through pythonize; containers are serialized and read back by [`loads`], which
/// builds large dicts faster than object-by-object conversion (measured in
/// `benches/client_py.py`).
pub fn from_value(py: Python<'_>, value: &serde_json::Value) -> PyResult<Py<PyAny>> {
    use serde_json::Value;
    match value {
        Value::Array(_) | Value::Object(_) => {
            let text = serde_json::to_string(value)
                .map_err(|e| crate::errors::to_py(magflow_emag::Error::internal(e.to_string())))?;
            loads(py, &text)
        }
        _ => Ok(pythonize::pythonize(py, value)?.unbind()),
    }
}

/// CPython's own `json.loads`.
pub fn json_loads(py: Python<'_>, text: &str) -> PyResult<Py<PyAny>> {
    static JSON_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let loads = JSON_LOADS.get_or_try_init(py, || {
        PyResult::Ok(py.import("json")?.getattr("loads")?.unbind())
    })?;
    loads.call1(py, (text,))
}

type Keys<'py> = RefCell<HashMap<String, Bound<'py, PyString>>>;

#[derive(Clone, Copy)]
struct ValueSeed<'a, 'py> {
    py: Python<'py>,
    keys: &'a Keys<'py>,
}

fn py_err<E: de::Error>(e: PyErr) -> E {
    E::custom(e)
}

impl<'de, 'py> DeserializeSeed<'de> for ValueSeed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'py> Visitor<'de> for ValueSeed<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.py.None().into_bound(self.py))
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(pyo3::types::PyBool::new(self.py, b).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(int) = v.into_pyobject(self.py);
        Ok(int.into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(int) = v.into_pyobject(self.py);
        Ok(int.into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // serde_json reads an integer beyond u64 as a float; json.loads keeps it an int.
        // Such a float is integral and at least 2^64: let json.loads read the whole text.
        if v.fract() == 0.0 && v.abs() >= 1.8e19 {
            return Err(E::custom("an integer beyond 64 bits"));
        }
        let Ok(float) = v.into_pyobject(self.py);
        Ok(float.into_any())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.py, s).into_any())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        PyList::new(self.py, items)
            .map(Bound::into_any)
            .map_err(py_err)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.py);
        while let Some(key) = map.next_key_seed(KeySeed(self))? {
            let value = map.next_value_seed(self)?;
            dict.set_item(key, value).map_err(py_err)?;
        }
        Ok(dict.into_any())
    }
}

/// An object key: one Python string per distinct key per call.
struct KeySeed<'a, 'py>(ValueSeed<'a, 'py>);

impl<'de, 'py> DeserializeSeed<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> Visitor<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        let mut keys = self.0.keys.borrow_mut();
        if let Some(k) = keys.get(s) {
            return Ok(k.clone());
        }
        let k = PyString::new(self.0.py, s);
        keys.insert(s.to_owned(), k.clone());
        Ok(k)
    }
}
