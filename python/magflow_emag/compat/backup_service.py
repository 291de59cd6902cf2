"""``app.services.infrastructure.backup_service``: the legacy backup service over the core's
:class:`BackupManager`.

Backups cover **our** store (orders, offers, sync log, checkpoints: what ``sync_orders`` /
``sync_offers`` wrote), not the ERP's own tables. ``BackupService(db_session)`` uses
``db_session`` only when it is a :class:`Store`; otherwise the store named by
``compat.configure(store=...)`` or ``MAGFLOW_EMAG_DB`` (the ERP passes its SQLAlchemy session,
which is never duck-typed). Listing and cleaning need no store.

Fixed on purpose: ``.json.gz`` backups are listed, cleanup deletes, restore really restores
(verified first, one transaction, ``merge`` by default) and opens only files of the backup
folder, answering one message for every path outside it, whether or not it exists.

The ``create``/``list``/``cleanup``/``restore``/``schedule`` methods raise the library's errors
(the management router maps them to HTTP); the legacy ``*_backup(s)`` methods answer the legacy
dicts (``{"success": False, "error": ...}`` on failure), built by the same shape functions.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from typing import Any, Dict, List, Optional

from .._native import BackupManager, BackupSchedule, Monitor, Store, cleanup_backups, list_backups
from ..errors import BackupError, InvalidArgumentError, ResourceNotFoundError
from . import _state

__all__ = [
    "BackupService",
    "RestoreInProgressError",
    "scheduled_backup",
    "OUTSIDE_MESSAGE",
    "backup_name",
    "create_shape",
    "list_shape",
    "cleanup_shape",
    "restore_shape",
]

logger = logging.getLogger("magflow_emag.compat.backup_service")

#: The one answer for every name that is not a plain file of the backup folder.
OUTSIDE_MESSAGE = "backup_path must name a backup file in the backup folder (as list shows it)"
MODES = ("merge", "replace")


class RestoreInProgressError(BackupError):
    """A restore is already running in this process."""


# One restore at a time in the process (two would fight over the same tables).
_restore_lock = threading.Lock()
# The periodic schedule of this process (POST /backup/schedule replaces it).
_schedule_lock = threading.Lock()
_schedule: Optional[BackupSchedule] = None
_schedule_settings: Dict[str, Any] = {}


def backup_name(backup_dir: str, given: Any) -> str:
    """The file name ``given`` designates inside ``backup_dir``: a plain name, or a path whose
    folder is ``backup_dir`` itself. Anything else (separators elsewhere, ``..``, another folder,
    a symbolic link) raises :class:`InvalidArgumentError` with :data:`OUTSIDE_MESSAGE`, the same
    whether or not such a file exists."""
    if not isinstance(given, str) or not given or "\0" in given:
        raise InvalidArgumentError(OUTSIDE_MESSAGE)
    name = os.path.basename(given)
    folder = os.path.dirname(given)
    if not name or name in (".", "..") or name.startswith("."):
        raise InvalidArgumentError(OUTSIDE_MESSAGE)
    if folder:
        # A path (as list_backups' "path" gives it) is accepted only inside the backup folder.
        if os.path.realpath(folder) != os.path.realpath(backup_dir):
            raise InvalidArgumentError(OUTSIDE_MESSAGE)
    if os.path.islink(os.path.join(backup_dir, name)):
        raise InvalidArgumentError(OUTSIDE_MESSAGE)
    return name


def _stamp(filename: str) -> str:
    """``YYYYmmdd_HHMMSS`` from ``emag_backup_YYYYmmdd_HHMMSS[_N].ext``."""
    return filename[len("emag_backup_"):len("emag_backup_") + 15]


def _mb(n: int) -> float:
    return round(n / (1024 * 1024), 2)


def create_shape(info: Dict[str, Any], include_products: bool = True) -> Dict[str, Any]:
    """The legacy ``create_backup`` answer from ``BackupManager.create``'s report (``products``
    are our offers, reported when products were asked for)."""
    counts = info["counts"]
    return {
        "success": True,
        "backup_path": info["backup_path"],
        "timestamp": _stamp(info["filename"]),
        "file_size_bytes": info["size_bytes"],
        "compressed": info["format"] == "json_gz",
        "items": {
            "products": counts.get("offers", 0) if include_products else 0,
            "offers": counts.get("offers", 0),
            "orders": counts.get("orders", 0),
            "sync_logs": counts.get("sync_runs", 0),
        },
        # beside the legacy keys
        "filename": info["filename"],
        "format": info["format"],
        "created_at": info["created_at"],
        "sha256": info["sha256"],
        "counts": counts,
        "duration_s": info["duration_s"],
    }


def list_shape(backup_dir: str, entries: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The legacy ``list_backups`` entries (newest first), with the core's fields beside them."""
    out = []
    for e in entries:
        created = str(e.get("created_at") or "")
        out.append(
            {
                "filename": e["filename"],
                "path": os.path.join(backup_dir, e["filename"]),
                "timestamp": _stamp(e["filename"]),
                "created_at": created[:-1] if created.endswith("Z") else created,  # naive ISO, UTC
                "size_bytes": e["size_bytes"],
                "size_mb": _mb(e["size_bytes"]),
                "compressed": e["format"] == "json_gz",
                "format": e["format"],
                "sound": e["sound"],
                "counts": e["counts"],
                "schema_version": e["schema_version"],
                "error": e["error"],
            }
        )
    return out


