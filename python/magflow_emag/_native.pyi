"""Type stubs of the native module (checked against it by mypy.stubtest in `make test`)."""

import os
from datetime import datetime
from os import PathLike
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union, final

from .types import (
    Alert,
    AlertEvent,
    BackupCleanup,
    BackupCreated,
    BackupListing,
    BackupRestored,
    BackupVerified,
    CallbackStats,
    Health,
    Metrics,
    ProductStatistics,
    RateLimiterStats,
    ScheduleStatus,
    SimulatorStats,
    SyncProgress,
    SyncRun,
    SyncStatistics,
    SyncSummary,
)

# What the module registers, in `__all__` at run time (stubtest compares the two).
__all__ = [
    "BackupManager",
    "BackupSchedule",
    "CallbackReceiver",
    "CancelToken",
    "Monitor",
    "RateLimiter",
    "RetryPolicy",
    "Simulator",
    "Store",
    "StoredRows",
    "_Client",
    "_Pager",
    "__version__",
    "_at_exit",
    "_error_kinds",
    "_reset_log_cache",
    "cancellation_reason_text",
    "cancellation_reasons",
    "cleanup_backups",
    "is_valid_cancellation_reason",
    "list_backups",
    "order_status_text",
    "order_type_text",
    "payment_mode_text",
    "scheduled_start_offset",
    "sync_offers",
    "sync_offers_async",
    "sync_orders",
    "sync_orders_async",
    "transition_rule",
    "validate_awb",
    "validate_bulk_order_update",
    "validate_offer",
    "validate_order_cancellation",
    "validate_order_data",
    "validate_order_for_update",
    "verify_backup",
]

__version__: str

def cancellation_reason_text(code: int, lang: str = "en") -> str:
    """The text of a cancellation reason; unknown codes give "Unknown reason (code: N)"."""
def cancellation_reasons(lang: str = "en") -> Dict[int, str]:
    """Every documented cancellation reason, code -> text."""
def order_status_text(code: int, lang: str = "en") -> str:
    """The text of an order status."""
def payment_mode_text(code: int, lang: str = "en") -> str:
    """The text of a payment mode."""
def order_type_text(code: int, lang: str = "en") -> str:
    """The text of an order type."""
def transition_rule(from_status: int, to_status: int) -> str:
    """The rule for moving an order from one status to another."""
def is_valid_cancellation_reason(code: int) -> bool:
    """Whether a code is a valid `reason_cancellation`."""
def _error_kinds() -> List[Tuple[int, str, str, str, str]]: ...
def _at_exit() -> None: ...
def _reset_log_cache() -> None: ...

@final
class RetryPolicy:
    """The retry policy: exponential backoff with full jitter."""
    def __new__(
        cls,
        max_retries: int = 3,
        base_delay: float = 2.0,
        max_delay: float = 64.0,
        jitter: bool = True,
        deadline: Optional[float] = None,
    ) -> RetryPolicy: ...
    @property
    def max_retries(self) -> int:
        """Retries after the first attempt."""
    @property
    def base_delay(self) -> float:
        """The first retry's delay bound, seconds (doubled per retry)."""
    @property
    def max_delay(self) -> float:
        """The largest delay between two attempts, seconds."""
    @property
    def jitter(self) -> bool:
        """Whether delays are drawn at random below the bound (full jitter)."""
    @property
    def deadline(self) -> Optional[float]:
        """The time budget of a call with its retries, seconds (None: no deadline)."""
    def ceiling(self, retry: int) -> float:
        """The backoff ceiling before retry number `retry` (0-based), in seconds."""

@final
class _Pager:
    def next_page(self) -> Optional[List[Dict[str, Any]]]: ...
    def next_page_async(self) -> Awaitable[Optional[List[Dict[str, Any]]]]: ...

