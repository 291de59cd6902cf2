"""Response models: the legacy keys with their types (the ERP's front end reads them), and the
figures added beside them."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel, Field


class Metrics(BaseModel):
    requests_per_minute: float
    error_rate: float = Field(description="failed / requests over the window, 0..1")
    average_response_time: float = Field(description="ms")
    rate_limit_usage: float = Field(description="highest quota usage over the last minute, 0..1")
    sync_success_rate: float = Field(description="0..1 (1.0 without runs)")
    total_requests: int
    total_errors: int
    median_response_time: float
    max_response_time: float
    min_response_time: float
    timestamp: Optional[str] = None


class Alerts(BaseModel):
    high_error_rate: bool
    slow_response: bool
    rate_limit_warning: bool
    sync_failure: bool


class Health(BaseModel):
    status: str = Field(description="healthy | degraded | warning | critical")
    health_score: float
    metrics: Metrics
    alerts: Alerts
    timestamp: str
    details: Dict[str, Any] = Field(default_factory=dict, description="percentiles, raised alerts, limiter buckets")


class MetricsSnapshot(BaseModel):
    metrics: Metrics
    alerts: Alerts
    timestamp: Optional[str]


class SyncStats(BaseModel):
    total_syncs: Optional[int] = None
    successful_syncs: Optional[int] = None
    failed_syncs: Optional[int] = None
    success_rate: Optional[float] = None
    average_duration_seconds: Optional[float] = None
    total_items_processed: Optional[int] = None
    period: Optional[str] = None


class ProductStats(BaseModel):
    total_products: Optional[int] = None
    active_products: Optional[int] = None
    inactive_products: Optional[int] = None
    by_account: Optional[Dict[str, int]] = None
    recently_synced_24h: Optional[int] = None


class RateLimiterStats(BaseModel):
    orders_requests: int
    other_requests: int
    rate_limit_hits: int
    total_wait_time: float
    current_orders_rpm: int
    current_other_rpm: int
    orders_rpm_usage: float
    other_rpm_usage: float
    orders_tokens_available: float
    other_tokens_available: float
    backend: Optional[str] = None
    buckets: Dict[str, Dict[str, Any]] = Field(default_factory=dict)


class Message(BaseModel):
    message: str


class BackupItems(BaseModel):
    products: int
    offers: int
    orders: int
    sync_logs: int


class BackupCreated(BaseModel):
    success: bool
    backup_path: str
    timestamp: str = Field(description="YYYYmmdd_HHMMSS (UTC)")
    file_size_bytes: int
    compressed: bool
    items: BackupItems
    filename: str
    format: str
    created_at: str
    sha256: str
    counts: Dict[str, int]
    duration_s: float


class BackupEntry(BaseModel):
    filename: str
    path: str
    timestamp: str
    created_at: str = Field(description="naive ISO time, UTC")
    size_bytes: int
    size_mb: float
    compressed: bool
    format: str
    sound: bool = Field(description="the manifest reads and matches (full check: restore/verify)")
    counts: Dict[str, int]
    schema_version: Optional[int] = None
    error: Optional[str] = None


class BackupCleanup(BaseModel):
    success: bool
    deleted_count: int
    deleted_files: List[str]
    freed_space_bytes: int
    freed_space_mb: float
    kept: List[str]


class BackupRestored(BaseModel):
    success: bool
    restored: Dict[str, int]
    filename: str
    mode: str
    counts: Dict[str, int]
    skipped: Dict[str, int]
    sha256: str
    duration_s: float


class Schedule(BaseModel):
    message: Optional[str] = None
    scheduled: bool
    interval_seconds: Optional[float]
    retention_days: Optional[float]
    keep_min: Optional[int]
    backup_dir: Optional[str]
    runs: int
    failures: int
    deleted: int
    last_run: Union[str, Dict[str, Any], None]
    last_error: Optional[str]


class CallbackStats(BaseModel):
    """The callback queue (``Store.callback_stats()``)."""

    received: int = 0
    pending: int = 0
    failed: int = 0
    done: int = 0
    oldest_pending_age_s: float = 0.0
