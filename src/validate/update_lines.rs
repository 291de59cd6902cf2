//! The product lines of an `order/save` (spec §10.10, §10.11): each sent line checked, a new
//! line for what it needs, a known line against the current order's, and what the lines do
//! together (changed, reduced, increased) for the status rules of `update.rs`.

use super::check::{self, Optional, Required};
use super::doc::{Doc, Fields, Key};
use super::values::{self, show};
use super::{FieldPath, Report};

/// What every sent line is checked for.
const LINE: Fields<4> = Fields::new([Key::Id, Key::Quantity, Key::SalePrice, Key::Status]);

/// What a new line, or a line compared with the current order, also needs (read only then:
/// values not needed are not touched, which matters for large bulks of Python objects).
const LINE_MORE: Fields<4> = Fields::new([
    Key::ProductId,
    Key::Name,
    Key::PartNumber,
    Key::ExtPartNumber,
]);

/// A line of the current order.
const CURRENT_LINE: Fields<8> = Fields::new([
    Key::Id,
    Key::ProductId,
    Key::Quantity,
    Key::SalePrice,
    Key::Status,
    Key::Name,
    Key::PartNumber,
    Key::ExtPartNumber,
]);

/// Tolerance when comparing prices (eMAG keeps 4 decimals).
const PRICE_EPSILON: f64 = 0.00005;

/// A line of the current order and whether the sent order names it.
pub(super) struct CurrentLine<D> {
    id: i64,
    fields: [Option<D>; 8],
    sent: bool,
}

impl<D: Doc> CurrentLine<D> {
    /// A line of the current order as read (`None` without a usable id).
    pub(super) fn read(line: &D) -> Option<Self> {
        let fields = line.gather(&CURRENT_LINE);
        let id = fields[0].as_ref().and_then(values::int)?;
        Some(CurrentLine {
            id,
            fields,
            sent: false,
        })
    }
}

/// Line ids seen so far: a small inline buffer, a vector beyond it.
struct SeenIds {
    small: [i64; 16],
    n: usize,
    more: Vec<i64>,
}

impl SeenIds {
    fn new() -> Self {
        SeenIds {
            small: [0; 16],
            n: 0,
            more: Vec::new(),
        }
    }

    /// `true` when `id` was not seen before.
    fn insert(&mut self, id: i64) -> bool {
        if self.small[..self.n].contains(&id) || self.more.contains(&id) {
            return false;
        }
        if self.n < self.small.len() {
            self.small[self.n] = id;
            self.n += 1;
        } else {
            self.more.push(id);
        }
        true
    }
}

/// What the sent lines do to the current ones.
#[derive(Default)]
pub(super) struct Effect {
    pub(super) changed: bool,
    pub(super) reduced: bool,
    pub(super) increased: bool,
    /// The first line reduced or removed, for messages.
    pub(super) first_reduced: Option<i64>,
}

/// Check the sent `products` line by line and return what they do to the current lines
/// (lines left out of the sent order are removed, as eMAG applies them).
pub(super) fn check_lines<D: Doc>(
    r: &mut Report,
    products_path: &FieldPath<'_>,
    products: &D,
    storno: bool,
    mut cur_lines: Option<&mut Vec<CurrentLine<D>>>,
) -> Effect {
    let mut effect = Effect::default();
    let mut seen = SeenIds::new();
    check::each_object(r, products_path, products, |r, ip, _, line| {
        let ctx = LineContext {
            storno,
            seen: &mut seen,
            effect: &mut effect,
        };
        check_line(r, ip, &line, ctx, cur_lines.as_deref_mut());
    });
    for line in cur_lines.into_iter().flatten().filter(|l| !l.sent) {
        let status = line.fields[4].as_ref().and_then(values::int).unwrap_or(1);
        let qty = line.fields[2].as_ref().and_then(values::int).unwrap_or(0);
        if status == 1 && qty > 0 {
            effect.changed = true;
            effect.reduced = true;
            effect.first_reduced.get_or_insert(line.id);
        }
    }
    effect
}

