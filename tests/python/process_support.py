"""Helpers of the process-model tests: work in a forked child, gunicorn --preload on loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Tuple

APPS = os.path.join(os.path.dirname(__file__), "apps")


def in_child(work: Callable[[], Any], timeout: float = 60.0) -> int:
    """Run `work()` in a forked child: its exit status (0: it returned true), -1 if it hung
    past `timeout` (then it is killed), -2 if a signal ended it."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = bool(work())
        except BaseException as exc:  # the child reports through its exit code
            sys.stderr.write(f"child failed: {exc!r}\n")
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.WEXITSTATUS(status) if os.WIFEXITED(status) else -2
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return -1


class Served:
    """A server on a loopback port; `output` holds what it printed once it has stopped."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.output = ""

    def get(self, path: str) -> Tuple[int, Any]:
        """GET `path`: the status and the JSON body."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()


@contextmanager
def gunicorn_preload(app: str, env: Dict[str, str], workers: int = 3) -> Iterator[Served]:
    """Serve `app` (`module:attribute` from tests/python/apps) with `gunicorn --preload` and
    uvicorn workers on a free loopback port. On leaving, SIGTERM it and check that it exited 0."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    served = Served(port)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--preload", "-w", str(workers), "-k",
         "uvicorn.workers.UvicornWorker", "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", app],
        env=dict(os.environ, PYTHONPATH=APPS, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # the master listens once the app is imported (it forks after)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("gunicorn did not start") from None
                time.sleep(0.1)
        yield served
    finally:
        server.send_signal(signal.SIGTERM)
        out, _ = server.communicate(timeout=30)
        served.output = out.decode(errors="replace")
    assert server.returncode == 0, served.output[-2000:]
