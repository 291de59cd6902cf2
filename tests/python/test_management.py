"""The management router inside a real FastAPI app under uvicorn on loopback, called with
httpx: auth, every legacy key with its type, figures that move with real traffic through a
Client against the simulator, backups created/listed/restored/cleaned, traversal refused."""

import asyncio
import os
import shutil
import threading

import httpx
import pytest
from fastapi import Depends, FastAPI, Header, HTTPException

import magflow_emag as m
from magflow_emag import compat
from magflow_emag.compat import backup_service
from magflow_emag.management import http_status, management_router, to_http
from magflow_emag.testing import Simulator

from mgmt_support import backup_template, serve_app, write_big_backup

PREFIX = "/api/v1/emag/management"
USER = {"Authorization": "Bearer user-token"}
ADMIN = {"Authorization": "Bearer admin-token"}
LEGACY_OPS = {
    ("get", "/health"), ("get", "/monitoring/metrics"), ("get", "/monitoring/sync-stats"),
    ("get", "/monitoring/product-stats"), ("get", "/rate-limiter/stats"), ("post", "/rate-limiter/reset"),
    ("post", "/backup/create"), ("get", "/backup/list"), ("post", "/backup/cleanup"),
    ("post", "/backup/restore"), ("post", "/backup/schedule"),
}


def current_user(authorization: str = Header(default="")):
    if authorization not in ("Bearer user-token", "Bearer admin-token"):
        raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return authorization


def current_admin(user: str = Depends(current_user)):
    if user != "Bearer admin-token":
        raise HTTPException(403, "Admins only")
    return user


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=80, offers=30, seed=9, enforce_rate_limits=False) as s:
        yield s


@pytest.fixture
def env(sim, tmp_path):
    """A synced store, a shared monitor and limiter, a client feeding them, the app served."""
    store = m.Store(str(tmp_path / "store.db"))
    monitor = m.Monitor()
    limiter = m.RateLimiter()
    client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=limiter, monitor=monitor,
                      retry=m.RetryPolicy(max_retries=0))
    m.sync_orders(client, store)
    m.sync_offers(client, store)
    backups = m.BackupManager(store, str(tmp_path / "backups"), monitor=monitor)
    app = FastAPI()
    app.include_router(
        management_router(store=store, backups=backups, monitor=monitor, rate_limiter=limiter,
                          auth=Depends(current_user), admin_auth=Depends(current_admin)),
        prefix=PREFIX,
    )
    with serve_app(app) as url:
        with httpx.Client(base_url=url + PREFIX, headers=USER, timeout=120) as http:
            yield {"http": http, "client": client, "store": store, "dir": str(tmp_path / "backups"),
                   "sim": sim, "url": url, "tmp": tmp_path}
    backup_service.stop_schedule()


def test_router_needs_auth_unless_anonymous_is_said():
    with pytest.raises(m.InvalidArgumentError):
        management_router()
    with pytest.raises(m.InvalidArgumentError):
        management_router(allow_anonymous=1)
    assert management_router(allow_anonymous=True).routes
    assert management_router(auth=current_user).routes  # a bare callable is wrapped in Depends


def test_every_endpoint_refuses_without_a_token_and_openapi_describes_them(env):
    spec = httpx.get(env["url"] + "/openapi.json").json()
    ops = {(method, path[len(PREFIX):]) for path, item in spec["paths"].items() for method in item}
    assert LEGACY_OPS | {("get", "/metrics")} <= ops
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op.get("summary"), (method, path)
            if path != PREFIX + "/metrics":
                assert "schema" in op["responses"]["200"]["content"]["application/json"], (method, path)
            answer = httpx.request(method.upper(), env["url"] + path)
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["www-authenticate"] == "Bearer"
    for method, path in [("post", "/rate-limiter/reset"), ("post", "/backup/cleanup"),
                         ("post", "/backup/restore?backup_path=x"), ("post", "/backup/schedule")]:
        assert env["http"].request(method.upper(), path).status_code == 403, path


def test_health_and_metrics_move_with_traffic(env):
    http, client, sim = env["http"], env["client"], env["sim"]
    first = http.get("/health").json()
    assert first["status"] == "healthy" and isinstance(first["health_score"], float)
    assert set(first["alerts"]) == {"high_error_rate", "slow_response", "rate_limit_warning", "sync_failure"}
    metrics = first["metrics"]
    for key in ("requests_per_minute", "error_rate", "average_response_time", "rate_limit_usage",
                "sync_success_rate", "median_response_time", "max_response_time", "min_response_time"):
        assert isinstance(metrics[key], float), key
    assert isinstance(metrics["total_requests"], int) and isinstance(metrics["total_errors"], int)
    assert metrics["total_requests"] > 0 and metrics["sync_success_rate"] == 1.0
    assert first["timestamp"].endswith("+00:00") and "latency_ms" in first["details"]
    for _ in range(5):
        client.vat.read()
    snap = http.get("/monitoring/metrics").json()
    assert snap["metrics"]["total_requests"] == metrics["total_requests"] + 5
    assert snap["timestamp"] and set(snap["alerts"]) == set(first["alerts"])
    sim.inject("http_500", count=40, resource="vat", action="read")
    for _ in range(40):
        with pytest.raises(m.NetworkError):
            client.vat.read()
    sim.clear_faults()
    bad = http.get("/health").json()
    assert bad["health_score"] < first["health_score"] and bad["status"] != "healthy"
    assert bad["alerts"]["high_error_rate"] is True and bad["metrics"]["total_errors"] == 40
    text = http.get("/metrics")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "magflow_emag_store_sync_runs_24h" in text.text and "magflow_emag_limiter_requests" in text.text


