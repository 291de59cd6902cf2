"""``app.services.orders.order_validation``: the core's order validators under the legacy
signatures. Every rule is the core's; two legacy choices are kept here only:

- ``type`` is not required when the order has none (``require_type=False`` on the core's
  validators); a ``type`` that is sent is checked as always.
- ``validate_order_cancellation(order_id, cancellation_reason)``: the legacy keyword name.

Bulk results are keyed ``str(id)`` and hold only orders with problems (orders without a usable
id are keyed by position, ``"[3]"``; the legacy lumped them under ``"unknown"``).
"""

from __future__ import annotations

from typing import Any, Dict, List

from .. import _native

__all__ = [
    "validate_order_data",
    "validate_order_for_update",
    "validate_order_cancellation",
    "validate_bulk_order_update",
]


def validate_order_data(order_data: Any) -> List[str]:
    """Messages about an order as read (``[]`` when valid)."""
    return _native.validate_order_data(order_data, require_type=False)


def validate_order_for_update(order_data: Any) -> List[str]:
    """Messages about an order before ``order/save`` (``cancellation_reason`` is accepted as
    well as ``reason_cancellation``)."""
    return _native.validate_order_for_update(order_data, require_type=False)


def validate_order_cancellation(order_id: Any, cancellation_reason: Any) -> List[str]:
    """Messages about a cancellation: the id and one of the 32 documented reason codes."""
    return _native.validate_order_cancellation(order_id, cancellation_reason)


def validate_bulk_order_update(orders: Any) -> Dict[str, List[str]]:
    """``{str(id): messages}`` for the orders with problems only."""
    return _native.validate_bulk_order_update(orders, require_type=False)
