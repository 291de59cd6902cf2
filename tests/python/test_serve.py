"""`magflow-emag serve` as a real subprocess: token-file rules, one-line errors, the endpoints
with bearer tokens, the sync and backup it owns, and a clean stop on SIGTERM."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

import magflow_emag as m
from magflow_emag.testing import Simulator

TOKEN = "serve-test-token-0123456789"
PREFIX = "/api/v1/emag/management"


def serve_cmd(*args):
    return [sys.executable, "-m", "magflow_emag.cli", "serve", *args]


def run_fail(tmp_path, *args, env=None):
    """A serve that must refuse to start: non-zero, one line on stderr."""
    done = subprocess.run(serve_cmd(*args), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})
    assert done.returncode != 0, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("magflow-emag: error:"), done.stderr
    return lines[0]


@pytest.fixture
def tokens(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(f"# operators\n{TOKEN}\n")
    path.chmod(0o600)
    return str(path)


def test_token_file_readable_by_others_is_refused(tmp_path, tokens):
    os.chmod(tokens, 0o644)
    line = run_fail(tmp_path, "--bind", "127.0.0.1:0", "--token-file", tokens)
    assert "chmod 600" in line and TOKEN not in line
    os.chmod(tokens, 0o600)
    (tmp_path / "empty").write_text("\n# nothing\n")
    os.chmod(tmp_path / "empty", 0o600)
    assert "no token" in run_fail(tmp_path, "--bind", "127.0.0.1:0", "--token-file", str(tmp_path / "empty"))
    assert "cannot read" in run_fail(tmp_path, "--bind", "127.0.0.1:0", "--token-file", str(tmp_path / "nope"))


def test_non_loopback_needs_tokens_and_bad_arguments_are_one_line(tmp_path):
    assert "--token-file" in run_fail(tmp_path, "--bind", "0.0.0.0:0")
    assert "--bind" in run_fail(tmp_path, "--bind", "localhost")
    assert "duration" in run_fail(tmp_path, "--bind", "127.0.0.1:0", "--sync", "orders", "--every", "5x")
    assert "--sync" in run_fail(tmp_path, "--bind", "127.0.0.1:0", "--sync", "customers")
    assert "credentials" in run_fail(tmp_path, "--bind", "127.0.0.1:0", "--sync", "orders",
                                     env={"EMAG_USERNAME": "", "EMAG_PASSWORD": ""})


def test_bind_in_use_and_unreadable_store(tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        port = taken.getsockname()[1]
        assert "cannot bind" in run_fail(tmp_path, "--bind", f"127.0.0.1:{port}")
    finally:
        taken.close()
    (tmp_path / "dir.db").mkdir()
    assert "directory" in run_fail(tmp_path, "--db", str(tmp_path / "dir.db"), "--bind", "127.0.0.1:0")
    (tmp_path / "junk.db").write_bytes(b"this is not an sqlite database at all" * 100)
    assert "StoreError" in run_fail(tmp_path, "--db", str(tmp_path / "junk.db"), "--bind", "127.0.0.1:0")


class Served:
    def __init__(self, proc, url):
        self.proc, self.url = proc, url


def start(tmp_path, *args, env=None):
    proc = subprocess.Popen(serve_cmd(*args), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    first = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(60)
    if not first or "http://" not in first[0]:
        proc.kill()
        raise AssertionError(f"serve did not start: {first} {proc.stderr.read()}")
    url = first[0].split("http://", 1)[1].split()[0]
    return Served(proc, "http://" + url)


def wait_for(predicate, what, limit=90):
    """Poll until true; the limit only bounds a hang (no timing is asserted)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def test_serve_end_to_end_with_sync_backup_and_sigterm(tmp_path, tokens):
    with Simulator(orders=120, offers=40, seed=2, enforce_rate_limits=False) as sim:
        env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": sim.password}
        served = start(tmp_path, "--db", "store.db", "--backup-dir", "backups", "--bind", "127.0.0.1:0",
                       "--token-file", tokens, "--sync", "orders,offers", "--every", "1s",
                       "--backup-every", "1h", "--base-url", sim.url, env=env)
        try:
            base = served.url
            assert base.endswith(PREFIX)
            assert httpx.get(base + "/health").status_code == 401
            assert httpx.get(base + "/health", headers={"Authorization": "Bearer wrong-token-000000"}).status_code == 401
            assert httpx.get(base + "/health", headers={"Authorization": TOKEN}).status_code == 401
            http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
            wait_for(lambda: http.get("/monitoring/sync-stats").json().get("total_syncs", 0) >= 4, "two sync rounds")
            sync = http.get("/monitoring/sync-stats").json()
            assert sync["successful_syncs"] >= 4 and sync["period"] == "24h"
            products = http.get("/monitoring/product-stats").json()
            assert products["total_products"] == 40
            health = http.get("/health").json()
            assert health["metrics"]["total_requests"] > 0 and health["metrics"]["sync_success_rate"] == 1.0
            limiter = http.get("/rate-limiter/stats").json()
            assert limiter["orders_requests"] > 0 and limiter["other_requests"] > 0
            wait_for(lambda: len(http.get("/backup/list").json()) >= 1, "the scheduled backup")
            made = http.post("/backup/create").json()
            assert made["success"] and made["items"]["orders"] == 120
            restored = http.post("/backup/restore", params={"backup_path": made["filename"]}).json()
            assert restored["success"] and restored["mode"] == "merge"
            assert http.post("/backup/restore", params={"backup_path": "../store.db"}).status_code == 400
            assert "magflow_emag_" in http.get("/metrics").text
            spec = httpx.get(served.url.split(PREFIX)[0] + "/openapi.json").json()
            assert len([op for item in spec["paths"].values() for op in item]) >= 12
            http.close()
        finally:
            served.proc.send_signal(signal.SIGTERM)
            try:
                out, err = served.proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                served.proc.kill()
                raise
    assert served.proc.returncode == 0, err
    assert "stopped cleanly" in out and "Traceback" not in err
    store = m.Store(str(tmp_path / "store.db"))
    runs = store.sync_runs(200)
    assert runs and all(r["status"] != "running" for r in runs)
    assert store.count_orders() == 120


