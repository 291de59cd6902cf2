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
