"""The client through the Python binding: types, errors, GIL release, awaitables."""

import asyncio
import threading

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator

FAST = m.RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.01)


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=250, offers=40, seed=3, enforce_rate_limits=False, fault_hold_seconds=3.0) as s:
        yield s


@pytest.fixture
def client(sim):
    return m.Client(sim.username, sim.password, base_url=sim.url, retry=FAST, timeout=1.0, rate_limiter=False)


def test_read_count_iter(sim, client):
    truth = [o for o in sim.orders() if o["type"] == 3]
    page = client.orders.read(itemsPerPage=10, currentPage=1)
    assert isinstance(page, list) and len(page) == 10 and isinstance(page[0], dict)
    assert client.orders.count(type=3) == len(truth)
    everything = list(client.orders.iter())
    assert sorted(o["id"] for o in everything) == sorted(o["id"] for o in truth)
    assert len(list(client.offers.iter())) == 40
    assert client.vat.read()
    assert client.categories.count() > 0


def test_escape_hatch_and_resources(sim, client):
    assert client.call("handling_time", "read")
    offer = sim.offers()[0]
    client.stock.update(offer["id"], 17)
    assert [o for o in sim.offers() if o["id"] == offer["id"]][0]["general_stock"] == 17
    new = [o for o in sim.orders() if o["status"] == 1 and o["type"] == 3][0]
    client.orders.acknowledge(new["id"])
    assert sim.order(new["id"])["status"] == 2


def test_errors_map_to_classes(sim, client):
    with pytest.raises(m.ValidationError) as v:
        client.orders.read(itemsPerPage=500)
    assert "itemsPerPage" in v.value.validation_errors[0]
    bad = m.Client(sim.username, "definitely-wrong-pw", base_url=sim.url, retry=FAST, rate_limiter=False)
    with pytest.raises(m.AuthenticationError) as a:
        bad.vat.read()
    assert a.value.status_code in (401, 403)
    assert "definitely-wrong-pw" not in str(a.value) and "definitely-wrong-pw" not in repr(bad)
    sim.inject("is_error", count=1, resource="vat", action="read")
    with pytest.raises(m.ApiResponseError) as e:
        client.vat.read()
    assert e.value.response_data["isError"] is True
    sim.inject("http_503", count=5, resource="vat", action="read")
    with pytest.raises(m.NetworkError):
        client.vat.read()
    sim.clear_faults()
    with pytest.raises(m.InvalidArgumentError):
        m.Client("u", "p", base_url="http://example.com/api-3")
    with pytest.raises(ValueError):
        m.Client("u", "p", platform="emag_de")
    with pytest.raises(m.EmagApiError):
        m.Client("u", "p", rate_limiter="nonsense")


def test_faults_are_retried(sim, client):
    sim.inject("http_500", count=1, resource="vat", action="read")
    assert client.vat.read()
    sim.inject("timeout", count=1, resource="vat", action="read")
    assert client.vat.read()


def test_repr_hides_the_password(sim):
    c = m.Client(sim.username, sim.password, base_url=sim.url)
    assert sim.password not in repr(c)
    assert sim.username in repr(c)
    assert repr(m.RetryPolicy()) == "RetryPolicy(max_retries=3, base_delay=2, max_delay=64, jitter=True, deadline=None)"
    assert m.RetryPolicy().ceiling(10) == 64.0
    with pytest.raises(ValueError):
        m.RetryPolicy(base_delay=-1)


def test_gil_is_released_during_requests(sim):
    sim.inject("timeout", count=1, resource="vat", action="read")
    c = m.Client(sim.username, sim.password, base_url=sim.url, retry=m.RetryPolicy(max_retries=0), timeout=0.5, rate_limiter=False)
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.01)

    t = threading.Thread(target=ticker)
    t.start()
    with pytest.raises(m.EmagTimeoutError):
        c.vat.read()
    stop.set()
    t.join()
    assert len(ticks) >= 10, "another Python thread ran while the request waited"


