"""The `magflow-emag` command line.

Subcommands grow with the library; each prints clear one-line errors and exits non-zero on
failure.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

import magflow_emag as m



def _is_url(db: str) -> bool:
    """Whether --db names a PostgreSQL database rather than a SQLite file."""
    return db.strip().lower().startswith(("postgresql://", "postgres://"))


def _exists(db: str) -> bool:
    """A PostgreSQL store is created on open; a file must be there."""
    return _is_url(db) or os.path.exists(db)


def _shown(db: str) -> str:
    """--db as printed: a URL without its password."""
    if not _is_url(db):
        return db
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db.strip())
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

def _cmd_demo(args: argparse.Namespace) -> int:
    """The main job, end to end against the simulator with eMAG's real rate limits."""
    import tempfile
    import time

    from ._progress import ProgressBar
    from .testing import Simulator

    print(f"magflow-emag {m.__version__}: eMAG Marketplace API v4.4.9, Rust core with Python and C faces")
    workdir = tempfile.mkdtemp(prefix="magflow-emag-demo-")
    db_path = args.db or os.path.join(workdir, "magflow-emag.db")
    started = time.monotonic()
    with Simulator(orders=args.orders, offers=args.offers, seed=args.seed, enforce_rate_limits=True) as sim:
        print(f"simulator: {args.orders} orders, {args.offers} offers at {sim.url} "
              f"(eMAG's limits: orders 12/s and 720/min, other 3/s and 180/min)")
        client = m.Client(sim.username, sim.password, base_url=sim.url)
        store = m.Store(db_path)
        print(f"store: {store.path}")
        print()

        bar = ProgressBar("orders")
        orders = m.sync_orders(client, store, acknowledge=True, progress=bar)
        bar.finish()
        bar = ProgressBar("offers")
        offers = m.sync_offers(client, store, progress=bar)
        bar.finish()
        again = m.sync_orders(client, store)
        stats = sim.stats()
    backups = m.BackupManager(store, os.path.join(workdir, "backups"))
    backup = backups.create()
    verified = backups.verify(backup["filename"])

    statuses = store.order_status_counts()
    print()
    print("Summary")
    print(f"  orders   fetched {orders['fetched']}, created {orders['created']}, updated {orders['updated']}, "
          f"unchanged {orders['unchanged']}, failed {orders['failed']}; acknowledged {orders['acknowledged']} new orders; "
          f"{orders['invalid']} broke a documented rule")
    print(f"           {orders['requests']} requests in {orders['duration_s']:.1f} s "
          f"(eMAG's quota allows no less than {orders['rate_limit_min_s']:.1f} s)")
    print(f"  offers   fetched {offers['fetched']}, created {offers['created']} in {offers['duration_s']:.1f} s "
          f"(quota minimum {offers['rate_limit_min_s']:.1f} s)")
    print(f"  again    incremental sync: {again['fetched']} fetched, {again['created']} new, "
          f"{again['updated']} changed, {again['pages']} pages in {again['duration_s']:.2f} s")
    print(f"  store    {store.count_orders()} orders by status: "
          + ", ".join(f"{m.order_status_text(s) if s >= 0 else '?'} {n}" for s, n in sorted(statuses.items()))
          + f"; {store.count_offers()} offers")
    worst = stats.get("max_in_any_second", {})
    print(f"  limits   429 answers seen: {stats['responses_429']}; busiest second: orders {worst.get('orders', 0)}/12, "
          f"other {worst.get('other', 0)}/3")
    print(f"  backup   {backup['filename']}: {backup['size_bytes']} bytes, sha256 {backup['sha256'][:16]}..., "
          f"verified {'ok' if verified['valid'] else 'FAILED'} in {backup['duration_s']:.2f} s")
    print(f"  total    {time.monotonic() - started:.1f} s; the sync log has {len(store.sync_runs(100))} runs")
    return 0


