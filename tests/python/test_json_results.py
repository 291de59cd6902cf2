"""Results reach Python built in one pass from eMAG's text (no serde_json Value, no
json.loads): the objects must be exactly what json.loads gives, types included."""

from __future__ import annotations

import base64
import http.client
import json
import math
import urllib.parse

import pytest

import magflow_emag as m
from magflow_emag._native import _probes
from magflow_emag.testing import Simulator

SAMPLES = [
    '{"isError": false, "results": [{"id": 1, "name": "Ana \\u0218erban", "x": null}]}',
    '[1, -1, 0, 9223372036854775807, -9223372036854775808, 18446744073709551615]',
    "[18446744073709551616, 100000000000000000000000000000, -18446744073709551617]",
    "[0.1, 1e308, 5e-324, 1.7976931348623157e308, 123456789.123456789, -0.0, 2e19, 1E400]",
    '[true, false, null, "", "\\"\\\\\\/\\b\\f\\n\\r\\t", "\\ud83d\\ude00", "ăîșțâ €"]',
    '{"a": 1, "a": 2, "b": {"a": [{"a": {}}]}}',
    "[NaN, Infinity, -Infinity]",
    '"\\ud800"',
    '  {"k" : [ 1 , 2 ] }  ',
    "[" * 100 + "]" * 100,
]


def same(a, b):
    assert type(a) is type(b), (a, b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    elif isinstance(a, float):
        assert a == b and math.copysign(1, a) == math.copysign(1, b), (a, b)
    else:
        assert a == b


@pytest.mark.parametrize("text", SAMPLES)
def test_results_are_built_exactly_as_json_loads_builds_them(text):
    same(_probes.json_loads(text), json.loads(text))


def test_bad_text_raises_what_json_loads_raises():
    for text in ["", "{", "[1,]", "nul", "1 2"]:
        with pytest.raises(json.JSONDecodeError):
            _probes.json_loads(text)


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=60, seed=5, enforce_rate_limits=False) as s:
        yield s


def test_a_page_read_through_the_client_equals_json_loads_of_the_answer(sim):
    client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
    parsed = urllib.parse.urlparse(sim.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    auth = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()
    conn.request(
        "POST",
        parsed.path + "/order/read",
        body=urllib.parse.urlencode({"data[itemsPerPage]": 20}),
        headers={"Authorization": "Basic " + auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    expected = json.loads(conn.getresponse().read())["results"]
    conn.close()
    got = client.orders.read(itemsPerPage=20)
    assert len(got) == 20
    same(got, expected)
    pages = client.orders.iter()
    same(list(pages)[:20], expected)
