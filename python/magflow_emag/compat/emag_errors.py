"""``app.core.emag_errors``: our exception classes themselves (not subclasses), so an
``except RateLimitError`` in ERP code catches what the native code raises; plus the legacy
retry helpers in plain Python (the client already retries inside the core).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple, Type

from .._native import RetryPolicy
from .. import errors as _errors
from ..errors import *  # noqa: F401,F403 (the classes themselves, as errors.__all__ names them)
from ..errors import (
    AuthenticationError,
    BusinessLogicError,
    EmagApiError,
    NetworkError,
    RateLimitError,
    ResourceNotFoundError,
    ValidationError,
)

#: The legacy name (it shadows the builtin inside ERP modules that import it, as before).
TimeoutError = _errors.EmagTimeoutError  # noqa: A001

__all__ = _errors.__all__ + [
    "TimeoutError",
    "retry_with_backoff",
    "retry_on_error",
    "ErrorHandler",
    "log_error",
]

logger = logging.getLogger("magflow_emag.compat.emag_errors")
_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

# The core's retryable kinds (rate limits, network failures, timeouts).
_RETRY_ON: Tuple[Type[BaseException], ...] = _errors._RETRYABLE


def _delay(error: BaseException, retry: int, base_delay: float, max_delay: float, exponential: bool) -> float:
    seconds = getattr(error, "remaining_seconds", 0) if isinstance(error, RateLimitError) else 0
    if seconds and seconds > 0:
        return float(min(seconds, max_delay))
    if exponential:
        # The core's ceiling (base * 2^n, capped), with full jitter as the client uses.
        ceiling = RetryPolicy(max_retries=max(retry + 1, 1), base_delay=base_delay, max_delay=max_delay).ceiling(retry)
        return random.uniform(0.0, ceiling)
    return float(min(base_delay * (retry + 1), max_delay))


async def retry_with_backoff(
    func: Callable[[], Awaitable[Any]],
    max_retries: int = 3,
    base_delay: float = 2.0,
    max_delay: float = 64.0,
    exponential: bool = True,
    retry_on: Tuple[Type[BaseException], ...] = _RETRY_ON,
) -> Any:
    """Call ``await func()`` up to ``max_retries + 1`` times; re-raise the last error as is.
    Anything not in ``retry_on`` propagates at once."""
    attempt = 0
    while True:
        try:
            return await func()
        except retry_on as exc:
            if attempt >= max_retries:
                logger.error("all %d retries failed: %s", max_retries, exc)
                raise
            delay = _delay(exc, attempt, base_delay, max_delay, exponential)
            logger.warning("attempt %d/%d failed: %s; retrying in %.1fs", attempt + 1, max_retries, exc, delay)
            await asyncio.sleep(delay)
            attempt += 1


def retry_on_error(max_retries: int = 3, base_delay: float = 2.0, exponential: bool = True) -> Callable[..., Any]:
    """Decorator form of :func:`retry_with_backoff` for async functions."""

    def decorator(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            return await retry_with_backoff(
                lambda: func(*args, **kwargs), max_retries=max_retries, base_delay=base_delay, exponential=exponential
            )

        return wrapper

    return decorator


class ErrorHandler:
    """The legacy helper: an HTTP answer to an exception, and retry decisions."""

    @staticmethod
    def handle_http_error(status_code: int, response_data: Optional[dict] = None) -> EmagApiError:
        data = response_data if isinstance(response_data, dict) else {}
        message = str(data.get("message", "Unknown error"))
        code = data.get("code")
        if status_code == 400:
            errors = data.get("errors") or []
            return ValidationError(message, validation_errors=list(errors) if isinstance(errors, list) else [str(errors)],
                                   response_data=data)
        if status_code == 401:
            return AuthenticationError(message, response_data=data)
        if status_code == 404:
            return ResourceNotFoundError(f"Resource not found: {data.get('id', 'unknown')}", response_data=data)
        if status_code == 422:
            return BusinessLogicError(message, code=code or "BUSINESS_ERROR", response_data=data)
        if status_code == 429:
            retry_after = data.get("retry_after", 60)
            try:
                seconds = float(retry_after)
            except (TypeError, ValueError):
                seconds = 60.0
            return RateLimitError(message, remaining_seconds=seconds, response_data=data)
        if isinstance(status_code, int) and status_code >= 500:
            return NetworkError(message, status_code=status_code, response_data=data)
        return EmagApiError(message, code=code, status_code=status_code, response_data=data)

    @staticmethod
    def is_retryable(error: BaseException) -> bool:
        if isinstance(error, EmagApiError):
            return bool(error.retryable) or isinstance(error, _RETRY_ON)
        return False

    @staticmethod
    def get_retry_delay(error: BaseException, attempt: int, base_delay: float = 2.0) -> float:
        if isinstance(error, RateLimitError):
            return float(error.remaining_seconds)
        return RetryPolicy(max_retries=max(attempt + 1, 1), base_delay=base_delay, max_delay=64.0).ceiling(attempt)


def log_error(error: BaseException, context: Optional[dict] = None) -> None:
    """Log an error with its code and status (never its response body: it may hold customer data)."""
    extra: Dict[str, Any] = {
        "error_code": getattr(error, "code", None),
        "status_code": getattr(error, "status_code", None),
    }
    for key, value in (context.items() if isinstance(context, dict) else ()):
        # A key LogRecord owns ("message", "args", ...) would make logging raise: prefix it.
        extra[f"ctx_{key}" if key in _RESERVED else str(key)] = value
    logger.error("eMAG API error: %s", error, extra=extra)
