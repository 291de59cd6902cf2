"""Embedding safety (issue 15): hostile data, interpreter exit, fork, log levels, arguments."""

import asyncio
import logging
import subprocess
import sys
import textwrap

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator
from process_support import gunicorn_preload, in_child


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
    from magflow_emag._native import _probes

    async def main():
        if sys.argv[1] == "limiter":
            await m.RateLimiter().acquire_async("other", timeout=1.0)
        else:
            await _probes.async_echo(7, 0.0)

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


def _quick_client(sim, **kwargs):
    no_retry = m.RetryPolicy(max_retries=0)
    return m.Client(sim.username, sim.password, base_url=sim.url, timeout=3.0, retry=no_retry, **kwargs)


def test_client_used_before_fork_works_in_the_child(sim):
    client = _quick_client(sim, rate_limiter=False)
    assert client.orders.count() > 0  # pooled connection held by the parent's runtime
    assert in_child(lambda: client.orders.count() > 0 and client.vat.read() is not None) == 0
    assert client.orders.count() > 0  # and the parent's client still works


def test_async_client_used_before_fork_works_in_the_child(sim):
    client = m.AsyncClient(sim.username, sim.password, base_url=sim.url, timeout=3.0,
                           retry=m.RetryPolicy(max_retries=0))
    assert asyncio.run(client.orders.count()) > 0
    assert in_child(lambda: asyncio.run(client.orders.count()) > 0) == 0


def test_new_client_in_child_of_a_process_running_a_simulator(sim):
    def child():
        fresh = _quick_client(sim)  # the account's shared limiter, made in the parent
        return fresh.orders.count() > 0

    _quick_client(sim).orders.count()
    assert in_child(child) == 0


def test_simulator_started_in_the_child_of_a_process_running_one(sim):
    def child():
        with Simulator(orders=3, seed=1, enforce_rate_limits=False) as own:
            c = m.Client(own.username, own.password, base_url=own.url, timeout=3.0, rate_limiter=False)
            return c.orders.count() >= 1

    assert in_child(child) == 0


def test_gunicorn_preload_workers_use_clients_made_in_the_master(tmp_path):
    pytest.importorskip("gunicorn")
    pytest.importorskip("uvicorn")
    import json

    info = tmp_path / "info.json"
    with gunicorn_preload("preload_app:app", {"MF_PRELOAD_INFO": str(info)}) as served:
        answers = [served.get("/async" if i % 2 else "/") for i in range(12)]
    expected = json.loads(info.read_text())["count"]
    assert [a for a in answers if a[0] != 200] == []
    assert {a[1]["count"] for a in answers} == {expected}
    master = json.loads(info.read_text())["master"]
    assert master not in {a[1]["pid"] for a in answers}


def _client_records(client, caplog):
    caplog.clear()
    client.vat.read()
    return [r for r in caplog.records if r.name.startswith("magflow_emag.client")]


def test_log_levels_changed_at_run_time_take_effect(client, caplog):
    caplog.set_level(logging.DEBUG)  # handlers pass everything; the loggers decide
    lib = logging.getLogger("magflow_emag")
    old = lib.level
    try:
        lib.setLevel(logging.WARNING)
        assert _client_records(client, caplog) == []  # the first records: levels now cached
        lib.setLevel(logging.DEBUG)  # raised at run time
        debug = _client_records(client, caplog)
        assert debug and all(r.levelno == logging.DEBUG for r in debug)
        assert "vat/read" in debug[0].getMessage()
        lib.setLevel(logging.ERROR)  # and lowered again
        assert _client_records(client, caplog) == []
        lib.setLevel(logging.NOTSET)  # back to the root's level
        logging.getLogger().setLevel(logging.DEBUG)
        assert _client_records(client, caplog)
        logging.disable(logging.CRITICAL)
        assert _client_records(client, caplog) == []
    finally:
        logging.disable(logging.NOTSET)
        lib.setLevel(old)


