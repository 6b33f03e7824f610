"""The `copydesk` command line. Every failure is a sentence and an exit code, never a traceback."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import engine  # noqa: F401  (registers the command handlers)
from storage.desk import DatabaseInUse, Desk, StorageError

from . import paths
from .replay import replay


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
    return parser


def status(db: Path) -> int:
    db.parent.mkdir(parents=True, exist_ok=True)
    with Desk.open(db) as desk:
        exchange = desk.exchange
        print(f"Copydesk database: {db}")
        print(f"Engine time: {exchange.now_ms and desk.execute({'do': 'snapshot', 'of': ['at']}).result['at']}")
        print(f"Users: {len(exchange.users)}   Ledger entries: {exchange.ledger.entry_count}   "
              f"Ledger sum: {exchange.ledger_sum()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "replay":
            return replay(args.file, args.replay_db, args.strict, sys.stdout, sys.stderr)
        return status(args.db or paths.default_db())
    except DatabaseInUse as error:
        print(f"copydesk: {error}", file=sys.stderr)
        return 3
    except StorageError as error:
        print(f"copydesk: {error.message}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
