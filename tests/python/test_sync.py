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


class _Stop(Exception):
    pass


def test_a_progress_callback_that_raises_stops_the_sync_with_that_exception(setup):
    sim, client, store = setup

    def broken(event):
        if event["pages_done"] == 2:
            raise _Stop("enough")

    with pytest.raises(_Stop, match="enough"):
        m.sync_orders(client, store, progress=broken, order_types=[3])
    # Stopped at the page boundary: the two pages read are stored, the run says so.
    assert store.count_orders() == 200
    run = store.sync_runs(1)[0]
    assert run["status"] == "interrupted" and run["pages"] == 2 and run["created"] == 200
    # The next run resumes where it stopped.
    m.sync_orders(client, store, order_types=[3])
    assert store.count_orders() == sum(1 for o in sim.orders() if o["type"] == 3)


def test_ctrl_c_stops_a_blocking_sync_at_the_next_page(tmp_path):
    import os
    import signal
    import threading

    # Rate limited (12 pages a second): the sync runs long enough to be interrupted.
    with Simulator(orders=3000, offers=0, seed=5) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url)
        store = m.Store(str(tmp_path / "s.db"))
        watcher = m.Store(str(tmp_path / "s.db"))

        def interrupt_once_stored():
            while watcher.count_orders() < 100:
                threading.Event().wait(0.005)
            os.kill(os.getpid(), signal.SIGINT)

        threading.Thread(target=interrupt_once_stored, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            m.sync_orders(client, store)
        stored = store.count_orders()
        assert 100 <= stored < 3000 and stored % 100 == 0
        run = store.sync_runs(1)[0]
        assert run["status"] == "interrupted" and run["created"] == stored
        assert run["error"].endswith("the sync was stopped by a signal: KeyboardInterrupt")


def test_a_cancelled_sync_orders_async_is_recorded_cancelled_with_its_counts(tmp_path):
    import threading

    with Simulator(orders=1200, seed=5, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        store = m.Store(str(tmp_path / "store.db"))
        type3 = sum(1 for o in sim.orders() if o["type"] == 3)
        assert type3 > 400  # enough pages that a cancelled run cannot have reached the end
        two_pages = threading.Event()
        cancelled = threading.Event()

        def progress(event):
            if event["pages_done"] == 2:
                two_pages.set()
                # Hold the task until the cancellation has reached the awaitable (bounded).
                cancelled.wait(30)

        async def main():
            future = m.sync_orders_async(client, store, progress=progress, order_types=[3])
            task = asyncio.ensure_future(future)
            await asyncio.get_running_loop().run_in_executor(None, two_pages.wait)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            cancelled.set()

        asyncio.run(main())
        # The Rust side ends on the runtime's thread: wait (bounded) until the row is finished.
        for _ in range(2000):
            run = store.sync_runs(1)[0]
            if run["status"] != "running":
                break
            threading.Event().wait(0.005)
        assert run["status"] == "cancelled", run
        # It stops at its first await that is not ready: a page fetched ahead may be stored first.
        assert 2 <= run["pages"] < type3 // 100
        assert run["created"] == store.count_orders() == 100 * run["pages"]


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


def test_wait_timeout_is_checked_and_none_means_until_the_holder_ends(setup):
    sim, client, store = setup
    with pytest.raises(m.InvalidArgumentError, match="wait_timeout"):
        m.sync_orders(client, store, wait=True, wait_timeout=-1.0)
    with pytest.raises(m.InvalidArgumentError, match="wait_timeout"):
        m.sync_offers(client, store, wait=True, wait_timeout=float("nan"))
    # No other worker holds the lock: both bounds run the sync.
    assert m.sync_orders(client, store, wait=True, wait_timeout=None)["status"] == "success"
    assert m.sync_offers(client, store, wait=True, wait_timeout=0.5)["status"] == "success"
