"""RateLimiter through Python: the crossing itself (types, errors, GIL, awaitables, repr)."""

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

import magflow_emag
from magflow_emag import InvalidArgumentError, NetworkError, RateLimiter, RateLimitError


def test_defaults_are_emags_quotas():
    rl = RateLimiter()
    s = rl.stats()
    assert s["backend"] == "local" and rl.backend == "local"
    assert (s["orders"]["per_second"], s["orders"]["per_minute"]) == (12, 720)
    assert (s["other"]["per_second"], s["other"]["per_minute"]) == (3, 180)
    assert "RateLimiter(backend=\"local\"" in repr(rl)
    assert "RateLimiter" in magflow_emag.__all__


def test_acquire_try_acquire_and_stats():
    rl = RateLimiter(orders_per_second=1, orders_per_minute=60)
    assert rl.acquire("orders") == 0.0
    assert rl.try_acquire("orders") is False
    assert rl.try_acquire("other") is True
    s = rl.stats()
    assert s["orders"]["requests"] == 1 and s["other"]["requests"] == 1
    assert s["orders"]["available_now"] == 0
    assert s["orders"]["usage_last_second"] == pytest.approx(1.0)
    rl.reset_stats()
    assert rl.stats()["orders"]["requests"] == 0


def test_timeout_raises_rate_limit_error_with_remaining_seconds():
    rl = RateLimiter(other_per_second=1, other_per_minute=60)
    rl.acquire()  # the default bucket is "other"
    with pytest.raises(RateLimitError) as info:
        rl.acquire(timeout=0.01)
    assert 0.5 < info.value.remaining_seconds <= 1.02
    assert isinstance(info.value, magflow_emag.EmagApiError)
    assert rl.stats()["other"]["timeouts"] == 1


def test_bad_arguments_raise_invalid_argument():
    with pytest.raises(InvalidArgumentError):
        RateLimiter(backend="cloud")
    with pytest.raises(InvalidArgumentError):
        RateLimiter(backend="host")  # no path
    with pytest.raises(InvalidArgumentError):
        RateLimiter(orders_per_second=0)
    rl = RateLimiter()
    with pytest.raises(ValueError):
        rl.acquire("nonsense")
    with pytest.raises(InvalidArgumentError):
        rl.acquire("orders", timeout=-1)


def test_acquire_releases_the_gil():
    rl = RateLimiter(orders_per_second=4, orders_per_minute=240)
    rl.acquire("orders")
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    rl.acquire("orders")  # waits ~250 ms with the GIL released
    stop.set()
    t.join()
    assert len(ticks) > 20


def test_acquire_async_and_on_rate_limited():
    rl = RateLimiter(orders_per_second=50, orders_per_minute=3000)

    async def main():
        return await asyncio.gather(*(rl.acquire_async("orders") for _ in range(10)))

    waits = asyncio.run(main())
    assert len(waits) == 10 and max(waits) > 0.0
    assert rl.stats()["orders"]["requests"] == 10

    rl.on_rate_limited("orders", 30.0)
    assert rl.stats()["orders"]["rate_limited"] == 1
    with pytest.raises(RateLimitError) as info:
        asyncio.run(_acquire(rl, "orders", 0.05))
    assert info.value.remaining_seconds > 25


async def _acquire(rl, bucket, timeout):
    return await rl.acquire_async(bucket, timeout=timeout)


def test_host_backend_shared_by_two_objects(tmp_path):
    path = tmp_path / "rl.state"
    a = RateLimiter("host", path=path, orders_per_second=1, orders_per_minute=60)
    b = RateLimiter("host", path=str(path), orders_per_second=1, orders_per_minute=60)
    assert a.try_acquire("orders") is True
    assert b.try_acquire("orders") is False
    assert str(path) in repr(a)
    (tmp_path / "foreign").write_bytes(b"not ours")
    with pytest.raises(InvalidArgumentError, match="not a magflow-emag"):
        RateLimiter("host", path=tmp_path / "foreign")


def test_scheduled_start_offset():
    a = magflow_emag.scheduled_start_offset("orders-sync", 3600)
    assert a == magflow_emag.scheduled_start_offset("orders-sync", 3600)
    assert 180 <= a <= 3600


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_redis_unreachable_fails_closed_without_printing_the_password():
    url = f"redis://:pw-secret@127.0.0.1:{_free_port()}/0"
    rl = RateLimiter("redis", redis_url=url)
    assert "pw-secret" not in repr(rl) and "***" in repr(rl)
    with pytest.raises(NetworkError) as info:
        rl.acquire("orders")
    assert "pw-secret" not in str(info.value)
    fallback = RateLimiter("redis", redis_url=url, redis_fallback="local")
    fallback.acquire("orders")
    assert fallback.stats()["backend"] == "redis (local fallback)"


@pytest.fixture
def redis_url(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("*** redis-server is not installed: the redis backend was NOT tested ***")
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--requirepass", "pw", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.02)
        yield f"redis://:pw@127.0.0.1:{port}/0"
    finally:
        proc.kill()
        proc.wait()


def test_redis_backend_shares_quota_and_holds(redis_url):
    a = RateLimiter("redis", redis_url=redis_url, account="py", other_per_second=1, other_per_minute=60)
    b = RateLimiter("redis", redis_url=redis_url, account="py", other_per_second=1, other_per_minute=60)
    assert a.try_acquire() is True
    assert b.try_acquire() is False
    a.on_rate_limited("orders", 20)
    with pytest.raises(RateLimitError) as info:
        b.acquire("orders", timeout=0.05)
    assert info.value.remaining_seconds > 15
    assert b.stats()["backend"] == "redis"


def test_a_forked_child_shares_the_host_state(tmp_path):
    path = tmp_path / "fork.state"
    rl = RateLimiter("host", path=path, orders_per_second=1, orders_per_minute=60)
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            ok = rl.try_acquire("orders") is True
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert rl.try_acquire("orders") is False  # the child took it
