"""magflow_emag.compat: every legacy name through the legacy call patterns (awaited where the
legacy awaited), with real traffic through a Client against the simulator."""

import asyncio
import os
import shutil
import subprocess
import sys
import threading
from unittest.mock import AsyncMock

import pytest

import magflow_emag as m
from magflow_emag import compat
from magflow_emag.compat import (
    backup_service,
    emag_constants,
    emag_errors,
    emag_monitoring,
    emag_rate_limiter,
    order_validation,
)
from magflow_emag.testing import Simulator


@pytest.fixture(autouse=True)
def fresh_compat(monkeypatch):
    """Each test starts from an unconfigured layer (its singletons are per process)."""
    monkeypatch.delenv("MAGFLOW_EMAG_DB", raising=False)
    monkeypatch.delenv("MAGFLOW_EMAG_BACKUP_DIR", raising=False)
    compat.configure(store=None, backup_dir=None, limiter=None, monitor=None)
    yield
    backup_service.stop_schedule()
    compat.configure(store=None, backup_dir=None, limiter=None, monitor=None)


@pytest.fixture(scope="module")
def sim():
    with Simulator(orders=60, offers=25, seed=5, enforce_rate_limits=False) as s:
        yield s


def shared_client(sim, **kw):
    """A client feeding the compat layer's monitor and limiter, as the README tells ERPs to."""
    return m.Client(
        sim.username,
        sim.password,
        base_url=sim.url,
        rate_limiter=emag_rate_limiter.get_rate_limiter().native,
        monitor=emag_monitoring.monitor(),
        **kw,
    )


# ---- imports ------------------------------------------------------------------------------


def test_module_imports_as_the_erp_spells_them():
    from magflow_emag.compat import backup_service as b, emag_errors as e  # noqa: F401

    assert b.BackupService and e.RateLimitError
    for name in compat.__all__:
        assert getattr(compat, name) is not None


def test_base_import_pulls_no_web_framework():
    code = "import sys, magflow_emag, magflow_emag.compat; print('fastapi' in sys.modules, 'starlette' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.split() == ["False", "False"]


# ---- emag_constants -----------------------------------------------------------------------


def test_constants_and_texts():
    c = emag_constants
    assert len(c.CANCELLATION_REASONS) == 32 and c.CANCELLATION_REASONS[1] == "Lipsă stoc"
    assert c.CANCELLATION_REASONS == m.cancellation_reasons("ro")
    assert c.get_cancellation_reason_text(1) == "Lipsă stoc"
    assert c.get_cancellation_reason_text(31) == m.cancellation_reason_text(31, "ro")
    assert c.get_cancellation_reason_text(999) == "Unknown reason (code: 999)"
    assert c.get_cancellation_reason_text("x") == "Unknown reason (code: x)"
    assert c.get_cancellation_reason_text(None) == "Unknown reason (code: None)"
    assert c.get_order_status_text(c.OrderStatus.NEW.value) == "Nouă"
    assert c.get_order_status_text(c.OrderStatus.FINALIZED.value) == m.order_status_text(4, "ro")
    assert "9" in c.get_order_status_text(9) and "abc" in c.get_order_status_text("abc")
    assert "10" in c.get_order_status_text(10**30)  # no OverflowError
    assert c.get_payment_mode_text(1) == m.payment_mode_text(1, "ro")
    # the legacy parameter names, as keywords
    assert c.get_cancellation_reason_text(code=1) == "Lipsă stoc"
    assert c.get_order_status_text(status=1) == "Nouă" and c.get_payment_mode_text(mode=2)
    assert "7" in c.get_payment_mode_text(7) and c.get_payment_mode_text([]) != ""
    assert c.OrderStatus.NEW.value == 1 and c.OrderStatus.FINALIZED.value == 4
    assert c.FulfillmentType.FBE.value == 2 and c.PaymentMode.CARD_ONLINE.value == 3
    assert c.DeliveryMode.PICKUP.value == "pickup" and c.ProductStatus.ACTIVE.value == 1
    assert c.OrderCompleteness.COMPLETE.value == 1 and c.PaymentStatus.PAID.value == 1
    assert len(c.EmagErrorCode) == 8 and set(c.ERROR_CODE_MESSAGES) == {e.value for e in c.EmagErrorCode}
    assert (c.RateLimits.ORDERS_RPS, c.RateLimits.ORDERS_RPM, c.RateLimits.OTHER_RPS, c.RateLimits.OTHER_RPM) == (12, 720, 3, 180)
    assert c.RateLimits.JITTER_MAX == 0.1 and c.HttpStatus.TOO_MANY_REQUESTS == 429
    assert c.SyncConfig.RETRY_MAX_DELAY == 64 and c.MonitoringThresholds.SYNC_SUCCESS_RATE == 0.95