def test_statistics_and_rate_limiter(env):
    http, client, store = env["http"], env["client"], env["store"]
    sync = http.get("/monitoring/sync-stats").json()
    assert sync == {"total_syncs": 2, "successful_syncs": 2, "failed_syncs": 0, "success_rate": 1.0,
                    "average_duration_seconds": sync["average_duration_seconds"],
                    "total_items_processed": 110, "period": "24h"}
    m.sync_orders(client, store)
    assert http.get("/monitoring/sync-stats").json()["total_syncs"] == 3
    products = http.get("/monitoring/product-stats").json()
    assert products["total_products"] == 30 and products["by_account"] == {"emag_ro/main": 30}
    assert products["active_products"] + products["inactive_products"] == 30
    before = http.get("/rate-limiter/stats").json()
    for key in ("orders_requests", "other_requests", "rate_limit_hits", "current_orders_rpm", "current_other_rpm"):
        assert isinstance(before[key], int), key
    for key in ("total_wait_time", "orders_rpm_usage", "other_rpm_usage", "orders_tokens_available",
                "other_tokens_available"):
        assert isinstance(before[key], float), key
    client.orders.read()
    after = http.get("/rate-limiter/stats").json()
    assert after["orders_requests"] == before["orders_requests"] + 1
    assert after["orders_rpm_usage"] > 0 and set(after["buckets"]) == {"orders", "other"}
    reset = http.post("/rate-limiter/reset", headers=ADMIN)
    assert reset.json() == {"message": "Rate limiter statistics reset successfully"}
    assert http.get("/rate-limiter/stats").json()["orders_requests"] == 0


def test_backups_created_listed_restored_and_cleaned(env):
    http, folder = env["http"], env["dir"]
    made = http.post("/backup/create", params={"include_sync_logs": "false"}).json()
    assert made["success"] is True and made["compressed"] is True and made["items"]["orders"] == 80
    assert made["items"]["sync_logs"] == 0 and len(made["sha256"]) == 64
    assert made["file_size_bytes"] == os.path.getsize(made["backup_path"])
    plain = http.post("/backup/create", params={"compress": "false"}).json()
    assert plain["compressed"] is False and plain["items"]["sync_logs"] == 2
    listed = http.get("/backup/list").json()
    assert {e["filename"] for e in listed} == {made["filename"], plain["filename"]}
    for e in listed:
        assert isinstance(e["size_mb"], float) and isinstance(e["size_bytes"], int) and e["sound"] is True
        assert e["path"] == os.path.join(folder, e["filename"])

    # merge into the same store: everything exists already
    merged = http.post("/backup/restore", params={"backup_path": made["filename"]}, headers=ADMIN).json()
    assert merged["success"] and merged["mode"] == "merge" and merged["skipped"]["orders"] == 80
    replaced = http.post("/backup/restore", params={"backup_path": made["backup_path"], "mode": "replace"},
                         headers=ADMIN).json()
    assert replaced["mode"] == "replace" and replaced["restored"]["orders"] == 80

    # a second router over an empty store and the same folder: the data really comes back
    empty = m.Store(str(env["tmp"] / "empty.db"))
    app = FastAPI()
    app.include_router(management_router(store=empty, backups=folder, allow_anonymous=True), prefix=PREFIX)
    with serve_app(app) as url:
        answer = httpx.post(url + PREFIX + "/backup/restore", params={"backup_path": plain["filename"]}, timeout=60)
    assert answer.status_code == 200, answer.text
    assert empty.count_orders() == 80 and empty.count_offers() == 30 and len(empty.sync_runs(10)) == 2

    old = os.path.join(folder, "emag_backup_20200101_000000.json.gz")
    shutil.copy(made["backup_path"], old)
    cleaned = http.post("/backup/cleanup", params={"days": 30}, headers=ADMIN).json()
    assert cleaned["success"] and cleaned["deleted_count"] == 1 and cleaned["deleted_files"] == [old]
    assert cleaned["freed_space_bytes"] == made["file_size_bytes"] and not os.path.exists(old)
    assert len(http.get("/backup/list").json()) == 2


