"""API tokens: one secret per user, kept in a JSON file only its owner can read.

`copydesk token NAME` issues (or shows again) the token of user NAME; `copydesk token --operator`
the operator's, which may send the commands that change the whole market (prices, config, time).
The operator is stored under a name no user can have, so it can never collide with a user.
"""
from __future__ import annotations

import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path

from engine.accounts import check_user_name
from engine.errors import Rejected

from . import paths

OPERATOR = "@operator"


class TokenError(ValueError):
    """A token name that cannot be used, or a token file that cannot be read."""


def token_path() -> Path:
    return paths.data_dir() / "tokens.json"


def issue_or_show(name: str) -> str:
    """The token of `name` (a user name or OPERATOR), created on first use."""
    if name != OPERATOR:
        try:
            check_user_name(name)
        except Rejected as rejection:
            raise TokenError(rejection.message) from None
    tokens = _load(token_path())
    if name not in tokens:
        tokens[name] = secrets.token_urlsafe(32)
        _save(token_path(), tokens)
    return tokens[name]


def user_for(token: str) -> str | None:
    """Who holds `token` (a user name or OPERATOR), or None.

    Every stored token is compared, in constant time, so the answer's timing says nothing about
    which token (or how much of one) matched."""
    offered = token.encode("utf-8", "surrogateescape")
    holder = None
    for name, stored in _load(token_path()).items():
        if hmac.compare_digest(offered, stored.encode()):
            holder = name
    return holder


def _load(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: JSON nested absurdly deep
        raise TokenError(f"cannot read the token file {path}: {str(error)[:200]}") from None
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, dict) or not all(isinstance(v, str) and v.isascii() for v in tokens.values()):
        raise TokenError(f"the token file {path} is not a Copydesk token file")
    return tokens


def _save(path: Path, tokens: dict[str, str]) -> None:
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    # mkstemp creates the file 0600; the rename makes the new file appear whole or not at all.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tokens-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump({"tokens": tokens}, file, indent=2, sort_keys=True)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