# ---- emag_errors --------------------------------------------------------------------------


def test_errors_are_our_classes():
    e = emag_errors
    for name in ("EmagApiError", "RateLimitError", "AuthenticationError", "ValidationError",
                 "ResourceNotFoundError", "BusinessLogicError", "NetworkError"):
        assert getattr(e, name) is getattr(m, name)
    assert e.TimeoutError is m.EmagTimeoutError


def test_legacy_constructions():
    e = emag_errors
    assert e.AuthenticationError().status_code == 401
    err = e.RateLimitError(remaining_seconds=60)
    assert err.status_code == 429 and "60" in str(err)
    assert e.ValidationError("bad", validation_errors=["a"]).status_code == 400
    assert e.BusinessLogicError("no", code="BUSINESS_ERROR").code == "BUSINESS_ERROR"
    net = e.NetworkError("down", original_error=OSError("x"))
    assert net.status_code == 503 and isinstance(net.original_error, OSError)
    assert e.TimeoutError("slow").status_code == 504
    assert e.EmagApiError("m", code="X", status_code=418).code == "X"


def test_native_errors_caught_by_compat_names(sim):
    bad = m.Client(sim.username, "wrong-password", base_url=sim.url, rate_limiter=False)
    with pytest.raises(emag_errors.AuthenticationError):
        bad.vat.read()
    client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False,
                      retry=m.RetryPolicy(max_retries=0))
    sim.inject("http_503", count=1, resource="vat", action="read")
    try:
        client.vat.read()
        raise AssertionError("expected a NetworkError")
    except emag_errors.NetworkError as exc:  # the ERP's except clause
        assert exc.retryable
    limiter = m.RateLimiter(other_per_second=1, other_per_minute=1)
    compat.configure(limiter=limiter)

    async def twice():
        rl = emag_rate_limiter.get_rate_limiter()
        await rl.acquire("other", timeout=30.0)
        await rl.acquire("other", timeout=1.0)

    with pytest.raises(emag_errors.RateLimitError) as info:
        asyncio.run(twice())
    assert info.value.remaining_seconds > 1.0
    with pytest.raises(emag_errors.ValidationError) as verr:  # raised by the native validator
        m.validate_awb({}, raise_errors=True)
    assert verr.value.validation_errors


def test_error_handler():
    h = emag_errors.ErrorHandler
    assert isinstance(h.handle_http_error(400, {"message": "m", "errors": ["x"]}), m.ValidationError)
    assert h.handle_http_error(400, {"errors": ["x"]}).validation_errors == ["x"]
    assert isinstance(h.handle_http_error(401, {}), m.AuthenticationError)
    nf = h.handle_http_error(404, {"id": 7})
    assert isinstance(nf, m.ResourceNotFoundError) and "7" in str(nf) and nf.status_code == 404
    assert isinstance(h.handle_http_error(422, {"code": "X"}), m.BusinessLogicError)
    rl = h.handle_http_error(429, {"retry_after": 5})
    assert isinstance(rl, m.RateLimitError) and rl.remaining_seconds == 5 and rl.status_code == 429
    assert isinstance(h.handle_http_error(502, {}), m.NetworkError)
    other = h.handle_http_error(418, {"message": "teapot"})
    assert type(other) is m.EmagApiError and other.status_code == 418
    assert isinstance(h.handle_http_error(500, None), m.NetworkError)  # legacy crashed on None
    assert h.is_retryable(m.NetworkError("x")) and h.is_retryable(emag_errors.TimeoutError("x"))
    assert not h.is_retryable(m.ValidationError("x")) and not h.is_retryable(ValueError("x"))
    assert h.get_retry_delay(m.RateLimitError(remaining_seconds=7), 0) == 7
    assert h.get_retry_delay(m.NetworkError("x"), 2) == 8.0
    assert h.get_retry_delay(m.NetworkError("x"), 10) == 64.0
    emag_errors.log_error(m.NetworkError("x"), {"where": "test"})
    emag_errors.log_error(m.NetworkError("x"), {"message": "clash", "args": 1})  # no KeyError
    emag_errors.log_error(m.NetworkError("x"), context=None)


