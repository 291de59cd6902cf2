//! A bulk `order/save`: every order checked as an update without its current state, plus
//! orders sent more than once; errors keyed by order id.

use hashbrown::HashMap;

use super::doc::{Doc, Key, Kind};
use super::values::{self, show};
use super::{update, FieldPath, Options, Report, MAX_ORDER_ID};

pub(crate) fn check_bulk<D: Doc>(orders: &D, options: &Options) -> Vec<(String, Vec<String>)> {
    if orders.kind() != Kind::List {
        let mut r = Report::new();
        r.push(
            &FieldPath::named("orders"),
            format_args!("must be a list of orders, got {}", show(orders)),
        );
        return vec![("orders".to_owned(), r.into_errors())];
    }
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut slot: HashMap<String, usize> = HashMap::new();
    // order id -> position of its first occurrence
    let mut first: HashMap<i64, usize> = HashMap::with_capacity(orders.list_len());
    let mut add =
        |out: &mut Vec<(String, Vec<String>)>, key: String, mut errors: Vec<String>| match slot
            .get(&key)
        {
            Some(&at) => out[at].1.append(&mut errors),
            None => {
                slot.insert(key.clone(), out.len());
                out.push((key, errors));
            }
        };
    for i in 0..orders.list_len() {
        let Some(order) = orders.item(i) else {
            continue;
        };
        let mut r = Report::new();
        update::check_update(&mut r, &order, None, options);
        let id = order
            .get(Key::Id)
            .as_ref()
            .and_then(values::int)
            .filter(|id| (1..=MAX_ORDER_ID).contains(id));
        if let Some(id) = id {
            if first.insert(id, i).is_some() {
                r.push(
                    &FieldPath::ROOT.key("id"),
                    format_args!("order {id} is sent more than once in this bulk"),
                );
            }
        }
        if r.is_empty() {
            continue;
        }
        let key = match id {
            Some(id) => id.to_string(),
            None => format!("[{i}]"),
        };
        add(&mut out, key, r.into_errors());
    }
    out
}
