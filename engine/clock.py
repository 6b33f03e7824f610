"""Engine time: integer milliseconds since the Unix epoch, UTC. Never read from the wall clock here."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import Rejected, shown

MS = 1
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
_UNITS = {"ms": MS, "s": SECOND, "m": MINUTE, "h": HOUR, "d": DAY, "w": WEEK}
# Engine time stays inside years 2000–2200: anything else is a typo.
_MIN_MS = 946684800000
_MAX_MS = 7258118400000


def parse_time(raw: object, field: str = "at") -> int:
    if not isinstance(raw, str) or len(raw) > 40:
        raise Rejected("BAD_FIELD", f"{field} must be an ISO-8601 UTC time such as \"2026-01-05T08:00:00Z\"")
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Rejected("BAD_FIELD", f"{field} is not an ISO-8601 time: {shown(raw)}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    ms = int(moment.timestamp() * 1000)
    if not _MIN_MS <= ms <= _MAX_MS:
        raise Rejected("BAD_FIELD", f"{field} {shown(raw)} is outside the years 2000–2200")
    return ms


def format_time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ms % 1000:
        text += f".{ms % 1000:03d}"
    return text + "Z"


def parse_duration(raw: object, field: str = "by") -> int:
    """'90s', '8h', '3d', '1.5h' → milliseconds."""
    match = _DURATION.match(raw) if isinstance(raw, str) else None
    if not match:
        raise Rejected("BAD_FIELD", f"{field} must be a duration such as \"90s\", \"8h\" or \"3d\", got {shown(raw)}")
    amount, unit = match.groups()
    if len(amount) > 20:  # hundreds of digits would overflow the float below
        raise Rejected("BAD_FIELD", f"{field} {shown(raw)} is not a usable duration")
    ms = round(float(amount) * _UNITS[unit])
    if ms <= 0 or ms > _MAX_MS - _MIN_MS:
        raise Rejected("BAD_FIELD", f"{field} {shown(raw)} is not a usable duration")
    return ms


def parse_seconds(raw: object, field: str, *, maximum: float = 86400.0) -> int:
    """A JSON number of seconds (may have decimals) → milliseconds."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw != raw or raw in (float("inf"), float("-inf")):
        raise Rejected("BAD_FIELD", f"{field} must be a number of seconds, got {shown(raw)}")
    if raw < 0 or raw > maximum:
        raise Rejected("BAD_FIELD", f"{field} must be between 0 and {maximum:g} seconds, got {shown(raw)}")
    return round(raw * 1000)


DEFAULT_START_MS = parse_time("2026-01-05T00:00:00Z")


def floor_to(ms: int, period: int) -> int:
    return ms - ms % period


# 1970-01-01 was a Thursday: Monday 00:00 UTC boundaries are offset by four days.
_MONDAY_OFFSET = 4 * DAY


def next_monday(after_ms: int) -> int:
    """The first Monday 00:00 UTC strictly after `after_ms`."""
    return (after_ms - _MONDAY_OFFSET) // WEEK * WEEK + WEEK + _MONDAY_OFFSET
