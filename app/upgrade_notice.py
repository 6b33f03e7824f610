"""What a person starting Copydesk sees while an older database is upgraded: one line on stderr, before any
screen takes the terminal (storage says what it is doing; see storage.schema.migrate)."""
from __future__ import annotations

import sys


def tell_upgrade(text: str) -> None:
    print(f"copydesk: {text}", file=sys.stderr, flush=True)
