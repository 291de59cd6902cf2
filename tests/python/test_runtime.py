"""Awaitables run on the core's shared runtime, which a forked child rebuilds."""

import asyncio
import os

from magflow_emag import _native


def test_awaitable_on_shared_runtime():
    async def main():
        results = await asyncio.gather(*(_native._async_echo(i, 0.01) for i in range(20)))
        return results

    assert asyncio.run(main()) == list(range(20))
    assert _native._runtime_owner_pid() == os.getpid()


async def _echo(value, delay):
    return await _native._async_echo(value, delay)


def test_forked_child_gets_a_fresh_runtime():
    asyncio.run(_echo(1, 0))
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # child
        ok = False
        try:
            ok = asyncio.run(_echo(5, 0.01)) == 5 and _native._runtime_owner_pid() == os.getpid()
        finally:
            os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert _native._runtime_owner_pid() == parent
