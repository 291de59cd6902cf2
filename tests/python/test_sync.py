"""Store and sync through the Python binding."""

import asyncio

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator


@pytest.fixture
def setup(tmp_path):
    with Simulator(orders=320, offers=120, seed=5, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False,
                          retry=m.RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.01))
        yield sim, client, m.Store(str(tmp_path / "store.db"))


def test_sync_orders_and_offers(setup):
    sim, client, store = setup
    events = []
    summary = m.sync_orders(client, store, acknowledge=True, progress=events.append)
    assert summary["status"] == "success"
    assert summary["fetched"] == 320 == store.count_orders()
    assert summary["acknowledged"] > 0
    assert events and events[-1]["items"] >= 320
    some = sim.orders()[17]
    assert store.get_order(some["id"]) == some
    assert store.get_order(999999999) is None
    offers = m.sync_offers(client, store)
    assert offers["fetched"] == 120 == store.count_offers()
    again = m.sync_orders(client, store)
    assert again["created"] == 0
    runs = store.sync_runs()
    assert [r["kind"] for r in runs] == ["orders", "offers", "orders"]
    assert store.sync_statistics()["success_rate"] == 1.0
    assert store.product_statistics()["total"] == 120
    assert sum(store.order_status_counts().values()) == 320


def test_progress_callback_errors_do_not_fail_the_sync(setup):
    sim, client, store = setup

    def broken(_event):
        raise RuntimeError("callback bug")

    assert m.sync_orders(client, store, progress=broken)["status"] == "success"


def test_cancel_and_async(setup):
    sim, client, store = setup
    token = m.CancelToken()

    def stop_after_first_page(event):
        token.cancel()

    first = m.sync_orders(client, store, progress=stop_after_first_page, cancel=token, order_types=[3])
    assert first["status"] == "cancelled" and first["pages"] == 1

    async def rest():
        return await m.sync_orders_async(client, store, order_types=[3])

    second = asyncio.run(rest())
    assert first["created"] + second["created"] == sum(1 for o in sim.orders() if o["type"] == 3)


def test_bad_arguments(setup, tmp_path):
    sim, client, store = setup
    with pytest.raises(m.InvalidArgumentError):
        m.sync_orders(object(), store)
    with pytest.raises(m.InvalidArgumentError):
        m.sync_orders(client, store, order_types=[7])
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all, just bytes" * 10)
    with pytest.raises(m.StoreError):
        m.Store(str(junk))


def test_get_order_is_built_from_the_stored_text_and_a_corrupt_one_is_a_store_error(setup, tmp_path):
    import json
    import sqlite3

    sim, client, store = setup
    m.sync_orders(client, store)
    path = str(tmp_path / "store.db")
    with sqlite3.connect(path) as db:
        order_id, text = db.execute("SELECT order_id, data FROM orders ORDER BY order_id LIMIT 1").fetchone()
        # Exactly what json.loads makes of the stored text, key order and float values included.
        got = store.get_order(order_id)
        assert got == json.loads(text)
        assert list(got) == list(json.loads(text))
        db.execute("UPDATE orders SET data = '{\"id\": 1, broken' WHERE order_id = ?", (order_id,))
    with pytest.raises(m.StoreError, match=f"order {order_id} is corrupt"):
        store.get_order(order_id)
