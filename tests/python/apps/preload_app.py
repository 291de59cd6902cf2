"""An ASGI app as a `gunicorn --preload` master imports it: a simulator, a client and an
async client are created *and used* at import, then the master forks its workers.

Run by tests/python/test_embedding.py (and test_store_postgres.py, with a store); the simulator's URL is passed back through a file
named by MF_PRELOAD_INFO so the test can check it.
"""

import asyncio
import json
import os

import magflow_emag as m
from magflow_emag.testing import Simulator

SIM = Simulator(orders=12, seed=9, enforce_rate_limits=False).__enter__()
NO_RETRY = m.RetryPolicy(max_retries=0)
CLIENT = m.Client(SIM.username, SIM.password, base_url=SIM.url, timeout=3.0, retry=NO_RETRY)
ASYNC_CLIENT = m.AsyncClient(SIM.username, SIM.password, base_url=SIM.url, timeout=3.0, retry=NO_RETRY)
COUNT = CLIENT.orders.count()  # used in the master: its pool holds a connection
asyncio.run(ASYNC_CLIENT.orders.count())

with open(os.environ["MF_PRELOAD_INFO"], "w") as f:
    json.dump({"count": COUNT, "master": os.getpid()}, f)


# With MF_PRELOAD_STORE (a store URL, e.g. PostgreSQL), a store synced in the master too.
STORE = None
if os.environ.get("MF_PRELOAD_STORE"):
    STORE = m.Store(os.environ["MF_PRELOAD_STORE"])
    m.sync_orders(CLIENT, STORE, wait=True)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    try:
        if scope["path"] == "/store":
            count = STORE.count_orders()
        elif scope["path"] == "/async":
            count = await ASYNC_CLIENT.orders.count()
        else:
            count = CLIENT.orders.count()
        status, body = 200, {"count": count, "pid": os.getpid()}
    except m.EmagApiError as exc:  # StoreError included
        status, body = 500, {"error": f"{type(exc).__name__}: {exc}", "pid": os.getpid()}
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
