"""magflow_emag: the eMAG Marketplace integration with a Rust core.

Reference codes, errors, and (as the project grows) the client, rate limiter, validation,
sync, monitoring and backup. Everything here is re-exported from the native module
``magflow_emag._native`` or from pure-Python helpers of this package.
"""

from __future__ import annotations

from . import errors
from ._native import (
    Monitor,
    __version__,
    cancellation_reason_text,
    cancellation_reasons,
    is_valid_cancellation_reason,
    order_status_text,
    order_type_text,
    payment_mode_text,
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
    "cancellation_reason_text",
    "cancellation_reasons",
    "is_valid_cancellation_reason",
    "order_status_text",
    "order_type_text",
    "payment_mode_text",
    "transition_rule",
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
