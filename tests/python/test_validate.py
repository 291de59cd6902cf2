"""Validation through the Python binding: the crossing itself (types, raise_errors, bad shapes,
bulk keys, `now` forms). The rules are tested in Rust (tests/validate.rs)."""

import copy
import datetime as dt
import json
from collections import OrderedDict

import pytest

import magflow_emag as m
from magflow_emag import ValidationError, EmagApiError


def line(i, qty=1, price="49.9900"):
    return {
        "id": 171000000 + i, "product_id": 1000 + i, "name": "Casti", "status": 1,
        "part_number": f"PN{i}", "ext_part_number": f"EXT{i}", "currency": "RON", "vat": "0.2100",
        "quantity": qty, "sale_price": price, "created": "2025-08-01 10:00:00",
        "modified": "2025-08-01 10:00:00", "product_voucher_split": [],
    }


def order(**over):
    o = {
        "id": 300000123, "status": 2, "type": 3, "payment_mode_id": 1, "payment_status": 0,
        "date": "2025-08-01 10:00:00", "modified": "2025-08-01 12:00:00",
        "customer": {"name": "Ana Popescu", "phone_1": "0722123456", "email": "0f3c@marketplace.emag.ro"},
        "products": [line(1, 2), line(2)], "vouchers": [], "is_storno": False,
        "reason_cancellation": None,
    }
    o.update(over)
    return o


def test_exported_with_the_package():
    for name in ["validate_order_data", "validate_order_for_update", "validate_order_cancellation",
                 "validate_bulk_order_update", "validate_offer", "validate_awb"]:
        assert name in m.__all__
        assert callable(getattr(m, name))


def test_a_valid_order_and_messages_with_paths():
    assert m.validate_order_data(order()) == []
    o = order()
    o["products"][1]["quantity"] = -1
    o["customer"]["email"] = "nope"
    errors = m.validate_order_data(o)
    assert "products[1].quantity: must be > 0, got -1" in errors
    assert any(e.startswith("customer.email: must be a plausible email address") for e in errors)
    assert all(isinstance(e, str) for e in errors)


def test_python_types_cross_as_json_types():
    # Tuples are lists; dict subclasses are dicts; numeric strings are numbers, as in eMAG's JSON.
    o = order(products=tuple(order()["products"]), id="300000123", status=2.0)
    o["customer"] = OrderedDict(o["customer"])
    assert m.validate_order_data(o) == []
    # bool is not an integer; a huge int is out of range; bytes and objects are neither.
    errors = m.validate_order_data(order(status=True, id=10**30, type=b"3", payment_mode_id=object()))
    assert "status: must be an integer from 0 to 5, got true" in errors
    assert any(e.startswith("id: ") and "huge integer" in e for e in errors)
    assert any(e.startswith("type: ") and "bytes" in e for e in errors)
    assert any(e.startswith("payment_mode_id: ") and "object" in e for e in errors)
    errors = m.validate_order_data(order(id=10**400, status=float("nan"), payment_mode_id=float("inf")))
    assert {e.split(":")[0] for e in errors} == {"id", "status", "payment_mode_id"}


@pytest.mark.parametrize("garbage", [None, "order", 12, 1.5, [order()], b"{}", object(), {1: 2}, {"id": {"x": [None]}}])
def test_bad_shapes_give_messages_not_exceptions(garbage):
    for fn in (m.validate_order_data, m.validate_order_for_update, m.validate_offer, m.validate_awb):
        errors = fn(garbage)
        assert isinstance(errors, list) and errors, (fn, garbage)
        assert all(isinstance(e, str) for e in errors)
    assert isinstance(m.validate_bulk_order_update(garbage), dict)
    assert m.validate_order_cancellation(garbage, garbage)


def test_strange_strings_do_not_raise():
    o = order()
    o["customer"]["name"] = "\ud800 lone surrogate"
    o["customer"]["email"] = "\udcff@x.ro"
    o["date"] = "\x00" * 19
    errors = m.validate_order_data(o)
    assert any(e.startswith("date: ") for e in errors)


def test_raise_errors():
    assert m.validate_order_data(order(), raise_errors=True) == []
    with pytest.raises(ValidationError) as info:
        m.validate_order_data(order(status=9), raise_errors=True)
    assert isinstance(info.value, EmagApiError)
    assert info.value.validation_errors == ["status: must be an integer from 0 to 5, got 9"]
    assert info.value.code == 3
    with pytest.raises(ValidationError):
        m.validate_order_cancellation(1, 4, raise_errors=True)
    with pytest.raises(ValidationError):
        m.validate_awb({}, raise_errors=True)
    with pytest.raises(ValidationError):
        m.validate_offer({}, raise_errors=True)
    with pytest.raises(ValidationError) as info:
        m.validate_bulk_order_update([order(status=1)], raise_errors=True)
    assert info.value.validation_errors[0].startswith("300000123: status: ")


def test_cancellation_codes():
    documented = [1, 2, 3] + list(range(15, 44))
    for code in documented:
        assert m.validate_order_cancellation(300000123, code) == []
        assert m.validate_order_cancellation("300000123", str(code)) == []
    for code in [0, 4, 14, 44, -1, 10**20, None, "x", 1.5, True, [1]]:
        errors = m.validate_order_cancellation(300000123, code)
        assert len(errors) == 1 and "cancellation reason" in errors[0], (code, errors)
    assert m.validate_order_cancellation(0, 1)[0].startswith("order_id: ")


