"""Validation from Python: 10,000 realistic orders (5 products each, shaped like the
simulator's) checked with ONE `validate_bulk_order_update` call, beside a straightforward
pure-Python validator doing the same checks (written below), measured in the same run.
Also: `validate_order_data` called once per order, beside a pure-Python version of it.

Goal: the bulk call >= 10x faster than the pure-Python validator. Also measured: the same 200
orders kept in cache (how much of each figure is memory rather than checking), the same check
page by page (100 orders just decoded, the way a sync reads them). Prints medians of several
rounds (MF_BENCH_ROUNDS, default 5) and the ratios. Run against a release wheel (make bench).
"""

from __future__ import annotations

import gc
import json
import os
import re
import statistics
import time

import magflow_emag as m

N = 10_000
ROUNDS = int(os.environ.get("MF_BENCH_ROUNDS", "5"))


def line(order_no: int, i: int) -> dict:
    price = f"{19.99 + 37.5 * i:.4f}"
    split = []
    if i == 0 and order_no % 5 == 0:
        split = [{"voucher_id": 2_000_000 + order_no, "value": "-8.2645", "vat_value": "-1.7355", "vat": "0.21",
                  "offered_by": "seller", "voucher_name": "Voucher eMAG 10 lei"}]
    return {
        "id": 171_958_970 + order_no * 10 + i, "product_id": 1000 + i, "mkt_id": 10_001_000 + i,
        "name": f"Casti audio wireless model {i}", "status": 1, "part_number": f"WH-{i}XM5",
        "ext_part_number": f"WH-{i}XM5", "part_number_key": f"D5DD9BB{i}M", "currency": "RON",
        "vat": "0.2100", "quantity": 1 + i % 3, "initial_qty": 1 + i % 3, "storno_qty": 0,
        "sale_price": price, "original_price": price, "created": "2025-08-14 10:21:07",
        "modified": "2025-08-14 10:21:07", "details": [], "recycle_warranties": [], "serial_numbers": "",
        "product_voucher_split": split,
    }


def make_order(n: int) -> dict:
    card = n % 3 == 0
    return {
        "id": 312_456_789 + n, "status": 2 + n % 3, "is_complete": 1, "type": 3,
        "payment_mode": "ONLINE CARD" if card else "COD", "payment_mode_id": 3 if card else 1,
        "detailed_payment_method": "Card online", "delivery_mode": "courier",
        "details": {"locker_id": None, "locker_name": None, "locker_delivery_eligible": 1,
                    "courier_external_office_id": None},
        "date": "2025-08-14 10:21:07", "modified": "2025-08-14 15:02:44", "payment_status": 1 if card else 0,
        "cashed_co": 512.37 if card else 0, "cashed_cod": 0, "shipping_tax": "0.00",
        "shipping_tax_voucher_split": [],
        "customer": {
            "id": 1_834_221_907, "name": "Ioana Constantinescu",
            "email": "7f1c2b9e0d4a4c1fa8b3e2d1c0b9a8f7@marketplace.emag.ro", "company": "Ioana Constantinescu",
            "gender": "F", "code": None, "registration_number": None, "bank": None, "iban": None, "fax": None,
            "legal_entity": 0, "is_vat_payer": 0, "phone_1": "0722123456", "phone_2": "", "phone_3": "",
            "billing_name": "Ioana Constantinescu", "billing_phone": "0722123456", "billing_country": "RO",
            "billing_suburb": "Cluj", "billing_city": "Cluj-Napoca", "billing_locality_id": "4537",
            "billing_street": "Strada Memorandumului nr. 28, bl. 4, ap. 12", "billing_postal_code": "400114",
            "shipping_country": "RO", "shipping_suburb": "Cluj", "shipping_city": "Cluj-Napoca",
            "shipping_locality_id": "4537", "shipping_street": "Strada Memorandumului nr. 28, bl. 4, ap. 12",
            "shipping_postal_code": "400114", "shipping_contact": "Ioana Constantinescu",
            "shipping_phone": "0722123456", "created": "2025-08-14 10:21:07", "modified": "2025-08-14 10:21:07",
        },
        "products": [line(n, i) for i in range(5)], "attachments": [],
        "vouchers": [{"voucher_id": 2_000_000 + n, "modified": "2025-08-14 10:21:07",
                      "created": "2025-08-14 10:21:07", "status": 1, "sale_price": "-8.2645",
                      "sale_price_vat": "-1.7355", "voucher_name": "Voucher eMAG 10 lei", "vat": "0.21",
                      "issue_date": "2025-08-14"}] if n % 5 == 0 else [],
        "is_storno": False, "reason_cancellation": None, "enforced_vendor_courier_accounts": None,
        "emag_club": 1, "weekend_delivery": 0, "maximum_date_for_shipment": "2025-08-16 10:21:07",
    }


