"""The `serve` and `token` subcommands (wired into app/cli.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import paths
from .tokens import OPERATOR, TokenError, issue_or_show, token_path

SERVER_COMMANDS = ("serve", "token")
DEFAULT_PORT = 8421


def add_server_commands(commands) -> None:
    serve = commands.add_parser("serve", help="run the engine headless with an HTTP API and event stream")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    serve.add_argument("--feed", default="simulated", help="simulated (default), live, or replay:FILE.csv")
    serve.add_argument("--db", dest="serve_db", type=Path, help="database file")
    serve.add_argument("--seed", type=int, default=7, help="seed of the simulated market (default 7)")
    serve.add_argument("--speed", type=float, default=1.0, help="simulated market speed multiple (default 1)")

    token = commands.add_parser("token", help="print a user's API token (created on first use)")
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("name", nargs="?", help="user name")
    who.add_argument("--operator", action="store_true",
                     help="the operator token: may set prices, config and time, and act for anyone")


def run_server_command(args: argparse.Namespace) -> int:
    if args.command == "token":
        try:
            print(issue_or_show(OPERATOR if args.operator else args.name))
        except TokenError as error:
            print(f"copydesk: {error}", file=sys.stderr)
            return 2
        print(f"(kept in {token_path()}, readable only by you)", file=sys.stderr)
        return 0
    if not 0 <= args.port <= 65535:
        print("copydesk: --port must be between 0 and 65535", file=sys.stderr)
        return 2
    from .server import run_server  # the network stack loads only when serving
    return run_server(args.serve_db or args.db or paths.default_db(), host=args.host, port=args.port,
                      feed=args.feed, seed=args.seed, speed=args.speed, out=sys.stdout, err=sys.stderr)