def _credentials(args: argparse.Namespace) -> Dict[str, Any]:
    """Settings from --config (JSON), then EMAG_USERNAME / EMAG_PASSWORD, then flags."""
    settings: Dict[str, Any] = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as fh:
                settings = json.load(fh)
        except (OSError, ValueError) as exc:
            raise m.InvalidArgumentError(f"cannot read config file {args.config}: {exc}") from None
        if not isinstance(settings, dict):
            raise m.InvalidArgumentError(f"config file {args.config} must hold a JSON object")
    settings.setdefault("username", os.environ.get("EMAG_USERNAME"))
    settings.setdefault("password", os.environ.get("EMAG_PASSWORD"))
    if not settings.get("username") or not settings.get("password"):
        raise m.InvalidArgumentError(
            "no credentials: set EMAG_USERNAME and EMAG_PASSWORD, or pass --config FILE with username and password"
        )
    for key in ("platform", "base_url", "account"):
        value = getattr(args, key, None)
        if value:
            settings[key] = value
    return settings


def _timeout(settings: Dict[str, Any]) -> float:
    """The configured request timeout in seconds (``timeout_s``, 30 by default)."""
    value = settings.get("timeout_s", 30.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise m.InvalidArgumentError(f"config timeout_s: must be a number of seconds, got {value!r}")
    return float(value)


def _client(args: argparse.Namespace) -> m.Client:
    """A client from the credentials and settings."""
    settings = _credentials(args)
    return m.Client(
        settings["username"],
        settings["password"],
        platform=settings.get("platform", "emag_ro"),
        base_url=settings.get("base_url"),
        timeout=_timeout(settings),
        account=settings.get("account", "main"),
    )


def _cmd_sync(args: argparse.Namespace) -> int:
    from ._progress import ProgressBar

    client = _client(args)
    store = m.Store(args.db)
    bar = ProgressBar(args.what)
    try:
        if args.what == "orders":
            summary = m.sync_orders(client, store, full=args.full, acknowledge=args.acknowledge, progress=bar,
                                    wait=args.wait)
        else:
            summary = m.sync_offers(client, store, full=args.full, progress=bar, wait=args.wait)
    except KeyboardInterrupt:
        # Ctrl-C stops the sync after the page in flight is stored; say what was kept.
        bar.finish()
        runs = store.sync_runs(1)
        if runs and runs[0]["status"] == "interrupted":
            run = runs[0]
            print(
                f"{args.what}: interrupted after {run['pages']} pages ({run['created']} new, "
                f"{run['updated']} updated, all stored); the next run resumes there",
                file=sys.stderr,
            )
        raise
    bar.finish()
    if summary["status"] == "skipped":
        # Another worker runs this sync (PostgreSQL decides across hosts): not a failure.
        print(f"{args.what}: skipped; {summary['error']}")
        return 0
    print(
        f"{args.what}: {summary['status']}; fetched {summary['fetched']}, created {summary['created']}, "
        f"updated {summary['updated']}, unchanged {summary['unchanged']}, failed {summary['failed']}"
        + (f", acknowledged {summary['acknowledged']}" if args.what == "orders" else "")
        + f"; {summary['requests']} requests in {summary['duration_s']:.1f} s "
        f"(quota minimum {summary['rate_limit_min_s']:.1f} s)"
    )
    return 0 if summary["status"] == "success" else 1


def _cmd_simulate(args: argparse.Namespace) -> int:
    import time

    from .testing import Simulator

    sim = Simulator(
        orders=args.orders,
        offers=args.offers,
        seed=args.seed,
        enforce_rate_limits=not args.no_rate_limits,
        rate_limit_scale=args.rate_limit_scale,
        username=args.username,
        password=args.password,
        host=args.host,
        port=args.port,
        callback_url=args.callback_url,
        callback_interval_seconds=args.callback_interval,
    )
    sim.start()
    try:
        print(f"eMAG API simulator serving {args.orders} orders and {args.offers} offers (seed {args.seed})")
        print(f"  base_url: {sim.url}")
        print(f"  username: {sim.username}")
        print(f"  password: {sim.password}")
        print(f"  rate limits: {'off' if args.no_rate_limits else 'on'}; press Ctrl-C to stop")
        if args.callback_url:
            print("  callbacks: on (the URL is not printed: it holds the receiver's token)")
        sys.stdout.flush()
        next_order = time.monotonic() + (args.new_orders_every or 0)
        while True:
            time.sleep(min(1.0, args.new_orders_every or 1.0))
            if args.new_orders_every and time.monotonic() >= next_order:
                sim.new_order()
                next_order += args.new_orders_every
    except KeyboardInterrupt:
        stats = sim.stats()
        print(f"\nstopped after {stats['requests_total']} requests ({stats['responses_429']} answered 429)")
        return 0
    finally:
        sim.stop()


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def _counts(result: Dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(result["counts"].items()))


def _report(args: argparse.Namespace, result: Dict[str, Any], text: str) -> None:
    """`result` as JSON with --json, else `text`."""
    if args.json:
        _print_json(result)
    else:
        print(text)


def _cmd_backup(args: argparse.Namespace) -> int:
    from ._progress import ProgressBar

    if args.action == "list":
        entries = m.list_backups(args.dir)
        if args.json:
            _print_json(entries)
            return 0
        if not entries:
            print(f"no backups in {args.dir}")
        for e in entries:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(e["counts"].items()))
            state = "ok" if e["sound"] else f"UNSOUND ({e['error']})"
            print(f"{e['filename']:<44} {e['created_at']}  {e['size_bytes']:>12} B  {state}  {counts}")
        return 0
    if args.action == "cleanup":
        report = m.cleanup_backups(args.dir, retention_days=args.retention_days, keep_min=args.keep_min)
        if args.json:
            _print_json(report)
        else:
            print(f"deleted {len(report['deleted'])} backups ({report['bytes_freed']} bytes), kept {len(report['kept'])}")
            for name in report["deleted"]:
                print(f"  deleted {name}")
        return 0
    if args.action == "verify":
        bar = ProgressBar("verify")
        report = m.verify_backup(args.dir, args.name, progress=bar)
        bar.finish()
        if args.json:
            _print_json(report)
        elif report["valid"]:
            print(f"{args.name}: valid; sha256 {report['sha256']}")
        else:
            print(f"{args.name}: INVALID: {report['error']}")
        return 0 if report["valid"] else 1
    if not _exists(args.db):
        raise m.InvalidArgumentError(f"store {args.db} does not exist")
    manager = m.BackupManager(m.Store(args.db), args.dir)
    if args.action == "create":
        include = [t.strip() for t in args.include.split(",")] if args.include else None
        bar = ProgressBar("backup")
        info = manager.create(
            include=include, compress=not args.no_compress, format="sqlite" if args.sqlite else None, progress=bar
        )
        bar.finish()
        _report(args, info, f"backup {info['filename']}: {_counts(info)}; {info['size_bytes']} bytes in "
                f"{info['duration_s']:.2f} s\n  sha256 {info['sha256']}")
        return 0
    # restore
    if args.mode == "replace" and not args.yes:
        if not sys.stdin.isatty():
            raise m.InvalidArgumentError(
                "restore --mode replace overwrites the store's tables: pass --yes to confirm"
            )
        answer = input(f"replace the tables of {_shown(args.db)} with {args.name}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("restore cancelled; nothing changed")
            return 1
    bar = ProgressBar("restore")
    report = manager.restore(args.name, mode=args.mode, progress=bar)
    bar.finish()
    _report(args, report, f"restored {args.name} ({report['mode']}): {_counts(report)} in {report['duration_s']:.2f} s")
    return 0


def _probe_client(args: argparse.Namespace) -> Optional[Any]:
    """A client for --probe (its ``probe_error`` is the probe's failure, or None), or None
    when no probe was asked for."""
    if not args.probe:
        return None
    client = _client(args)
    client.probe_error = None
    try:
        client.vat.read()
    except m.EmagApiError as exc:  # the monitor shows it too; the exit code must as well
        client.probe_error = f"{type(exc).__name__}: {exc}"
    return client


def _store_health(db: str) -> Dict[str, Any]:
    store = m.Store(db)
    stats = store.sync_statistics(24)
    runs = store.sync_runs(1)
    return {"sync_last_24h": stats, "last_sync": runs[0] if runs else None}


def _cmd_health(args: argparse.Namespace) -> int:
    report: Dict[str, Any] = {"store": _store_health(args.db) if _exists(args.db) else None}
    client = _probe_client(args)
    if client is not None:
        report["api"] = client.monitor.health()
        report["api"]["probe_error"] = client.probe_error
    healthy = True
    if report["store"] is not None:
        stats = report["store"]["sync_last_24h"]
        healthy = stats["success_rate"] >= 0.95
        report["store"]["status"] = "healthy" if healthy else "failing"
    if "api" in report:
        api_ok = report["api"]["probe_error"] is None and report["api"]["status"] in ("healthy", "degraded")
        healthy = healthy and api_ok
    report["status"] = "healthy" if healthy else "unhealthy"
    if args.json:
        _print_json(report)
    else:
        print(f"status: {report['status']}")
        if report["store"] is None:
            print(f"  store: {_shown(args.db)} does not exist yet (no sync has run)")
        else:
            s = report["store"]["sync_last_24h"]
            print(f"  syncs (24 h): {s['total']} runs, {s['successful']} successful, {s['failed']} failed, "
                  f"success rate {s['success_rate']:.0%}, {s['items_processed']} items")
            last = report["store"]["last_sync"]
            if last:
                print(f"  last sync: {last['kind']} {last['status']} at {last['started_at']}"
                      + (f" ({last['error']})" if last.get("error") else ""))
        if "api" in report:
            api = report["api"]
            print(f"  API probe: {api['status']}, health score {api['health_score']:.0f}"
                  + (f" (failed: {api['probe_error']})" if api["probe_error"] else ""))
    return 0 if healthy else 1


def _cmd_metrics(args: argparse.Namespace) -> int:
    client = _probe_client(args)
    if client is not None:
        sys.stdout.write(client.monitor.prometheus())
    if _exists(args.db):
        s = _store_health(args.db)["sync_last_24h"]
        print("# HELP magflow_emag_store_sync_runs_24h Sync runs in the store's log over the last 24 hours.")
        print("# TYPE magflow_emag_store_sync_runs_24h gauge")
        print(f'magflow_emag_store_sync_runs_24h{{result="success"}} {s["successful"]}')
        print(f'magflow_emag_store_sync_runs_24h{{result="failed"}} {s["failed"]}')
        print("# HELP magflow_emag_store_sync_success_ratio_24h Successful share of the sync runs over 24 hours.")
        print("# TYPE magflow_emag_store_sync_success_ratio_24h gauge")
        print(f"magflow_emag_store_sync_success_ratio_24h {s['success_rate']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="magflow-emag", description="eMAG Marketplace integration (magflow-emag)")
    parser.add_argument("--version", action="version", version=f"magflow-emag {m.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="sync orders and offers from the simulator into a store, with a summary")
    demo.add_argument("--orders", type=int, default=5000, help="orders in the simulator (default 5000)")
    demo.add_argument("--offers", type=int, default=2000, help="offers in the simulator (default 2000)")
    demo.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    demo.add_argument("--db", default=None, help="store file (default: a new temporary file)")
    demo.set_defaults(func=_cmd_demo)
    sync = sub.add_parser("sync", help="sync orders or offers from eMAG into the store")
    sync.add_argument("what", choices=["orders", "offers"])
    sync.add_argument("--platform", default=None, help="emag_ro (default), emag_bg, emag_hu, fd_ro, fd_bg")
    sync.add_argument("--base-url", dest="base_url", default=None, help="override the platform's API URL")
    sync.add_argument("--account", default=None, help="account label (default main)")
    sync.add_argument("--config", default=None, help="JSON file with username, password and other settings")
    sync.add_argument("--db", default="magflow-emag.db", help="store file or postgresql:// URL (default ./magflow-emag.db)")
    sync.add_argument("--full", action="store_true", help="walk the whole history, not only what changed")
    sync.add_argument("--acknowledge", action="store_true", help="acknowledge new orders once stored")
    sync.add_argument("--wait", action="store_true",
                      help="if another worker runs this sync, wait for it (default: skip, exit 0)")
    sync.set_defaults(func=_cmd_sync)
    simulate = sub.add_parser("simulate", help="serve a stateful eMAG API simulator until Ctrl-C")
    simulate.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    simulate.add_argument("--port", type=int, default=8088, help="port (default 8088; 0 = any free port)")
    simulate.add_argument("--orders", type=int, default=100, help="seeded orders (default 100)")
    simulate.add_argument("--offers", type=int, default=50, help="seeded offers (default 50)")
    simulate.add_argument("--seed", type=int, default=0, help="data seed (default 0)")
    simulate.add_argument("--username", default="sim-user")
    simulate.add_argument("--password", default="sim-password")
    simulate.add_argument("--no-rate-limits", action="store_true", help="never answer 429")
    simulate.add_argument("--rate-limit-scale", type=float, default=1.0, help="multiply every quota")
    simulate.add_argument("--callback-url", default=None,
                          help="call this URL as eMAG does (GET ?order_id=... for each new order, ...)")
    simulate.add_argument("--callback-interval", type=float, default=60.0,
                          help="seconds between repeats of a new order's callback until acknowledged (default 60)")
    simulate.add_argument("--new-orders-every", type=float, default=0.0,
                          help="create a new order every N seconds (default 0: never)")
    simulate.set_defaults(func=_cmd_simulate)

    backup = sub.add_parser("backup", help="create, list, verify, restore or clean up backups of the store")
    bsub = backup.add_subparsers(dest="action", required=True)
    for name, text in [
        ("create", "write a verified backup (gzip JSON lines, or --sqlite)"),
        ("list", "list the backups, newest first"),
        ("verify", "check a backup completely (checksum and structure)"),
        ("restore", "verify a backup, then restore it in one transaction"),
        ("cleanup", "delete backups older than the retention (never the newest valid one)"),
    ]:
        p = bsub.add_parser(name, help=text)
        p.add_argument("--dir", default="backups", help="backup directory (default ./backups)")
        p.add_argument("--db", default="magflow-emag.db", help="store file or postgresql:// URL (default ./magflow-emag.db)")
        p.add_argument("--json", action="store_true", help="print the result as JSON")
        if name in ("verify", "restore"):
            p.add_argument("name", help="the backup's file name, as list shows it")
        if name == "create":
            p.add_argument("--include", default=None, help="tables, comma-separated: orders,offers,sync_log,checkpoints")
            p.add_argument("--no-compress", action="store_true", help="plain .json instead of .json.gz")
            p.add_argument("--sqlite", action="store_true", help="an SQLite snapshot (fast) instead of JSON lines")
        if name == "restore":
            p.add_argument("--mode", choices=["replace", "merge"], default="replace")
            p.add_argument("--yes", action="store_true", help="confirm a replace without asking")
        if name == "cleanup":
            p.add_argument("--retention-days", dest="retention_days", type=float, default=30.0)
            p.add_argument("--keep-min", dest="keep_min", type=int, default=1)
    backup.set_defaults(func=_cmd_backup)

    from ._serve import add_parser as add_serve_parser

    add_serve_parser(sub)

    for name, func, text in [
        ("health", _cmd_health, "the integration's health: the store's sync log, and with --probe one API call"),
        ("metrics", _cmd_metrics, "Prometheus text: the store's sync log, and with --probe the client's monitor"),
    ]:
        p = sub.add_parser(name, help=text)
        p.add_argument("--db", default="magflow-emag.db", help="store file or postgresql:// URL (default ./magflow-emag.db)")
        p.add_argument("--probe", action="store_true", help="also call the API once (credentials as for sync)")
        p.add_argument("--platform", default=None)
        p.add_argument("--base-url", dest="base_url", default=None)
        p.add_argument("--config", default=None, help="JSON file with username, password and other settings")
        if name == "health":
            p.add_argument("--json", action="store_true", help="print the report as JSON")
        p.set_defaults(func=func)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except m.InvalidArgumentError as exc:  # a usage error, as argparse's own (exit 2)
        print(f"magflow-emag: error: {exc}", file=sys.stderr)
        return 2
    except m.EmagApiError as exc:
        print(f"magflow-emag: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader left early (`| head`): stop quietly; point stdout at /dev/null so that
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 2
    except KeyboardInterrupt:
        print("magflow-emag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
