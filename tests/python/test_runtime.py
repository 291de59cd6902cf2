"""Awaitables run on the core's shared runtime, which a forked child rebuilds."""

import asyncio
import os

from magflow_emag._native import _probes


def test_awaitable_on_shared_runtime():
    async def main():
        results = await asyncio.gather(*(_probes.async_echo(i, 0.01) for i in range(20)))
        return results

    assert asyncio.run(main()) == list(range(20))
    assert _probes.runtime_owner_pid() == os.getpid()


async def _echo(value, delay):
    return await _probes.async_echo(value, delay)


def test_forked_child_gets_a_fresh_runtime():
    asyncio.run(_echo(1, 0))
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child
        ok = False
        try:
            ok = asyncio.run(_echo(5, 0.01)) == 5 and _probes.runtime_owner_pid() == os.getpid()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert _probes.runtime_owner_pid() == parent


# Probes live only in `_native._probes` (the `probes` feature); the release wheel has none
# (tests/packaging/smoke.py checks that one).
PROBE_NAMES = [
    "json_loads", "async_echo", "runtime_owner_pid", "tasks_in_flight", "bench_rust_reads", "raise_error_kind",
]


def test_probes_are_only_in_the_probes_submodule():
    from magflow_emag import _native

    assert all(callable(getattr(_probes, name)) for name in PROBE_NAMES)
    leaked = [n for n in dir(_native) if n.lstrip("_") in PROBE_NAMES]
    assert leaked == []
