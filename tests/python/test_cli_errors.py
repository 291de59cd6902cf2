"""The command line's errors (issue 15): one line and exit 2 for bad arguments, no traceback,
and `health --probe` that fails when the probe fails."""

import json
import os
import subprocess
import sys

import pytest

from magflow_emag.testing import Simulator


def run(args, env=None, **kwargs):
    full_env = {k: v for k, v in os.environ.items() if k not in ("EMAG_USERNAME", "EMAG_PASSWORD")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "magflow_emag.cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=5, offers=2, seed=2, enforce_rate_limits=False) as s:
        yield s


@pytest.mark.parametrize(
    "args,words",
    [
        (["simulate", "--port", "99999"], "port"),
        (["simulate", "--orders", "-5"], "orders"),
        (["backup", "cleanup", "--keep-min", "-1"], "keep_min"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(tmp_path, args, words):
    if args[0] == "backup":
        args = args[:2] + ["--dir", str(tmp_path)] + args[2:]
    r = run(args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_a_config_with_a_non_numeric_timeout(sim, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"username": sim.username, "password": sim.password, "base_url": sim.url,
                               "timeout_s": "abc"}))
    r = run(["sync", "offers", "--config", str(cfg), "--db", str(tmp_path / "x.db")])
    assert r.returncode == 2 and "timeout_s" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_output_closed_early_is_quiet(sim, tmp_path):
    env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": sim.password}
    r = run(["sync", "offers", "--base-url", sim.url, "--db", str(tmp_path / "x.db")], env)
    assert r.returncode == 0, r.stderr
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    full_env = dict(os.environ, **env)
    writer = subprocess.run([sys.executable, "-m", "magflow_emag.cli", "health", "--json", "--db",
                             str(tmp_path / "x.db")], stdout=reader.stdin, stderr=subprocess.PIPE,
                            text=True, env=full_env, timeout=60)
    reader.stdin.close()
    reader.wait(timeout=10)
    assert "Traceback" not in writer.stderr and "BrokenPipe" not in writer.stderr
    assert writer.returncode in (0, 2)


def test_health_probe_with_a_wrong_password_is_critical_and_fails(sim, tmp_path):
    env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": "wrong-Password-99"}
    r = run(["health", "--probe", "--json", "--base-url", sim.url, "--db", str(tmp_path / "none.db")], env)
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["api"]["status"] == "critical"
    assert report["api"]["metrics"]["authentication_failing"] is True
    assert "AuthenticationError" in report["api"]["probe_error"]
    assert "wrong-Password-99" not in r.stdout + r.stderr


def test_health_probe_of_an_unreachable_host_fails(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"username": "u", "password": "p-123456", "base_url": f"http://127.0.0.1:{port}/api-3",
                               "timeout_s": 2}))
    r = run(["health", "--probe", "--json", "--config", str(cfg), "--db", str(tmp_path / "none.db")])
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["status"] == "unhealthy" and "NetworkError" in report["api"]["probe_error"]


def test_health_probe_that_succeeds_exits_0(sim, tmp_path):
    env = {"EMAG_USERNAME": sim.username, "EMAG_PASSWORD": sim.password}
    r = run(["health", "--probe", "--json", "--base-url", sim.url, "--db", str(tmp_path / "none.db")], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["api"]["probe_error"] is None