@final
class _Client:
    """The native client; its operations answer values, or awaitables when `asynchronous`."""
    def __new__(
        cls,
        username: str,
        password: str,
        platform: str = "emag_ro",
        base_url: Optional[str] = None,
        timeout: float = 30.0,
        retry: Optional[RetryPolicy] = None,
        body_mode: str = "form",
        account: str = "main",
        limiter: Any = None,
        monitor: Optional[Monitor] = None,
        wire_log: bool = False,
        asynchronous: bool = False,
    ) -> _Client: ...
    @property
    def monitor(self) -> Monitor: ...
    @property
    def username(self) -> str: ...
    @property
    def platform(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def account(self) -> str: ...
    def pages(self, resource: str, **filters: Any) -> _Pager: ...
    # Each returns its value, or an awaitable of it on an asynchronous client.
    def call(self, resource: str, action: str, data: Any = None) -> Any: ...
    def read(self, resource: str, **filters: Any) -> Any: ...
    def count(self, resource: str, **filters: Any) -> Any: ...
    def save(self, resource: str, entities: Any, action: str = "save") -> Any: ...
    def acknowledge(self, order_id: int) -> Any: ...
    def unlock_courier(self, order_id: int) -> Any: ...
    def stock_update(self, product_id: int, value: int) -> Any: ...
    def awb_save(self, awb: Any) -> Any: ...
    def awb_read_pdf(self, emag_id: int, awb_format: str = "A4") -> Any: ...
    def awb_read_zpl(self, emag_id: int) -> Any: ...
    def find_by_eans(self, eans: List[str]) -> Any: ...
    def smart_deals_price_check(self, product_id: int) -> Any: ...

@final
class Store:
    """The embedded SQLite store (WAL; safe to read from other processes while a sync writes)."""
    def __new__(cls, path: Union[str, "os.PathLike[str]", None] = None) -> Store: ...
    @property
    def path(self) -> str:
        """The database file."""
    @property
    def schema_version(self) -> int:
        """The schema version of the database file."""
    def count_orders(self, platform: Optional[str] = None, account: Optional[str] = None) -> int:
        """The number of stored orders (of one platform/account, or all)."""
    def count_offers(self, platform: Optional[str] = None, account: Optional[str] = None) -> int:
        """The number of stored offers."""
    def get_order(self, order_id: int, platform: Optional[str] = None, account: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """An order exactly as read from eMAG, or None."""
    def get_offer(self, offer_id: int, platform: Optional[str] = None, account: Optional[str] = None) -> Optional[Dict[str, Any]]:
        """An offer as read, or None."""
    def order_status_counts(self, platform: Optional[str] = None, account: Optional[str] = None) -> Dict[int, int]:
        """Order counts per status: `{status: count}` (status -1 for orders without one)."""
    def sync_runs(self, limit: int = 20) -> List[SyncRun]:
        """The latest sync-log rows, newest first."""
    def sync_statistics(self, hours: int = 24) -> SyncStatistics:
        """Sync statistics over the last `hours`."""
    def callback_stats(self) -> CallbackStats:
        """The callback queue's figures: received (every repeat counted), pending, failed, done,
        oldest_pending_age_s.
        """
    def product_statistics(self) -> ProductStatistics:
        """Offer statistics (total, active, inactive, by account, synced in the last 24 h)."""
    def orders(
        self,
        status: Union[int, List[int], None] = None,
        type: Optional[int] = None,
        modified_since: Union[str, datetime, None] = None,
        limit: Optional[int] = None,
        platform: Optional[str] = None,
        account: Optional[str] = None,
    ) -> StoredRows:
        """Stored orders matching every filter given, as dicts, oldest stored first."""
    def offers(
        self,
        status: Union[int, List[int], None] = None,
        synced_since: Union[str, datetime, None] = None,
        limit: Optional[int] = None,
        platform: Optional[str] = None,
        account: Optional[str] = None,
    ) -> StoredRows:
        """Stored offers matching every filter given, as dicts."""

@final
class StoredRows:
    """An iterator over stored rows, read from the store a page at a time."""
    def __iter__(self) -> StoredRows: ...
    def __next__(self) -> Dict[str, Any]: ...

@final
class CancelToken:
    """Cooperative cancellation of a running sync (checked between pages)."""
    def __new__(cls) -> CancelToken: ...
    def cancel(self) -> None:
        """Ask the sync to stop after the page in flight."""
    @property
    def cancelled(self) -> bool:
        """Whether ``cancel()`` was called."""

def sync_orders(
    client: Any,
    store: Store,
    full: bool = False,
    acknowledge: bool = False,
    progress: Optional[Callable[[SyncProgress], Any]] = None,
    order_types: Optional[List[int]] = None,
    cancel: Optional[CancelToken] = None,
    wait: bool = False,
    wait_timeout: Optional[float] = 3600.0,
) -> SyncSummary:
    """Sync orders from eMAG into the store (blocking; the GIL is released)."""
def sync_orders_async(
    client: Any,
    store: Store,
    full: bool = False,
    acknowledge: bool = False,
    progress: Optional[Callable[[SyncProgress], Any]] = None,
    order_types: Optional[List[int]] = None,
    cancel: Optional[CancelToken] = None,
    wait: bool = False,
    wait_timeout: Optional[float] = 3600.0,
) -> Awaitable[SyncSummary]:
    """Sync orders, as an awaitable."""
def sync_offers(
    client: Any,
    store: Store,
    full: bool = False,
    progress: Optional[Callable[[SyncProgress], Any]] = None,
    cancel: Optional[CancelToken] = None,
    wait: bool = False,
    wait_timeout: Optional[float] = 3600.0,
) -> SyncSummary:
    """Sync every offer page into the store (blocking)."""
def sync_offers_async(
    client: Any,
    store: Store,
    full: bool = False,
    progress: Optional[Callable[[SyncProgress], Any]] = None,
    cancel: Optional[CancelToken] = None,
    wait: bool = False,
    wait_timeout: Optional[float] = 3600.0,
) -> Awaitable[SyncSummary]:
    """Sync offers, as an awaitable."""

@final
class Simulator:
    """A stateful eMAG API simulator on loopback (not started until `start()`)."""
    def __new__(
        cls,
        orders: int = 0,
        offers: int = 0,
        seed: int = 0,
        enforce_rate_limits: bool = True,
        rate_limit_scale: float = 1.0,
        username: Optional[str] = None,
        password: Optional[str] = None,
        host: Optional[str] = None,
        port: int = 0,
        now: Optional[str] = None,
        history_days: int = 180,
        return_period_days: int = 14,
        fault_hold_seconds: float = 60.0,
        fault_retry_after_seconds: int = 1,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
        fault_kinds: Optional[List[str]] = None,
        strict_pagination: bool = True,
        callback_url: Optional[str] = None,
        callback_kinds: Optional[List[str]] = None,
        callback_interval_seconds: float = 60.0,
    ) -> "Simulator": ...
    def start(self) -> None:
        """Seed the data and start serving (a no-op when already running)."""
    def stop(self) -> None:
        """Stop serving (a no-op when not running). The data is discarded."""
    @property
    def running(self) -> bool:
        """Whether it is serving."""
    @property
    def url(self) -> str:
        """The base URL for a client (`http://127.0.0.1:PORT/api-3`)."""
    @property
    def username(self) -> str:
        """The accepted user name."""
    @property
    def password(self) -> str:
        """The accepted password."""
    def stats(self) -> SimulatorStats:
        """Counters and the sliding-window maxima per bucket."""
    def orders(self) -> List[Dict[str, Any]]:
        """Every order, as `order/read` sends it."""
    def order(self, order_id: int) -> Optional[Dict[str, Any]]:
        """One order by id, or None."""
    def offers(self) -> List[Dict[str, Any]]:
        """Every offer, plus the stock and min/max prices reads do not show."""
    def awbs(self) -> List[Dict[str, Any]]:
        """Every AWB issued."""
    def rmas(self) -> List[Dict[str, Any]]:
        """Every return request."""
    def new_order(self) -> Dict[str, Any]:
        """Create a new order now (status 1, type 3) and send its new-order callback."""
    def cancel_order(self, order_id: int, reason: int = 15) -> bool:
        """Cancel an order as eMAG's staff would and send the cancellation callback."""
    def inject(self, fault: str, count: int = 1, resource: Optional[str] = None, action: Optional[str] = None) -> None:
        """Queue `count` faults (`http_500`, `http_503`, `timeout`, `reset`, `rate_limit`,
        `is_error`, `malformed_json`) for requests to `resource`/`action` (None = any).
        """
    def clear_faults(self) -> None:
        """Drop queued faults."""
    def set_random_faults(self, rate: float, kinds: Optional[List[str]] = None, seed: int = 0) -> None:
        """Random faults from now on."""
    def reset_stats(self) -> None:
        """Forget every counter."""
    def set_enforce_rate_limits(self, enforce: bool) -> None:
        """Switch the rate limits on or off."""
    def advance_clock(self, seconds: float) -> None:
        """Move the simulated clock forward by `seconds`."""
    def set_now(self, now: str) -> None:
        """Set the simulated clock (`YYYY-mm-dd HH:ii:ss`)."""
    def now(self) -> str:
        """The simulated clock, `YYYY-mm-dd HH:ii:ss`."""
    def __enter__(self) -> "Simulator": ...
    def __exit__(self, *_args: object) -> bool: ...
@final
class RateLimiter:
    """eMAG's rate limits, shared by this process (`"local"`), every process on the host naming
    the same `path` (`"host"`), or every process using the same Redis server and account
    (`"redis"`). Requests are spaced evenly so that no sliding window exceeds a quota.
    """
    def __new__(
        cls,
        backend: str = "local",
        path: Optional[Union[str, PathLike[str]]] = None,
        redis_url: Optional[str] = None,
        *,
        account: str = "default",
        key_prefix: Optional[str] = None,
        orders_per_second: int = 12,
        orders_per_minute: int = 720,
        other_per_second: int = 3,
        other_per_minute: int = 180,
        safety_margin: float = 0.01,
        redis_fallback: str = "fail",
        redis_timeout: float = 2.0,
    ) -> RateLimiter: ...
    def acquire(self, bucket: str = "other", timeout: Optional[float] = None) -> float:
        """Wait (GIL released) for a permit in `bucket` ("orders" or "other"). With `timeout`
        (seconds), raise RateLimitError at once, consuming nothing, when the wait would be
        longer; its `remaining_seconds` says how long. Returns the seconds waited.
        """
    def acquire_async(self, bucket: str = "other", timeout: Optional[float] = None) -> Awaitable[float]:
        """`acquire` as an awaitable."""
    def try_acquire(self, bucket: str = "other") -> bool:
        """Take a permit only if one is free right now."""
    def on_rate_limited(self, bucket: str, wait: float = 1.0) -> None:
        """The server answered 429: hold `bucket` for `wait` seconds for every sharer."""
    def stats(self) -> RateLimiterStats:
        """Counters and usage per bucket: {"backend": ..., "orders": {...}, "other": {...}}."""
    def reset_stats(self) -> None:
        """Zero the counters (the shared limiter state is untouched)."""
    @property
    def backend(self) -> str:
        """The backend name."""

def scheduled_start_offset(job_name: str, period: float = 3600.0) -> float:
    """A deterministic start offset (seconds) for a scheduled job, so it does not fire at round
    clock times (eMAG's advice).
    """
@final
class Monitor:
    """Request metrics over a sliding window, alerts, a health score and Prometheus text."""

    def __new__(
        cls,
        window_seconds: int = 300,
        *,
        slot_seconds: Optional[int] = None,
        sync_window_seconds: int = 3600,
        history_limit: int = 100,
        error_rate: float = 0.05,
        p95_latency_ms: float = 2000.0,
        rate_limit_usage: float = 0.8,
        sync_success_rate: float = 0.95,
        min_samples: int = 20,
        clear_ratio: float = 0.8,
    ) -> Monitor: ...
    @property
    def window_seconds(self) -> int:
        """The configured window, seconds."""
    def record(
        self,
        latency_ms: float,
        success: bool,
        resource: Optional[str] = None,
        action: Optional[str] = None,
    ) -> None:
        """Record one request (`latency_ms` >= 0), optionally with its route."""
    def record_rate_limit_usage(self, bucket: str, ratio: float) -> None:
        """Note the usage ratio (0-1) of a quota bucket (`"orders"` or `"other"`)."""
    def record_429(self, bucket: str) -> None:
        """Count a rate-limited (HTTP 429) answer in a bucket."""
    def record_sync(
        self, kind: str, success: bool, duration_seconds: float = 0.0, items: int = 0
    ) -> None:
        """Record a finished sync run."""
    def metrics(self) -> Metrics:
        """The metrics of the window, as a dict (evaluates alerts)."""
    def health(self) -> Health:
        """`{status, health_score, metrics, alerts, timestamp}` (evaluates alerts)."""
    def prometheus(self) -> str:
        """The Prometheus text exposition (evaluates alerts)."""
    def evaluate(self) -> List[AlertEvent]:
        """Evaluate alerts now; the transitions, as dicts."""
    def alerts(self) -> List[Alert]:
        """The alerts raised now, as dicts."""
    def alert_history(self) -> List[AlertEvent]:
        """The alert transitions kept, oldest first, as dicts."""
    def on_alert(self, callback: Callable[[AlertEvent], object]) -> None:
        """Call `callback(event: dict)` on every alert transition (raised or cleared). An
        exception it raises is logged, not propagated.
        """
    def reset(self) -> None:
        """Forget every measurement, alert state and the history."""

_Progress = Optional[Callable[[Dict[str, Any]], Any]]

@final
class BackupManager:
    """Backups of a store in a directory: create, list, verify, restore, cleanup, schedule."""
    def __new__(
        cls, store: Store, backup_dir: Union[str, "os.PathLike[str]"], monitor: Optional[Monitor] = None
    ) -> BackupManager: ...
    @property
    def backup_dir(self) -> str:
        """The folder the backups are written to and read from."""
    def create(
        self,
        include: Optional[List[str]] = None,
        compress: bool = True,
        format: Optional[str] = None,
        progress: _Progress = None,
    ) -> BackupCreated:
        """Write a backup; returns `backup_path`, `filename`, `format`, `created_at`, `counts`,
        `sha256`, `size_bytes`, `duration_s`.
        """
    def create_async(
        self,
        include: Optional[List[str]] = None,
        compress: bool = True,
        format: Optional[str] = None,
        progress: _Progress = None,
    ) -> Awaitable[BackupCreated]:
        """`create`, as an awaitable."""
    def list(self) -> List[BackupListing]:
        """The backups, newest first: `filename`, `format`, `created_at`, `size_bytes`, `counts`,
        `sound`, `schema_version`, `error`.
        """
    def verify(self, name: str, progress: _Progress = None) -> BackupVerified:
        """Check a backup completely; returns `valid`, `counts`, `sha256`, `error`."""
    def verify_async(self, name: str) -> Awaitable[BackupVerified]:
        """`verify`, as an awaitable."""
    def restore(self, name: str, mode: str = "replace", progress: _Progress = None) -> BackupRestored:
        """Verify, then restore in one transaction (`mode` "replace" or "merge"); returns the
        rows restored per table. A damaged backup raises `BackupError` and changes nothing.
        """
    def restore_async(self, name: str, mode: str = "replace", progress: _Progress = None) -> Awaitable[BackupRestored]:
        """`restore`, as an awaitable."""
    def cleanup(self, retention_days: float = 30.0, keep_min: int = 1) -> BackupCleanup:
        """Delete backups older than `retention_days` (by the UTC time in their names), keeping
        the `keep_min` newest and the newest that verifies; returns `deleted`, `bytes_freed`,
        `kept`, `temp_files_removed`.
        """
    def cleanup_async(self, retention_days: float = 30.0, keep_min: int = 1) -> Awaitable[BackupCleanup]:
        """`cleanup`, as an awaitable."""
    def schedule(
        self,
        interval: float = 86400.0,
        retention_days: float = 30.0,
        keep_min: int = 1,
        include: Optional[List[str]] = None,
        compress: bool = True,
        format: Optional[str] = None,
        run_immediately: bool = True,
    ) -> BackupSchedule:
        """Back up and clean up every `interval` seconds in the background (first run at once
        unless `run_immediately=False`); returns a `BackupSchedule` to stop it. Failures are
        logged and reported to the monitor given to the manager.
        """

@final
class CallbackReceiver:
    """Receives eMAG's callbacks for one account (see the module docs of `magflow_emag`)."""
    def __new__(
        cls,
        store: Store,
        client: Any,
        token: str,
        acknowledge: bool = True,
        poll_interval: float = 0.25,
    ) -> CallbackReceiver: ...
    def handle(self, query: str) -> Tuple[int, str]:
        """Answer one callback's query string: `(status, body)` to send back to eMAG. The
        callback is recorded in the store before this returns.
        """
    def start(self) -> None:
        """Start the worker draining the queue (no-op when running)."""
    def stop(self) -> None:
        """Stop the worker after the entry in progress and wait for it."""
    @property
    def running(self) -> bool:
        """Whether the worker runs."""

@final
class BackupSchedule:
    """A running backup schedule (`BackupManager.schedule`). Stops when stopped or collected."""
    def stop(self, wait: bool = True, timeout: float = 60.0) -> bool:
        """Stop; with `wait` (default) block until a run in progress has finished (GIL released,
        at most `timeout` seconds). Returns whether the task has ended.
        """
    def status(self) -> ScheduleStatus:
        """`runs`, `failures`, `last_backup`, `last_error`, `deleted`, `running`."""
    @property
    def running(self) -> bool:
        """Whether the schedule is still running (False after ``stop()``)."""

def list_backups(backup_dir: Union[str, "os.PathLike[str]"]) -> List[BackupListing]:
    """The backups in a directory (no store needed), newest first."""
def verify_backup(backup_dir: Union[str, "os.PathLike[str]"], name: str, progress: _Progress = None) -> BackupVerified:
    """Check a backup in a directory completely (no store needed)."""
def cleanup_backups(
    backup_dir: Union[str, "os.PathLike[str]"], retention_days: float = 30.0, keep_min: int = 1
) -> BackupCleanup:
    """`BackupManager.cleanup` for a directory (no store needed)."""

# ---- validation (messages `path: problem`; [] = valid) -------------------------------------
# Wrong types inside the data, and unusable parameters, give messages, never TypeError;
# raise_errors=True raises ValidationError (with .validation_errors) instead of returning them.
# require_type=False: an order without `type` is not told it is required (the legacy ERP's rule).
# `now`: None (now), an eMAG "YYYY-mm-dd HH:ii:ss" string or a naive datetime (both the
# platform's local time, like eMAG's timestamps), or an aware datetime.

def validate_order_data(order: Any, *, raise_errors: bool = False, require_type: bool = True) -> List[str]:
    """Check an order as read; returns the messages (`[]` = valid)."""
def validate_order_for_update(
    order: Any,
    current: Any = None,
    now: Union[datetime, str, None] = None,
    *,
    return_period_days: Optional[int] = None,
    platform: Optional[str] = None,
    raise_errors: bool = False,
    require_type: bool = True,
) -> List[str]:
    """Check an order before `order/save`, against `current` (the order as read) when given."""
def validate_order_cancellation(order_id: Any, reason: Any, *, raise_errors: bool = False) -> List[str]:
    """Check a cancellation: `order_id` and one of the 32 documented `reason_cancellation` codes."""
def validate_bulk_order_update(orders: Any, *, raise_errors: bool = False, require_type: bool = True) -> Dict[str, List[str]]:
    """Errors of a bulk `order/save` per order id (as a string), only for orders that have some.
    `orders` is a list of dicts (walked in place), or the JSON text of one (str or bytes:
    parsed and checked with the GIL released).
    """
def validate_offer(
    offer: Any,
    *,
    mode: Optional[str] = None,
    now: Union[datetime, str, None] = None,
    platform: Optional[str] = None,
    raise_errors: bool = False,
) -> List[str]:
    """Check an offer for `product_offer/save` or `offer/save` (`mode`: "auto", "create",
    "update", "attach", "light").
    """
def validate_awb(
    awb: Any,
    *,
    now: Union[datetime, str, None] = None,
    platform: Optional[str] = None,
    raise_errors: bool = False,
) -> List[str]:
    """Check an AWB for `awb/save`; `now` judges the return-AWB date (default: now)."""
