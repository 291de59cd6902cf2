"""``app.services.emag.emag_monitoring`` and ``app.core.emag_monitoring`` in one module.

Every figure comes from one process-wide :class:`Monitor` (``compat.configure(monitor=...)``;
pass the same monitor to your clients: ``Client(..., monitor=compat_monitor())``). The legacy
built a collector per service, that is per request, so its request metrics were always 0.

Differences kept on purpose: the health score and status are the core's (a weighted score with
the legacy's bands 90/70/50); the slow-response alert is on p95 latency; alerts have hysteresis
and need ``min_samples`` requests; callbacks fire when an alert is raised.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import math
import os
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

from .._native import Monitor, Store
from ..errors import InvalidArgumentError
from . import _state
from .emag_constants import MonitoringThresholds
from .emag_rate_limiter import EmagRateLimiter, get_rate_limiter

__all__ = [
    "MetricsCollector",
    "EmagMonitoringService",
    "RequestMetric",
    "SyncMetrics",
    "EmagMonitor",
    "get_monitor",
    "reset_monitor",
    "monitor",
    "flat_metrics",
]

logger = logging.getLogger("magflow_emag.compat.emag_monitoring")

#: Our alert names -> the legacy's.
_ALERT_NAMES = {
    "high_error_rate": "high_error_rate",
    "slow_responses": "slow_response",
    "rate_limit_warning": "rate_limit_warning",
    "sync_failure": "sync_failure",
}


def monitor() -> Monitor:
    """The process-wide :class:`Monitor` the compat services read (give it to your clients)."""
    return _state.monitor()


def _num(value: Any) -> float:
    return 0.0 if value is None else float(value)


def flat_metrics(m: Dict[str, Any]) -> Dict[str, Any]:
    """The legacy collector's 8 keys from ``Monitor.metrics()`` (empty window: 0.0)."""
    lat = m["latency_ms"]
    return {
        "requests_per_minute": float(m["requests_per_minute"]),
        "error_rate": float(m["error_rate"]),
        "total_requests": int(m["requests"]),
        "total_errors": int(m["errors"]),
        "average_response_time": _num(lat.get("mean")),
        "median_response_time": _num(lat.get("p50")),
        "max_response_time": _num(lat.get("max")),
        "min_response_time": _num(lat.get("min")),
    }


class MetricsCollector:
    """Request metrics over a window: a :class:`Monitor` (its own unless one is given)."""

    def __init__(self, window_size: int = 300, *, monitor: Optional[Monitor] = None) -> None:
        self.window_size = window_size
        self.monitor = monitor if monitor is not None else Monitor(window_seconds=int(window_size))

    async def record_request(self, response_time: float, success: bool) -> None:
        """Record one request (``response_time`` in milliseconds, a finite number >= 0, else
        :class:`InvalidArgumentError`)."""
        try:
            latency = float(response_time)
        except (TypeError, ValueError):
            raise InvalidArgumentError(f"response_time must be a number of milliseconds, got {response_time!r}") from None
        self.monitor.record(latency, bool(success))

    async def get_metrics(self) -> Dict[str, Any]:
        return flat_metrics(self.monitor.metrics())


# ---- alert callbacks: one hook per Monitor, dispatching to the live services' callbacks ------

_hooks_lock = threading.Lock()
_hooked: Dict[int, Monitor] = {}
_callbacks: List[Tuple[int, "weakref.ref[Any]", Callable[..., Any], Optional[asyncio.AbstractEventLoop]]] = []


def _dispatch(monitor_id: int, event: Dict[str, Any]) -> None:
    if event.get("state") != "raised":
        return
    name = _ALERT_NAMES.get(str(event.get("name")), str(event.get("name")))
    alerts = {name: True}
    messages = [str(event.get("message", ""))]
    with _hooks_lock:
        live = [(cb, loop) for mid, ref, cb, loop in _callbacks if mid == monitor_id and ref() is not None]
        _callbacks[:] = [c for c in _callbacks if c[1]() is not None]
    for cb, loop in live:
        _run_callback(cb, loop, alerts, messages)


