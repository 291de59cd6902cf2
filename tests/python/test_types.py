"""The TypedDicts of `magflow_emag.types` (the stub's return types) have exactly the keys of
the dicts the native code returns, nested ones included."""

from __future__ import annotations

import os
import typing

import pytest

import magflow_emag as m
from magflow_emag import types as t
from magflow_emag.testing import Simulator


def is_typeddict(tp) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


def mismatches(value, tp, where: str) -> list:
    """Where `value` does not have the keys `tp` declares, recursing into nested TypedDicts
    (also inside List[...], Dict[str, ...] and Optional[...])."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None or tp is typing.Any:
        return []
    if origin is typing.Union:
        return [] if value is None else mismatches(value, [a for a in args if a is not type(None)][0], where)
    if origin is list:
        return [p for i, item in enumerate(value) for p in mismatches(item, args[0], f"{where}[{i}]")]
    if origin is dict:
        return [p for k, item in value.items() for p in mismatches(item, args[1], f"{where}[{k!r}]")]
    if not is_typeddict(tp):
        return []
    hints = typing.get_type_hints(tp)
    out = []
    if set(value) != set(hints):
        out.append(f"{where} ({tp.__name__}): extra {sorted(set(value) - set(hints))}, missing {sorted(set(hints) - set(value))}")
    for key in set(value) & set(hints):
        out += mismatches(value[key], hints[key], f"{where}.{key}")
    return out


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("types")
    with Simulator(orders=40, offers=6, seed=5, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        store = m.Store(os.path.join(tmp, "s.db"))
        events = []
        yield sim, client, store, events, tmp


def test_sync_store_and_simulator_dicts(world):
    sim, client, store, events, _ = world
    got = [
        (m.sync_orders(client, store, progress=events.append), t.SyncSummary),
        (m.sync_offers(client, store), t.SyncSummary),
        (events, typing.List[t.SyncProgress]),
        (store.sync_runs(), typing.List[t.SyncRun]),
        (store.sync_statistics(), t.SyncStatistics),
        (store.callback_stats(), t.CallbackStats),
        (store.product_statistics(), t.ProductStatistics),
        (sim.stats(), t.SimulatorStats),
    ]
    assert events and store.sync_runs()
    assert [p for value, tp in got for p in mismatches(value, tp, "result")] == []


def test_monitor_and_limiter_dicts(world):
    sim, client, *_ = world
    limiter = m.RateLimiter()
    limiter.acquire("orders")
    monitor = m.Monitor(min_samples=1)
    seen = []
    monitor.on_alert(seen.append)
    for _ in range(5):
        monitor.record(12.5, False, "order", "read")
    monitor.record_sync("orders", True, 1.0, 10)
    got = [
        (monitor.evaluate(), typing.List[t.AlertEvent]),
        (monitor.metrics(), t.Metrics),
        (monitor.health(), t.Health),
        (monitor.alerts(), typing.List[t.Alert]),
        (monitor.alert_history(), typing.List[t.AlertEvent]),
        (client.monitor.health(), t.Health),
        (limiter.stats(), t.RateLimiterStats),
    ]
    assert monitor.alerts() and monitor.alert_history() and monitor.metrics()["endpoints"]
    assert [p for value, tp in got for p in mismatches(value, tp, "result")] == []


def test_backup_dicts(world):
    _, _, store, _, tmp = world
    backups = m.BackupManager(store, os.path.join(tmp, "backups"))
    created = backups.create()
    schedule = backups.schedule(interval=3600, run_immediately=False)
    try:
        status = schedule.status()
    finally:
        schedule.stop()
    got = [
        (created, t.BackupCreated),
        (backups.list(), typing.List[t.BackupListing]),
        (m.list_backups(backups.backup_dir), typing.List[t.BackupListing]),
        (backups.verify(created["filename"]), t.BackupVerified),
        (m.verify_backup(backups.backup_dir, created["filename"]), t.BackupVerified),
        (backups.restore(created["filename"]), t.BackupRestored),
        (backups.cleanup(), t.BackupCleanup),
        (m.cleanup_backups(backups.backup_dir), t.BackupCleanup),
        (status, t.ScheduleStatus),
    ]
    assert [p for value, tp in got for p in mismatches(value, tp, "result")] == []


def test_the_check_sees_a_missing_or_extra_key():
    stats = {"received": 1, "pending": 0, "failed": 0, "done": 1, "oldest_pending_age_s": None}
    assert mismatches(stats, t.CallbackStats, "r") == []
    assert mismatches({**stats, "extra": 1}, t.CallbackStats, "r")
    assert mismatches({"status": "ok", "health_score": 1.0, "metrics": {}, "alerts": [], "timestamp": ""}, t.Health, "r")
