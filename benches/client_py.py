"""Client overhead per request against the simulator (rate limits off), in one run:

  * a plain Python loop with http.client (keep-alive, the documented form body, Basic auth,
    json.loads and the isError check): the baseline;
  * the Python `Client` (`client.orders.read(...)`);
  * the Rust client (no Python in the loop), building `Value`s as `read` does, and keeping
    the results as eMAG's text (`read_raw`): the client's cost with no objects built;
  * a hand-written request on a raw socket that reads the answer's bytes and parses nothing:
    the simulator and loopback alone, the ceiling of any client against this simulator.

Goals: the Python Client at least matches the plain loop; the Rust client >= 3x it.
Run after a release wheel is installed: `make bench` does it.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.parse

import magflow_emag as m
from magflow_emag._native import _probes  # built with `--features probes` (make bench)
from magflow_emag.testing import Simulator

REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
ROUNDS = 5
PER_PAGE = 10


def plain_loop(url: str, user: str, password: str, n: int) -> float:
    parsed = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    body = urllib.parse.urlencode({"data[itemsPerPage]": PER_PAGE})
    headers = {"Authorization": auth, "Content-Type": "application/x-www-form-urlencoded"}
    started = time.perf_counter()
    for _ in range(n):
        conn.request("POST", parsed.path + "/order/read", body=body, headers=headers)
        resp = conn.getresponse()
        payload = json.loads(resp.read())
        if resp.status != 200 or payload.get("isError") is not False:
            raise RuntimeError(f"unexpected answer {resp.status}")
        _ = payload["results"]
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def raw_socket_loop(url: str, user: str, password: str, n: int) -> float:
    """The same request written by hand on one socket, the answer's bytes read and nothing else
    (no JSON parsed, no isError checked): what the simulator and loopback cost alone, the ceiling
    of any client here."""
    parsed = urllib.parse.urlparse(url)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    body = urllib.parse.urlencode({"data[itemsPerPage]": PER_PAGE}).encode()
    request = (
        f"POST {parsed.path}/order/read HTTP/1.1\r\nHost: {parsed.hostname}\r\n"
        f"Authorization: Basic {auth}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sock = socket.create_connection((parsed.hostname, parsed.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = sock.makefile("rb")
    started = time.perf_counter()
    for _ in range(n):
        sock.sendall(request)
        status = reader.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected answer {status!r}")
        length = 0
        while True:
            line = reader.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if len(reader.read(length)) != length or not length:
            raise RuntimeError("short answer")
    elapsed = time.perf_counter() - started
    reader.close()
    sock.close()
    return elapsed


def python_client(url: str, user: str, password: str, n: int) -> float:
    client = m.Client(user, password, base_url=url, rate_limiter=False, retry=m.RetryPolicy(max_retries=0))
    started = time.perf_counter()
    for _ in range(n):
        client.orders.read(itemsPerPage=PER_PAGE)
    return time.perf_counter() - started


def main() -> None:
    with Simulator(orders=500, seed=1, enforce_rate_limits=False) as sim:
        args = (sim.url, sim.username, sim.password)
        results = {
            "plain http.client loop (baseline)": [],
            "Python Client": [],
            "Rust client": [],
            "Rust client, results as text (floor)": [],
            "raw socket, bytes only (ceiling)": [],
        }
        for _ in range(ROUNDS):
            results["plain http.client loop (baseline)"].append(REQUESTS / plain_loop(*args, REQUESTS))
            results["Python Client"].append(REQUESTS / python_client(*args, REQUESTS))
            results["Rust client"].append(REQUESTS / _probes.bench_rust_reads(*args, REQUESTS, PER_PAGE))
            results["Rust client, results as text (floor)"].append(
                REQUESTS / _probes.bench_rust_reads(*args, REQUESTS, PER_PAGE, True)
            )
            results["raw socket, bytes only (ceiling)"].append(REQUESTS / raw_socket_loop(*args, REQUESTS))
    base = statistics.median(results["plain http.client loop (baseline)"])
    print(f"client overhead: {REQUESTS} sequential order/read ({PER_PAGE} per page), median of {ROUNDS} rounds")
    for name, rates in results.items():
        med = statistics.median(rates)
        print(f"  {name:<36} {med:9.0f} req/s   {med / base:5.2f}x baseline")
    py = statistics.median(results["Python Client"]) / base
    rust = statistics.median(results["Rust client"]) / base
    print(f"  goals: Python Client >= 1.0x ({'met' if py >= 1.0 else 'NOT met'}), Rust >= 3.0x ({'met' if rust >= 3.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
