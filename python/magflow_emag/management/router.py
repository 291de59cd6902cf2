"""``management_router(...)``: the legacy ERP's 11 management endpoints (plus ``GET /metrics``
and ``GET /backup/schedule``), served for real by the compat services.

The legacy shapes are built by :mod:`magflow_emag.compat` (one place); this module only wires
them to HTTP: auth dependencies, query parameters, the error mapping of :mod:`.errors`, and
worker threads for everything that touches the store or the disk, so nothing blocks the loop.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, List, Optional, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import PlainTextResponse, Response
from typing_extensions import Literal

from .._native import BackupManager, CallbackReceiver, Monitor, RateLimiter, Store
from ..compat import _state
from ..compat.backup_service import BackupService, schedule_status
from ..compat.emag_monitoring import EmagMonitoringService
from ..compat.emag_rate_limiter import EmagRateLimiter, get_rate_limiter
from ..errors import EmagApiError, InvalidArgumentError
from . import models
from .errors import to_http
from .prometheus import prometheus_text

__all__ = ["management_router", "callback_router"]

T = TypeVar("T")


async def _answer(call: Callable[[], Awaitable[T]]) -> T:
    """Run an endpoint's work; a library error becomes its HTTP answer (the one place)."""
    try:
        return await call()
    except EmagApiError as exc:
        raise to_http(exc) from None


def _dependency(value: Any, name: str) -> Any:
    if value is None:
        return None
    if isinstance(value, DependsParam):
        return value
    if callable(value):
        return Depends(value)
    raise InvalidArgumentError(f"{name} must be Depends(...) or a callable dependency, got {type(value).__name__}")


