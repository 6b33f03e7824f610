"""Who may send which command line over the API.

- A user's token acts for that user only: the line's owner field (`user`, or `name` for the `user`
  action that creates one) must be the token's user.
- Lines that name no user change the whole market (`config`, `instrument`, `price`,
  `funding_rate`, `advance`, and any such action added later), and `restrict` is an operator
  control: only the operator token may send them. The server's own price feed bypasses the API.
- The operator token may send anything, for anyone.
- `at` is refused: the server stamps every line with the wall clock, so no client moves time.
- An idempotency `id` is kept per sender (`alice/ID`), so one user cannot spend another's ids.
"""
from __future__ import annotations

import dataclasses

from engine.commands import ACTIONS

from ..tokens import OPERATOR
from .http import HttpError

OPERATOR_CONTROLS = frozenset({"restrict"})
READ_ONLY = frozenset({"snapshot"})


def owner_key(action: str) -> str | None:
    """The field naming the user a command acts for, or None for a market-wide command."""
    names = {f.name for f in dataclasses.fields(ACTIONS[action])}
    if action == "user":
        return "name"
    return "user" if "user" in names else None


def admit(line: object, sender: str) -> dict:
    """The line to execute on behalf of `sender` (a user name or OPERATOR), or HttpError 400/403."""
    if not isinstance(line, dict):
        raise HttpError(400, "BAD_REQUEST", "a command is one JSON object with a \"do\" field")
    if "at" in line:
        raise HttpError(400, "BAD_FIELD", "\"at\" is not accepted: the server stamps every command with its clock")
    action = line.get("do")
    if sender != OPERATOR and isinstance(action, str) and action in ACTIONS and action not in READ_ONLY:
        key = owner_key(action)
        if key is None or action in OPERATOR_CONTROLS:
            raise HttpError(403, "OPERATOR_ONLY", f"{action!r} changes the market for everyone; "
                                                  "only the operator token may send it")
        if key in line and line[key] != sender:
            raise HttpError(403, "NOT_YOUR_USER", f"this token acts for {sender!r} only, "
                                                  f"but the line's {key!r} is {line[key]!r}")
    idem = line.get("id")
    if isinstance(idem, (str, int)) and not isinstance(idem, bool):
        line = {**line, "id": f"{sender}/{idem}"}
    return line