@pytest.mark.asyncio
async def test_retry_with_backoff():
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise m.NetworkError("down")
        return "ok"

    assert await emag_errors.retry_with_backoff(flaky, base_delay=0.001, max_delay=0.002) == "ok"
    assert len(calls) == 3

    calls.clear()
    with pytest.raises(m.NetworkError):  # not in retry_on: no retry
        await emag_errors.retry_with_backoff(func=flaky, max_retries=3, base_delay=0.001, max_delay=0.002,
                                             exponential=True, retry_on=(m.RateLimitError,))
    assert len(calls) == 1

    last = m.RateLimitError(remaining_seconds=0.001)
    calls.clear()

    async def limited():
        calls.append(1)
        raise last

    with pytest.raises(m.RateLimitError) as info:
        await emag_errors.retry_with_backoff(limited, max_retries=2)
    assert info.value is last and len(calls) == 3

    calls.clear()

    async def broken():
        calls.append(1)
        raise m.ValidationError("no")

    with pytest.raises(m.ValidationError):
        await emag_errors.retry_with_backoff(broken)
    assert len(calls) == 1

    calls.clear()

    async def linear():
        calls.append(1)
        raise emag_errors.TimeoutError("slow")

    with pytest.raises(m.EmagTimeoutError):
        await emag_errors.retry_with_backoff(linear, max_retries=1, base_delay=0.001, exponential=False)
    assert len(calls) == 2

    attempts = []

    @emag_errors.retry_on_error(max_retries=2, base_delay=0.001)
    async def decorated(x, y=0):
        attempts.append(x)
        if len(attempts) < 2:
            raise m.NetworkError("once")
        return x + y

    assert await decorated(1, y=2) == 3 and attempts == [1, 1]


# ---- emag_rate_limiter --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_rate_limiter_legacy_calls(sim):
    rl = emag_rate_limiter.get_rate_limiter()
    assert rl is emag_rate_limiter.get_rate_limiter()
    assert isinstance(rl, emag_rate_limiter.EmagRateLimiter)
    await rl.acquire(operation_type="orders", timeout=30.0)
    await rl.acquire("ORDERS")
    await rl.acquire(None)  # the legacy crashed on a non-str; here it is "other"
    await rl.acquire("order/read", timeout=30.0)  # as the legacy: anything else is "other"
    stats = await rl.get_stats()
    assert set(stats) >= {"orders_requests", "other_requests", "rate_limit_hits", "total_wait_time",
                          "current_orders_rpm", "current_other_rpm", "orders_rpm_usage",
                          "other_rpm_usage", "orders_tokens_available", "other_tokens_available"}
    assert stats["orders_requests"] == 2 and stats["other_requests"] == 2
    assert stats["current_orders_rpm"] == 2 and isinstance(stats["orders_tokens_available"], float)
    assert 0.0 < stats["orders_rpm_usage"] <= 1.0
    assert 0.0 <= rl.get_usage_percentage("orders") <= 1.0
    assert 0.0 <= rl.get_usage_percentage() <= 1.0
    assert rl.stats["orders_requests"] == 2

    # A client sharing it: its requests show in the legacy stats.
    client = shared_client(sim)
    client.vat.read()
    assert (await rl.get_stats())["other_requests"] == 3
    await emag_rate_limiter.rate_limited_request(operation_type="other", timeout=30.0)
    assert (await rl.get_stats())["other_requests"] == 4
    assert rl.get_usage_percentage(operation_type=None) <= 1.0
    await rl.reset_stats()
    assert (await rl.get_stats())["orders_requests"] == 0
    assert set(rl.detailed_stats()["buckets"]) == {"orders", "other"}


@pytest.mark.asyncio
async def test_configured_limiter_is_the_singleton():
    native = m.RateLimiter(orders_per_second=2)
    compat.configure(limiter=native)
    assert emag_rate_limiter.get_rate_limiter().native is native
    with pytest.raises(m.InvalidArgumentError):
        compat.configure(limiter="redis://x")


