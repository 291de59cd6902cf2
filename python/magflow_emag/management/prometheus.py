"""``GET /metrics``: the monitor's Prometheus text plus the store's sync log and the limiter."""

from __future__ import annotations

from typing import List, Optional

from .._native import Monitor, Store
from ..compat import _state
from ..compat.emag_rate_limiter import EmagRateLimiter


def _gauge(lines: List[str], name: str, help_text: str, samples: List[str]) -> None:
    lines.append(f"# HELP {name} {help_text}")
    lines.append(f"# TYPE {name} gauge")
    lines.extend(samples)


def prometheus_text(monitor: Monitor, store: Optional[Store], limiter: EmagRateLimiter) -> str:
    """Blocking (run it in a worker thread)."""
    out = monitor.prometheus()
    lines: List[str] = []
    st = store if store is not None else _state.store(required=False)
    if st is not None:
        s = st.sync_statistics(24)
        _gauge(lines, "magflow_emag_store_sync_runs_24h", "Sync runs in the store's log over the last 24 hours.",
               [f'magflow_emag_store_sync_runs_24h{{result="success"}} {s["successful"]}',
                f'magflow_emag_store_sync_runs_24h{{result="failed"}} {s["failed"]}'])
        c = st.callback_stats()
        _gauge(lines, "magflow_emag_callbacks", "eMAG callbacks in the store's queue (received counts repeats).",
               [f'magflow_emag_callbacks{{state="{k}"}} {c[k]}' for k in ("received", "pending", "failed", "done")])
        _gauge(lines, "magflow_emag_callbacks_oldest_pending_age_seconds", "Age of the oldest pending callback.",
               [f"magflow_emag_callbacks_oldest_pending_age_seconds {c['oldest_pending_age_s']}"])
    stats = limiter.native.stats()
    _gauge(lines, "magflow_emag_limiter_requests", "Permits granted by the rate limiter since start or reset.",
           [f'magflow_emag_limiter_requests{{bucket="{b}"}} {stats[b]["requests"]}' for b in ("orders", "other")])
    _gauge(lines, "magflow_emag_limiter_usage_last_minute", "Share of the per-minute quota used over the last minute.",
           [f'magflow_emag_limiter_usage_last_minute{{bucket="{b}"}} {stats[b]["usage_last_minute"]}'
            for b in ("orders", "other")])
    if not out.endswith("\n") and out:
        out += "\n"
    return out + "\n".join(lines) + "\n"