def test_absurd_holds_are_refused_and_a_long_hint_fails_fast(sim):
    limiter = m.RateLimiter()
    for wait in (1e12, 301.0, float("inf"), float("nan"), -1.0):
        with pytest.raises(m.InvalidArgumentError):
            limiter.on_rate_limited("other", wait)
    assert limiter.try_acquire("other")
    # A 429 with Retry-After: 40 on a client with a 2 s timeout: RateLimitError at once.
    with Simulator(orders=2, seed=1, enforce_rate_limits=False, fault_retry_after_seconds=40) as s:
        c = m.Client(s.username, s.password, base_url=s.url, timeout=2.0, rate_limiter=m.RateLimiter())
        s.inject("rate_limit", 1, resource="vat", action="read")
        with pytest.raises(m.RateLimitError) as info:
            c.vat.read()
        assert info.value.remaining_seconds >= 39
        with pytest.raises(m.RateLimitError):
            c.vat.read()  # the bucket is held: refused before sending
        assert s.stats()["requests_total"] == 1


def test_argument_errors_name_the_argument_and_are_invalid_argument_errors(tmp_path, client):
    store = m.Store(str(tmp_path / "args.db"))
    cases = [
        (lambda: client.orders.acknowledge(-1), "order_id"),
        (lambda: client.orders.acknowledge(2**70), "order_id"),
        (lambda: store.get_order(2**70), "order_id"),
        (lambda: store.sync_runs(limit=-1), "limit"),
        (lambda: m.RetryPolicy(max_retries=-1), "max_retries"),
        (lambda: Simulator(port=70000), "port"),
        (lambda: m.BackupManager(store, str(tmp_path / "b")).create(include="orders"), "include"),
        (lambda: m.BackupManager(store, str(tmp_path / "b")).cleanup(keep_min=-1), "keep_min"),
        (lambda: m.cancellation_reason_text("x"), "code"),
        (lambda: m.transition_rule(1, 2**80), "to_status"),
        (lambda: client.stock.update(1.5, 2), "product_id"),
        (lambda: m.Monitor(window_seconds=2**70), "window_seconds"),
        (lambda: m.RateLimiter(orders_per_second=-1), "orders_per_second"),
    ]
    for call, name in cases:
        with pytest.raises(m.InvalidArgumentError) as info:
            call()
        assert str(info.value).startswith(f"{name}: must be"), str(info.value)
        # Code written for Python's conventions still catches it.
        assert isinstance(info.value, (ValueError, TypeError)) and isinstance(info.value, m.EmagApiError)


def test_in_memory_store_is_refused_clearly():
    for name in (":memory:", "file::memory:?cache=shared"):
        with pytest.raises(m.InvalidArgumentError) as info:
            m.Store(name)
        assert "in-memory" in str(info.value)


def test_a_password_pasted_into_base_url_never_reaches_an_error():
    for url in ("https://user:hunter2-pw@[bad/api-3", "https://user:hunter2-pw@ex ample.com/api-3",
                "http://u:hunter2-pw@10.1.2.3/api-3"):
        with pytest.raises(m.InvalidArgumentError) as info:
            m.Client("u", "p", base_url=url)
        assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)


def test_advancing_the_simulated_clock_past_9999_is_refused():
    with Simulator(orders=1, seed=1, enforce_rate_limits=False) as s:
        before = s.now()
        with pytest.raises(m.InvalidArgumentError) as info:
            s.advance_clock(1e18)
        assert "9999" in str(info.value)
        assert s.now()[:10] == before[:10]  # nothing moved (but the real seconds passing)


def test_store_read_api_arguments(tmp_path):
    store = m.Store(str(tmp_path / "read.db"))
    for call, name in [(lambda: store.orders(limit=-1), "limit"), (lambda: store.orders(type=2**70), "type"),
                       (lambda: store.offers(limit="ten"), "limit")]:
        with pytest.raises(m.InvalidArgumentError) as info:
            call()
        assert str(info.value).startswith(f"{name}: must be")