@pytest.mark.asyncio
async def test_token_bucket_and_window():
    bucket = emag_rate_limiter.TokenBucket(rate=0.001, capacity=2)
    assert await bucket.acquire() and await bucket.acquire(1)
    assert not await bucket.acquire()
    assert bucket.get_available_tokens() < 1
    with pytest.raises(m.RateLimitError):
        await bucket.wait_for_token(1, timeout=0.01)
    fast = emag_rate_limiter.TokenBucket(rate=1000, capacity=1)
    await fast.acquire()
    await fast.wait_for_token(1, timeout=5)
    assert (fast.rate, fast.capacity) == (1000.0, 1) and fast.last_update > 0
    window = emag_rate_limiter.SlidingWindowCounter(window_size=60)
    await window.add_request()
    await window.add_request()
    assert await window.get_count() == 2


# ---- order_validation ---------------------------------------------------------------------

ORDER = {
    "id": 100, "status": 1, "payment_mode_id": 1,
    "products": [{"id": 1, "quantity": 2, "sale_price": 10.0, "status": 1}],
    "customer": {"name": "Ion", "phone_1": "0722000000"},
}


def test_validate_order_data():
    v = order_validation
    assert v.validate_order_data(ORDER) == []  # no type: not required here
    assert v.validate_order_data(order_data=ORDER) == []
    assert v.validate_order_data({**ORDER, "type": None}) == []
    assert m.validate_order_data(ORDER) != []  # the core requires it
    typed = v.validate_order_data({**ORDER, "type": 7})
    assert typed and typed[0].startswith("type:")
    bad = v.validate_order_data({**ORDER, "products": [{"id": 1, "quantity": -1, "sale_price": 10, "status": 1}]})
    assert any("quantity" in e for e in bad) and not any(e.startswith("type") for e in bad)
    assert v.validate_order_data("not a dict") and v.validate_order_data(None)
    assert v.validate_order_data([1, 2])


def test_validate_order_for_update_and_cancellation():
    v = order_validation
    assert v.validate_order_for_update({"id": 100, "status": 2}) == []
    assert v.validate_order_for_update({"id": 100, "status": 0, "cancellation_reason": 1}) == []
    assert any("status" in e for e in v.validate_order_for_update({"id": 100, "status": 1}))
    assert v.validate_order_for_update({"id": 100, "status": 2, "type": 2})  # type 2 never saved
    assert v.validate_order_for_update(42)
    assert v.validate_order_cancellation(12345, 1) == []
    assert v.validate_order_cancellation(order_id="12345", cancellation_reason=43) == []
    msgs = v.validate_order_cancellation(order_id=12345, cancellation_reason=999)
    assert msgs and "cancellation reason" in msgs[0]
    assert v.validate_order_cancellation("", 1)
    assert v.validate_order_cancellation(None, "x")


def test_validate_bulk_order_update():
    v = order_validation
    result = v.validate_bulk_order_update([
        {"id": 1, "status": 2},                  # fine without type
        {"id": 2, "status": 1},                  # status 1 is never saved
        {"id": 3, "status": 0, "reason_cancellation": 999},
        {"status": 2},                           # no id: keyed by position
    ])
    assert set(result) == {"2", "3", "[3]"}
    assert all(result.values())
    assert not any(e.startswith("type") for msgs in result.values() for e in msgs)
    assert v.validate_bulk_order_update([]) == {}
    assert v.validate_bulk_order_update("nope")  # a message, not a traceback
    assert v.validate_bulk_order_update([None, 5])


# ---- emag_monitoring ----------------------------------------------------------------------

LEGACY_METRICS = {"requests_per_minute", "error_rate", "average_response_time", "rate_limit_usage",
                  "sync_success_rate", "total_requests", "total_errors", "median_response_time",
                  "max_response_time", "min_response_time"}
LEGACY_ALERTS = {"high_error_rate", "slow_response", "rate_limit_warning", "sync_failure"}


