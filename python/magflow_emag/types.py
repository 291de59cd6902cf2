"""The shapes of the dicts the native module returns where they are fixed (health, metrics,
stats, summaries), for type checkers: ``def report(h: magflow_emag.types.Health) -> ...``.

At run time they are plain dicts; tests/python/test_types.py checks these keys against dicts
the native code returns.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

__all__ = [
    "AlertEvent", "Alert", "BackupCleanup", "BackupCreated", "BackupListing", "BackupRestored",
    "BackupVerified", "BucketStats", "CallbackStats", "EndpointMetrics", "Health", "LatencyStats",
    "Metrics", "ProductStatistics", "RateLimitUsage", "RateLimiterStats", "ScheduleStatus",
    "SimulatorStats", "SyncMetrics", "SyncProgress", "SyncRun", "SyncStatistics", "SyncSummary",
]


# ---- sync ---------------------------------------------------------------------------------


class SyncSummary(TypedDict):
    """What `sync_orders` / `sync_offers` return."""

    kind: str
    status: str
    run_id: int
    pages: int
    requests: int
    fetched: int
    created: int
    updated: int
    unchanged: int
    failed: int
    invalid: int
    warnings: List[str]
    acknowledged: int
    duration_s: float
    rate_limit_min_s: float
    failures: List[Dict[str, Any]]
    error: Optional[str]


class SyncProgress(TypedDict):
    """The event a sync's `progress` callback receives after each page."""

    kind: str
    pages_done: int
    estimated_total_pages: Optional[int]
    items: int
    expected_items: Optional[int]
    elapsed_s: float
    rate_items_per_s: float
    eta_s: Optional[float]


class SyncRun(TypedDict):
    """A sync-log row (`Store.sync_runs`)."""

    id: int
    kind: str
    platform: str
    account: str
    started_at: str
    finished_at: Optional[str]
    status: str
    pages: int
    fetched: int
    created: int
    updated: int
    unchanged: int
    failed: int
    acknowledged: int
    duration_s: Optional[float]
    error: Optional[str]


class SyncStatistics(TypedDict):
    """`Store.sync_statistics`."""

    hours: int
    total: int
    successful: int
    failed: int
    success_rate: float
    average_duration_s: float
    items_processed: int


class CallbackStats(TypedDict):
    """`Store.callback_stats`."""

    received: int
    pending: int
    failed: int
    done: int
    oldest_pending_age_s: Optional[float]


class ProductStatistics(TypedDict):
    """`Store.product_statistics`; `by_account`: ``[account, count]`` pairs."""

    total: int
    active: int
    inactive: int
    by_account: List[List[Any]]
    synced_last_24h: int


# ---- monitor ------------------------------------------------------------------------------


class LatencyStats(TypedDict):
    """Latency over the window, milliseconds."""

    samples: int
    mean: float
    p50: float
    p95: float
    p99: float
    max: float
    min: float


class RateLimitUsage(TypedDict):
    """One quota bucket's usage."""

    usage: float
    peak_usage: float
    rate_limited: int


class EndpointMetrics(TypedDict):
    """Figures of one route (`resource/action`)."""

    resource: str
    action: str
    requests: int
    errors: int
    error_rate: float
    latency_mean_ms: float
    latency_max_ms: float


class SyncMetrics(TypedDict):
    """Sync runs over the sync window."""

    window_seconds: float
    runs: int
    successes: int
    failures: int
    success_rate: Optional[float]
    items: int
    last: Optional[Dict[str, Any]]


class Metrics(TypedDict):
    """`Monitor.metrics`."""

    window_seconds: float
    covered_seconds: float
    requests: int
    errors: int
    retries: int
    requests_per_minute: float
    error_rate: float
    latency_ms: LatencyStats
    outcomes: Dict[str, int]
    rate_limited: int
    rate_limits: Dict[str, RateLimitUsage]
    endpoints: List[EndpointMetrics]
    sync: SyncMetrics
    requests_total: int
    errors_total: int
    uptime_seconds: float
    consecutive_failures: int
    authentication_failing: bool


class Alert(TypedDict):
    """An alert raised now (`Monitor.alerts`)."""

    name: str
    subject: Optional[str]
    severity: str
    value: Optional[float]
    threshold: float
    message: str
    since: str


class AlertEvent(Alert):
    """An alert transition (`Monitor.evaluate`, `alert_history`, `on_alert`): the alert, with
    its sequence number, `state` (raised or cleared) and when."""

    seq: int
    state: str
    timestamp: str


class Health(TypedDict):
    """`Monitor.health`."""

    status: str
    health_score: float
    metrics: Metrics
    alerts: List[Alert]
    timestamp: str


# ---- rate limiter and simulator -----------------------------------------------------------


class BucketStats(TypedDict):
    """One bucket of `RateLimiter.stats`."""

    requests: int
    waits: int
    total_wait_s: float
    rate_limited: int
    timeouts: int
    usage_last_second: float
    usage_last_minute: float
    available_now: int
    next_free_in_s: float
    per_second: int
    per_minute: int


class RateLimiterStats(TypedDict):
    """`RateLimiter.stats`."""

    backend: str
    orders: BucketStats
    other: BucketStats


class SimulatorStats(TypedDict):
    """`Simulator.stats`: counters, and the sliding-window maxima per bucket."""

    requests_total: int
    responses_429: int
    routes: Dict[str, int]
    status_codes: Dict[int, int]
    faults_injected: Dict[str, int]
    max_in_any_second: Dict[str, int]
    max_in_any_minute: Dict[str, int]
    buckets: Dict[str, Dict[str, int]]
    limits: Dict[str, Dict[str, int]]
    enforce_rate_limits: bool
    faults_pending: int
    callbacks_sent: int
    callbacks_answered: int
    callbacks_failed: int


# ---- backups ------------------------------------------------------------------------------


class BackupCreated(TypedDict):
    """`BackupManager.create`."""

    backup_path: str
    filename: str
    format: str
    created_at: str
    counts: Dict[str, int]
    sha256: str
    size_bytes: int
    duration_s: float


class BackupListing(TypedDict):
    """One backup of `BackupManager.list` / `list_backups`."""

    filename: str
    format: str
    created_at: str
    size_bytes: int
    counts: Optional[Dict[str, int]]
    sound: bool
    schema_version: Optional[int]
    error: Optional[str]


class BackupVerified(TypedDict):
    """`BackupManager.verify` / `verify_backup`."""

    filename: str
    format: str
    valid: bool
    counts: Dict[str, int]
    sha256: str
    error: Optional[str]


class BackupRestored(TypedDict):
    """`BackupManager.restore`: rows restored and skipped per table."""

    filename: str
    mode: str
    counts: Dict[str, int]
    skipped: Dict[str, int]
    sha256: str
    duration_s: float


class BackupCleanup(TypedDict):
    """`BackupManager.cleanup` / `cleanup_backups`."""

    deleted: List[str]
    bytes_freed: int
    kept: List[str]
    temp_files_removed: List[str]


class ScheduleStatus(TypedDict):
    """`BackupSchedule.status`."""

    runs: int
    failures: int
    last_backup: Optional[str]
    last_error: Optional[str]
    deleted: int
    running: bool