# ---- the pure-Python baseline: the same checks, written plainly --------------------------------

VALID_REASONS = {1, 2, 3, *range(15, 44)}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]


def py_int(v):
    """An int, an integral float, or a string holding one (as eMAG sends them)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return int(v) if v.is_integer() else None
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            try:
                f = float(v)
            except ValueError:
                return None
            return int(f) if f.is_integer() else None
    return None


def py_num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            return None
        return f if f == f and f not in (float("inf"), float("-inf")) else None
    return None


def py_flag(v):
    if isinstance(v, bool):
        return v
    i = py_int(v)
    if i in (0, 1):
        return bool(i)
    if isinstance(v, str) and v.strip() in ("true", "false", ""):
        return v.strip() == "true"
    return None


def py_datetime_ok(s) -> bool:
    if not isinstance(s, str) or not DATE_RE.match(s):
        return False
    y, mo, d = int(s[0:4]), int(s[5:7]), int(s[8:10])
    h, mi, se = int(s[11:13]), int(s[14:16]), int(s[17:19])
    if not 1 <= mo <= 12:
        return False
    days = MONTH_DAYS[mo - 1] + (1 if mo == 2 and (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 0)
    return 1 <= d <= days and h < 24 and mi < 60 and se < 60


def py_email_ok(s) -> bool:
    if not isinstance(s, str) or not 3 <= len(s) <= 254 or s.count("@") != 1:
        return False
    if any(c.isspace() or c in '<>(),;:"[]\\' for c in s):
        return False
    local, domain = s.split("@")
    return (0 < len(local) <= 64 and not local.startswith(".") and not local.endswith(".")
            and "." in domain and domain[0] not in ".-" and domain[-1] not in ".-" and ".." not in domain)


def py_validate_update(order) -> list:
    """validate_order_for_update without a current order, in plain Python."""
    e = []
    if not isinstance(order, dict):
        return [f"order: must be an object, got {order!r}"]
    oid = py_int(order.get("id"))
    if order.get("id") is None:
        e.append("id: is required")
    elif oid is None or not 1 <= oid <= 4294967295:
        e.append(f"id: must be an integer from 1 to 4294967295, got {order.get('id')!r}")
    t = order.get("type")
    if t is None:
        e.append("type: is required")
    elif py_int(t) not in (2, 3):
        e.append(f"type: must be 3, got {t!r}")
    elif py_int(t) == 2:
        e.append("type: orders of type 2 are never saved")
    s = order.get("status")
    status = py_int(s)
    if s is None:
        e.append("status: is required")
    elif status is None or not 0 <= status <= 5:
        e.append(f"status: must be an integer from 0 to 5, got {s!r}")
    elif status == 1:
        e.append("status: an order is never saved in status 1")
    reason = order.get("reason_cancellation")
    if reason is None:
        reason = order.get("cancellation_reason")
    sent = reason is not None and not (isinstance(reason, str) and not reason.strip())
    if sent and py_int(reason) not in VALID_REASONS:
        e.append(f"reason_cancellation: {reason!r} is not a valid cancellation reason")
    if status == 0 and not sent:
        e.append("reason_cancellation: is required when cancelling")
    storno = False
    if order.get("is_storno") is not None:
        f = py_flag(order["is_storno"])
        if f is None:
            e.append("is_storno: must be true or false")
        storno = bool(f)
    if storno and status is not None and status != 4:
        e.append("is_storno: a partial return keeps the order in status 4")
    pm = order.get("payment_mode_id")
    if pm is not None and py_int(pm) not in (1, 2, 3):
        e.append("payment_mode_id: must be 1, 2 or 3")
    products = order.get("products")
    if products is None:
        if storno:
            e.append("is_storno: needs the product lines")
        return e
    if not isinstance(products, (list, tuple)):
        e.append("products: must be a list of product lines")
        return e
    seen = set()
    for i, ln in enumerate(products):
        if not isinstance(ln, dict):
            e.append(f"products[{i}]: must be an object")
            continue
        lid = ln.get("id")
        if lid is not None:
            lid = py_int(lid)
            if lid is None or lid < 1:
                e.append(f"products[{i}].id: must be a positive integer")
                continue
        q = ln.get("quantity")
        qty = None
        if q is not None:
            qty = py_int(q)
            if qty is None:
                e.append(f"products[{i}].quantity: must be an integer > 0")
            elif qty < 0:
                e.append(f"products[{i}].quantity: must be > 0, got {qty}")
                qty = None
        st = ln.get("status")
        line_status = None
        if st is not None:
            line_status = py_int(st)
            if line_status not in (0, 1):
                e.append(f"products[{i}].status: must be 0 or 1")
                line_status = None
        price = ln.get("sale_price")
        if price is not None:
            p = py_num(price)
            if p is None or p < 0:
                e.append(f"products[{i}].sale_price: must be a number >= 0")
        if lid is None:
            pid = py_int(ln.get("product_id"))
            if pid is None or pid < 1:
                e.append(f"products[{i}].product_id: is required for a new line")
            name = ln.get("name")
            if not (isinstance(name, int) or (isinstance(name, str) and name.strip())):
                e.append(f"products[{i}].name: is required for a new line")
            if price is None:
                e.append(f"products[{i}].sale_price: is required for a new line")
            if q is None:
                e.append(f"products[{i}].quantity: is required for a new line")
            elif qty == 0:
                e.append(f"products[{i}].quantity: must be > 0, got 0")
            if storno:
                e.append(f"products[{i}]: a partial return cannot add lines")
            continue
        if lid in seen:
            e.append(f"products[{i}].id: line {lid} is sent more than once")
            continue
        seen.add(lid)
        if qty == 0 and line_status == 1 and not storno:
            e.append(f"products[{i}].quantity: must be > 0, got 0")
    return e


def py_validate_bulk_order_update(orders) -> dict:
    if not isinstance(orders, list):
        return {"orders": ["orders: must be a list of orders"]}
    out: dict = {}
    first = set()
    for i, order in enumerate(orders):
        errors = py_validate_update(order)
        oid = py_int(order.get("id")) if isinstance(order, dict) else None
        if oid is not None and not 1 <= oid <= 4294967295:
            oid = None
        if oid is not None:
            if oid in first:
                errors.append(f"id: order {oid} is sent more than once in this bulk")
            first.add(oid)
        if errors:
            out.setdefault(str(oid) if oid is not None else f"[{i}]", []).extend(errors)
    return out


def py_validate_order_data(o) -> list:
    """validate_order_data in plain Python."""
    e = []
    if not isinstance(o, dict):
        return ["order: must be an object"]

    def rng(path, v, lo, hi, required=True):
        if v is None:
            if required:
                e.append(f"{path}: is required")
            return None
        i = py_int(v)
        if i is None or not lo <= i <= hi:
            e.append(f"{path}: must be an integer from {lo} to {hi}, got {v!r}")
            return None
        return i

    def date(path, v):
        if v is not None and not py_datetime_ok(v):
            e.append(f"{path}: must be a date in eMAG's form YYYY-mm-dd HH:ii:ss, got {v!r}")

    def negative(path, v, zero_ok):
        if v is None:
            return
        f = py_num(v)
        if f is None or not (f < 0 or (zero_ok and f == 0)):
            e.append(f"{path}: must be a negative number, got {v!r}")

    def splits(path, lst):
        if lst is None:
            return
        if not isinstance(lst, (list, tuple)):
            e.append(f"{path}: must be a list")
            return
        for j, sp in enumerate(lst):
            if not isinstance(sp, dict):
                e.append(f"{path}[{j}]: must be an object")
                continue
            rng(f"{path}[{j}].voucher_id", sp.get("voucher_id"), 1, 2**63 - 1, False)
            negative(f"{path}[{j}].value", sp.get("value"), False)
            negative(f"{path}[{j}].vat_value", sp.get("vat_value"), True)

    rng("id", o.get("id"), 1, 4294967295)
    status = rng("status", o.get("status"), 0, 5)
    pm = rng("payment_mode_id", o.get("payment_mode_id"), 1, 3)
    t = o.get("type")
    if t is None:
        e.append("type: is required")
    elif py_int(t) not in (2, 3):
        e.append(f"type: must be 2 or 3, got {t!r}")
    ps = o.get("payment_status")
    if ps is None:
        if pm == 3:
            e.append("payment_status: is required for online card payments")
    elif py_int(ps) not in (0, 1):
        e.append("payment_status: must be 0 or 1")
    date("date", o.get("date"))
    date("modified", o.get("modified"))
    storno = False
    if o.get("is_storno") is not None:
        f = py_flag(o["is_storno"])
        if f is None:
            e.append("is_storno: must be true or false")
        storno = bool(f) and status in (4, 5)
    r = o.get("reason_cancellation")
    if r is not None and not (isinstance(r, str) and not r.strip()) and py_int(r) not in VALID_REASONS:
        e.append("reason_cancellation: not a valid cancellation reason")
    ic = o.get("is_complete")
    if ic is not None and py_flag(ic) is None:
        e.append("is_complete: must be 0 or 1")
    dm = o.get("delivery_mode")
    if dm is not None and dm not in ("courier", "pickup", ""):
        e.append("delivery_mode: must be courier or pickup")
    st = o.get("shipping_tax")
    if st is not None and py_num(st) is None:
        e.append("shipping_tax: must be a number")
    c = o.get("customer")
    if c is None:
        e.append("customer: is required")
    elif not isinstance(c, dict):
        e.append("customer: must be an object")
    else:
        name = c.get("name")
        if not (isinstance(name, int) and not isinstance(name, bool) or isinstance(name, str) and name.strip()):
            e.append("customer.name: is required")
        p1, p2 = c.get("phone_1"), c.get("phone1")
        ok = lambda p: isinstance(p, int) and not isinstance(p, bool) or isinstance(p, str) and p.strip()  # noqa: E731
        if not (ok(p1) or ok(p2)):
            e.append("customer.phone_1: is required")
        em = c.get("email")
        if em is not None and em != "" and not py_email_ok(em):
            e.append("customer.email: must be a plausible email address")
    products = o.get("products")
    if products is None:
        e.append("products: is required")
    elif not isinstance(products, (list, tuple)):
        e.append("products: must be a list")
    elif not products:
        e.append("products: must not be empty")
    else:
        for i, ln in enumerate(products):
            if not isinstance(ln, dict):
                e.append(f"products[{i}]: must be an object")
                continue
            rng(f"products[{i}].id", ln.get("id"), 1, 2**63 - 1)
            rng(f"products[{i}].product_id", ln.get("product_id"), 1, 2**63 - 1, False)
            q = ln.get("quantity")
            if q is None:
                e.append(f"products[{i}].quantity: is required")
            else:
                qi = py_int(q)
                if qi is None or not (qi > 0 or (qi == 0 and storno)):
                    e.append(f"products[{i}].quantity: must be > 0, got {q!r}")
            sp = ln.get("sale_price")
            f = py_num(sp) if sp is not None else None
            if sp is None:
                e.append(f"products[{i}].sale_price: is required")
            elif f is None or f < 0:
                e.append(f"products[{i}].sale_price: must be a number >= 0")
            if ln.get("status") is None or py_int(ln.get("status")) not in (0, 1):
                e.append(f"products[{i}].status: must be 0 or 1")
            vat = ln.get("vat")
            if vat is not None:
                f = py_num(vat)
                if f is None or not 0 <= f <= 100:
                    e.append(f"products[{i}].vat: must be a number from 0 to 100")
            date(f"products[{i}].created", ln.get("created"))
            date(f"products[{i}].modified", ln.get("modified"))
            splits(f"products[{i}].product_voucher_split", ln.get("product_voucher_split"))
    vs = o.get("vouchers")
    if vs is not None:
        if not isinstance(vs, (list, tuple)):
            e.append("vouchers: must be a list")
        else:
            for j, v in enumerate(vs):
                if not isinstance(v, dict):
                    e.append(f"vouchers[{j}]: must be an object")
                    continue
                rng(f"vouchers[{j}].voucher_id", v.get("voucher_id"), 1, 2**63 - 1, False)
                negative(f"vouchers[{j}].sale_price", v.get("sale_price"), False)
                negative(f"vouchers[{j}].sale_price_vat", v.get("sale_price_vat"), True)
                date(f"vouchers[{j}].created", v.get("created"))
                date(f"vouchers[{j}].modified", v.get("modified"))
                d = v.get("issue_date")
                if d is not None and not (isinstance(d, str) and DAY_RE.match(d)):
                    e.append(f"vouchers[{j}].issue_date: must be a date YYYY-mm-dd")
    splits("shipping_tax_voucher_split", o.get("shipping_tax_voucher_split"))
    return e


# ---- the run -----------------------------------------------------------------------------------


def median_seconds(fn) -> float:
    fn()  # warm up
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def page_by_page(pages_text: list) -> tuple:
    """Each page of 100 parsed by json.loads as the sync reads it, then validated at once
    (one copy per validator, each parsed right before it is checked). Seconds (rust, python)."""
    rust = python = 0.0
    for text in pages_text:
        page = json.loads(text)
        start = time.perf_counter()
        m.validate_bulk_order_update(page)
        rust += time.perf_counter() - start
        page = json.loads(text)
        start = time.perf_counter()
        py_validate_bulk_order_update(page)
        python += time.perf_counter() - start
    return rust, python


def main() -> None:
    # As an ERP has them: decoded from eMAG's JSON (every value its own object).
    text = json.dumps([make_order(n) for n in range(N)])
    orders = json.loads(text)
    gc.collect()
    # Both validators agree: all valid, and the same orders flagged when some are broken.
    assert m.validate_bulk_order_update(orders) == {} == py_validate_bulk_order_update(orders)
    assert all(not m.validate_order_data(o) for o in orders[:200])
    assert all(not py_validate_order_data(o) for o in orders[:200])
    broken = [dict(o) for o in orders[:50]]
    broken[3] = dict(broken[3], status=1)
    broken[7] = dict(broken[7], status=0)
    broken[9] = dict(broken[9], products=[dict(broken[9]["products"][0], quantity=-1)])
    assert set(m.validate_bulk_order_update(broken)) == set(py_validate_bulk_order_update(broken))
    assert len(m.validate_bulk_order_update(broken)) == 3
    bad_data = dict(orders[0], customer=dict(orders[0]["customer"], email="nope"))
    assert m.validate_order_data(bad_data) and py_validate_order_data(bad_data)

    rust_bulk = median_seconds(lambda: m.validate_bulk_order_update(orders))
    py_bulk = median_seconds(lambda: py_validate_bulk_order_update(orders))
    rust_data = median_seconds(lambda: [m.validate_order_data(o) for o in orders])
    py_data = median_seconds(lambda: [py_validate_order_data(o) for o in orders])
    rust_bulk_json = median_seconds(lambda: m.validate_bulk_order_update(text))
    # The same bulk check on 200 orders that stay in the CPU's caches, repeated to 10,000: what
    # the two validators cost when no order has to come from main memory.
    warm = orders[:200]
    rust_warm = median_seconds(lambda: [m.validate_bulk_order_update(warm) for _ in range(N // 200)])
    py_warm = median_seconds(lambda: [py_validate_bulk_order_update(warm) for _ in range(N // 200)])
    pages_text = [json.dumps(orders[i:i + 100]) for i in range(0, N, 100)]
    rounds = [page_by_page(pages_text) for _ in range(ROUNDS)]
    rust_pages = statistics.median(r for r, _ in rounds)
    py_pages = statistics.median(p for _, p in rounds)

    def rate(seconds: float) -> str:
        return f"{N / seconds:>10,.0f} orders/s  ({seconds * 1000:7.1f} ms for {N:,}; {seconds / N * 1e6:5.2f} us/order)"

    print(f"validation from Python, {N:,} orders with 5 products (decoded by json.loads), median of {ROUNDS} rounds")
    print(f"  one validate_bulk_order_update call over {N:,}   {rate(rust_bulk)}")
    print(f"  baseline: pure-Python bulk validator             {rate(py_bulk)}")
    ratio = py_bulk / rust_bulk
    print(f"  -> {ratio:.1f}x the pure-Python validator (goal >= 10x: {'met' if ratio >= 10 else 'NOT met'})")
    print(f"  200 orders in cache, bulk call x{N // 200}             {rate(rust_warm)}")
    print(f"  baseline: pure-Python, the same 200 in cache     {rate(py_warm)}")
    print(f"  -> {py_warm / rust_warm:.1f}x the pure-Python validator in cache; out of cache an order costs"
          f" {(rust_bulk - rust_warm) / N * 1e6:+.2f} us from Rust, {(py_bulk - py_warm) / N * 1e6:+.2f} us"
          f" from pure Python (waiting on memory)")
    print(f"  page by page (100 just decoded, as a sync reads) {rate(rust_pages)}")
    print(f"  baseline: pure-Python, page by page              {rate(py_pages)}")
    print(f"  -> {py_pages / rust_pages:.1f}x the pure-Python validator")
    print(f"  validate_order_data, one call per order          {rate(rust_data)}")
    print(f"  baseline: pure-Python validate_order_data        {rate(py_data)}")
    print(f"  -> {py_data / rust_data:.1f}x the pure-Python version")
    print(f"  validate_bulk_order_update(JSON text)            {rate(rust_bulk_json)}  (parsed by serde_json and checked with the GIL released)")


if __name__ == "__main__":
    main()