def _run_callback(cb: Callable[..., Any], loop: Optional[asyncio.AbstractEventLoop], alerts: Dict[str, bool],
                  messages: List[str]) -> None:
    def log_failure(fut: Any) -> None:
        exc = fut.exception()
        if exc is not None:
            logger.error("alert callback failed: %s", exc)

    try:
        if inspect.iscoroutinefunction(cb):
            if loop is not None and not loop.is_closed():
                # On the loop the callback was registered from, whatever thread raised the alert.
                asyncio.run_coroutine_threadsafe(cb(alerts, messages), loop).add_done_callback(log_failure)
            else:
                threading.Thread(target=asyncio.run, args=(cb(alerts, messages),), daemon=True).start()
        elif loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(cb, alerts, messages)
        else:
            cb(alerts, messages)
    except Exception as exc:  # a callback's failure never breaks the monitor
        logger.error("alert callback failed: %s", exc)


def _hook(mon: Monitor) -> int:
    key = id(mon)
    with _hooks_lock:
        if key not in _hooked:
            _hooked[key] = mon  # kept alive: the hook is registered for good
            mon.on_alert(lambda event, key=key: _dispatch(key, event))
    return key


class EmagMonitoringService:
    """The legacy monitoring service over the shared :class:`Monitor` and the configured store.

    ``db_session`` is the ERP's session (kept as an attribute, never used) or a :class:`Store`.
    """

    def __init__(
        self,
        db_session: Any = None,
        *,
        monitor: Optional[Monitor] = None,
        store: Optional[Store] = None,
        rate_limiter: Any = None,
    ) -> None:
        self.db_session = db_session
        self._monitor = monitor if monitor is not None else _state.monitor()
        self._store = db_session if isinstance(db_session, Store) else store
        self.metrics_collector = MetricsCollector(self._monitor.window_seconds, monitor=self._monitor)
        if rate_limiter is None:
            self.rate_limiter = get_rate_limiter()
        elif isinstance(rate_limiter, EmagRateLimiter):
            self.rate_limiter = rate_limiter
        else:
            self.rate_limiter = EmagRateLimiter(rate_limiter)
        self.metrics: Dict[str, Any] = {
            "requests_per_minute": 0.0,
            "error_rate": 0.0,
            "average_response_time": 0.0,
            "rate_limit_usage": 0.0,
            "sync_success_rate": 0.0,
        }
        self.alerts: Dict[str, bool] = {name: False for name in _ALERT_NAMES.values()}
        self.health: Dict[str, Any] = {}

    @property
    def monitor(self) -> Monitor:
        return self._monitor

    def store(self) -> Optional[Store]:
        return self._store if self._store is not None else _state.store(required=False)

    def register_alert_callback(self, callback: Callable[..., Any]) -> None:
        """``callback(alerts: dict[str, bool], messages: list[str])``, sync or async, called when
        an alert is raised; an async one runs on the event loop it was registered from."""
        try:
            loop: Optional[asyncio.AbstractEventLoop] = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        key = _hook(self._monitor)
        with _hooks_lock:
            _callbacks.append((key, weakref.ref(self), callback, loop))

    def _feed_rate_limiter(self) -> None:
        stats = self.rate_limiter.native.stats()
        for bucket in ("orders", "other"):
            self._monitor.record_rate_limit_usage(bucket, float(stats[bucket]["usage_last_minute"]))

    def _sync_success_rate(self, m: Dict[str, Any]) -> float:
        store = self.store()
        if store is not None:
            stats = store.sync_statistics(1)
            if stats["total"] > 0:
                return float(stats["success_rate"])
        rate = m["sync"]["success_rate"]
        return 1.0 if rate is None else float(rate)

    def _update(self) -> None:
        """Blocking part of :meth:`update_metrics` (run in a worker thread)."""
        self._feed_rate_limiter()
        health = self._monitor.health()  # evaluates alerts: raised ones reach the callbacks
        m = health["metrics"]
        flat = flat_metrics(m)
        self.metrics.update(flat)
        self.metrics["rate_limit_usage"] = max((float(b["usage"]) for b in m["rate_limits"].values()), default=0.0)
        self.metrics["sync_success_rate"] = self._sync_success_rate(m)
        self.metrics["timestamp"] = health["timestamp"]
        raised = {_ALERT_NAMES.get(a["name"], a["name"]) for a in health["alerts"]}
        self.alerts = {name: name in raised for name in _ALERT_NAMES.values()}
        if self.metrics["sync_success_rate"] < MonitoringThresholds.SYNC_SUCCESS_RATE:
            self.alerts["sync_failure"] = True
        self.health = health

    async def update_metrics(self) -> None:
        """Refresh ``metrics`` (the 10 legacy keys plus ``timestamp``) and ``alerts``."""
        try:
            await asyncio.to_thread(self._update)
        except Exception as exc:  # the legacy swallowed errors here, and so do we (logged)
            logger.error("updating metrics failed: %s", exc)

    async def get_health_status(self) -> Dict[str, Any]:
        """``{status, health_score, metrics, alerts, timestamp}`` (+ ``details``: percentiles and
        the raised alerts as the core describes them)."""
        await self.update_metrics()
        h = self.health or {"status": "healthy", "health_score": 100.0, "alerts": [], "metrics": None}
        details: Dict[str, Any] = {"alert_events": h["alerts"]}
        if h.get("metrics"):
            details["latency_ms"] = h["metrics"]["latency_ms"]
            details["requests_total"] = h["metrics"]["requests_total"]
            details["rate_limits"] = h["metrics"]["rate_limits"]
        store = self.store()
        if store is not None:
            # eMAG's callback queue: received, pending, failed, done, oldest_pending_age_s.
            details["callbacks"] = await asyncio.to_thread(store.callback_stats)
        return {
            "status": h["status"],
            "health_score": float(h["health_score"]),
            "metrics": dict(self.metrics),
            "alerts": dict(self.alerts),
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "details": details,
        }

    def _sync_statistics(self) -> Dict[str, Any]:
        store = self.store()
        if store is None:
            return {}
        s = store.sync_statistics(24)
        return {
            "total_syncs": s["total"],
            "successful_syncs": s["successful"],
            "failed_syncs": s["failed"],
            # The legacy's 0.0 when there were no runs (the front end reads it so).
            "success_rate": float(s["success_rate"]) if s["total"] else 0.0,
            "average_duration_seconds": float(s["average_duration_s"] or 0.0),
            "total_items_processed": s["items_processed"],
            "period": "24h",
        }

    async def get_sync_statistics(self) -> Dict[str, Any]:
        """Sync runs of the last 24 h from the store's sync log (``{}`` without a store)."""
        try:
            return await asyncio.to_thread(self._sync_statistics)
        except Exception as exc:
            logger.error("sync statistics failed: %s", exc)
            return {}

    def _product_statistics(self) -> Dict[str, Any]:
        store = self.store()
        if store is None:
            return {}
        p = store.product_statistics()
        return {
            "total_products": p["total"],
            "active_products": p["active"],
            "inactive_products": p["inactive"],
            "by_account": {str(k): int(v) for k, v in p["by_account"]},
            "recently_synced_24h": p["synced_last_24h"],
        }

    async def get_product_statistics(self) -> Dict[str, Any]:
        """Offers in the store (``{}`` without a store)."""
        try:
            return await asyncio.to_thread(self._product_statistics)
        except Exception as exc:
            logger.error("product statistics failed: %s", exc)
            return {}

    async def record_api_request(self, response_time: float, success: bool) -> None:
        await self.metrics_collector.record_request(response_time, success)