@pytest.mark.asyncio
async def test_monitoring_service_counts_real_traffic(sim, tmp_path):
    store = m.Store(str(tmp_path / "s.db"))
    compat.configure(store=store)
    client = shared_client(sim)
    for _ in range(5):
        client.vat.read()
    m.sync_orders(client, store)
    m.sync_offers(client, store)

    # One service per request, as the ERP builds them: the numbers still add up.
    health = await emag_monitoring.EmagMonitoringService(AsyncMock()).get_health_status()
    assert set(health) >= {"status", "health_score", "metrics", "alerts", "timestamp"}
    assert LEGACY_METRICS <= set(health["metrics"]) and set(health["alerts"]) == LEGACY_ALERTS
    assert health["status"] == "healthy" and isinstance(health["health_score"], float)
    assert health["timestamp"].endswith("+00:00")
    requests = health["metrics"]["total_requests"]
    assert requests >= 9 and health["metrics"]["total_errors"] == 0
    assert health["metrics"]["rate_limit_usage"] > 0
    assert health["metrics"]["sync_success_rate"] == 1.0
    assert health["metrics"]["max_response_time"] >= health["metrics"]["median_response_time"] > 0
    assert health["metrics"]["min_response_time"] <= health["metrics"]["median_response_time"]

    service = emag_monitoring.EmagMonitoringService(AsyncMock())
    await service.update_metrics()
    assert service.metrics["total_requests"] == requests and service.metrics["timestamp"]
    assert all(isinstance(v, bool) for v in service.alerts.values())
    await service.record_api_request(response_time=120.0, success=True)
    await service.update_metrics()
    assert service.metrics["total_requests"] == requests + 1

    sync = await service.get_sync_statistics()
    assert sync["total_syncs"] == 2 and sync["successful_syncs"] == 2 and sync["failed_syncs"] == 0
    assert sync["success_rate"] == 1.0 and sync["period"] == "24h"
    assert sync["total_items_processed"] == 85 and sync["average_duration_seconds"] > 0
    products = await service.get_product_statistics()
    assert products["total_products"] == 25
    assert products["active_products"] + products["inactive_products"] == 25
    assert products["by_account"] == {"emag_ro/main": 25} and products["recently_synced_24h"] == 25


@pytest.mark.asyncio
async def test_health_falls_when_calls_fail_and_async_callbacks_run_on_the_loop(sim):
    client = shared_client(sim, retry=m.RetryPolicy(max_retries=0))
    service = emag_monitoring.EmagMonitoringService(AsyncMock())
    loop = asyncio.get_running_loop()
    seen = []
    done = asyncio.Event()

    async def on_alert(alerts, messages):
        seen.append((dict(alerts), list(messages), asyncio.get_running_loop(), threading.get_ident()))
        done.set()

    service.register_alert_callback(on_alert)
    before = await service.get_health_status()
    sim.inject("http_500", count=30, resource="vat", action="read")
    for _ in range(30):
        with pytest.raises(emag_errors.NetworkError):
            client.vat.read()
    after = await emag_monitoring.EmagMonitoringService(AsyncMock()).get_health_status()
    assert after["health_score"] < before["health_score"]
    assert after["status"] != "healthy" and after["alerts"]["high_error_rate"] is True
    assert after["metrics"]["total_errors"] == 30 and after["metrics"]["error_rate"] > 0.5
    await asyncio.wait_for(done.wait(), 10)
    alerts, messages, cb_loop, thread = seen[0]
    assert alerts == {"high_error_rate": True} and "error rate" in messages[0]
    assert cb_loop is loop and thread == threading.get_ident()
    sim.clear_faults()


@pytest.mark.asyncio
async def test_metrics_collector_alone():
    collector = emag_monitoring.MetricsCollector(window_size=300)
    empty = await collector.get_metrics()
    assert empty["total_requests"] == 0 and empty["average_response_time"] == 0.0
    for ms, ok in ((100.0, True), (200.0, True), (300.0, False)):
        await collector.record_request(ms, ok)
    got = await collector.get_metrics()
    assert got["total_requests"] == 3 and got["total_errors"] == 1
    assert got["average_response_time"] == pytest.approx(200.0)
    assert got["max_response_time"] == pytest.approx(300.0)
    assert got["min_response_time"] == pytest.approx(100.0, rel=0.02)
    assert abs(got["error_rate"] - 1 / 3) < 1e-9
    for bad in ("abc", None, float("nan"), -5.0):
        with pytest.raises(m.InvalidArgumentError):
            await collector.record_request(bad, True)


@pytest.mark.asyncio
async def test_sync_and_product_statistics_without_a_store():
    service = emag_monitoring.EmagMonitoringService(AsyncMock())
    assert await service.get_sync_statistics() == {}
    assert await service.get_product_statistics() == {}


