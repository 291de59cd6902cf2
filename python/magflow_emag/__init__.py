"""magflow_emag: the eMAG Marketplace integration with a Rust core.

Reference codes, errors, validation, and (as the project grows) the client, rate limiter,
sync, monitoring and backup. Everything here is re-exported from the native module
``magflow_emag._native`` or from pure-Python helpers of this package.
"""

from __future__ import annotations

from . import _logging, errors, testing
from .client import AsyncClient, Client, RetryPolicy
from ._native import (
    BackupManager,
    BackupSchedule,
    CallbackReceiver,
    cleanup_backups,
    list_backups,
    verify_backup,
    CancelToken,
    Store,
    RateLimiter,
    Monitor,
    __version__,
    cancellation_reason_text,
    cancellation_reasons,
    is_valid_cancellation_reason,
    order_status_text,
    order_type_text,
    payment_mode_text,
    sync_offers,
    sync_offers_async,
    sync_orders,
    sync_orders_async,
    scheduled_start_offset,
    transition_rule,
    validate_awb,
    validate_bulk_order_update,
    validate_offer,
    validate_order_cancellation,
    validate_order_data,
    validate_order_for_update,
)
from .errors import *  # noqa: F401,F403 (the exception classes; their names are errors.__all__)

__all__ = [
    "__version__",
    "errors",
    "Client",
    "AsyncClient",
    "RetryPolicy",
    "Store",
    "CancelToken",
    "sync_orders",
    "sync_orders_async",
    "sync_offers",
    "sync_offers_async",
    "testing",
    "cancellation_reason_text",
    "cancellation_reasons",
    "is_valid_cancellation_reason",
    "order_status_text",
    "order_type_text",
    "payment_mode_text",
    "transition_rule",
    "validate_order_data",
    "validate_order_for_update",
    "validate_order_cancellation",
    "validate_bulk_order_update",
    "validate_offer",
    "validate_awb",
    "RateLimiter",
    "scheduled_start_offset",
    "Monitor",
    "BackupManager",
    "BackupSchedule",
    "CallbackReceiver",
    "list_backups",
    "verify_backup",
    "cleanup_backups",
]
__all__ += errors.__all__

_logging.install()
