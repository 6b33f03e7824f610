"""The `copydesk` command line. Every failure is a sentence and an exit code, never a traceback."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import engine  # noqa: F401  (registers the command handlers)
from engine.clock import format_time
from engine.money import fmt
from storage.desk import DatabaseInUse, Desk, StorageError

from . import paths
from .collector import tune_collector
from .live_desk import run_live
from .replay import replay
from .serve_cli import SERVER_COMMANDS, add_server_commands, run_server_command  # multi-terminal server
from .soak import add_soak_command, run_soak_command  # reliability: seeded soak with invariant checks
from .upgrade_notice import tell_upgrade


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: usage line and exit 2, no traceback
        self.print_usage(sys.stderr)
        self.exit(2, f"copydesk: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="copydesk", description="A terminal workstation for crypto copy trading.")
    parser.add_argument("--db", type=Path, help=f"database file (default: {paths.default_db()})")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    run = commands.add_parser("replay", help="run a scenario file against a fresh engine and print snapshots")
    run.add_argument("file", type=Path)
    run.add_argument("--db", dest="replay_db", type=Path, help="write the replay into this new database file")
    run.add_argument("--strict", action="store_true", help="exit 1 if any line was rejected unexpectedly")

    commands.add_parser("status", help="show the desk's database, users and ledger")
    live = commands.add_parser("run", help="run the embedded engine headless on the simulated market")
    _live_options(live)
    live.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    shots = commands.add_parser("screenshots", help="save an SVG of every screen into screenshots/")
    shots.add_argument("--out", type=Path, default=Path("screenshots"), help="folder (default: screenshots)")
    demo = commands.add_parser("demo", help="open the workstation on a seeded demo world")
    _live_options(demo)
    demo.add_argument("--copiers", type=int, default=2000, help="simulated copiers (default 2000)")
    add_server_commands(commands)  # multi-terminal server: serve, token
    add_soak_command(commands)  # reliability: copydesk soak --steps N --seed S
    bench = commands.add_parser("bench", help="measure fan-out, ticks, replay, start-up, memory and keypress latency")
    bench.add_argument("--quick", action="store_true", help="small sizes (CI): finishes in well under a minute")
    bench.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    _live_options(parser)
    parser.add_argument("--user", default="trader", help="your user name on this desk (default: trader)")
    parser.add_argument("--connect", metavar="URL", help="open the workstation on a `copydesk serve` desk")
    parser.add_argument("--token", help="your token for --connect (default: $COPYDESK_TOKEN, else this "
                                        "machine's token for --user)")
    return parser


def _live_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")
    parser.add_argument("--speed", type=float, default=1.0, help="market speed multiple (default 1)")


def status(db: Path) -> int:
    db.parent.mkdir(parents=True, exist_ok=True)
    with Desk.open(db, notice=tell_upgrade) as desk:
        exchange = desk.exchange
        print(f"Copydesk database: {db}")
        print(f"Engine time: {format_time(exchange.now_ms)}")
        print(f"Users: {len(exchange.users)}   Ledger entries: {exchange.ledger.entry_count}   "
              f"Ledger sum: {fmt(exchange.ledger_sum())}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tune_collector()  # every command hosts an engine: see app/collector.py
    try:
        if args.command == "replay":
            return replay(args.file, args.replay_db, args.strict, sys.stdout, sys.stderr)
        if args.command == "soak":
            return run_soak_command(args)
        if args.command == "bench":  # performance figures against the targets
            from .bench import run_bench
            return run_bench(quick=args.quick, as_json=args.json)
        if args.command == "screenshots":
            from .screenshots import take_screenshots
            return take_screenshots(args.out)
        if args.command == "status":
            return status(args.db or paths.default_db())
        if not args.speed > 0 or args.speed > 10_000:
            print("copydesk: --speed must be above 0 and at most 10000", file=sys.stderr)
            return 2
        if args.command in SERVER_COMMANDS:  # multi-terminal server: serve, token
            return run_server_command(args)
        if args.command == "run":
            if args.seconds is not None and not 0 <= args.seconds < float("inf"):
                print("copydesk: --seconds must be a finite number, at least 0", file=sys.stderr)
                return 2
            return run_live(args.db or paths.default_db(), seconds=args.seconds, seed=args.seed, speed=args.speed,
                            out=sys.stdout)
        from .launch import run_workstation  # Textual loads only when a screen is wanted
        if args.command == "demo":
            if not 0 <= args.copiers <= 100_000:
                print("copydesk: --copiers must be between 0 and 100000", file=sys.stderr)
                return 2
            db = args.db or paths.data_dir() / f"demo-s{args.seed}-c{args.copiers}.db"
            return run_workstation(db, user="you", demo=True, seed=args.seed, copiers=args.copiers, speed=args.speed)
        if args.connect:
            from .launch import run_remote_workstation
            return run_remote_workstation(args.connect, user=args.user, token=args.token)
        return run_workstation(args.db or paths.default_db(), user=args.user, demo=False, seed=args.seed, copiers=0,
                               speed=args.speed)
    except DatabaseInUse as error:
        print(f"copydesk: {error}", file=sys.stderr)
        return 3
    except StorageError as error:
        print(f"copydesk: {error.message}", file=sys.stderr)
        return 3
    except OSError as error:  # a --db or --out path that cannot be made: a folder that is a file, a name too long
        where = f" ({error.filename})" if error.filename else ""
        print(f"copydesk: {error.strerror or error}{where}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
