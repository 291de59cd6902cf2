"""Drop-in modules for the legacy MagFlow ERP: change the import lines, keep the code.

==========================================  ==========================================
legacy module                                here
==========================================  ==========================================
``app.core.emag_constants``                  ``magflow_emag.compat.emag_constants``
``app.core.emag_errors``                     ``magflow_emag.compat.emag_errors``
``app.core.emag_rate_limiter``               ``magflow_emag.compat.emag_rate_limiter``
``app.services.emag.emag_monitoring``,       ``magflow_emag.compat.emag_monitoring``
``app.core.emag_monitoring``
``app.services.orders.order_validation``     ``magflow_emag.compat.order_validation``
``app.services.infrastructure.backup_service``  ``magflow_emag.compat.backup_service``
==========================================  ==========================================

The layer adapts names, signatures and result shapes; every eMAG rule comes from the core.
:func:`configure` names the store, backup folder, limiter and monitor the services share.
"""

from __future__ import annotations

from ._state import configure
from . import (
    backup_service,
    emag_constants,
    emag_errors,
    emag_monitoring,
    emag_rate_limiter,
    order_validation,
)

__all__ = [
    "configure",
    "backup_service",
    "emag_constants",
    "emag_errors",
    "emag_monitoring",
    "emag_rate_limiter",
    "order_validation",
]