# ---- app.core.emag_monitoring ------------------------------------------------------------------


@dataclass
class RequestMetric:
    timestamp: float
    endpoint: str
    method: str
    status_code: int
    response_time_ms: float
    account_type: str
    success: bool
    error_message: Optional[str] = None
    error_code: Optional[str] = None


@dataclass
class SyncMetrics:
    """Request figures over the window (``success_rate`` and ``error_rate`` in percent)."""

    total_requests: int = 0
    successful_requests: int = 0
    failed_requests: int = 0
    rate_limit_hits: int = 0
    total_response_time_ms: float = 0.0
    products_synced: int = 0
    offers_synced: int = 0
    orders_synced: int = 0
    errors_by_code: Dict[str, int] = field(default_factory=dict)
    requests_by_endpoint: Dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        if self.total_requests == 0:
            return 100.0
        return self.successful_requests / self.total_requests * 100

    @property
    def error_rate(self) -> float:
        if self.total_requests == 0:
            return 0.0
        return self.failed_requests / self.total_requests * 100

    @property
    def average_response_time_ms(self) -> float:
        if self.total_requests == 0:
            return 0.0
        return self.total_response_time_ms / self.total_requests


def _route(endpoint: Any) -> Tuple[str, str]:
    """``"product_offer/save"`` -> ``("product_offer", "save")`` (ids after it dropped)."""
    parts = [p for p in str(endpoint).strip().strip("/").split("/") if p]
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


