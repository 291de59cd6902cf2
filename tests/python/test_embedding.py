"""Embedding safety (issue 15): hostile data, interpreter exit, fork, log levels, arguments."""

import asyncio
import logging
import os
import subprocess
import sys
import textwrap

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=30, offers=5, seed=4, enforce_rate_limits=False) as s:
        yield s


@pytest.fixture
def client(sim):
    return m.Client(sim.username, sim.password, base_url=sim.url, timeout=5.0, rate_limiter=False)


def _cyclic_dict():
    d = {}
    d["d"] = d
    return d


def _cyclic_list():
    x = []
    x.append(x)
    return x


def _deep_list(depth=7000):
    x = []
    for _ in range(depth):
        x = [x]
    return x


HOSTILE = {
    "cyclic dict": (_cyclic_dict, "cycle"),
    "cyclic list": (_cyclic_list, "cycle"),
    "7,000 deep": (_deep_list, "deeper than 128"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cyclic_or_deep_data_is_an_invalid_argument_everywhere(client, name):
    make, words = HOSTILE[name]
    sends = {
        "call": lambda: client.call("order", "read", make()),
        "read filters": lambda: client.orders.read(id=make()),
        "count filters": lambda: client.orders.count(id=make()),
        "iter filters": lambda: list(client.orders.iter(id=make())),
        "save": lambda: client.offers.save([{"id": 1, "x": make()}]),
        "orders save": lambda: client.orders.save(make()),
        "awb save": lambda: client.awb.save({"order_id": 1, "x": make()}),
    }
    for what, send in sends.items():
        with pytest.raises(m.InvalidArgumentError) as info:
            send()
        assert words in str(info.value), (what, str(info.value))


def test_cyclic_data_async_is_an_invalid_argument(sim):
    async def main():
        client = m.AsyncClient(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        for make in (_cyclic_dict, _deep_list):
            with pytest.raises(m.InvalidArgumentError):
                await client.call("order", "read", make())
            with pytest.raises(m.InvalidArgumentError):
                await client.orders.read(id=make())
            with pytest.raises(m.InvalidArgumentError):
                await client.awb.save({"x": make()})

    asyncio.run(main())


def test_data_json_cannot_hold_is_refused_with_its_reason(client):
    for bad, words in [
        ({"x": float("nan")}, "finite"),
        ({"x": 2**70}, "64 bits"),
        ({"x": object()}, "cannot be sent as JSON"),
        ({(1, 2): 1}, "dict keys"),
    ]:
        with pytest.raises(m.InvalidArgumentError) as info:
            client.call("order", "read", bad)
        assert words in str(info.value)
    # What json.dumps accepts still goes through: tuples, int keys, nested lists 100 deep.
    deep_ok = []
    for _ in range(100):
        deep_ok = [deep_ok]
    assert isinstance(client.call("order", "count", {"1": (1, 2), 5: "x"}), (dict, int, list))
    assert isinstance(client.call("order", "read", {"x": deep_ok}), list)


@pytest.mark.parametrize(
    "resource,action",
    [
        ("../../etc", "read"),
        ("order", "../count"),
        ("order", "read?x=1"),
        ("order", "read#frag"),
        ("order%2F..", "read"),
        ("order\\x", "read"),
        ("order read", "read"),
        ("Order", "read"),
        ("order/./x", "read"),
        ("", "read"),
    ],
)
def test_route_names_not_shaped_like_emag_are_refused(client, resource, action):
    with pytest.raises(m.InvalidArgumentError) as info:
        client.call(resource, action)
    assert "name" in str(info.value)


def test_route_names_shaped_like_emag_pass(sim, client):
    assert client.call("order", "count") is not None
    assert client.call("handling_time", "read") is not None
    with pytest.raises(m.EmagApiError) as info:  # well formed but not a route of the simulator
        client.call("smart-deals-price-check", "read")
    assert not isinstance(info.value, m.InvalidArgumentError)


EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import magflow_emag as m
    from magflow_emag import _native

    async def main():
        if sys.argv[1] == "limiter":
            await m.RateLimiter().acquire_async("other", timeout=1.0)
        else:
            await _native._async_echo(7, 0.0)

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("kind", ["limiter", "echo"])
def test_exit_right_after_an_awaited_native_call_is_clean(tmp_path, kind):
    script = tmp_path / "exit_after_await.py"
    script.write_text(EXIT_SCRIPT)
    runs = 25
    failures = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, str(script), kind], capture_output=True, timeout=60)
        if done.returncode != 0:
            failures.append((done.returncode, done.stderr.decode()[-300:]))
    assert failures == [], f"{len(failures)} of {runs} exits failed: {failures[:3]}"