def cleanup_shape(backup_dir: str, report: Dict[str, Any]) -> Dict[str, Any]:
    freed = int(report["bytes_freed"])
    return {
        "success": True,
        "deleted_count": len(report["deleted"]),
        "deleted_files": [os.path.join(backup_dir, n) for n in report["deleted"]],
        "freed_space_bytes": freed,
        "freed_space_mb": _mb(freed),
        "kept": report["kept"],
    }


def restore_shape(report: Dict[str, Any]) -> Dict[str, Any]:
    counts = report["counts"]
    return {
        "success": True,
        "restored": {
            "products": counts.get("offers", 0),
            "offers": counts.get("offers", 0),
            "orders": counts.get("orders", 0),
            "sync_logs": counts.get("sync_runs", 0),
        },
        "filename": report["filename"],
        "mode": report["mode"],
        "counts": counts,
        "skipped": report["skipped"],
        "sha256": report["sha256"],
        "duration_s": report["duration_s"],
    }


def _failure(exc: BaseException) -> Dict[str, Any]:
    return {"success": False, "error": str(exc) or type(exc).__name__}


class BackupService:
    """The legacy backup service. ``backup_dir`` defaults to the configured folder (else
    ``MAGFLOW_EMAG_BACKUP_DIR``, else ``backups``); it is created (0700) by the first backup."""

    def __init__(
        self,
        db_session: Any = None,
        backup_dir: Any = None,
        *,
        store: Optional[Store] = None,
        monitor: Optional[Monitor] = None,
    ) -> None:
        self.db_session = db_session
        if backup_dir is not None and not isinstance(backup_dir, _state.PATH_TYPES):
            raise InvalidArgumentError(f"backup_dir must be a path, got {type(backup_dir).__name__}")
        self.backup_dir = os.fspath(backup_dir) if backup_dir is not None else _state.backup_dir()
        self._store = db_session if isinstance(db_session, Store) else store
        self._monitor = monitor

    # ---- the library's face (raises) -----------------------------------------------------

    def store(self) -> Store:
        return self._store if self._store is not None else _state.store()  # type: ignore[return-value]

    def manager(self) -> BackupManager:
        monitor = self._monitor if self._monitor is not None else _state.monitor()
        return BackupManager(self.store(), self.backup_dir, monitor=monitor)

    @staticmethod
    def include_list(products: bool = True, offers: bool = True, orders: bool = True, sync_logs: bool = True) -> List[str]:
        include = []
        if products or offers:
            include.append("offers")
        if orders:
            include.append("orders")
        if sync_logs:
            include.append("sync_log")
        if products or offers or orders:
            include.append("checkpoints")  # where each sync resumes: belongs with its data
        return include

    def create(self, include: List[str], compress: bool = True, include_products: Optional[bool] = None) -> Dict[str, Any]:
        """Blocking: write a backup of the ``include`` tables; the legacy shape."""
        if not include:
            raise InvalidArgumentError("nothing to back up: include at least one of products, offers, orders, sync_logs")
        info = self.manager().create(include=include, compress=compress)
        return create_shape(info, "offers" in include if include_products is None else include_products)

    def list(self) -> List[Dict[str, Any]]:
        return list_shape(self.backup_dir, list_backups(self.backup_dir))

    def cleanup(self, days: float = 30, keep_min: int = 1) -> Dict[str, Any]:
        report = cleanup_backups(self.backup_dir, retention_days=days, keep_min=keep_min)
        return cleanup_shape(self.backup_dir, report)

    def restore(self, backup_path: Any, mode: str = "merge") -> Dict[str, Any]:
        """Blocking: verify, then restore in one transaction. One restore at a time."""
        if mode not in MODES:
            raise InvalidArgumentError(f"mode must be 'merge' or 'replace', got {mode!r}")
        name = backup_name(self.backup_dir, backup_path)
        if not os.path.isfile(os.path.join(self.backup_dir, name)):
            # Only names inside the folder get here: this says nothing about other paths.
            raise ResourceNotFoundError(f"backup {name!r} not found in the backup folder")
        if not _restore_lock.acquire(blocking=False):
            raise RestoreInProgressError("a restore is already running; try again when it has finished")
        try:
            return restore_shape(self.manager().restore(name, mode=mode))
        finally:
            _restore_lock.release()

    def start_schedule(
        self, interval: float = 86400.0, retention_days: float = 30.0, keep_min: int = 1, compress: bool = True,
        run_immediately: bool = False,
    ) -> Dict[str, Any]:
        """Start (or replace) the periodic backup of this process; its status."""
        global _schedule, _schedule_settings
        manager = self.manager()
        with _schedule_lock:
            new = manager.schedule(
                interval=interval, retention_days=retention_days, keep_min=keep_min, compress=compress,
                run_immediately=run_immediately,
            )
            old, _schedule = _schedule, new
            _schedule_settings = {
                "interval_seconds": float(interval),
                "retention_days": float(retention_days),
                "keep_min": int(keep_min),
                "compress": bool(compress),
                "backup_dir": self.backup_dir,
            }
        if old is not None:
            old.stop(wait=True)
        return schedule_status()

    # ---- the legacy face (awaited; answers dicts) ------------------------------------------

    async def create_backup(
        self,
        include_products: bool = True,
        include_offers: bool = True,
        include_orders: bool = True,
        include_sync_logs: bool = True,
        compress: bool = True,
    ) -> Dict[str, Any]:
        include = self.include_list(include_products, include_offers, include_orders, include_sync_logs)
        try:
            return await asyncio.to_thread(self.create, include, bool(compress), bool(include_products))
        except Exception as exc:
            logger.error("backup failed: %s", exc)
            return _failure(exc)

    async def list_backups(self) -> List[Dict[str, Any]]:
        try:
            return await asyncio.to_thread(self.list)
        except Exception as exc:
            logger.error("listing backups failed: %s", exc)
            return []

    async def cleanup_old_backups(self, days: int = 30) -> Dict[str, Any]:
        try:
            return await asyncio.to_thread(self.cleanup, days)
        except Exception as exc:
            logger.error("backup cleanup failed: %s", exc)
            return _failure(exc)

    async def restore_backup(self, backup_path: str, mode: str = "merge") -> Dict[str, Any]:
        try:
            return await asyncio.to_thread(self.restore, backup_path, mode)
        except Exception as exc:
            logger.error("restore failed: %s", exc)
            return _failure(exc)