def test_core_emag_monitor_legacy_calls(tmp_path):
    mon = emag_monitoring.EmagMonitor(window_size_seconds=60)
    mon.start_sync("batch_offer_update")
    for i in range(4):
        mon.record_request(endpoint="product_offer/save", method="POST", status_code=200,
                           response_time_ms=float(100 + i), account_type="main", success=True,
                           error_message=None, error_code=None)
    mon.record_request("order/read", "POST", 429, 50.0, "main", False, "slow down", "RATE_LIMIT_EXCEEDED")
    mon.end_sync()
    metrics = mon.get_metrics()
    assert (metrics.total_requests, metrics.successful_requests, metrics.failed_requests) == (5, 4, 1)
    assert metrics.success_rate == pytest.approx(80.0) and metrics.error_rate == pytest.approx(20.0)
    assert metrics.rate_limit_hits == 1 and metrics.average_response_time_ms == pytest.approx(456 / 5)
    assert metrics.requests_by_endpoint == {"product_offer/save": 4, "order/read": 1}
    assert sum(metrics.errors_by_code.values()) == 1
    health = mon.get_health_status()
    assert health["status"] in ("healthy", "warning", "error") and isinstance(health["alerts"], list)
    assert health["window_size_seconds"] == 60 and health["metrics"]["total_requests"] == 5
    assert mon.get_request_rate() > 0 and mon.get_recent_errors() == []
    mon.export_metrics(str(tmp_path / "export.json"))
    assert (tmp_path / "export.json").read_text().startswith("{")
    mon.record_request("", "GET", 200, "n/a", "main", True)  # tolerated, as the legacy's log line
    mon.record_request(None, None, None, float("inf"), None, None)


def test_get_monitor_is_the_shared_monitor():
    shared = emag_monitoring.get_monitor()
    assert shared is emag_monitoring.get_monitor()
    assert shared.monitor is emag_monitoring.monitor()
    shared.record_request("product_offer/save", "POST", 200, 80.0, "main", True)
    assert emag_monitoring.monitor().metrics()["requests"] == 1
    emag_monitoring.reset_monitor()
    assert emag_monitoring.get_monitor().get_metrics().total_requests == 0
    own = m.Monitor()
    compat.configure(monitor=own)
    assert emag_monitoring.get_monitor().monitor is own


# ---- backup_service -----------------------------------------------------------------------


@pytest.fixture
def synced_store(sim, tmp_path):
    store = m.Store(str(tmp_path / "erp.db"))
    client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
    m.sync_orders(client, store)
    m.sync_offers(client, store)
    return store


@pytest.mark.asyncio
async def test_backup_service_round_trip(synced_store, tmp_path):
    folder = str(tmp_path / "backups")
    compat.configure(store=synced_store, backup_dir=folder)
    service = backup_service.BackupService(AsyncMock())  # the ERP's session: not used
    assert not os.path.exists(folder)  # made by the first backup, not the constructor
    created = await service.create_backup(include_products=True, include_offers=True, include_orders=True,
                                          include_sync_logs=True, compress=True)
    assert created["success"] is True and created["compressed"] is True
    assert created["items"] == {"products": 25, "offers": 25, "orders": 60, "sync_logs": 2}
    assert created["file_size_bytes"] == os.path.getsize(created["backup_path"])
    assert len(created["timestamp"]) == 15 and created["timestamp"][8] == "_"
    plain = await service.create_backup(include_sync_logs=False, compress=False)
    assert plain["success"] and plain["compressed"] is False and plain["backup_path"].endswith(".json")
    assert plain["items"]["sync_logs"] == 0
    no_products = await service.create_backup(include_products=False)
    assert no_products["items"]["products"] == 0 and no_products["items"]["offers"] == 25
    os.unlink(no_products["backup_path"])

    listed = await service.list_backups()
    assert {e["filename"] for e in listed} == {os.path.basename(plain["backup_path"]),
                                               os.path.basename(created["backup_path"])}
    assert listed[0]["timestamp"] >= listed[1]["timestamp"]  # newest first
    for entry in listed:
        assert {"filename", "path", "timestamp", "created_at", "size_bytes", "size_mb", "compressed"} <= set(entry)
        assert "+" not in entry["created_at"] and not entry["created_at"].endswith("Z")
    gz = next(e for e in listed if e["filename"].endswith(".json.gz"))
    assert gz["compressed"] is True  # .json.gz is listed (the legacy hid it)

    # Restore into an empty store: the orders really come back.
    empty = m.Store(str(tmp_path / "empty.db"))
    compat.configure(store=empty)
    restored = await service.restore_backup(gz["path"])
    assert restored["success"] is True and restored["mode"] == "merge"
    assert restored["restored"]["orders"] == 60 and restored["restored"]["offers"] == 25
    assert empty.count_orders() == 60 and empty.count_offers() == 25
    again = await service.restore_backup(os.path.basename(created["backup_path"]), mode="replace")
    assert again["success"] and again["restored"]["orders"] == 60 and empty.count_orders() == 60


