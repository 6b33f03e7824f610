"""keymap.json in the data directory: binding ids to keys, e.g. {"order.buy": "b", "position.margin": "M"}.

Read defensively: the file is edited by hand, so anything but an object of short texts is ignored with
a sentence the workstation shows as a warning, never a crash at start-up.
"""
from __future__ import annotations

import json
from pathlib import Path

MAX_BYTES = 64 * 1024
MAX_TEXT = 64


def load_keymap(path: Path) -> tuple[dict[str, str], str | None]:
    """(keymap, None) when the file is usable or absent; ({}, why not) otherwise."""
    try:
        if not path.exists():
            return {}, None
        raw = path.read_bytes()[:MAX_BYTES + 1]
    except OSError as error:
        return {}, f"cannot read {path}: {error.strerror or error}"
    if len(raw) > MAX_BYTES:
        return {}, f"{path} is over {MAX_BYTES // 1024} KiB; a keymap is a few lines"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # not UTF-8, not JSON, nested absurdly deep
        return {}, f"{path} is not valid JSON ({str(error)[:80]})"
    if not isinstance(data, dict):
        return {}, f"{path} must hold one JSON object of binding ids to keys, e.g. {{\"order.buy\": \"b\"}}"
    for binding, keys in data.items():
        if not (_text(binding) and _text(keys)):
            return {}, (f"{path}: every binding id and key must be short text, e.g. \"order.buy\": \"b\" "
                        f"(got {json.dumps(binding)[:40]}: {json.dumps(keys)[:40]})")
    return data, None


def _text(value: object) -> bool:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT or not value.isprintable():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True
