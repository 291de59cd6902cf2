"""Keeps the native logger's level cache in step with Python's ``logging``.

The core's records reach ``logging`` through a logger that caches each Python logger's
effective level (asking Python for every record would take the GIL on every ``log::debug!``).
Python clears its own cache of effective levels in ``logging.Manager._clear_cache`` whenever a
level changes (``Logger.setLevel``, ``logging.disable``, ``basicConfig``, ``dictConfig``); this
hook clears the native cache at the same moments, so a level changed at run time takes effect
at once instead of being frozen by the first record.
"""

from __future__ import annotations

import logging

from . import _native

_HOOKED = "_magflow_emag_hooked"


def install() -> None:
    manager_class = logging.Manager
    original = manager_class._clear_cache  # type: ignore[attr-defined]
    if getattr(original, _HOOKED, False):
        return

    def _clear_cache(self: logging.Manager) -> None:
        original(self)
        _native._reset_log_cache()

    setattr(_clear_cache, _HOOKED, True)
    manager_class._clear_cache = _clear_cache  # type: ignore[attr-defined]
