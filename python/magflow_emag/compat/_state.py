"""What the compat services share in one process: the store, the backup folder, the limiter
and the monitor (the legacy built a monitor per request, so its numbers were always 0).

Set by :func:`magflow_emag.compat.configure`, else from the environment (``MAGFLOW_EMAG_DB``,
``MAGFLOW_EMAG_BACKUP_DIR``). The store is opened lazily: listing or cleaning backups needs none
and must not create a database file.
"""

from __future__ import annotations

import os
import pathlib
import threading
from typing import Any, Optional

from .._native import Monitor, RateLimiter, Store
from ..errors import InvalidArgumentError, StoreError

ENV_DB = "MAGFLOW_EMAG_DB"
# Paths are str or pathlib objects only: os.PathLike would also admit a mock (it has every
# attribute), and the ERP passes mocks and sessions around.
PATH_TYPES = (str, pathlib.PurePath)
ENV_BACKUP_DIR = "MAGFLOW_EMAG_BACKUP_DIR"

_lock = threading.RLock()
_store: Optional[Store] = None
_backup_dir: Optional[str] = None
_limiter: Optional[RateLimiter] = None
_monitor: Optional[Monitor] = None
_UNSET: Any = object()


def configure(
    *,
    store: Any = _UNSET,
    backup_dir: Any = _UNSET,
    limiter: Any = _UNSET,
    monitor: Any = _UNSET,
) -> None:
    """Name what the compat services use. ``store``: a :class:`Store` or a path to one;
    ``limiter``: a :class:`RateLimiter` (or a compat ``EmagRateLimiter``); ``monitor``: a
    :class:`Monitor`. ``None`` forgets a setting (the default applies again)."""
    global _store, _backup_dir, _limiter, _monitor
    with _lock:
        if store is not _UNSET:
            if store is None or isinstance(store, Store):
                _store = store
            elif isinstance(store, PATH_TYPES):
                _store = Store(store)
            else:
                raise InvalidArgumentError(f"store must be a magflow_emag.Store or a path, got {type(store).__name__}")
        if backup_dir is not _UNSET:
            if backup_dir is not None and not isinstance(backup_dir, PATH_TYPES):
                raise InvalidArgumentError(f"backup_dir must be a path, got {type(backup_dir).__name__}")
            _backup_dir = None if backup_dir is None else os.fspath(backup_dir)
        if limiter is not _UNSET:
            native = getattr(limiter, "native", limiter)
            if native is not None and not isinstance(native, RateLimiter):
                raise InvalidArgumentError(f"limiter must be a magflow_emag.RateLimiter, got {type(limiter).__name__}")
            _limiter = native
            from . import emag_rate_limiter

            emag_rate_limiter._reset_singleton()
        if monitor is not _UNSET:
            if monitor is not None and not isinstance(monitor, Monitor):
                raise InvalidArgumentError(f"monitor must be a magflow_emag.Monitor, got {type(monitor).__name__}")
            _monitor = monitor
            from . import emag_monitoring

            emag_monitoring._reset_singleton()


def store(required: bool = True) -> Optional[Store]:
    """The configured store, opened from ``MAGFLOW_EMAG_DB`` on first use."""
    global _store
    with _lock:
        if _store is None and os.environ.get(ENV_DB):
            _store = Store(os.environ[ENV_DB])
        if _store is None and required:
            raise StoreError(
                f"no store configured: call magflow_emag.compat.configure(store=...) or set {ENV_DB}"
            )
        return _store


def backup_dir(default: str = "backups") -> str:
    with _lock:
        return _backup_dir or os.environ.get(ENV_BACKUP_DIR) or default


def backup_dir_configured() -> bool:
    with _lock:
        return bool(_backup_dir or os.environ.get(ENV_BACKUP_DIR))


def _shared(name: str, make: Any) -> Any:
    """The module-level object `name`, made by `make()` on first use."""
    with _lock:
        if globals()[name] is None:
            globals()[name] = make()
        return globals()[name]


def limiter() -> RateLimiter:
    """The process-wide limiter (eMAG's quotas, local backend unless configured)."""
    return _shared("_limiter", RateLimiter)


def monitor() -> Monitor:
    """The process-wide monitor every compat service reads and feeds."""
    return _shared("_monitor", Monitor)
