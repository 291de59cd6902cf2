//! The documented wire format of eMAG's resource/action routes: an
//! `application/x-www-form-urlencoded` body with one top-level field `data`, nested values in
//! PHP bracket notation, exactly as PHP's `http_build_query(['data' => $data])` writes it
//! (spec §3.2):
//!
//! - maps -> `data[key]=value`; lists -> `data[0][key]=...` (indices from 0);
//! - brackets percent-encoded, spaces as `+`;
//! - `true`/`false` -> `1`/`0`; `null` members and empty arrays/objects are omitted;
//! - every value reaches the server as a string.
//!
//! [`decode`] is the server side (used by the simulator): it rebuilds the nested value, every
//! leaf a string, and a map whose keys are exactly `0..n` becomes a list.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Encode `data` as the form body `data[...]=...&...`.
pub fn encode(data: &Value) -> String {
    let mut out = String::new();
    let mut prefix = String::from("data");
    encode_into(&mut out, &mut prefix, data);
    out
}

/// The number of input elements (`key=value` pairs) the form body of `data` has: what PHP's
/// `max_input_vars` (4000 on eMAG) counts.
pub fn count_elements(data: &Value) -> usize {
    match data {
        Value::Null => 0,
        Value::Array(items) => items.iter().map(count_elements).sum(),
        Value::Object(map) => map.values().map(count_elements).sum(),
        _ => 1,
    }
}

fn encode_into(out: &mut String, prefix: &mut String, value: &Value) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = prefix.len();
                prefix.push('[');
                prefix.push_str(&i.to_string());
                prefix.push(']');
                encode_into(out, prefix, item);
                prefix.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = prefix.len();
                prefix.push('[');
                prefix.push_str(key);
                prefix.push(']');
                encode_into(out, prefix, item);
                prefix.truncate(len);
            }
        }
        scalar => {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&urlencode(prefix));
            out.push('=');
            let text = match scalar {
                Value::Bool(true) => "1".to_owned(),
                Value::Bool(false) => "0".to_owned(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&urlencode(&text));
        }
    }
}

/// `application/x-www-form-urlencoded` escaping as PHP's `urlencode` does it.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xF)]));
            }
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn urldecode(s: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::invalid_argument("form body is not valid UTF-8"))
}

/// Decode a form body into the value of its `data` field (every leaf a string).
///
/// Fields other than `data` are ignored. A body without `data` gives `Value::Null`. The number
/// of elements is returned too, so a server can enforce the 4000-element limit.
pub fn decode(body: &str) -> Result<(Value, usize)> {
    let mut root = Value::Null;
    let mut elements = 0usize;
    for pair in body.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = urldecode(raw_key)?;
        let value = urldecode(raw_value)?;
        let (name, path) = split_key(&key)?;
        if name != "data" {
            continue;
        }
        elements += 1;
        insert(&mut root, &path, value)?;
    }
    Ok((lists_from_index_maps(root), elements))
}