def test_serve_receives_callbacks(tmp_path, tokens):
    cb_token = "serve-callback-secret-0123456789"
    cb_file = tmp_path / "callback-token"
    cb_file.write_text(cb_token + "\n")
    cb_file.chmod(0o600)
    with Simulator(orders=0, offers=5, seed=2, enforce_rate_limits=False) as sim:
        env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": sim.password}
        served = start(tmp_path, "--db", "store.db", "--bind", "127.0.0.1:0", "--token-file", tokens,
                       "--callback-token-file", str(cb_file), "--base-url", sim.url, env=env)
        try:
            order = sim.new_order()
            url = f"{served.url}/callbacks/order"
            assert httpx.get(url, params={"order_id": order["id"]}).status_code == 403
            assert httpx.get(url, params={"order_id": order["id"], "token": TOKEN}).status_code == 403
            assert httpx.get(url, params={"order_id": order["id"], "token": cb_token}).status_code == 200
            wait_for(lambda: sim.order(order["id"])["status"] == 2, "the order acknowledged")
            stats = httpx.get(served.url + "/callbacks/stats", headers={"Authorization": f"Bearer {TOKEN}"}).json()
            assert stats["done"] == 1 and stats["pending"] == 0
            assert cb_token not in httpx.get(served.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
        finally:
            served.proc.send_signal(signal.SIGTERM)
            out, err = served.proc.communicate(timeout=120)
    assert served.proc.returncode == 0, err
    assert m.Store(str(tmp_path / "store.db")).get_order(order["id"])["id"] == order["id"]