/// What checking one line shares with the others.
struct LineContext<'a> {
    storno: bool,
    seen: &'a mut SeenIds,
    effect: &'a mut Effect,
}

/// What a sent line says, read leniently (each problem reported once).
struct SentLine {
    id: Option<i64>,
    qty: Option<i64>,
    qty_sent: bool,
    status: Option<i64>,
    price: Option<f64>,
    price_sent: bool,
}

/// Read a sent line's own fields; `None` when its id is not a line id (nothing more can be
/// said of it).
fn read_line<D: Doc>(r: &mut Report, ip: &FieldPath<'_>, line: &D) -> Option<SentLine> {
    let [id, quantity, sale_price, status] = line.gather(&LINE);
    let id = match values::present(id) {
        None => None,
        Some(v) => match values::int(&v) {
            Some(i) if i >= 1 => Some(i),
            _ => {
                r.push(
                    &ip.key("id"),
                    format_args!(
                        "must be a positive integer (the eMAG line id), got {}",
                        show(&v)
                    ),
                );
                return None;
            }
        },
    };
    let qty_path = ip.key("quantity");
    let qty_sent = quantity.as_ref().is_some_and(|v| !values::is_null(v));
    let qty = match values::present(quantity) {
        None => None,
        Some(v) => match values::int(&v) {
            Some(q) if q >= 0 => Some(q),
            Some(q) => {
                r.push(
                    &qty_path,
                    format_args!("must be > 0, got {q} (never negative)"),
                );
                None
            }
            None => {
                r.push(
                    &qty_path,
                    format_args!("must be an integer > 0, got {}", show(&v)),
                );
                None
            }
        },
    };
    let status = check::int_in(
        r,
        &ip.key("status"),
        status,
        Optional,
        |s| s == 0 || s == 1,
        "0 or 1 (0 cancelled, 1 active)",
    );
    let price_sent = sale_price.as_ref().is_some_and(|v| !values::is_null(v));
    let price = check::num_where(
        r,
        &ip.key("sale_price"),
        sale_price,
        Optional,
        |f| f >= 0.0,
        "a number >= 0",
    );
    Some(SentLine {
        id,
        qty,
        qty_sent,
        status,
        price,
        price_sent,
    })
}

fn check_line<D: Doc>(
    r: &mut Report,
    ip: &FieldPath<'_>,
    line: &D,
    ctx: LineContext<'_>,
    cur_lines: Option<&mut Vec<CurrentLine<D>>>,
) {
    let Some(sent) = read_line(r, ip, line) else {
        return;
    };
    let Some(line_id) = sent.id else {
        check_new_line(r, ip, line, &sent, ctx.storno);
        ctx.effect.changed = true;
        ctx.effect.increased = true;
        return;
    };
    if !ctx.seen.insert(line_id) {
        r.push(
            &ip.key("id"),
            format_args!("line {line_id} is sent more than once"),
        );
        return;
    }
    // Quantity 0 on a line sent as active is wrong whatever the current order says.
    if sent.qty == Some(0) && sent.status == Some(1) && !ctx.storno {
        r.push(&ip.key("quantity"), zero_message());
    }
    let Some(cur_lines) = cur_lines else { return };
    let Some(cur) = cur_lines.iter_mut().find(|l| l.id == line_id) else {
        r.push(
            &ip.key("id"),
            format_args!(
                "line {line_id} is not a line of this order (the current order has no such line)"
            ),
        );
        return;
    };
    cur.sent = true;
    compare_with_current(r, ip, line, &sent, cur);
    add_effect(ctx.effect, line_id, &sent, cur);
}