def test_async_client(sim):
    async def main():
        c = m.AsyncClient(sim.username, sim.password, base_url=sim.url, retry=FAST, rate_limiter=False)
        counts = await asyncio.gather(c.orders.count(type=3), c.orders.count(type=2))
        items = [o async for o in c.orders.iter(type=2)]
        vat = await c.call("vat", "read")
        return counts, items, vat

    counts, items, vat = asyncio.run(main())
    assert sum(counts) == 250
    assert len(items) == counts[1]
    assert vat


def test_clients_of_one_account_share_the_default_limiter(sim):
    # Two clients of one account, no limiter given: together they stay within 12/s.
    a = m.Client(sim.username, sim.password, base_url=sim.url)
    b = m.Client(sim.username, sim.password, base_url=sim.url)
    sim.reset_stats()
    for i in range(26):
        (a if i % 2 else b).orders.read(itemsPerPage=1)
    assert sim.stats()["max_in_any_second"]["orders"] <= 12


def test_shared_rate_limiter_paces_requests(sim):
    limiter = m.RateLimiter()
    c = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=limiter)
    sim.reset_stats()
    for _ in range(4):
        c.vat.read()
    assert limiter.stats()["other"]["requests"] == 4
    assert sim.stats()["max_in_any_second"]["other"] <= 3


def test_wire_log_only_when_asked_and_without_the_password(sim, caplog):
    import logging

    quiet = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
    loud = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False, wire_log=True)
    with caplog.at_level(logging.DEBUG, logger="magflow_emag"):
        quiet.orders.read(itemsPerPage=3)
        loud.orders.read(itemsPerPage=2)
        loud.call("order", "read", {"itemsPerPage": 1, "note": sim.password})
    wire = [r.getMessage() for r in caplog.records if r.name == "magflow_emag.wire"]
    assert any('"itemsPerPage":2' in w and '"isError":false' in w for w in wire), wire
    assert not any('"itemsPerPage":3' in w for w in wire), wire
    assert any('"note":"***"' in w for w in wire), wire
    assert not any(sim.password in r.getMessage() for r in caplog.records)


READ_ONLY = ["categories", "vat", "handling_time", "localities", "courier_accounts", "addresses"]


def _operations(namespace):
    return sorted(a for a in dir(namespace) if not a.startswith("_") and callable(getattr(namespace, a)))


def test_both_facades_offer_the_same_operations_and_read_only_families_have_no_save(sim):
    import inspect

    sync = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
    aio = m.AsyncClient(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
    families = [k for k in vars(sync) if not k.startswith("_")]
    assert families == [k for k in vars(aio) if not k.startswith("_")]
    for family in families:
        ops = _operations(getattr(sync, family))
        assert ops == _operations(getattr(aio, family)), family
        for op in ops:
            blocking, awaiting = getattr(getattr(sync, family), op), getattr(getattr(aio, family), op)
            params = [inspect.signature(f).parameters for f in (blocking, awaiting)]
            assert params[0] == params[1], (family, op)
            assert inspect.iscoroutinefunction(awaiting) or inspect.isasyncgenfunction(awaiting), (family, op)
    for family in READ_ONLY:
        for client in (sync, aio):
            assert not hasattr(getattr(client, family), "save"), family
            with pytest.raises(AttributeError):
                getattr(client, family).save([{"id": 1}])
    # The core offers count only where eMAG documents one.
    assert [f for f in READ_ONLY if hasattr(getattr(sync, f), "count")] == ["categories", "localities"]
    assert "save" in _operations(sync.orders) and "save" in _operations(aio.rma)


def test_async_families_answer_as_the_blocking_ones(sim, client):
    async def main():
        c = m.AsyncClient(sim.username, sim.password, base_url=sim.url, retry=FAST, rate_limiter=False)
        return (
            await c.vat.read(),
            [x async for x in c.handling_time.iter()],
            await c.categories.count(),
            await c.offers.save_light([]),
        )

    vat, handling, categories, saved = asyncio.run(main())
    assert vat == client.vat.read()
    assert handling == list(client.handling_time.iter())
    assert categories == client.categories.count()
    assert saved == [] == client.offers.save_light([])
    with pytest.raises(TypeError):
        client.orders.acknowledge()
    with pytest.raises(m.InvalidArgumentError):
        client.orders.acknowledge(order_id=-1)