class EmagMonitor:
    """The legacy ``EmagMonitor`` over a :class:`Monitor` (``get_monitor()``: the shared one;
    built directly: its own, with this window)."""

    def __init__(self, window_size_seconds: int = 300, *, monitor: Optional[Monitor] = None) -> None:
        self.window_size = window_size_seconds
        self.monitor = monitor if monitor is not None else Monitor(window_seconds=int(window_size_seconds))
        self._sync_start_time: Optional[float] = None
        self._current_sync_type: Optional[str] = None

    def start_sync(self, sync_type: str) -> None:
        self._sync_start_time = time.monotonic()
        self._current_sync_type = sync_type
        logger.info("started %s sync monitoring", sync_type)

    def end_sync(self) -> None:
        # Only logged, as in the legacy: it says nothing of success (the sync functions of the
        # library record their own runs).
        if self._sync_start_time is not None:
            logger.info("completed %s sync in %.2fs", self._current_sync_type, time.monotonic() - self._sync_start_time)
        self._sync_start_time = None
        self._current_sync_type = None

    def record_request(
        self,
        endpoint: str,
        method: str,
        status_code: int,
        response_time_ms: float,
        account_type: str,
        success: bool,
        error_message: Optional[str] = None,
        error_code: Optional[str] = None,
    ) -> None:
        resource, action = _route(endpoint)
        try:
            latency = float(response_time_ms)
        except (TypeError, ValueError):
            latency = 0.0
        if not math.isfinite(latency) or latency < 0:
            latency = 0.0  # the legacy only logged this call: it never refused a value
        self.monitor.record(latency, bool(success), resource or None, action if resource else None)
        if status_code == 429:
            self.monitor.record_429("orders" if resource == "order" else "other")

    def get_metrics(self) -> SyncMetrics:
        m = self.monitor.metrics()
        mean = m["latency_ms"].get("mean") or 0.0
        return SyncMetrics(
            total_requests=m["requests"],
            successful_requests=m["requests"] - m["errors"],
            failed_requests=m["errors"],
            rate_limit_hits=m["rate_limited"],
            total_response_time_ms=mean * m["requests"],
            errors_by_code={k: v for k, v in m["outcomes"].items() if k != "success"},
            requests_by_endpoint={
                (f"{e['resource']}/{e['action']}" if e["action"] else e["resource"]): e["requests"]
                for e in m["endpoints"]
            },
        )

    def get_health_status(self) -> Dict[str, Any]:
        h = self.monitor.health()
        status = {"healthy": "healthy", "critical": "error"}.get(h["status"], "warning")
        alerts = [
            {
                "level": "error" if a["severity"] == "critical" else "warning",
                "message": a["message"],
                "threshold": str(a["threshold"]),
            }
            for a in h["alerts"]
        ]
        return {
            "status": status,
            "timestamp": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
            "metrics": asdict(self.get_metrics()),
            "alerts": alerts,
            "window_size_seconds": self.window_size,
            "health_score": h["health_score"],
        }

    def get_request_rate(self) -> float:
        """Requests per second over the window."""
        return float(self.monitor.metrics()["requests_per_minute"]) / 60.0

    def get_recent_errors(self, limit: int = 10) -> List[Dict[str, Any]]:
        """Always ``[]``: no per-request log is kept (request bodies hold customer data)."""
        return []

    def export_metrics(self, filepath: str) -> None:
        """Write the health, metrics and request rate as JSON (atomically)."""
        data = {
            "export_timestamp": datetime.now(timezone.utc).replace(tzinfo=None).isoformat(),
            "window_size_seconds": self.window_size,
            "health_status": self.get_health_status(),
            "metrics": asdict(self.get_metrics()),
            "recent_errors": [],
            "request_rate_per_second": self.get_request_rate(),
        }
        folder = os.path.dirname(os.path.abspath(filepath))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".export-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, indent=2)
            os.replace(tmp, filepath)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


_singleton: Optional[EmagMonitor] = None
_singleton_lock = threading.Lock()


def _reset_singleton() -> None:
    global _singleton
    with _singleton_lock:
        _singleton = None


def get_monitor() -> EmagMonitor:
    """The process-wide ``EmagMonitor`` (over the shared :class:`Monitor`)."""
    global _singleton
    with _singleton_lock:
        if _singleton is None:
            mon = _state.monitor()
            _singleton = EmagMonitor(mon.window_seconds, monitor=mon)
        return _singleton


def reset_monitor() -> None:
    """Clear the shared monitor's figures."""
    _state.monitor().reset()
    _reset_singleton()