/// A new line: product_id, name, sale_price and a quantity >= 1 (spec §10.10).
fn check_new_line<D: Doc>(
    r: &mut Report,
    ip: &FieldPath<'_>,
    line: &D,
    sent: &SentLine,
    storno: bool,
) {
    let [product_id, name, _, _] = line.gather(&LINE_MORE);
    check::int_range(r, &ip.key("product_id"), product_id, 1, i64::MAX, Required);
    match values::present(name) {
        Some(n) if values::has_text(&n) => {}
        Some(n) => r.push(
            &ip.key("name"),
            format_args!("must be a non-empty text, got {}", show(&n)),
        ),
        None => r.push(
            &ip.key("name"),
            "is required for a new line (a line without id)",
        ),
    }
    if !sent.price_sent {
        r.push(
            &ip.key("sale_price"),
            "is required for a new line (a line without id)",
        );
    }
    let qty_path = ip.key("quantity");
    if !sent.qty_sent {
        r.push(&qty_path, "is required for a new line (an integer >= 1)");
    } else if sent.qty == Some(0) {
        r.push(
            &qty_path,
            "must be > 0, got 0 (a new line needs a quantity of at least 1)",
        );
    }
    if storno {
        r.push(ip, "a partial return (is_storno) cannot add lines");
    }
}

/// What a known line may not change: its product, part numbers and price.
fn compare_with_current<D: Doc>(
    r: &mut Report,
    ip: &FieldPath<'_>,
    line: &D,
    sent: &SentLine,
    cur: &CurrentLine<D>,
) {
    let [product_id, _, part_number, ext_part_number] = line.gather(&LINE_MORE);
    let [_, cur_product_id, _, cur_price, _, _, cur_part_number, cur_ext] = &cur.fields;
    for (key, sent, old) in [
        ("product_id", product_id, cur_product_id),
        ("part_number", part_number, cur_part_number),
        ("ext_part_number", ext_part_number, cur_ext),
    ] {
        if let (Some(a), Some(b)) = (values::present(sent), values::present(old.clone())) {
            if !same_scalar(&a, &b) {
                r.push(
                    &ip.key(key),
                    format_args!(
                        "cannot be changed (the line has {}), got {}",
                        show(&b),
                        show(&a)
                    ),
                );
            }
        }
    }
    if let (Some(new), Some(old)) = (sent.price, cur_price.as_ref().and_then(values::num)) {
        if (new - old).abs() > PRICE_EPSILON {
            r.push(
                &ip.key("sale_price"),
                format_args!("product prices cannot be changed (the line has {old}), got {new}"),
            );
        }
    }
}

/// What a known line's new quantity and status do: its active quantity lowered or raised.
fn add_effect<D: Doc>(effect: &mut Effect, line_id: i64, sent: &SentLine, cur: &CurrentLine<D>) {
    let [_, _, cur_qty, _, cur_status, _, _, _] = &cur.fields;
    let old_qty = cur_qty.as_ref().and_then(values::int).unwrap_or(0);
    let old_status = cur_status.as_ref().and_then(values::int).unwrap_or(1);
    let new_qty = sent.qty.unwrap_or(old_qty);
    let new_status = if new_qty == 0 {
        0
    } else {
        sent.status.unwrap_or(old_status)
    };
    let old_active = if old_status == 1 { old_qty } else { 0 };
    let new_active = if new_status == 1 { new_qty } else { 0 };
    if new_active < old_active {
        effect.reduced = true;
        effect.first_reduced.get_or_insert(line_id);
    }
    if new_active > old_active {
        effect.increased = true;
    }
    if new_qty != old_qty || new_status != old_status {
        effect.changed = true;
    }
}

fn zero_message() -> &'static str {
    "must be > 0, got 0 (0 only in a partial return with is_storno; to remove a line send status 0 or leave it out)"
}

/// Two scalars are the same value: equal integers, or equal trimmed texts.
fn same_scalar<D: Doc>(a: &D, b: &D) -> bool {
    if let (Some(x), Some(y)) = (values::int(a), values::int(b)) {
        return x == y;
    }
    let text = |v: &D| v.with_str(|s| s.trim().to_owned());
    match (text(a), text(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}