def management_router(
    *,
    store: Optional[Store] = None,
    backups: Any = None,
    monitor: Optional[Monitor] = None,
    rate_limiter: Any = None,
    auth: Any = None,
    admin_auth: Any = None,
    allow_anonymous: bool = False,
    tags: Optional[List[str]] = None,
    callbacks: Optional[CallbackReceiver] = None,
) -> APIRouter:
    """The management endpoints, to mount with ``app.include_router(router, prefix=...)``.

    Args:
        store: the :class:`Store` the statistics, backups and restores use (default: the one
            named by ``compat.configure`` / ``MAGFLOW_EMAG_DB``).
        backups: a :class:`BackupManager` (its folder is used), a backup folder path, or a
            compat ``BackupService`` (default: the configured folder).
        monitor: the :class:`Monitor` your clients feed (default: the compat one).
        rate_limiter: the :class:`RateLimiter` your clients share (default: the compat one).
        auth: ``Depends(current_user)`` (or the callable): every endpoint runs it. Required
            unless ``allow_anonymous=True``.
        admin_auth: run in addition by restore, cleanup, schedule (POST) and limiter reset
            (default: ``auth`` alone).
        callbacks: a :class:`CallbackReceiver`: adds ``GET /callbacks/order`` (eMAG's callback
            URL, checked by its ``token`` query parameter, not by ``auth``: eMAG sends no
            headers) and ``GET /callbacks/stats`` (under ``auth``).
    """
    if auth is None and allow_anonymous is not True:
        raise InvalidArgumentError(
            "management_router needs auth=Depends(...) (every endpoint runs it); "
            "pass allow_anonymous=True to serve without authentication"
        )
    auth_dep = _dependency(auth, "auth")
    admin_dep = _dependency(admin_auth, "admin_auth")
    mon = monitor if monitor is not None else _state.monitor()
    if not isinstance(mon, Monitor):
        raise InvalidArgumentError(f"monitor must be a magflow_emag.Monitor, got {type(mon).__name__}")
    if rate_limiter is None:
        limiter = get_rate_limiter()
    elif isinstance(rate_limiter, EmagRateLimiter):
        limiter = rate_limiter
    elif isinstance(rate_limiter, RateLimiter):
        limiter = EmagRateLimiter(rate_limiter)
    else:
        raise InvalidArgumentError(f"rate_limiter must be a magflow_emag.RateLimiter, got {type(rate_limiter).__name__}")
    if callbacks is not None and not isinstance(callbacks, CallbackReceiver):
        raise InvalidArgumentError(f"callbacks must be a magflow_emag.CallbackReceiver, got {type(callbacks).__name__}")
    if store is not None and not isinstance(store, Store):
        raise InvalidArgumentError(f"store must be a magflow_emag.Store, got {type(store).__name__}")
    if isinstance(backups, BackupService):
        service = backups
    elif isinstance(backups, BackupManager):
        service = BackupService(store, backup_dir=backups.backup_dir, store=store, monitor=mon)
    else:
        service = BackupService(store, backup_dir=backups, store=store, monitor=mon)

    def monitoring() -> EmagMonitoringService:
        # Cheap: the figures live in the shared Monitor and store, not in the service object.
        return EmagMonitoringService(store, monitor=mon, store=store, rate_limiter=limiter)

    router = APIRouter(dependencies=[auth_dep] if auth_dep is not None else [], tags=list(tags or ["emag-management"]))
    admin = [admin_dep] if admin_dep is not None else []

    @router.get("/health", response_model=models.Health, summary="Integration health: status, score, metrics, alerts")
    async def health() -> Any:
        return await _answer(monitoring().get_health_status)

    @router.get("/monitoring/metrics", response_model=models.MetricsSnapshot,
                summary="Request metrics over the window and the four alerts")
    async def monitoring_metrics() -> Any:
        async def run() -> Any:
            svc = monitoring()
            await svc.update_metrics()
            return {"metrics": svc.metrics, "alerts": svc.alerts, "timestamp": svc.metrics.get("timestamp")}

        return await _answer(run)

    @router.get("/monitoring/sync-stats", response_model=models.SyncStats, response_model_exclude_unset=True,
                summary="Sync runs of the last 24 hours ({} without a store)")
    async def sync_stats() -> Any:
        return await _answer(monitoring().get_sync_statistics)

    @router.get("/monitoring/product-stats", response_model=models.ProductStats, response_model_exclude_unset=True,
                summary="Offers in the store: totals, active, per account, synced in 24 h")
    async def product_stats() -> Any:
        return await _answer(monitoring().get_product_statistics)

    @router.get("/rate-limiter/stats", response_model=models.RateLimiterStats,
                summary="Rate limiter counters and quota usage (legacy keys plus per-bucket figures)")
    async def rate_limiter_stats() -> Any:
        return await _answer(lambda: asyncio.to_thread(limiter.detailed_stats))

    @router.post("/rate-limiter/reset", response_model=models.Message, dependencies=admin,
                 summary="Reset the rate limiter's counters (admin)")
    async def rate_limiter_reset() -> Any:
        async def run() -> Any:
            await asyncio.to_thread(limiter.native.reset_stats)
            return {"message": "Rate limiter statistics reset successfully"}

        return await _answer(run)

    @router.post("/backup/create", response_model=models.BackupCreated,
                 summary="Write a verified backup of the store (gzip JSON lines, 0600, atomic)")
    async def backup_create(
        include_products: bool = True,
        include_offers: bool = True,
        include_orders: bool = True,
        include_sync_logs: bool = True,
        compress: bool = True,
    ) -> Any:
        include = service.include_list(include_products, include_offers, include_orders, include_sync_logs)
        return await _answer(lambda: asyncio.to_thread(service.create, include, compress, include_products))

    @router.get("/backup/list", response_model=List[models.BackupEntry],
                summary="Backups in the folder, newest first (.json.gz, .json and .sqlite)")
    async def backup_list() -> Any:
        return await _answer(lambda: asyncio.to_thread(service.list))

    @router.post("/backup/cleanup", response_model=models.BackupCleanup, dependencies=admin,
                 summary="Delete backups older than `days` (never the newest valid one) (admin)")
    async def backup_cleanup(days: int = Query(30, ge=0, le=36500, description="retention in days")) -> Any:
        return await _answer(lambda: asyncio.to_thread(service.cleanup, days))

    @router.post("/backup/restore", response_model=models.BackupRestored, dependencies=admin,
                 summary="Verify a backup, then restore it in one transaction (admin)")
    async def backup_restore(
        backup_path: str = Query(..., min_length=1, max_length=4096, description="a file name (or path) from /backup/list"),
        mode: Literal["merge", "replace"] = Query("merge", description="merge: keep what exists; replace: the backup's tables only"),
    ) -> Any:
        return await _answer(lambda: asyncio.to_thread(service.restore, backup_path, mode))

    @router.get("/backup/schedule", response_model=models.Schedule,
                summary="The periodic backup: interval, retention, last run, last error")
    async def backup_schedule_get() -> Any:
        return await _answer(lambda: asyncio.to_thread(schedule_status))

    @router.post("/backup/schedule", response_model=models.Schedule, dependencies=admin,
                 summary="Start or change the periodic backup (admin)")
    async def backup_schedule_post(
        interval_seconds: float = Query(86400.0, ge=60.0, le=31 * 86400.0, description="seconds between backups"),
        retention_days: float = Query(30.0, ge=0.0, le=36500.0),
        keep_min: int = Query(1, ge=1, le=10000),
        run_immediately: bool = Query(False, description="take the first backup now"),
    ) -> Any:
        async def run() -> Any:
            status = await asyncio.to_thread(
                service.start_schedule, interval_seconds, retention_days, keep_min, True, run_immediately
            )
            return {"message": "Backup task scheduled successfully", **status}

        return await _answer(run)

    @router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus text exposition",
                responses={200: {"content": {"text/plain; version=0.0.4": {}}}})
    async def metrics() -> Any:
        text = await _answer(lambda: asyncio.to_thread(prometheus_text, mon, store, limiter))
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    @router.get("/callbacks/stats", response_model=models.CallbackStats,
                summary="eMAG callbacks: received, pending, failed, done, oldest pending age")
    async def callbacks_stats() -> Any:
        st = store if store is not None else _state.store(required=False)
        if st is None:
            return models.CallbackStats()
        return await _answer(lambda: asyncio.to_thread(st.callback_stats))

    if callbacks is None:
        return router
    outer = APIRouter()
    outer.include_router(router)
    outer.include_router(callback_router(callbacks, tags=tags))
    return outer


def callback_router(receiver: CallbackReceiver, tags: Optional[List[str]] = None) -> APIRouter:
    """``GET /callbacks/order``: eMAG's callback URL (configure it in the Marketplace as
    ``https://<host><prefix>/callbacks/order?token=<secret>``; eMAG appends ``order_id``).
    Authenticated by the ``token`` query parameter alone (compared in constant time); the
    callback is recorded in the store before the answer (200), so eMAG's retries and a crash
    lose nothing. Other kinds: add ``kind=order_cancellation|return|awb`` to their URLs."""
    if not isinstance(receiver, CallbackReceiver):
        raise InvalidArgumentError(f"receiver must be a magflow_emag.CallbackReceiver, got {type(receiver).__name__}")
    router = APIRouter(tags=list(tags or ["emag-callbacks"]))

    @router.get("/callbacks/order", response_class=PlainTextResponse,
                summary="eMAG's callback (order_id, token; kind for cancellations, returns, AWBs)")
    async def callback(request: Request) -> Any:
        status, body = await asyncio.to_thread(receiver.handle, request.url.query)
        return Response(body, status_code=status, media_type="text/plain")

    return router