@pytest.mark.asyncio
async def test_restore_refuses_paths_outside_with_one_message(synced_store, tmp_path):
    folder = tmp_path / "backups"
    compat.configure(store=synced_store, backup_dir=str(folder))
    service = backup_service.BackupService(AsyncMock())
    assert (await service.create_backup())["success"]
    (tmp_path / "secret.json").write_text("{}")
    os.symlink(tmp_path / "secret.json", folder / "emag_backup_20250101_000000.json")
    answers = []
    for path in ["/etc/passwd", "/nonexistent/x.json.gz", str(tmp_path / "secret.json"),
                 str(tmp_path / "missing.json"), "../secret.json", "../missing.json",
                 "emag_backup_20250101_000000.json", str(folder / ".." / "secret.json"), ""]:
        result = await service.restore_backup(path)
        assert result["success"] is False
        answers.append(result["error"])
    assert set(answers) == {backup_service.OUTSIDE_MESSAGE}
    bad_mode = await service.restore_backup(os.listdir(folder)[0], mode="wipe")
    assert bad_mode["success"] is False and "mode" in bad_mode["error"]


@pytest.mark.asyncio
async def test_cleanup_deletes_by_age(synced_store, tmp_path):
    folder = tmp_path / "backups"
    compat.configure(store=synced_store, backup_dir=str(folder))
    service = backup_service.BackupService(AsyncMock())
    created = await service.create_backup()
    old = folder / "emag_backup_20200101_000000.json.gz"
    shutil.copy(created["backup_path"], old)
    report = await service.cleanup_old_backups(days=30)
    assert report["success"] is True and report["deleted_count"] == 1
    assert report["deleted_files"] == [str(old)] and not old.exists()
    assert report["freed_space_bytes"] == created["file_size_bytes"] and report["freed_space_mb"] >= 0
    assert os.path.exists(created["backup_path"])  # the newest valid one is never deleted
    negative = await service.cleanup_old_backups(days=-1)
    assert negative["success"] is False and negative["error"]


@pytest.mark.asyncio
async def test_backup_service_without_store_and_with_a_store_argument(synced_store, tmp_path):
    service = backup_service.BackupService(AsyncMock(), backup_dir=str(tmp_path / "b"))
    failed = await service.create_backup()
    assert failed["success"] is False and "configure" in failed["error"]
    assert await service.list_backups() == []
    assert (await service.cleanup_old_backups())["deleted_count"] == 0
    assert not list(tmp_path.glob("*.db")) or all(p.name == "erp.db" for p in tmp_path.glob("*.db"))
    direct = backup_service.BackupService(synced_store, backup_dir=str(tmp_path / "b"))
    assert (await direct.create_backup(include_orders=False))["items"]["orders"] == 0
    nothing = await direct.create_backup(False, False, False, False)
    assert nothing["success"] is False


@pytest.mark.asyncio
async def test_env_configuration_and_scheduled_backup(synced_store, tmp_path, monkeypatch):
    monkeypatch.setenv("MAGFLOW_EMAG_DB", str(synced_store.path))
    monkeypatch.setenv("MAGFLOW_EMAG_BACKUP_DIR", str(tmp_path / "env-backups"))
    await backup_service.scheduled_backup(AsyncMock())
    names = os.listdir(tmp_path / "env-backups")
    assert len(names) == 1 and names[0].endswith(".json.gz")
    service = backup_service.BackupService(AsyncMock())
    status = service.start_schedule(interval=3600, retention_days=30)
    assert status["scheduled"] is True and status["interval_seconds"] == 3600.0
    assert backup_service.schedule_status()["retention_days"] == 30.0
    assert backup_service.stop_schedule() is True
    assert backup_service.schedule_status()["scheduled"] is False


def test_configure_refuses_wrong_types():
    with pytest.raises(m.InvalidArgumentError):
        compat.configure(store=AsyncMock())
    with pytest.raises(m.InvalidArgumentError):
        compat.configure(monitor="x")
    with pytest.raises(m.InvalidArgumentError):
        compat.configure(backup_dir=5)
    with pytest.raises(m.InvalidArgumentError):
        backup_service.BackupService(AsyncMock(), backup_dir=AsyncMock())
