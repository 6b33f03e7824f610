"""Where Copydesk keeps its files: the user's data directory unless told otherwise."""
from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    base = os.environ.get("COPYDESK_HOME")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "copydesk"


def default_db() -> Path:
    return data_dir() / "copydesk.db"
