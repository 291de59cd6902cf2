"""Reading the store through its own API, and why not through Python's sqlite3 module."""

import datetime
import subprocess
import sys
import textwrap

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("read") / "s.db")
    with Simulator(orders=650, offers=130, seed=3, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        store = m.Store(path)
        m.sync_orders(client, store)
        m.sync_offers(client, store)
        yield sim, store


def test_orders_iterate_every_stored_order_as_dicts(synced):
    sim, store = synced
    got = list(store.orders())
    assert len(got) == 650
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in sim.orders())
    by_id = {o["id"]: o for o in sim.orders()}
    assert all(by_id[o["id"]] == o for o in got)


def test_orders_filters(synced):
    sim, store = synced
    new3 = [o for o in sim.orders() if o["status"] == 1 and o["type"] == 3]
    assert sorted(o["id"] for o in store.orders(status=1, type=3)) == sorted(o["id"] for o in new3)
    some = [o for o in sim.orders() if o["status"] in (4, 5)]
    assert len(list(store.orders(status=[4, 5]))) == len(some)
    assert len(list(store.orders(limit=7))) == 7
    # Everything was modified before now and nothing after.
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert list(store.orders(modified_since=future)) == []
    assert len(list(store.orders(modified_since="2000-01-01T00:00:00Z"))) == 650
    assert list(store.orders(platform="emag_bg")) == []


def test_offers_and_bad_filters(synced):
    sim, store = synced
    assert len(list(store.offers())) == 130
    active = [o for o in sim.offers() if o["status"] == 1]
    assert len(list(store.offers(status=1))) == len(active)
    with pytest.raises(m.InvalidArgumentError, match="modified_since"):
        store.orders(modified_since="yesterday")
    with pytest.raises(m.InvalidArgumentError, match="status"):
        store.orders(status="new")


def test_a_stdlib_sqlite3_connection_closing_does_not_lose_later_writes(tmp_path):
    # What a Python ERP does: the store syncs, a report opens the file with the sqlite3
    # module and closes it, the store syncs on; then the process is killed.
    path = str(tmp_path / "s.db")
    script = textwrap.dedent(
        f"""
        import os, signal, sqlite3
        import magflow_emag as m
        from magflow_emag.testing import Simulator
        with Simulator(orders=600, offers=0, seed=5, enforce_rate_limits=False) as sim:
            client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
            store = m.Store({path!r})
            m.sync_orders(client, store, order_types=[3])
            db = sqlite3.connect({path!r})
            db.execute("SELECT count(*) FROM orders").fetchone()
            db.close()
            m.sync_orders(client, store, order_types=[2])
            print(store.count_orders(), flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr
    written = int(r.stdout.strip())
    assert written == 600
    store = m.Store(path)
    assert store.count_orders() == written
    assert [run["status"] for run in store.sync_runs()] == ["success", "success"]
