"""The store on PostgreSQL through Python and the CLI (MF_TEST_POSTGRES_URL; required in CI)."""

import os
import subprocess
import sys
import time

import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator
from process_support import gunicorn_preload, in_child

URL = os.environ.get("MF_TEST_POSTGRES_URL", "")
if not URL:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI=true but MF_TEST_POSTGRES_URL is not set: the PostgreSQL tests must run")
    pytest.skip("MF_TEST_POSTGRES_URL not set", allow_module_level=True)

PASSWORD = "magflow-test-pw"


def url_with_schema(tag):
    schema = f"py_{tag}_{os.getpid()}_{time.time_ns() % 10**9}"
    sep = "&" if "?" in URL else "?"
    return f"{URL}{sep}schema={schema}"


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=250, offers=40, seed=3, enforce_rate_limits=False) as s:
        yield s


def client(sim):
    return m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False,
                    retry=m.RetryPolicy(max_retries=1, base_delay=0.001, max_delay=0.01))


def test_sync_read_and_no_password_anywhere(sim):
    store = m.Store(url_with_schema("sync"))
    assert isinstance(store.path, str) and store.path.startswith("postgresql://")
    assert PASSWORD not in store.path and PASSWORD not in repr(store)
    summary = m.sync_orders(client(sim), store, acknowledge=True, wait=True)
    assert summary["status"] == "success"
    assert summary["fetched"] == 250 == store.count_orders()
    some = sim.orders()[11]
    assert store.get_order(some["id"]) == some
    assert m.sync_offers(client(sim), store)["fetched"] == 40 == store.count_offers()
    rows = list(store.orders(status=[4, 5], limit=7))
    assert 0 < len(rows) <= 7 and all(r["status"] in (4, 5) for r in rows)
    assert [r["kind"] for r in store.sync_runs()] == ["offers", "orders"]
    assert all(PASSWORD not in (r.get("error") or "") for r in store.sync_runs())


def test_bad_password_is_a_store_error_without_the_password():
    bad = URL.replace(PASSWORD, "wrong-pw-789")
    with pytest.raises(m.StoreError) as info:
        m.Store(bad)
    text = str(info.value)
    assert "wrong-pw-789" not in text and "magflow_test" in text


def test_cli_sync_with_a_postgresql_db(sim):
    env = dict(os.environ, EMAG_USERNAME=sim.username, EMAG_PASSWORD=sim.password)
    r = subprocess.run([sys.executable, "-m", "magflow_emag.cli", "sync", "orders", "--base-url", sim.url,
                        "--db", url_with_schema("cli"), "--wait"], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "orders: success; fetched 250" in r.stdout
    assert PASSWORD not in r.stdout + r.stderr


def test_the_callback_queue_on_postgresql():
    token = "py-pg-callback-token-0123456789"
    with Simulator(offers=5, enforce_rate_limits=False) as s:
        c = m.Client(s.username, s.password, base_url=s.url, rate_limiter=False)
        store = m.Store(url_with_schema("cb"))
        receiver = m.CallbackReceiver(store, c, token, acknowledge=True)
        order = s.new_order()
        assert receiver.handle(f"order_id={order['id']}&token={token}") == (200, "OK")
        assert receiver.handle(f"order_id={order['id']}&token={token}") == (200, "OK")
        assert receiver.handle(f"order_id={order['id']}&token=wrong")[0] == 403
        assert store.callback_stats()["pending"] == 1
        assert store.callback_stats()["received"] == 2
        receiver.start()
        deadline = time.monotonic() + 20
        while store.callback_stats()["pending"] and time.monotonic() < deadline:
            time.sleep(0.02)
        receiver.stop()
        assert store.callback_stats()["done"] == 1
        assert [r["id"] for r in store.orders()] == [order["id"]]
        assert s.order(order["id"])["status"] == 2, "acknowledged"


def test_a_store_used_before_fork_works_in_the_child_and_after_in_the_parent(sim):
    # gunicorn --preload, multiprocessing with fork: the store's connections and runtime are
    # the parent's; the child needs its own, and must not close the parent's.
    store = m.Store(url_with_schema("fork"))
    assert m.sync_orders(client(sim), store, wait=True)["fetched"] == 250
    some = sim.orders()[7]

    def child():
        read = store.count_orders() == 250 and store.get_order(some["id"]) == some
        again = m.sync_orders(client(sim), store, full=True, wait=True)
        return read and again["status"] == "success" and store.count_orders() == 250

    assert in_child(child) == 0
    assert in_child(lambda: store.count_orders() == 250) == 0, "a second child, from the same parent"
    assert store.count_orders() == 250 and store.get_order(some["id"]) == some
    assert [r["status"] for r in store.sync_runs()] == ["success", "success"]
    assert m.sync_orders(client(sim), store, wait=True)["status"] == "success"


def test_gunicorn_preload_workers_use_a_store_opened_in_the_master(tmp_path):
    pytest.importorskip("gunicorn")
    pytest.importorskip("uvicorn")
    import json

    info = tmp_path / "info.json"
    env = {"MF_PRELOAD_INFO": str(info), "MF_PRELOAD_STORE": url_with_schema("preload")}
    with gunicorn_preload("preload_app:app", env) as served:
        answers = [served.get("/store") for _ in range(12)]
    assert [a for a in answers if a[0] != 200] == []
    assert {a[1]["count"] for a in answers} == {12}, "the orders the master synced"
    assert json.loads(info.read_text())["master"] not in {a[1]["pid"] for a in answers}
    assert PASSWORD not in served.output
