"""The `magflow-emag` command line.

Subcommands grow with the library; each prints clear one-line errors and exits non-zero on
failure.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

import magflow_emag as m


def _cmd_demo(args: argparse.Namespace) -> int:
    print(f"magflow-emag {m.__version__}: eMAG Marketplace API v4.4.9 core (Rust), Python and C faces")
    print()
    reasons_en = m.cancellation_reasons("en")
    reasons_ro = m.cancellation_reasons("ro")
    print(f"Cancellation reasons: {len(reasons_en)} codes ({min(reasons_en)}-3 and 15-{max(reasons_en)}), English and Romanian")
    for code in (1, 31, 43):
        print(f"  {code:>2}  {reasons_en[code]}  /  {reasons_ro[code]}")
    print()
    order = [1, 2, 3, 4, 0, 5]
    short = {"no": "-", "yes": "yes", "ack_only": "ACK", "within_48h": "48h", "within_return_time_plus_5_days": "RT+5d"}
    print("Order status transitions (rows: from, columns: to):")
    print("            " + "".join(f"{m.order_status_text(s):>13}" for s in order))
    for frm in order:
        cells = "".join(f"{short[m.transition_rule(frm, to)]:>13}" for to in order)
        print(f"{m.order_status_text(frm):>12}" + cells)
    print()
    print("Payment modes: " + ", ".join(f"{c} = {m.payment_mode_text(c)}" for c in (1, 2, 3)))
    return 0


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
    )
    sim.start()
    try:
        print(f"eMAG API simulator serving {args.orders} orders and {args.offers} offers (seed {args.seed})")
        print(f"  base_url: {sim.url}")
        print(f"  username: {sim.username}")
        print(f"  password: {sim.password}")
        print(f"  rate limits: {'off' if args.no_rate_limits else 'on'}; press Ctrl-C to stop")
        sys.stdout.flush()
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        stats = sim.stats()
        print(f"\nstopped after {stats['requests_total']} requests ({stats['responses_429']} answered 429)")
        return 0
    finally:
        sim.stop()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="magflow-emag", description="eMAG Marketplace integration (magflow-emag)")
    parser.add_argument("--version", action="version", version=f"magflow-emag {m.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="show what the library does, end to end")
    demo.set_defaults(func=_cmd_demo)
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
    simulate.set_defaults(func=_cmd_simulate)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except m.EmagApiError as exc:
        print(f"magflow-emag: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("magflow-emag: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
