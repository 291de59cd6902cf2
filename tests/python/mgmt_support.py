"""Helpers of the management tests: uvicorn on a free loopback port, and a big backup."""

from __future__ import annotations

import gzip
import os
import hashlib
import json
import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn


@contextmanager
def serve_app(app) -> Iterator[str]:
    """Run ``app`` under a real uvicorn on 127.0.0.1 (an ephemeral port); yield its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def write_big_backup(path: str, template: dict, n: int) -> None:
    """A valid backup of ``n`` orders: the header, rows made from ``template`` (a real backup's
    orders header and first row), and the trailer with the SHA-256 of everything before it."""
    header = dict(template["header"])
    # verify binds the name's time to the manifest's: give the header the name's time.
    stamp = os.path.basename(path).split("_", 2)[2][:15]  # YYYYmmdd_HHMMSS
    header["created_at"] = (f"{stamp[0:4]}-{stamp[4:6]}-{stamp[6:8]}T"
                            f"{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z")
    columns = template["columns"]
    header["tables"] = [{"name": "orders", "columns": columns, "count": n}]
    row = list(template["row"])
    id_col = columns.index("order_id")
    data_col = columns.index("data")
    digest = hashlib.sha256()
    with gzip.open(path, "wb", compresslevel=1) as fh:
        def put(line: str) -> None:
            data = (line + "\n").encode()
            digest.update(data)
            fh.write(data)

        put(json.dumps(header, separators=(",", ":")))
        for i in range(n):
            row[id_col] = 400000000 + i
            row[data_col] = json.dumps({"id": 400000000 + i, "status": 4, "type": 3})
            put(json.dumps({"t": "orders", "v": row}, separators=(",", ":")))
        trailer = {"trailer": {"rows": n, "counts": {"orders": n}, "sha256": digest.hexdigest()}}
        fh.write((json.dumps(trailer, separators=(",", ":")) + "\n").encode())


def backup_template(path: str) -> dict:
    """The header, order columns and first order row of a real .json.gz backup."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        header = json.loads(fh.readline())
        columns = next(t["columns"] for t in header["tables"] if t["name"] == "orders")
        for line in fh:
            item = json.loads(line)
            if item.get("t") == "orders":
                return {"header": header, "columns": columns, "row": item["v"]}
    raise ValueError("no order row in the backup")
