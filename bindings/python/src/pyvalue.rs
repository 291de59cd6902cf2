//! Python value -> `serde_json::Value`, for data the client sends.
//!
//! Bounded like `json.dumps` is safe: nesting deeper than the core's
//! [`MAX_JSON_DEPTH`](magflow_emag::validate::request_guards::MAX_JSON_DEPTH) and reference cycles
//! are refused with `InvalidArgumentError` naming the path, instead of recursing until the
//! native stack overflows (which killed the interpreter with SIGSEGV). Accepted: `None`,
//! `bool`, `int` (64-bit), finite `float`, `str`, dicts and other mappings with `str` (or
//! `int`) keys, lists, tuples and other sequences.

use magflow_emag::validate::request_guards::MAX_JSON_DEPTH;
use magflow_emag::Error;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PySequence, PyString, PyTuple,
};
use serde_json::{Map, Number, Value};

use crate::errors::to_py;

/// Convert `obj` to JSON; `what` names the argument in error messages.
pub fn to_value(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Value> {
    let mut path = Vec::new();
    Converter {
        what,
        path: &mut path,
    }
    .convert(obj, 0)
}

struct Converter<'a> {
    what: &'a str,
    /// The containers being converted, outermost first (their addresses): a container met
    /// again inside itself is a cycle.
    path: &'a mut Vec<usize>,
}

impl Converter<'_> {
    fn fail(&self, message: String) -> PyErr {
        to_py(Error::invalid_argument(format!("{}: {message}", self.what)))
    }

    fn enter(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
        if depth >= MAX_JSON_DEPTH {
            return Err(self.fail(format!(
                "nests deeper than {MAX_JSON_DEPTH} levels of lists and dicts \
                 (or contains a reference cycle)"
            )));
        }
        let address = obj.as_ptr() as usize;
        if self.path.contains(&address) {
            return Err(self.fail(
                "contains a reference cycle (a dict or list inside itself); JSON cannot hold it"
                    .to_owned(),
            ));
        }
        self.path.push(address);
        Ok(())
    }

    /// A list, tuple or other sequence, item by item.
    fn array(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
        self.enter(obj, depth)?;
        let mut items = Vec::new();
        for item in obj.try_iter()? {
            items.push(self.convert(&item?, depth + 1)?);
        }
        self.path.pop();
        Ok(Value::Array(items))
    }

    fn convert(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
        if obj.is_none() {
            return Ok(Value::Null);
        }
        if let Ok(b) = obj.downcast::<PyBool>() {
            return Ok(Value::Bool(b.is_true()));
        }
        if obj.is_instance_of::<PyInt>() {
            return if let Ok(i) = obj.extract::<i64>() {
                Ok(Value::from(i))
            } else if let Ok(u) = obj.extract::<u64>() {
                Ok(Value::from(u))
            } else {
                Err(self.fail(format!("the integer {obj} does not fit in 64 bits")))
            };
        }
        if let Ok(f) = obj.downcast::<PyFloat>() {
            let v = f.value();
            return Number::from_f64(v).map(Value::Number).ok_or_else(|| {
                self.fail(format!("{v} is not a finite number; JSON cannot hold it"))
            });
        }
        if let Ok(s) = obj.downcast::<PyString>() {
            return Ok(Value::String(s.to_cow()?.into_owned()));
        }
        if let Ok(dict) = obj.downcast::<PyDict>() {
            self.enter(obj, depth)?;
            let mut map = Map::new();
            for (k, v) in dict.iter() {
                let key = self.key(&k)?;
                map.insert(key, self.convert(&v, depth + 1)?);
            }
            self.path.pop();
            return Ok(Value::Object(map));
        }
        if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
            return self.array(obj, depth);
        }
        if let Ok(mapping) = obj.downcast::<PyMapping>() {
            self.enter(obj, depth)?;
            let mut map = Map::new();
            for item in mapping.items()?.iter() {
                let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
                let key = self.key(&k)?;
                map.insert(key, self.convert(&v, depth + 1)?);
            }
            self.path.pop();
            return Ok(Value::Object(map));
        }
        if obj.downcast::<PySequence>().is_ok() && !obj.hasattr("decode")? {
            return self.array(obj, depth);
        }
        Err(self.fail(format!(
            "a {} cannot be sent as JSON (use dict, list, str, int, float, bool or None)",
            obj.get_type().name()?
        )))
    }

    fn key(&self, k: &Bound<'_, PyAny>) -> PyResult<String> {
        if let Ok(s) = k.downcast::<PyString>() {
            return Ok(s.to_cow()?.into_owned());
        }
        if k.is_instance_of::<PyInt>() && !k.is_instance_of::<PyBool>() {
            return Ok(k.str()?.to_cow()?.into_owned());
        }
        Err(self.fail(format!(
            "dict keys must be str or int, got a {}",
            k.get_type().name()?
        )))
    }
}