def test_bulk_keys_are_strings_and_only_failing_orders():
    good = order()
    bad = order(id=77, status=1)
    out = m.validate_bulk_order_update([good, bad, "x", {k: v for k, v in good.items() if k != "id"}])
    assert list(out) == ["77", "[2]", "[3]"]
    assert all(isinstance(k, str) for k in out)
    assert all(isinstance(v, list) and v for v in out.values())
    assert m.validate_bulk_order_update([good, order(id=5)]) == {}
    assert list(m.validate_bulk_order_update([good, good])) == ["300000123"]
    # The JSON text of the list is checked with the GIL released, with the same result.
    text = json.dumps([good, bad, "x"])
    assert m.validate_bulk_order_update(text) == m.validate_bulk_order_update([good, bad, "x"])
    assert m.validate_bulk_order_update(text.encode()) == m.validate_bulk_order_update(text)
    broken = m.validate_bulk_order_update("[{")
    assert list(broken) == ["orders"] and "not valid JSON" in broken["orders"][0]
    assert list(m.validate_bulk_order_update({"id": 1})) == ["orders"]


def test_update_with_current_and_now():
    current = order(status=4, modified="2025-08-01 12:00:00")
    back = copy.deepcopy(current)
    back["status"] = 3
    inside, outside = "2025-08-03 11:00:00", "2025-08-03 13:00:00"
    assert m.validate_order_for_update(back, current, inside) == []
    errors = m.validate_order_for_update(back, current, outside)
    assert len(errors) == 1 and errors[0].startswith("status: ") and "48 hours" in errors[0]
    # A naive datetime is the platform's local time, like the strings.
    assert m.validate_order_for_update(back, current, dt.datetime(2025, 8, 3, 11, 0)) == []
    assert m.validate_order_for_update(back, current, dt.datetime(2025, 8, 3, 13, 0)) != []
    # An aware datetime is converted: 12:00 local (EEST, UTC+3) + 48 h = 2025-08-03 09:00 UTC.
    utc = dt.timezone.utc
    assert m.validate_order_for_update(back, current, dt.datetime(2025, 8, 3, 8, 59, tzinfo=utc)) == []
    assert m.validate_order_for_update(back, current, dt.datetime(2025, 8, 3, 9, 1, tzinfo=utc)) != []
    # Without current nothing about time is claimed.
    assert m.validate_order_for_update(back, None, outside) == []
    # Keyword options.
    returned = copy.deepcopy(current)
    returned["status"] = 5
    assert m.validate_order_for_update(returned, current, "2025-08-21 12:00:00") != []
    assert m.validate_order_for_update(returned, current, "2025-08-21 12:00:00", return_period_days=30) == []
    # The platform's zone places eMAG's zone-less timestamps: 12:00 in Budapest is 10:00 UTC.
    half_past_nine = dt.datetime(2025, 8, 3, 9, 30, tzinfo=utc)
    assert m.validate_order_for_update(back, current, half_past_nine) != []
    assert m.validate_order_for_update(back, current, half_past_nine, platform="emag_hu") == []


def test_unusable_parameters_are_messages():
    assert m.validate_order_for_update(order(), None, "yesterday")[0].startswith("now: ")
    assert m.validate_order_for_update(order(), None, 12)[0].startswith("now: ")
    assert m.validate_order_for_update(order(), None, None, platform="mars")[0].startswith("platform: ")
    assert m.validate_order_for_update(order(), None, None, return_period_days="x")[0].startswith("return_period_days: ")
    assert m.validate_offer({"id": 1}, mode="patch")[0].startswith("mode: ")
    assert m.validate_offer({"id": 1}, mode=3)[0].startswith("mode: ")
    assert m.validate_awb({}, now=[1])[0].startswith("now: ")
    with pytest.raises(ValidationError):
        m.validate_offer({"id": 1}, mode="patch", raise_errors=True)


def test_offers_and_awbs():
    offer = {"id": 1001, "status": 1, "sale_price": "99.5", "vat_id": 1,
             "stock": [{"warehouse_id": 1, "value": 3}], "handling_time": [{"warehouse_id": 1, "value": 1}]}
    assert m.validate_offer(offer) == []
    assert m.validate_offer(offer, mode="update") == []
    assert m.validate_offer({"id": 1001, "sale_price": 90}, mode="light") == []
    errors = m.validate_offer({"id": 1001, "brand": "x", 7: 1}, mode="light")
    assert any("\"brand\"" in e for e in errors) and any("\"7\"" in e for e in errors)
    assert "id" in m.validate_offer({"id": 0}, mode="light")[0]
    party = {"name": "Magazin SRL", "contact": "Ion", "phone1": "0722123456", "locality_id": 8801, "street": "Calea Victoriei 1"}
    awb = {"rma_id": 5, "sender": party, "receiver": party, "is_oversize": 0, "envelope_number": 1,
           "parcel_number": 0, "cod": 0, "date": "2025-08-11"}
    assert m.validate_awb(awb, now="2025-08-10 12:00:00") == []
    errors = m.validate_awb(awb, now=dt.datetime(2025, 8, 11, 9, 0))
    assert len(errors) == 1 and errors[0].startswith("date: ")


def test_require_type_false_keeps_every_other_rule():
    order = {"id": 5, "status": 2}
    assert any(e.startswith("type: is required") for e in m.validate_order_for_update(order))
    assert m.validate_order_for_update(order, require_type=False) == []
    assert m.validate_order_for_update({**order, "type": 2}, require_type=False)  # type 2 never saved
    assert m.validate_bulk_order_update([order, {"id": 6, "status": 1}], require_type=False).keys() == {"6"}
    assert m.validate_bulk_order_update('[{"id": 5, "status": 2}]', require_type=False) == {}
    got = m.validate_order_data({"id": 5}, require_type=False)
    assert got and not any(e.startswith("type") for e in got)
