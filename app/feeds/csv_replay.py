"""Replay of recorded prices from a CSV file with header `time,symbol,mark[,last][,index]`.

The whole file is parsed and checked on load, so a bad row fails at start, naming its line, rather
than halfway through a demo. `time` is ISO-8601 UTC (`2026-01-05T00:00:00Z`) or integer epoch ms.
"""
from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from engine.errors import Rejected
from engine.money import parse_decimal

from .tick import PriceTick

HEADERS = (["time", "symbol", "mark"], ["time", "symbol", "mark", "last"],
           ["time", "symbol", "mark", "index"], ["time", "symbol", "mark", "last", "index"])
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


class FeedError(ValueError):
    """A replay file that cannot be played; the message names the line."""


class CsvReplayFeed:
    """Plays rows in file order; the clock starts at the first row's time and moves only by `advance`."""

    def __init__(self, ticks: list[PriceTick]):
        self._ticks = ticks
        self._next = 0
        self._clock_ms = ticks[0].at_ms if ticks else 0

    @classmethod
    def from_path(cls, path: str | Path) -> CsvReplayFeed:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        with open(path, newline="", encoding="utf-8-sig") as file:
            return cls(_parse(file))

    @classmethod
    def from_text(cls, text: str) -> CsvReplayFeed:
        return cls(_parse(io.StringIO(text, newline="")))

    @property
    def done(self) -> bool:
        return self._next == len(self._ticks)

    def advance(self, dt_ms: int) -> list[PriceTick]:
        """Rows not yet played whose time is at or before the clock once moved on by `dt_ms`."""
        if dt_ms < 0:
            raise ValueError(f"time never goes back: dt_ms must be ≥ 0, got {dt_ms}")
        self._clock_ms += dt_ms
        start = self._next
        self._next = bisect_right(self._ticks, self._clock_ms, lo=start, key=lambda tick: tick.at_ms)
        return self._ticks[start:self._next]


def _parse(lines: Iterable[str]) -> list[PriceTick]:
    reader = csv.reader(lines)
    columns = [name.strip().lower() for name in next(reader, [])]
    if columns not in HEADERS:
        raise FeedError(f"line {max(reader.line_num, 1)}: header must be time,symbol,mark[,last][,index], "
                        f"got {','.join(columns) or 'nothing'}")
    ticks: list[PriceTick] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise FeedError(f"line {line}: expected {len(columns)} fields ({','.join(columns)}), got {len(row)}")
        cells = dict(zip(columns, (cell.strip() for cell in row)))
        at_ms = _parse_time(cells["time"], line)
        if ticks and at_ms < ticks[-1].at_ms:
            raise FeedError(f"line {line}: time {cells['time']} is before the previous row's; rows must be in time order")
        if not cells["symbol"]:
            raise FeedError(f"line {line}: symbol is empty")
        mark = _parse_price(cells["mark"], "mark", line)
        # An absent or empty last/index means "same as mark", as in the scenario `price` action.
        last = _parse_price(cells["last"], "last", line) if cells.get("last") else mark
        index = _parse_price(cells["index"], "index", line) if cells.get("index") else mark
        ticks.append(PriceTick(at_ms=at_ms, symbol=cells["symbol"], mark=mark, last=last, index=index))
    return ticks


def _parse_time(text: str, line: int) -> int:
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FeedError(f"line {line}: time {text!r} is neither ISO-8601 UTC (like 2026-01-05T00:00:00Z) "
                        f"nor epoch milliseconds") from None
    if moment.tzinfo is None:
        # A naive time would silently shift by the recorder's offset; make the file say UTC.
        raise FeedError(f"line {line}: time {text!r} has no time zone; write UTC times with a trailing Z")
    return (moment - _EPOCH) // _ONE_MS


def _parse_price(text: str, field: str, line: int) -> Decimal:
    try:
        return parse_decimal(text, field, code="INVALID_PRICE", max_places=None)
    except Rejected as error:
        raise FeedError(f"line {line}: {error.message}") from None
