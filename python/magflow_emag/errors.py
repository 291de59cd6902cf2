"""Exceptions raised by magflow_emag.

Every exception derives from :class:`EmagApiError`, so ``except EmagApiError`` catches all of
them. The native code maps each error kind of the Rust core to exactly one class here. The
kinds' codes, names, class names, retryability and descriptions are the core's one table
(``error_kinds!`` in src/error.rs), read here from the native module: a class below states
only what is particular to Python (extra attributes, the legacy HTTP status of a user-built
error, extra base classes).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ._native import _error_kinds

#: The core's table: class name -> (code, kind, retry, doc).
_TABLE: Dict[str, Tuple[int, str, str, str]] = {
    class_name: (code, kind, retry, doc) for code, kind, class_name, retry, doc in _error_kinds()
}

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
    #: Whether an error of the class is worth retrying when ``retryable`` is not given.
    default_retryable: bool = False
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
        retryable: Optional[bool] = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = self.default_code if code is None else code
        self.kind = self.default_kind if kind is None else kind
        self.status_code = self.default_status_code if status_code is _DEFAULT else status_code
        self.response_data = response_data
        self.retryable = self.default_retryable if retryable is None else retryable
        for name, value in extra.items():
            setattr(self, name, value)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A class of the core's table takes its row; a user's subclass inherits its parent's.
        super().__init_subclass__(**kwargs)
        row = _TABLE.get(cls.__name__)
        if row is not None and cls.__module__ == __name__:
            cls.default_code, cls.default_kind, retry, doc = row
            cls.default_retryable = retry == "always"
            if cls.__doc__ is None:
                cls.__doc__ = doc

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code}, status_code={self.status_code})"


class RateLimitError(EmagApiError):
    """Over a quota. ``remaining_seconds`` says how long to wait."""

    default_status_code = 429

    def __init__(self, message: str = "", *, remaining_seconds: float = 0.0, **kw: Any) -> None:
        if not message:
            message = f"Rate limit exceeded. Retry in {remaining_seconds:g}s"
        super().__init__(message, **kw)
        self.remaining_seconds = remaining_seconds


class AuthenticationError(EmagApiError):
    """Credentials refused (or the caller's IP is not whitelisted: eMAG answers both alike)."""

    default_status_code = 401

    def __init__(self, message: str = "Authentication failed", **kw: Any) -> None:
        super().__init__(message, **kw)


class ValidationError(EmagApiError):
    """Input refused before sending. ``validation_errors`` lists every problem."""

    default_status_code = 400

    def __init__(self, message: str = "", *, validation_errors: Optional[List[str]] = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.validation_errors: List[str] = list(validation_errors or [])


class ResourceNotFoundError(EmagApiError):
    default_status_code = 404


class BusinessLogicError(EmagApiError):
    default_status_code = 422


class NetworkError(EmagApiError):
    default_status_code = 503


class EmagTimeoutError(EmagApiError):
    default_status_code = 504


class ApiResponseError(EmagApiError):
    pass


class StoreError(EmagApiError):
    pass


class BackupError(EmagApiError):
    pass


class InvalidArgumentError(EmagApiError, ValueError, TypeError):
    """A malformed, out-of-range or wrongly typed argument; the message names the argument
    and what it accepts. Also a ``ValueError`` and a ``TypeError``, so code written for
    Python's own conventions (or for the errors PyO3 used to raise) still catches it."""


class InternalError(EmagApiError):
    pass


# A kind the core has and this module lacks still gets a class (so the native code can raise it).
for _name in _TABLE.keys() - globals().keys():
    globals()[_name] = type(_name, (EmagApiError,), {"__module__": __name__})

#: The classes whose errors are always worth retrying (rate limits, network, timeouts).
_RETRYABLE: Tuple[type, ...] = tuple(globals()[n] for n, row in _TABLE.items() if row[2] == "always")