def test_restore_refusals(env):
    http, folder, tmp = env["http"], env["dir"], env["tmp"]
    made = http.post("/backup/create").json()
    (tmp / "outside.json.gz").write_bytes(open(made["backup_path"], "rb").read())
    os.symlink(tmp / "outside.json.gz", os.path.join(folder, "emag_backup_20250101_000000.json.gz"))
    details = set()
    for path in ["/etc/passwd", "/no/such/file", str(tmp / "outside.json.gz"), str(tmp / "missing.json.gz"),
                 "../outside.json.gz", "../missing.json.gz", "emag_backup_20250101_000000.json.gz",
                 folder + "/../outside.json.gz", "sub/dir.json.gz"]:
        answer = http.post("/backup/restore", params={"backup_path": path}, headers=ADMIN)
        assert answer.status_code == 400, (path, answer.text)
        details.add(answer.json()["detail"])
    assert details == {backup_service.OUTSIDE_MESSAGE}
    missing = http.post("/backup/restore", params={"backup_path": "emag_backup_20240101_000000.json.gz"}, headers=ADMIN)
    assert missing.status_code == 404
    assert http.post("/backup/restore", headers=ADMIN).status_code == 422
    bad_mode = http.post("/backup/restore", params={"backup_path": made["filename"], "mode": "wipe"}, headers=ADMIN)
    assert bad_mode.status_code == 422
    for days in ("-1", "10000000000000", "abc"):
        assert http.post("/backup/cleanup", params={"days": days}, headers=ADMIN).status_code == 422, days
    assert http.post("/backup/create", params={"compress": "maybe"}).status_code == 422
    corrupt = os.path.join(folder, "emag_backup_20240202_000000.json.gz")
    with open(corrupt, "wb") as fh:
        fh.write(b"not a backup")
    answer = http.post("/backup/restore", params={"backup_path": os.path.basename(corrupt)}, headers=ADMIN)
    assert answer.status_code == 422 and answer.json()["detail"]
    # one restore at a time: the second is a 409
    assert backup_service._restore_lock.acquire(blocking=False)
    try:
        busy = http.post("/backup/restore", params={"backup_path": made["filename"]}, headers=ADMIN)
    finally:
        backup_service._restore_lock.release()
    assert busy.status_code == 409 and "already running" in busy.json()["detail"]


def test_schedule(env):
    http = env["http"]
    assert http.get("/backup/schedule").json()["scheduled"] is False
    started = http.post("/backup/schedule", params={"interval_seconds": 3600, "retention_days": 7,
                                                    "run_immediately": "true"}, headers=ADMIN)
    assert started.status_code == 200, started.text
    body = started.json()
    assert body["message"] == "Backup task scheduled successfully" and body["scheduled"] is True
    shown = http.get("/backup/schedule").json()
    assert shown["interval_seconds"] == 3600.0 and shown["retention_days"] == 7.0
    assert {"last_run", "last_error", "runs"} <= set(shown)
    assert http.post("/backup/schedule", params={"interval_seconds": 1}, headers=ADMIN).status_code == 422
    changed = http.post("/backup/schedule", params={"interval_seconds": 7200}, headers=ADMIN).json()
    assert changed["interval_seconds"] == 7200.0


def test_error_mapping():
    cases = [
        (m.RateLimitError(remaining_seconds=2.2), 429), (m.ValidationError("v", validation_errors=["a"]), 422),
        (m.InvalidArgumentError("x"), 400), (m.ResourceNotFoundError("x"), 404),
        (backup_service.RestoreInProgressError("x"), 409), (m.BackupError("x"), 422),
        (m.NetworkError("x"), 502), (m.EmagTimeoutError("x"), 504), (m.ApiResponseError("x"), 502),
        (m.AuthenticationError("x"), 502), (m.StoreError("x"), 503), (m.EmagApiError("x"), 502),
    ]
    for exc, status in cases:
        assert http_status(exc) == status, exc
    limited = to_http(m.RateLimitError(remaining_seconds=2.2))
    assert limited.headers == {"Retry-After": "3"}
    assert to_http(m.ValidationError("v", validation_errors=["a"])).detail == {"message": "v", "errors": ["a"]}


def test_health_answers_while_a_backup_of_100k_orders_runs(env):
    http, store, folder = env["http"], env["store"], env["dir"]
    seed = http.post("/backup/create").json()
    big = os.path.join(folder, "emag_backup_20261101_000000.json.gz")
    write_big_backup(big, backup_template(seed["backup_path"]), 100_000)
    restored = m.BackupManager(store, folder).restore(os.path.basename(big), mode="merge")
    assert restored["counts"]["orders"] == 100_000
    assert store.count_orders() == 100_080

    async def scenario():
        async with httpx.AsyncClient(base_url=env["url"] + PREFIX, headers=USER, timeout=300) as ahttp:
            backup = asyncio.create_task(ahttp.post("/backup/create", params={"include_sync_logs": "false"}))
            answered_during = 0
            while not backup.done():
                answer = await ahttp.get("/health")
                assert answer.status_code == 200
                if not backup.done():
                    answered_during += 1
                await asyncio.sleep(0.05)
            return answered_during, (await backup).json()

    during, made = asyncio.run(scenario())
    assert made["items"]["orders"] == 100_080
    assert during >= 1  # /health answered while the backup was still being written
