"""The one mapping from library errors to HTTP answers (every endpoint goes through it)."""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

from fastapi import HTTPException

from ..compat.backup_service import RestoreInProgressError
from ..errors import (
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

# Most specific first. AuthenticationError is eMAG refusing *our* credentials: an upstream
# failure (502), not the caller's (their auth is the router's dependency).
_STATUS: Tuple[Tuple[type, int], ...] = (
    (RateLimitError, 429),
    (ValidationError, 422),
    (InvalidArgumentError, 400),
    (ResourceNotFoundError, 404),
    (RestoreInProgressError, 409),
    (BackupError, 422),
    (BusinessLogicError, 422),
    (EmagTimeoutError, 504),
    (NetworkError, 502),
    (ApiResponseError, 502),
    (AuthenticationError, 502),
    (StoreError, 503),
    (InternalError, 500),
)


def http_status(exc: EmagApiError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 502


def to_http(exc: EmagApiError) -> HTTPException:
    """The HTTPException for a library error: its message (never a traceback), the validation
    messages for 422, ``Retry-After`` for 429."""
    status = http_status(exc)
    headers: Optional[Dict[str, str]] = None
    detail: object = exc.message or type(exc).__name__
    if isinstance(exc, RateLimitError):
        headers = {"Retry-After": str(max(1, math.ceil(float(exc.remaining_seconds or 0))))}
    if isinstance(exc, ValidationError) and exc.validation_errors:
        detail = {"message": exc.message, "errors": exc.validation_errors}
    return HTTPException(status_code=status, detail=detail, headers=headers)
