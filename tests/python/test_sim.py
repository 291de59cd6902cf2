"""The simulator through Python: lifecycle, dicts out, faults, stats, errors."""

import base64
import json
import urllib.error
import urllib.request

import pytest

import magflow_emag as m
from magflow_emag.testing import FAULTS, Simulator


def call(sim, path, data=None, password=None, method="POST"):
    body = json.dumps({"data": data if data is not None else {}}).encode()
    req = urllib.request.Request(f"{sim.url}/{path}", data=body, method=method)
    token = base64.b64encode(f"{sim.username}:{password or sim.password}".encode()).decode()
    req.add_header("Authorization", f"Basic {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


@pytest.fixture
def sim():
    with Simulator(orders=40, offers=10, seed=3, enforce_rate_limits=False, now="2025-09-15 12:00:00") as s:
        yield s


def test_context_manager_and_reads(sim):
    assert sim.running
    assert sim.url.startswith("http://127.0.0.1:") and sim.url.endswith("/api-3")
    status, env = call(sim, "order/read", {"itemsPerPage": 5})
    assert status == 200 and env["isError"] is False
    assert 1 <= len(env["results"]) <= 5
    orders = sim.orders()
    assert isinstance(orders, list) and isinstance(orders[0], dict) and len(orders) == 40
    assert {"id", "status", "customer", "products"} <= set(orders[0])
    assert sim.order(orders[0]["id"])["id"] == orders[0]["id"]
    assert sim.order(1) is None
    assert len(sim.offers()) == 10 and "stock" in sim.offers()[0]
    assert "password" not in repr(sim) or "***" in repr(sim)
    assert sim.password not in repr(sim)


def test_auth_and_stats(sim):
    status, env = call(sim, "vat/read", password="wrong")
    assert status == 403 and env["messages"] == ["You are not allowed to use this API."]
    call(sim, "order/count")
    stats = sim.stats()
    assert stats["requests_total"] == 2
    assert stats["routes"]["order/count"] == 1
    assert stats["max_in_any_second"]["orders"] == 1 and stats["max_in_any_minute"]["other"] == 1
    sim.reset_stats()
    assert sim.stats()["requests_total"] == 0


def test_inject_faults(sim):
    assert set(FAULTS) == {"http_500", "http_503", "timeout", "reset", "rate_limit", "is_error", "malformed_json"}
    sim.inject("http_503", count=1, resource="order", action="read")
    assert call(sim, "vat/read")[0] == 200
    with pytest.raises(urllib.error.HTTPError) as info:
        req = urllib.request.Request(f"{sim.url}/order/read", data=b"{}", method="POST")
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 503
    sim.inject("is_error")
    assert call(sim, "order/read")[1]["isError"] is True
    sim.inject("rate_limit")
    status, body = call(sim, "order/read")
    assert status == 429 and body == {"message": "API rate limit exceeded"}
    with pytest.raises(m.InvalidArgumentError):
        sim.inject("meteor")


def test_clock_and_acknowledge(sim):
    new = next(o for o in sim.orders() if o["status"] == 1 and o["type"] == 3)
    status, env = call(sim, f"order/acknowledge/{new['id']}")
    assert status == 200 and env["isError"] is False
    assert sim.order(new["id"])["status"] == 2
    assert sim.now().startswith("2025-09-15 12:0")
    sim.advance_clock(3600 * 49)
    assert sim.now().startswith("2025-09-17 13:0")
    sim.set_now("2026-01-01 00:00:00")
    assert sim.now().startswith("2026-01-01 00:00:0")
    with pytest.raises(m.InvalidArgumentError):
        sim.set_now("yesterday")


def test_start_stop_explicitly_and_errors():
    s = Simulator(orders=2)
    assert not s.running
    with pytest.raises(m.InvalidArgumentError):
        s.url
    s.start()
    url = s.url
    assert call(s, "vat/read")[0] == 200
    s.stop()
    assert not s.running
    with pytest.raises(OSError):
        urllib.request.urlopen(urllib.request.Request(f"{url}/vat/read", data=b"", method="POST"), timeout=5)
    with pytest.raises(m.InvalidArgumentError):
        Simulator(rate_limit_scale=0)
    with pytest.raises(m.InvalidArgumentError):
        Simulator(fault_kinds=["nope"])


def test_rate_limits_enforced():
    with Simulator(orders=3, rate_limit_scale=1 / 60) as s:
        codes = [call(s, "order/count")[0] for _ in range(15)]
        assert codes.count(200) <= 12 and 429 in codes
        assert s.stats()["responses_429"] == codes.count(429)


def test_cli_simulate_serves_until_ctrl_c():
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "magflow_emag.cli", "simulate", "--port", "0", "--orders", "5", "--seed", "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        for _ in range(10):
            line = proc.stdout.readline()
            if "base_url:" in line:
                url = line.split("base_url:")[1].strip()
                break
        assert url and url.startswith("http://127.0.0.1:")

        class S:
            pass

        s = S()
        s.url, s.username, s.password = url, "sim-user", "sim-password"
        status, env = call(s, "order/count", {"type": 3})
        assert status == 200 and env["isError"] is False
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert "stopped after 1 requests" in out


def test_callbacks_reach_a_receiver_until_acknowledged():
    import http.server
    import threading
    import time

    import magflow_emag as m

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/cb?token=t0ken"
    try:
        with Simulator(orders=2, seed=5, enforce_rate_limits=False, callback_url=url,
                       callback_interval_seconds=0.2) as sim:
            order = sim.new_order()
            expected = f"/cb?token=t0ken&order_id={order['id']}"
            deadline = time.monotonic() + 10
            while seen.count(expected) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert seen.count(expected) >= 2
            client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
            client.orders.acknowledge(order["id"])
            assert sim.cancel_order(order["id"], 15)
            deadline = time.monotonic() + 10
            while not any("kind=order_cancellation" in p for p in seen) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert f"/cb?token=t0ken&kind=order_cancellation&order_id={order['id']}" in seen
            stats = sim.stats()
            assert stats["callbacks_sent"] == stats["callbacks_answered"] >= 3
        with pytest.raises(m.InvalidArgumentError):
            Simulator(callback_kinds=["order_new", "bogus"])
    finally:
        server.shutdown()