/// `data[a][0][b]` -> ("data", ["a", "0", "b"]).
fn split_key(key: &str) -> Result<(&str, Vec<&str>)> {
    let (name, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let mut path = Vec::new();
    while let Some(stripped) = rest.strip_prefix('[') {
        let end = stripped.find(']').ok_or_else(|| {
            Error::invalid_argument(format!("unbalanced brackets in form key {key:?}"))
        })?;
        path.push(&stripped[..end]);
        rest = &stripped[end + 1..];
    }
    if !rest.is_empty() {
        return Err(Error::invalid_argument(format!(
            "malformed form key {key:?}"
        )));
    }
    Ok((name, path))
}

/// Depth guard: nested garbage must not exhaust the stack.
const MAX_DEPTH: usize = 32;

fn insert(node: &mut Value, path: &[&str], value: String) -> Result<()> {
    if path.len() > MAX_DEPTH {
        return Err(Error::invalid_argument("form key nested too deeply"));
    }
    let Some((first, rest)) = path.split_first() else {
        *node = Value::String(value);
        return Ok(());
    };
    if !node.is_object() {
        // A later key overrides a scalar written earlier, as PHP does.
        *node = Value::Object(Map::new());
    }
    let map = node
        .as_object_mut()
        .ok_or_else(|| Error::internal("form decoder: expected an object"))?;
    let key = if first.is_empty() {
        // `data[]=x` appends, PHP style.
        map.len().to_string()
    } else {
        (*first).to_owned()
    };
    let child = map.entry(key).or_insert(Value::Null);
    insert(child, rest, value)
}

fn lists_from_index_maps(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let is_list = !map.is_empty()
                && map
                    .keys()
                    .enumerate()
                    .all(|(i, k)| k.parse::<usize>().ok() == Some(i));
            if is_list {
                Value::Array(
                    map.into_iter()
                        .map(|(_, v)| lists_from_index_maps(v))
                        .collect(),
                )
            } else {
                Value::Object(
                    map.into_iter()
                        .map(|(k, v)| (k, lists_from_index_maps(v)))
                        .collect(),
                )
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_the_documented_save_example() {
        let data = json!([{"id":243409,"status":1,"sale_price":51.6477,"vat_id":1,
            "stock":[{"warehouse_id":1,"value":20}],"handling_time":[{"warehouse_id":1,"value":0}]}]);
        let body = encode(&data);
        assert_eq!(
            body,
            "data%5B0%5D%5Bid%5D=243409&data%5B0%5D%5Bstatus%5D=1&data%5B0%5D%5Bsale_price%5D=51.6477\
             &data%5B0%5D%5Bvat_id%5D=1&data%5B0%5D%5Bstock%5D%5B0%5D%5Bwarehouse_id%5D=1\
             &data%5B0%5D%5Bstock%5D%5B0%5D%5Bvalue%5D=20\
             &data%5B0%5D%5Bhandling_time%5D%5B0%5D%5Bwarehouse_id%5D=1\
             &data%5B0%5D%5Bhandling_time%5D%5B0%5D%5Bvalue%5D=0"
        );
        assert_eq!(count_elements(&data), 8);
    }

    #[test]
    fn encodes_reads_bools_nulls_spaces_and_lists() {
        let data = json!({"currentPage":1,"itemsPerPage":10,"status":[1,2],"is_complete":true,
            "name":"Ion Popescu & fiii","gone":null,"empty":[]});
        let body = encode(&data);
        assert_eq!(
            body,
            "data%5BcurrentPage%5D=1&data%5BitemsPerPage%5D=10&data%5Bstatus%5D%5B0%5D=1\
             &data%5Bstatus%5D%5B1%5D=2&data%5Bis_complete%5D=1&data%5Bname%5D=Ion+Popescu+%26+fiii"
        );
    }

    #[test]
    fn decode_inverts_encode_with_string_leaves() {
        let data =
            json!([{"id":1,"name":"Ăă ș/ț","stock":[{"warehouse_id":1,"value":20}]},{"id":2}]);
        let (decoded, n) = decode(&encode(&data)).unwrap();
        assert_eq!(
            decoded,
            json!([{"id":"1","name":"Ăă ș/ț","stock":[{"warehouse_id":"1","value":"20"}]},{"id":"2"}])
        );
        assert_eq!(n, 5);
    }

    #[test]
    fn decode_plain_brackets_and_bad_input() {
        let (v, _) =
            decode("data[currentPage]=2&data[status][]=1&data[status][]=3&other=x").unwrap();
        assert_eq!(v, json!({"currentPage":"2","status":["1","3"]}));
        assert!(decode("data[oops=1").is_err());
        assert!(decode("data[a]x=1").is_err());
        let (v, n) = decode("").unwrap();
        assert_eq!((v, n), (Value::Null, 0));
        let deep = format!("data{}=1", "[a]".repeat(100));
        assert!(decode(&deep).is_err());
        // A stray percent sign is kept, not a crash.
        let (v, _) = decode("data[x]=100%").unwrap();
        assert_eq!(v, json!({"x":"100%"}));
    }
}
