"""Exceptions raised by magflow_emag.

Every exception derives from :class:`EmagApiError`, so ``except EmagApiError`` catches all of
them. The native code maps each error kind of the Rust core to exactly one class here.
"""

from __future__ import annotations

from typing import Any, List, Optional

# Marks an omitted ``status_code``: a class default applies only then (the native code always
# passes one, even None, so what it raises is unchanged). Legacy ERP code builds these errors
# itself (``RateLimitError(remaining_seconds=60).status_code == 429``).
_DEFAULT: Any = object()

__all__ = [
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


class EmagApiError(Exception):
    """Base class of every error of the library.

    Attributes:
        message: human-readable text (never contains credentials).
        code: the stable integer of the error kind (the C ``mf_status`` value).
        kind: the stable name of the error kind (``"network"``, ``"validation"``, ...).
        status_code: the HTTP status that produced the error, if any.
        response_data: the JSON body eMAG answered, if any.
        retryable: whether the same request may succeed later.
    """

    default_code: int = 0
    default_kind: str = "error"
    #: The HTTP status a user-built error gets when ``status_code`` is not given.
    default_status_code: Optional[int] = None

    def __init__(
        self,
        message: str = "",
        *,
        code: Optional[int] = None,
        kind: Optional[str] = None,
        status_code: Optional[int] = _DEFAULT,
        response_data: Any = None,
        retryable: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code
        self.kind = self.default_kind if kind is None else kind
        self.status_code = self.default_status_code if status_code is _DEFAULT else status_code
        self.response_data = response_data
        self.retryable = retryable
        for name, value in extra.items():
            setattr(self, name, value)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code}, status_code={self.status_code})"


class RateLimitError(EmagApiError):
    """Over a quota. ``remaining_seconds`` says how long to wait."""

    default_code = 1
    default_kind = "rate_limited"
    default_status_code = 429

    def __init__(self, message: str = "", *, remaining_seconds: float = 0.0, **kw: Any) -> None:
        kw.setdefault("retryable", True)
        if not message:
            message = f"Rate limit exceeded. Retry in {remaining_seconds:g}s"
        super().__init__(message, **kw)
        self.remaining_seconds = remaining_seconds


class AuthenticationError(EmagApiError):
    """Credentials refused (or the caller's IP is not whitelisted: eMAG answers both alike)."""

    default_code = 2
    default_kind = "authentication"
    default_status_code = 401

    def __init__(self, message: str = "Authentication failed", **kw: Any) -> None:
        super().__init__(message, **kw)


class ValidationError(EmagApiError):
    """Input refused before sending. ``validation_errors`` lists every problem."""

    default_code = 3
    default_kind = "validation"
    default_status_code = 400

    def __init__(self, message: str = "", *, validation_errors: Optional[List[str]] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.validation_errors: List[str] = list(validation_errors or [])


class ResourceNotFoundError(EmagApiError):
    """The resource or route does not exist (HTTP 404)."""

    default_code = 4
    default_kind = "not_found"
    default_status_code = 404


class BusinessLogicError(EmagApiError):
    """A business rule forbids the operation."""

    default_code = 5
    default_kind = "business_rule"
    default_status_code = 422


class NetworkError(EmagApiError):
    """Connection failure or a 5xx answer."""

    default_code = 6
    default_kind = "network"
    default_status_code = 503


class EmagTimeoutError(EmagApiError):
    """The request took longer than allowed."""

    default_code = 7
    default_kind = "timeout"
    default_status_code = 504


class ApiResponseError(EmagApiError):
    """eMAG answered ``isError: true``, or a body that is not the documented envelope."""

    default_code = 8
    default_kind = "api_response"


class StoreError(EmagApiError):
    """The embedded SQLite store failed."""

    default_code = 9
    default_kind = "store"


class BackupError(EmagApiError):
    """A backup could not be created, verified or restored."""

    default_code = 10
    default_kind = "backup"


class InvalidArgumentError(EmagApiError, ValueError, TypeError):
    """A malformed, out-of-range or wrongly typed argument; the message names the argument
    and what it accepts. Also a ``ValueError`` and a ``TypeError``, so code written for
    Python's own conventions (or for the errors PyO3 used to raise) still catches it."""

    default_code = 11
    default_kind = "invalid_argument"


class InternalError(EmagApiError):
    """A bug in the library."""

    default_code = 12
    default_kind = "internal"
