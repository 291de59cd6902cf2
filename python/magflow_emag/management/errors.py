"""The one mapping from library errors to HTTP answers (every endpoint goes through it)."""

from __future__ import annotations

import math
from typing import Dict, Optional, Tuple

from fastapi import HTTPException

from ..compat.backup_service import RestoreInProgressError
from .. import errors as e
from ..errors import EmagApiError

# Most specific first. AuthenticationError is eMAG refusing *our* credentials: an upstream
# failure (502), not the caller's (their auth is the router's dependency).
_STATUS: Tuple[Tuple[type, int], ...] = (
    (e.RateLimitError, 429),
    (e.ValidationError, 422),
    (e.InvalidArgumentError, 400),
    (e.ResourceNotFoundError, 404),
    (RestoreInProgressError, 409),
    (e.BackupError, 422),
    (e.BusinessLogicError, 422),
    (e.EmagTimeoutError, 504),
    (e.NetworkError, 502),
    (e.ApiResponseError, 502),
    (e.AuthenticationError, 502),
    (e.StoreError, 503),
    (e.InternalError, 500),
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
    if isinstance(exc, e.RateLimitError):
        headers = {"Retry-After": str(max(1, math.ceil(float(exc.remaining_seconds or 0))))}
    if isinstance(exc, e.ValidationError) and exc.validation_errors:
        detail = {"message": exc.message, "errors": exc.validation_errors}
    return HTTPException(status_code=status, detail=detail, headers=headers)
