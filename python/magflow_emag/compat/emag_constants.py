"""``app.core.emag_constants``: the legacy names over the core's reference codes.

Texts come from the core (Romanian, as the legacy spoke); the enums and tuning classes are plain
data kept so that imports keep working. ``CANCELLATION_REASONS`` holds the 32 documented codes
(the legacy listed 28).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Dict

from .. import _native

__all__ = [
    "OrderStatus",
    "OrderCompleteness",
    "FulfillmentType",
    "PaymentMode",
    "PaymentStatus",
    "DeliveryMode",
    "ProductStatus",
    "EmagErrorCode",
    "ERROR_CODE_MESSAGES",
    "CANCELLATION_REASONS",
    "RateLimits",
    "HttpStatus",
    "SyncConfig",
    "MonitoringThresholds",
    "get_cancellation_reason_text",
    "get_order_status_text",
    "get_payment_mode_text",
]


class OrderStatus(Enum):
    CANCELED = 0
    NEW = 1
    IN_PROGRESS = 2
    PREPARED = 3
    FINALIZED = 4
    RETURNED = 5


class OrderCompleteness(Enum):
    INCOMPLETE = 0
    COMPLETE = 1


class FulfillmentType(Enum):
    FBE = 2  # fulfilled by eMAG
    FBS = 3  # fulfilled by the seller


class PaymentMode(Enum):
    COD = 1
    BANK_TRANSFER = 2
    CARD_ONLINE = 3


class PaymentStatus(Enum):
    NOT_PAID = 0
    PAID = 1


class DeliveryMode(Enum):
    COURIER = "courier"
    PICKUP = "pickup"


class ProductStatus(Enum):
    INACTIVE = 0
    ACTIVE = 1


class EmagErrorCode(Enum):
    AUTH_INVALID_CREDENTIALS = "AUTH_INVALID_CREDENTIALS"
    AUTH_IP_NOT_WHITELISTED = "AUTH_IP_NOT_WHITELISTED"
    VALIDATION_MISSING_FIELD = "VALIDATION_MISSING_FIELD"
    VALIDATION_INVALID_FORMAT = "VALIDATION_INVALID_FORMAT"
    RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
    BUSINESS_INVALID_SKU = "BUSINESS_INVALID_SKU"
    BUSINESS_DUPLICATE_SKU = "BUSINESS_DUPLICATE_SKU"
    BUSINESS_INSUFFICIENT_STOCK = "BUSINESS_INSUFFICIENT_STOCK"


ERROR_CODE_MESSAGES: Dict[str, str] = {
    "AUTH_INVALID_CREDENTIALS": "Credentiale invalide",
    "AUTH_IP_NOT_WHITELISTED": "IP neautorizat",
    "VALIDATION_MISSING_FIELD": "Câmp obligatoriu lipsă",
    "VALIDATION_INVALID_FORMAT": "Format invalid",
    "RATE_LIMIT_EXCEEDED": "Limită rate depășită",
    "BUSINESS_INVALID_SKU": "SKU invalid",
    "BUSINESS_DUPLICATE_SKU": "SKU duplicat",
    "BUSINESS_INSUFFICIENT_STOCK": "Stoc insuficient",
}

#: The documented cancellation reasons in Romanian (from the core).
CANCELLATION_REASONS: Dict[int, str] = _native.cancellation_reasons("ro")


class RateLimits:
    """eMAG's quotas (the core's `RateLimiter` defaults)."""

    ORDERS_RPS = 12
    ORDERS_RPM = 720
    OTHER_RPS = 3
    OTHER_RPM = 180
    JITTER_MAX = 0.1  # kept for imports; the core's limiter needs no jitter


class HttpStatus:
    OK = 200
    BAD_REQUEST = 400
    UNAUTHORIZED = 401
    FORBIDDEN = 403
    NOT_FOUND = 404
    TOO_MANY_REQUESTS = 429
    INTERNAL_SERVER_ERROR = 500


class SyncConfig:
    MAX_PAGES_PER_SYNC = 100
    ITEMS_PER_PAGE = 100
    DEFAULT_DELAY_BETWEEN_REQUESTS = 1.2
    MAX_RETRIES = 3
    RETRY_BASE_DELAY = 2
    RETRY_MAX_DELAY = 64
    LOG_RETENTION_DAYS = 30


class MonitoringThresholds:
    """The `Monitor` defaults (its slow-response alert is on p95; the legacy's was on the mean)."""

    HIGH_ERROR_RATE = 0.05
    SLOW_RESPONSE_MS = 2000
    RATE_LIMIT_WARNING = 0.8
    SYNC_SUCCESS_RATE = 0.95


def _code(value: Any) -> Any:
    """An int code, or None for what the legacy would only have looked up and missed."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def get_cancellation_reason_text(code: Any) -> str:
    """Romanian text of a cancellation reason, ``"Unknown reason (code: N)"`` otherwise."""
    text = CANCELLATION_REASONS.get(_code(code))  # type: ignore[arg-type]
    return text if text is not None else f"Unknown reason (code: {code})"


def get_order_status_text(status: Any) -> str:
    """Romanian text of an order status (the core's wording)."""
    c = _code(status)
    if c is None:
        return f"Status necunoscut (cod: {status})"
    try:
        return _native.order_status_text(c, "ro")
    except (TypeError, ValueError, OverflowError):
        return f"Status necunoscut (cod: {status})"


def get_payment_mode_text(mode: Any) -> str:
    """Romanian text of a payment mode (the core's wording)."""
    c = _code(mode)
    if c is None:
        return f"Mod de plată necunoscut (cod: {mode})"
    try:
        return _native.payment_mode_text(c, "ro")
    except (TypeError, ValueError, OverflowError):
        return f"Mod de plată necunoscut (cod: {mode})"
