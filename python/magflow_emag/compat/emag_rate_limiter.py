"""``app.core.emag_rate_limiter``: the legacy async limiter over the core's `RateLimiter`.

``get_rate_limiter()`` is one process-wide limiter; share it with clients by passing
``Client(..., rate_limiter=get_rate_limiter().native)``. Every operation type other than
``"orders"`` (any case) goes to the ``other`` bucket, as in the legacy. ``TokenBucket`` and
``SlidingWindowCounter`` are generic primitives kept only so that imports keep working.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from typing import Any, Deque, Dict, Optional

from .._native import RateLimiter
from ..errors import RateLimitError
from . import _state

__all__ = [
    "TokenBucket",
    "SlidingWindowCounter",
    "EmagRateLimiter",
    "get_rate_limiter",
    "rate_limited_request",
]


class TokenBucket:
    """A plain token bucket (not an eMAG rule: the core enforces eMAG's quotas)."""

    def __init__(self, rate: float, capacity: int) -> None:
        self.rate = float(rate)
        self.capacity = capacity
        self.tokens = float(capacity)
        self.last_update = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(float(self.capacity), self.tokens + (now - self.last_update) * self.rate)
        self.last_update = now

    async def acquire(self, tokens: int = 1) -> bool:
        """Take ``tokens`` if available now; never waits."""
        async with self._lock:
            self._refill()
            if self.tokens >= tokens:
                self.tokens -= tokens
                return True
            return False

    async def wait_for_token(self, tokens: int = 1, timeout: Optional[float] = None) -> None:
        """Wait until ``tokens`` are taken; :class:`RateLimitError` once ``timeout`` seconds
        have passed (None or 0: wait as long as it takes, as the legacy did)."""
        deadline = time.monotonic() + timeout if timeout else None
        while not await self.acquire(tokens):
            wait = (tokens - self.tokens) / self.rate if self.rate > 0 else 0.1
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RateLimitError(
                        "Rate limit timeout exceeded",
                        remaining_seconds=tokens / self.rate if self.rate > 0 else 0.0,
                    )
                wait = min(wait, left)
            await asyncio.sleep(max(wait, 0.001))

    def get_available_tokens(self) -> float:
        self._refill()
        return self.tokens


class SlidingWindowCounter:
    """Requests in the last ``window_size`` seconds (kept for imports)."""

    def __init__(self, window_size: int = 60) -> None:
        self.window_size = window_size
        self.requests: Deque[float] = deque()
        self._lock = asyncio.Lock()

    async def add_request(self) -> None:
        async with self._lock:
            self.requests.append(time.monotonic())

    async def get_count(self) -> int:
        async with self._lock:
            cutoff = time.monotonic() - self.window_size
            while self.requests and self.requests[0] < cutoff:
                self.requests.popleft()
            return len(self.requests)


def _bucket(operation_type: Any) -> str:
    return "orders" if isinstance(operation_type, str) and operation_type.lower() == "orders" else "other"


class EmagRateLimiter:
    """The legacy limiter's methods over a core :class:`RateLimiter` (``.native``)."""

    def __init__(self, native: Optional[RateLimiter] = None) -> None:
        self.native: RateLimiter = native if native is not None else RateLimiter()

    async def acquire(self, operation_type: str = "other", timeout: Optional[float] = 30.0) -> None:
        """Wait for a permit; :class:`RateLimitError` at once when the wait would exceed
        ``timeout``. The legacy's 0/None meant "forever", and so they do here."""
        wait = None if not timeout or timeout <= 0 else float(timeout)
        # The blocking acquire in a worker thread (it releases the GIL): it never blocks the loop.
        await asyncio.to_thread(self.native.acquire, _bucket(operation_type), wait)

    def _stats(self) -> Dict[str, Any]:
        s = self.native.stats()
        o, t = s["orders"], s["other"]
        return {
            "orders_requests": o["requests"],
            "other_requests": t["requests"],
            "rate_limit_hits": o["rate_limited"] + o["timeouts"] + t["rate_limited"] + t["timeouts"],
            "total_wait_time": o["total_wait_s"] + t["total_wait_s"],
            "current_orders_rpm": round(o["usage_last_minute"] * o["per_minute"]),
            "current_other_rpm": round(t["usage_last_minute"] * t["per_minute"]),
            "orders_rpm_usage": o["usage_last_minute"],
            "other_rpm_usage": t["usage_last_minute"],
            "orders_tokens_available": float(o["available_now"]),
            "other_tokens_available": float(t["available_now"]),
        }

    @property
    def stats(self) -> Dict[str, Any]:
        """The legacy ``stats`` attribute: the counters in the legacy keys."""
        return self._stats()

    async def get_stats(self) -> Dict[str, Any]:
        """The legacy keys (counts since start or the last reset; usage over the last minute)."""
        return self._stats()

    def detailed_stats(self) -> Dict[str, Any]:
        """The legacy keys plus the core's per-bucket figures under ``"buckets"``."""
        s = self.native.stats()
        out = self._stats()
        out["backend"] = s["backend"]
        out["buckets"] = {"orders": s["orders"], "other": s["other"]}
        return out

    async def reset_stats(self) -> None:
        self.native.reset_stats()

    def get_usage_percentage(self, operation_type: str = "other") -> float:
        """Usage of the last second's quota, 0..1."""
        usage = self.native.stats()[_bucket(operation_type)]["usage_last_second"]
        return max(0.0, min(1.0, float(usage)))


_singleton: Optional[EmagRateLimiter] = None
_lock = threading.Lock()


def _reset_singleton() -> None:
    global _singleton
    with _lock:
        _singleton = None


def get_rate_limiter() -> EmagRateLimiter:
    """The process-wide limiter (``compat.configure(limiter=...)`` chooses its backend)."""
    global _singleton
    with _lock:
        if _singleton is None:
            _singleton = EmagRateLimiter(_state.limiter())
        return _singleton


async def rate_limited_request(operation_type: str = "other", timeout: float = 30.0) -> None:
    """``await rate_limited_request("orders")`` before a request: waits for a permit."""
    await get_rate_limiter().acquire(operation_type, timeout=timeout)
