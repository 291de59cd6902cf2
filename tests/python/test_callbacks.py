"""eMAG's callbacks through the management router under a real uvicorn (issue 20): the
simulator calls ``GET /callbacks/order?token=..&order_id=..``; orders created at run time are
stored and acknowledged with no sync; forged callbacks are refused."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

fastapi = pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

import magflow_emag as m  # noqa: E402
from magflow_emag.management import management_router  # noqa: E402
from magflow_emag.testing import Simulator  # noqa: E402
from mgmt_support import serve_app  # noqa: E402

TOKEN = "py-callback-token-0123456789"


def wait(what, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_callbacks_through_the_router(tmp_path):
    app = fastapi.FastAPI()
    with serve_app(app) as base:
        url = f"{base}/mgmt/callbacks/order?token={TOKEN}"
        with Simulator(offers=10, seed=2, enforce_rate_limits=False, callback_url=url) as sim:
            client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
            store = m.Store(str(tmp_path / "s.db"))
            receiver = m.CallbackReceiver(store, client, TOKEN, acknowledge=True)
            assert TOKEN not in repr(receiver)
            app.include_router(management_router(store=store, allow_anonymous=True, callbacks=receiver),
                               prefix="/mgmt")
            receiver.start()
            assert receiver.running
            ids = [sim.new_order()["id"] for _ in range(3)]
            assert wait(lambda: all(sim.order(i)["status"] == 2 for i in ids)), "acknowledged"
            assert sorted(r["id"] for r in store.orders()) == sorted(ids)
            assert sim.stats()["routes"].get("order/count") is None, "no sync ran"

            # Forged and malformed callbacks.
            assert get(f"{base}/mgmt/callbacks/order?order_id={ids[0]}")[0] == 403
            assert get(f"{base}/mgmt/callbacks/order?order_id={ids[0]}&token=wrong")[0] == 403
            assert get(f"{base}/mgmt/callbacks/order?order_id=0&token={TOKEN}")[0] == 400
            assert get(f"{base}/mgmt/callbacks/order?order_id=4294967296&token={TOKEN}")[0] == 400
            assert get(f"{base}/mgmt/callbacks/order?order_id={ids[0]}&token={TOKEN}") == (200, "OK")

            stats = get(f"{base}/mgmt/callbacks/stats")
            assert stats[0] == 200 and '"pending"' in stats[1]
            health = json.loads(get(f"{base}/mgmt/health")[1])
            assert health["details"]["callbacks"]["done"] == 3
            assert health["details"]["callbacks"]["pending"] == 0
            metrics = get(f"{base}/mgmt/metrics")[1]
            assert 'magflow_emag_callbacks{state="done"} 3' in metrics
            assert TOKEN not in metrics
            receiver.stop()
            assert not receiver.running


def test_plain_receiver_and_bad_arguments(tmp_path):
    with Simulator(offers=5, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        store = m.Store(str(tmp_path / "s.db"))
        with pytest.raises(m.InvalidArgumentError):
            m.CallbackReceiver(store, client, "short")
        with pytest.raises(m.InvalidArgumentError):
            m.CallbackReceiver(store, object(), TOKEN)
        with pytest.raises(m.InvalidArgumentError):
            m.CallbackReceiver(store, client, TOKEN, poll_interval=0)
        receiver = m.CallbackReceiver(store, client, TOKEN, acknowledge=False)
        order = sim.new_order()
        assert receiver.handle(f"order_id={order['id']}&token={TOKEN}") == (200, "OK")
        assert receiver.handle(f"order_id={order['id']}&token={TOKEN}") == (200, "OK")
        assert store.callback_stats()["pending"] == 1
        assert store.callback_stats()["received"] == 2
        receiver.start()
        assert wait(lambda: store.callback_stats()["pending"] == 0)
        receiver.stop()
        assert [r["id"] for r in store.orders()] == [order["id"]]
        assert sim.order(order["id"])["status"] == 1, "not acknowledged when told not to"
        with pytest.raises(m.InvalidArgumentError):
            management_router(allow_anonymous=True, callbacks="nope")
