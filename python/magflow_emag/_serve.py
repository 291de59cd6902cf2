"""``magflow-emag serve`` (imports FastAPI only when it runs): the management router standalone under uvicorn, optionally owning
the periodic sync and backup, so one process keeps the store current, backed up and observable.

Auth: bearer tokens, one per line of ``--token-file`` (``#`` comments), a file that must not be
readable or writable by group or others; compared in constant time. Without a token file only
a loopback ``--bind`` is allowed (anonymous). SIGTERM/SIGINT: uvicorn stops taking requests,
then a running sync stops at its next page boundary (its transaction commits first) and a
running backup finishes; nothing is left half-written.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import logging
import os
import re
import signal
import socket
import stat
import sys
import threading
from typing import Any, Dict, List, Optional, Tuple

from . import _native
from .errors import EmagApiError, InvalidArgumentError

logger = logging.getLogger("magflow_emag.serve")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
SYNC_KINDS = ("orders", "offers")


def parse_duration(text: str, what: str) -> float:
    """``"90"``, ``"30s"``, ``"5m"``, ``"24h"``, ``"1d"`` -> seconds (> 0)."""
    match = _DURATION.match(text or "")
    if not match or float(match.group(1)) <= 0:
        raise InvalidArgumentError(f"{what} must be a duration such as 30s, 5m, 24h or 1d, got {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_bind(text: str) -> Tuple[str, int]:
    host, sep, port = (text or "").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise InvalidArgumentError(f"--bind must be HOST:PORT (e.g. 127.0.0.1:8080), got {text!r}")
    return host, int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_tokens(path: str) -> List[str]:
    """The tokens of a file only its owner can read (refused otherwise)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read token file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InvalidArgumentError(f"token file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise InvalidArgumentError(
            f"token file {path} is accessible by group or others (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            tokens = [line.strip() for line in fh if line.strip() and not line.lstrip().startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(f"cannot read token file {path}: {exc}") from None
    if not tokens:
        raise InvalidArgumentError(f"token file {path} holds no token")
    if any(len(t) < 16 for t in tokens):
        raise InvalidArgumentError(f"token file {path}: every token must be at least 16 characters")
    return tokens


def bearer_auth(tokens: List[str]) -> Any:
    """A FastAPI dependency accepting ``Authorization: Bearer <one of tokens>``."""
    from fastapi import HTTPException, Request

    encoded = [t.encode() for t in tokens]

    def check(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        ok = False
        if scheme.lower() == "bearer" and given:
            candidate = given.strip().encode()
            for token in encoded:  # every token compared, each in constant time
                ok |= hmac.compare_digest(candidate, token)
        if not ok:
            raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"})

    # Real classes, not the strings `from __future__ import annotations` leaves: FastAPI reads
    # them to inject the request (FastAPI is imported only here).
    check.__annotations__ = {"request": Request, "return": None}
    return check


class SyncLoop:
    """Sync ``kinds`` every ``interval`` seconds in a thread; ``stop()`` cancels at the next
    page boundary and waits."""

    def __init__(self, client: Any, store: Any, kinds: List[str], interval: float) -> None:
        self.client, self.store, self.kinds, self.interval = client, store, kinds, interval
        self._stop = threading.Event()
        self._cancel = _native.CancelToken()
        self._thread = threading.Thread(target=self._run, name="magflow-emag-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for kind in self.kinds:
                if self._stop.is_set():
                    break
                try:
                    if kind == "orders":
                        summary = _native.sync_orders(self.client, self.store, cancel=self._cancel)
                    else:
                        summary = _native.sync_offers(self.client, self.store, cancel=self._cancel)
                    logger.info("sync %s: %s, fetched %s", kind, summary["status"], summary["fetched"])
                except EmagApiError as exc:  # recorded in the sync log and the monitor already
                    logger.error("sync %s failed: %s", kind, exc)
                except Exception as exc:  # never kill the loop
                    logger.exception("sync %s failed: %s", kind, exc)
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 120.0) -> None:
        self._stop.set()
        self._cancel.cancel()
        self._thread.join(timeout)


def _client(args: argparse.Namespace, monitor: Any, limiter: Any) -> Any:
    from .cli import _credentials
    from .client import Client

    settings = _credentials(args)
    client = Client(
        settings["username"],
        settings["password"],
        platform=settings.get("platform", "emag_ro"),
        base_url=settings.get("base_url"),
        timeout=float(settings.get("timeout_s", 30.0)),
        account=settings.get("account", "main"),
        rate_limiter=limiter,
        monitor=monitor,
    )
    return client


def build_app(store: Any, backup_dir: str, monitor: Any, limiter: Any, tokens: Optional[List[str]],
              callbacks: Any = None) -> Any:
    from fastapi import Depends, FastAPI

    from .management.router import management_router

    app = FastAPI(title="magflow-emag management", version=_native.__version__)
    auth = Depends(bearer_auth(tokens)) if tokens else None
    router = management_router(
        store=store, backups=backup_dir, monitor=monitor, rate_limiter=limiter, auth=auth,
        allow_anonymous=not tokens, callbacks=callbacks,
    )
    app.include_router(router, prefix="/api/v1/emag/management")
    return app


def run(args: argparse.Namespace) -> int:
    """The ``serve`` subcommand."""
    import uvicorn

    from .compat import configure

    host, port = parse_bind(args.bind)
    tokens = read_tokens(args.token_file) if args.token_file else None
    if tokens is None and not is_loopback(host):
        raise InvalidArgumentError(f"--bind {args.bind} is not loopback: pass --token-file (bearer tokens, mode 600)")
    kinds: List[str] = []
    if args.sync:
        kinds = [k.strip() for k in args.sync.split(",") if k.strip()]
        unknown = [k for k in kinds if k not in SYNC_KINDS]
        if unknown or not kinds:
            raise InvalidArgumentError(f"--sync takes orders, offers or orders,offers, got {args.sync!r}")
    every = parse_duration(args.every, "--every") if kinds else None
    backup_every = parse_duration(args.backup_every, "--backup-every") if args.backup_every else None
    if not args.db.lower().startswith(("postgresql://", "postgres://")) and os.path.isdir(args.db):
        raise InvalidArgumentError(f"--db {args.db} is a directory, not a store file")
    store = _native.Store(args.db)
    store.count_orders()  # fails now, in one line, on a file that is not a store
    monitor = _native.Monitor()
    limiter = _native.RateLimiter()
    configure(store=store, backup_dir=args.backup_dir, limiter=limiter, monitor=monitor)
    callback_token = read_tokens(args.callback_token_file)[0] if args.callback_token_file else None
    client = _client(args, monitor, limiter) if kinds or callback_token else None
    receiver = None
    if callback_token is not None:
        receiver = _native.CallbackReceiver(store, client, callback_token, acknowledge=not args.no_acknowledge)

    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        raise InvalidArgumentError(f"cannot bind {args.bind}: {exc.strerror or exc}") from None

    app = build_app(store, args.backup_dir, monitor, limiter, tokens, callbacks=receiver)
    schedule = None
    loop: Optional[SyncLoop] = None
    try:
        if backup_every is not None:
            manager = _native.BackupManager(store, args.backup_dir, monitor=monitor)
            schedule = manager.schedule(interval=backup_every, retention_days=args.retention_days)
        if receiver is not None:
            receiver.start()
        if client is not None and every is not None:
            loop = SyncLoop(client, store, kinds, every)
            loop.start()
        actual = sock.getsockname()
        shown = f"[{actual[0]}]" if ":" in actual[0] else actual[0]
        print(f"magflow-emag serve: http://{shown}:{actual[1]}/api/v1/emag/management "
              f"({'bearer tokens' if tokens else 'anonymous, loopback only'}; store {store.path}, backups {args.backup_dir}"
              + (f"; sync {','.join(kinds)} every {every:g}s" if loop else "")
              + (f"; backup every {backup_every:g}s" if schedule else "")
              + ("; callbacks at /callbacks/order" if receiver else "") + ")", flush=True)
        config = uvicorn.Config(app, log_level=args.log_level, lifespan="off", access_log=False)
        # uvicorn re-raises the signal that stopped it once it has shut down; with these
        # handlers that only ends the wait, so the clean-up below runs and the exit code is 0.
        stopped: List[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: stopped.append(signum))
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        # After uvicorn stopped taking requests: the sync stops at its next page boundary (a
        # page's transaction commits whole), the schedule lets a running backup finish.
        if receiver is not None:
            receiver.stop()
        if loop is not None:
            loop.stop()
        if schedule is not None:
            schedule.stop(wait=True)
        sock.close()
    print("magflow-emag serve: stopped cleanly", flush=True)
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser("serve", help="serve the management endpoints (FastAPI + uvicorn); optionally sync and back up")
    p.add_argument("--db", default="magflow-emag.db", help="store file or postgresql:// URL (default ./magflow-emag.db)")
    p.add_argument("--backup-dir", dest="backup_dir", default="backups", help="backup folder (default ./backups)")
    p.add_argument("--bind", default="127.0.0.1:8080", help="HOST:PORT (default 127.0.0.1:8080; port 0: any free one)")
    p.add_argument("--token-file", dest="token_file", default=None,
                   help="bearer tokens (16+ characters), one per line, mode 600 (required unless --bind is loopback)")
    p.add_argument("--sync", default=None, help="also sync: orders, offers or orders,offers")
    p.add_argument("--every", default="5m", help="sync interval (default 5m)")
    p.add_argument("--backup-every", dest="backup_every", default=None, help="back up every e.g. 24h (default: never)")
    p.add_argument("--retention-days", dest="retention_days", type=float, default=30.0,
                   help="scheduled cleanup keeps this many days (default 30)")
    p.add_argument("--callback-token-file", dest="callback_token_file", default=None,
                   help="serve eMAG's callbacks at <prefix>/callbacks/order, checking the token (16+ characters, "
                        "first line of this mode-600 file) that the callback URL carries as ?token=")
    p.add_argument("--no-acknowledge", dest="no_acknowledge", action="store_true",
                   help="callbacks: store new orders without acknowledging them")
    p.add_argument("--platform", default=None, help="emag_ro (default), emag_bg, emag_hu, fd_ro, fd_bg")
    p.add_argument("--base-url", dest="base_url", default=None, help="override the platform's API URL")
    p.add_argument("--account", default=None, help="account label (default main)")
    p.add_argument("--config", default=None, help="JSON file with username, password and other settings")
    p.add_argument("--log-level", dest="log_level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(func=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise InvalidArgumentError("serve needs FastAPI and uvicorn: pip install 'magflow-emag[fastapi]'") from None
    return run(args)
