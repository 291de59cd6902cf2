"""magflow_emag: the eMAG Marketplace integration with a Rust core.

Reference codes, errors, and (as the project grows) the client, rate limiter, validation,
sync, monitoring and backup. Everything here is re-exported from the native module
``magflow_emag._native`` or from pure-Python helpers of this package.
"""

from __future__ import annotations

from . import errors, testing
from .client import AsyncClient, Client, RetryPolicy
from ._native import (
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
)
from .errors import (
    ApiResponseError,
    AuthenticationError,
    BackupError,
    BusinessLogicError,
    EmagApiError,
    EmagTimeoutError,
    InternalError,
    InvalidArgumentError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    StoreError,
    ValidationError,
)

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
    "RateLimiter",
    "scheduled_start_offset",
    "Monitor",
    "EmagApiError",
    "RateLimitError",
    "AuthenticationError",
    "ValidationError",
    "ResourceNotFoundError",
    "BusinessLogicError",
    "NetworkError",
    "EmagTimeoutError",
    "ApiResponseError",
    "StoreError",
    "BackupError",
    "InvalidArgumentError",
    "InternalError",
]