def schedule_status() -> Dict[str, Any]:
    """The schedule of this process: settings and the core's status (``None`` fields when
    nothing is scheduled)."""
    with _schedule_lock:
        sched, settings = _schedule, dict(_schedule_settings)
    status = sched.status() if sched is not None else {}
    return {
        "scheduled": bool(sched is not None and sched.running),
        "interval_seconds": settings.get("interval_seconds"),
        "retention_days": settings.get("retention_days"),
        "keep_min": settings.get("keep_min"),
        "backup_dir": settings.get("backup_dir"),
        "runs": status.get("runs", 0),
        "failures": status.get("failures", 0),
        "deleted": status.get("deleted", 0),
        "last_run": status.get("last_backup"),
        "last_error": status.get("last_error"),
    }


def stop_schedule() -> bool:
    """Stop this process's schedule (a running backup finishes first); True if one ran."""
    global _schedule
    with _schedule_lock:
        sched, _schedule = _schedule, None
    if sched is None:
        return False
    sched.stop(wait=True)
    return True


async def scheduled_backup(db_session: Any = None) -> None:
    """One backup, then a cleanup of backups older than 30 days; failures are logged and reach
    the monitor (the legacy's one-shot "schedule"; see ``BackupService.start_schedule``)."""
    service = BackupService(db_session)
    result = await service.create_backup()
    if not result.get("success"):
        logger.error("scheduled backup failed: %s", result.get("error"))
        return
    cleaned = await service.cleanup_old_backups(days=30)
    logger.info("scheduled backup %s; cleanup deleted %s", result.get("filename"), cleaned.get("deleted_count"))
