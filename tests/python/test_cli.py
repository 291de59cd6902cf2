"""The command line: sync against the simulator, clear one-line errors, non-zero exits."""

import subprocess
import sys

import pytest

from magflow_emag.testing import Simulator


def run(args, env=None):
    import os

    full_env = dict(os.environ)
    full_env.pop("EMAG_USERNAME", None)
    full_env.pop("EMAG_PASSWORD", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "magflow_emag.cli", *args], capture_output=True, text=True, env=full_env, timeout=120)


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=150, offers=30, seed=2, enforce_rate_limits=False) as s:
        yield s


def test_sync_orders_then_offers(sim, tmp_path):
    db = str(tmp_path / "cli.db")
    env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": sim.password}
    r = run(["sync", "orders", "--base-url", sim.url, "--db", db], env)
    assert r.returncode == 0, r.stderr
    assert "orders: success; fetched 150" in r.stdout
    r = run(["sync", "offers", "--base-url", sim.url, "--db", db], env)
    assert r.returncode == 0, r.stderr
    assert "fetched 30" in r.stdout


def test_missing_credentials_is_one_clear_line(tmp_path):
    r = run(["sync", "orders", "--db", str(tmp_path / "x.db")])
    assert r.returncode == 2  # a usage error
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "EMAG_USERNAME" in lines[0]


def test_wrong_password_is_one_line_without_the_password(sim, tmp_path):
    env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": "not-the-Password-42"}
    r = run(["sync", "orders", "--base-url", sim.url, "--db", str(tmp_path / "x.db")], env)
    assert r.returncode == 1
    assert "AuthenticationError" in r.stderr
    assert "not-the-Password-42" not in r.stderr + r.stdout


def test_config_file_and_bad_config(sim, tmp_path):
    import json

    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"username": sim.username, "password": sim.password, "base_url": sim.url}))
    r = run(["sync", "offers", "--config", str(cfg), "--db", str(tmp_path / "y.db")])
    assert r.returncode == 0, r.stderr
    cfg.write_text("{broken")
    r = run(["sync", "offers", "--config", str(cfg), "--db", str(tmp_path / "y.db")])
    assert r.returncode == 2 and "config" in r.stderr


def test_ctrl_c_stops_a_sync_with_exit_130_and_the_run_recorded_interrupted(tmp_path):
    import os
    import signal
    import time

    import magflow_emag as m

    db = str(tmp_path / "cli.db")
    # Rate limited (12 pages a second): the sync runs long enough to be interrupted.
    with Simulator(orders=3000, offers=0, seed=2) as s:
        env = dict(os.environ, EMAG_USERNAME=s.username, EMAG_PASSWORD=s.password)
        proc = subprocess.Popen(
            [sys.executable, "-m", "magflow_emag.cli", "sync", "orders", "--base-url", s.url, "--db", db],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        try:
            while not os.path.exists(db) or m.Store(db).count_orders() < 100:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.01)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, (out, err)
        assert "orders: interrupted after" in err and "the next run resumes" in err
        store = m.Store(db)
        stored = store.count_orders()
        assert stored < 3000 and stored % 100 == 0
        run = store.sync_runs(1)[0]
        assert run["status"] == "interrupted" and run["created"] == stored
