"""Backups through the Python binding: types, errors, ownership, async, the schedule, the CLI."""

import asyncio
import gzip
import os
import stat
import time

import pytest

import magflow_emag as m
from magflow_emag.cli import main as cli
from magflow_emag.testing import Simulator


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """A store filled by a real sync from the simulator."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    with Simulator(orders=150, offers=40, seed=3, enforce_rate_limits=False) as sim:
        client = m.Client(sim.username, sim.password, base_url=sim.url, rate_limiter=False)
        store = m.Store(str(path))
        m.sync_orders(client, store)
        m.sync_offers(client, store)
        reference = {o["id"]: o for o in sim.orders()}
    return str(path), reference


def test_create_list_verify_restore_round_trip(synced, tmp_path):
    path, reference = synced
    store = m.Store(path)
    manager = m.BackupManager(store, tmp_path / "b")
    events = []
    info = manager.create(progress=events.append)
    assert set(info) >= {"backup_path", "filename", "counts", "sha256", "size_bytes", "created_at"}
    assert info["counts"]["orders"] == 150 and info["counts"]["offers"] == 40
    assert info["filename"].endswith(".json.gz") and os.path.exists(info["backup_path"])
    assert stat.S_IMODE(os.stat(info["backup_path"]).st_mode) == 0o600
    assert events and events[-1]["items"] == sum(info["counts"].values())
    with gzip.open(info["backup_path"], "rt", encoding="utf-8") as fh:
        assert '"format":"magflow-emag-backup"' in fh.readline()

    listed = manager.list()
    assert listed[0]["filename"] == info["filename"]
    assert set(listed[0]) >= {"filename", "created_at", "size_bytes", "counts", "sound"}
    assert listed[0]["sound"] is True
    assert m.list_backups(tmp_path / "b") == listed

    report = manager.verify(info["filename"])
    assert report["valid"] is True and report["sha256"] == info["sha256"]

    # Copy of the store, emptied, then restored.
    other = m.Store(str(tmp_path / "other.db"))
    restored = m.BackupManager(other, tmp_path / "b").restore(info["filename"])
    assert restored["counts"]["orders"] == 150
    some = next(iter(reference))
    assert other.get_order(some) == reference[some]
    assert other.count_offers() == 40
    merged = m.BackupManager(other, tmp_path / "b").restore(info["filename"], mode="merge")
    assert merged["mode"] == "merge" and merged["skipped"]["orders"] == 150


def test_damaged_backups_raise_backup_error_and_change_nothing(synced, tmp_path):
    path, _ = synced
    store = m.Store(path)
    manager = m.BackupManager(store, tmp_path / "b")
    info = manager.create()
    data = open(info["backup_path"], "rb").read()
    bad = tmp_path / "b" / "emag_backup_20250101_000000.json.gz"
    bad.write_bytes(data[: len(data) // 2])
    assert manager.verify(bad.name)["valid"] is False
    before = store.count_orders()
    with pytest.raises(m.BackupError) as exc:
        manager.restore(bad.name)
    assert isinstance(exc.value, m.EmagApiError)
    assert "unchanged" in exc.value.message
    assert store.count_orders() == before
    with pytest.raises(m.InvalidArgumentError):
        manager.restore("../" + info["filename"])
    with pytest.raises(ValueError):
        manager.restore(info["filename"], mode="overwrite")
    with pytest.raises(m.BackupError):
        manager.verify("emag_backup_20990101_000000.json.gz")
    with pytest.raises(m.InvalidArgumentError):
        manager.create(include=["secrets"])


def test_sqlite_snapshot_cleanup_and_async(synced, tmp_path):
    path, _ = synced
    manager = m.BackupManager(m.Store(path), tmp_path / "b")

    async def go():
        info = await manager.create_async(format="sqlite")
        report = await manager.verify_async(info["filename"])
        other = m.BackupManager(m.Store(str(tmp_path / "o.db")), tmp_path / "b")
        restored = await other.restore_async(info["filename"])
        cleaned = await manager.cleanup_async(retention_days=30)
        return info, report, restored, cleaned

    info, report, restored, cleaned = asyncio.run(go())
    assert info["filename"].endswith(".sqlite") and report["valid"]
    assert restored["counts"]["orders"] == 150
    assert cleaned["deleted"] == []
    old = tmp_path / "b" / "emag_backup_20200101_000000.json"
    old.write_bytes(b"")
    (tmp_path / "b" / "README.txt").write_text("not a backup")
    report = m.cleanup_backups(tmp_path / "b", retention_days=30)
    assert report["deleted"] == [old.name]
    assert (tmp_path / "b" / "README.txt").exists()


def test_schedule_runs_reports_and_stops(synced, tmp_path):
    path, _ = synced
    monitor = m.Monitor()
    manager = m.BackupManager(m.Store(path), tmp_path / "b", monitor=monitor)
    schedule = manager.schedule(interval=1.0, retention_days=30)
    deadline = time.monotonic() + 20
    while schedule.status()["runs"] < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert schedule.stop() is True
    status = schedule.status()
    assert status["runs"] >= 1 and status["failures"] == 0 and not status["running"]
    assert monitor.metrics()["sync"]["last"]["kind"] == "backup"
    with pytest.raises(m.InvalidArgumentError):
        manager.schedule(interval=0.01)
    assert "BackupManager(" in repr(manager)


def test_cli_backup_commands(synced, tmp_path, capsys):
    path, _ = synced
    d = str(tmp_path / "b")
    assert cli(["backup", "create", "--db", path, "--dir", d]) == 0
    name = m.list_backups(d)[0]["filename"]
    assert cli(["backup", "list", "--dir", d]) == 0
    assert name in capsys.readouterr().out
    assert cli(["backup", "verify", name, "--dir", d]) == 0
    target = str(tmp_path / "restored.db")
    m.Store(target)
    # A replace needs --yes when there is nobody to ask (a usage error: exit 2).
    assert cli(["backup", "restore", name, "--dir", d, "--db", target]) == 2
    assert "--yes" in capsys.readouterr().err
    assert cli(["backup", "restore", name, "--dir", d, "--db", target, "--yes"]) == 0
    assert m.Store(target).count_orders() == 150
    assert cli(["backup", "cleanup", "--dir", d, "--retention-days", "30"]) == 0
    assert cli(["backup", "verify", "../x.json.gz", "--dir", d]) == 2
    assert cli(["health", "--db", target]) == 0
    assert "status: healthy" in capsys.readouterr().out
    assert cli(["metrics", "--db", path]) == 0
    assert "magflow_emag_store_sync_success_ratio_24h 1" in capsys.readouterr().out
