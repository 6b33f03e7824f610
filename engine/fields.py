"""Field kinds for parsing command lines: one validated conversion per kind, with a clear rejection.

A command dataclass declares each field with `arg(Kind(...))`; `parse_fields` reads a JSON object
into it. Unknown keys are refused so a typo ("amout") never silently does something else.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import clock
from .accounts import check_user_name
from .errors import Rejected, shown
from .money import ABSURD, parse_decimal

MISSING = dataclasses.MISSING
ENVELOPE_KEYS = frozenset({"do", "at", "id", "expect_error"})


class Kind:
    def parse(self, raw: Any, name: str) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Dec(Kind):
    code: str = "INVALID_AMOUNT"
    allow_zero: bool = False
    allow_negative: bool = False
    places: int | None = 8
    maximum: Decimal = ABSURD

    def parse(self, raw, name):
        return parse_decimal(raw, name, code=self.code, allow_zero=self.allow_zero,
                             allow_negative=self.allow_negative, max_places=self.places, maximum=self.maximum)


@dataclass(frozen=True)
class Int(Kind):
    minimum: int
    maximum: int
    code: str = "BAD_FIELD"

    def parse(self, raw, name):
        if isinstance(raw, bool) or not isinstance(raw, int):
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)
            else:
                raise Rejected(self.code, f"{name} must be a whole number, got {shown(raw)}")
        if not self.minimum <= raw <= self.maximum:
            raise Rejected(self.code, f"{name} must be between {self.minimum} and {self.maximum}, got {shown(raw)}")
        return raw


@dataclass(frozen=True)
class Choice(Kind):
    choices: tuple[str, ...]

    def parse(self, raw, name):
        if raw not in self.choices:
            raise Rejected("BAD_FIELD", f"{name} must be one of {', '.join(self.choices)}; got {shown(raw)}")
        return raw


class Bool(Kind):
    def parse(self, raw, name):
        if not isinstance(raw, bool):
            raise Rejected("BAD_FIELD", f"{name} must be true or false, got {shown(raw)}")
        return raw


class Name(Kind):
    def parse(self, raw, name):
        try:
            return check_user_name(raw)
        except Rejected as rejection:
            raise Rejected("BAD_FIELD", f"{name}: {rejection.message}") from None


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = 64

    def parse(self, raw, name):
        if (not isinstance(raw, str) or len(raw) > self.max_length or any(ord(c) < 32 for c in raw)
                or not storable(raw)):
            raise Rejected("BAD_FIELD", f"{name} must be text of at most {self.max_length} printable characters")
        return raw


def storable(text: str) -> bool:
    """Whether text is valid Unicode that UTF-8 (and so SQLite) can hold: JSON can carry lone surrogates
    ("\\ud800"), which would make the commit fail after the engine had applied the command."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Symbol(Kind):
    def parse(self, raw, name):
        if not isinstance(raw, str) or not (2 <= len(raw) <= 20) or not raw.isalnum():
            raise Rejected("UNKNOWN_SYMBOL", f"{name} must be a contract symbol such as BTCUSDT, got {shown(raw)}")
        return raw.upper()


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    max_items: int = 50

    def parse(self, raw, name):
        if not isinstance(raw, list) or len(raw) > self.max_items:
            raise Rejected("BAD_FIELD", f"{name} must be a list of at most {self.max_items} items")
        return tuple(self.item.parse(value, f"{name}[{i}]") for i, value in enumerate(raw))


class Time(Kind):
    def parse(self, raw, name):
        return clock.parse_time(raw, name)


class Duration(Kind):
    def parse(self, raw, name):
        return clock.parse_duration(raw, name)


@dataclass(frozen=True)
class Seconds(Kind):
    maximum: float = 86400.0

    def parse(self, raw, name):
        return clock.parse_seconds(raw, name, maximum=self.maximum)


class Raw(Kind):
    """Passed through as it is, for a field whose own parser validates it (instrument tiers)."""

    def parse(self, raw, name):
        return raw


def arg(kind: Kind, default: Any = MISSING, *, key: str | None = None) -> Any:
    """A command field: its kind, its JSON key when that differs (`from`), and its default."""
    return dataclasses.field(default=default, metadata={"kind": kind, "key": key})


def parse_fields(cls: type, line: dict, action: str) -> Any:
    fields, known = _SPECS.get(cls) or _spec(cls)
    values = {}
    for name, key, kind, required in fields:
        raw = line.get(key, MISSING)
        if raw is MISSING or raw is None:
            if required:
                raise Rejected("BAD_FIELD", f"{action} needs the field {key!r}")
            continue
        values[name] = kind.parse(raw, key)
    if any(k not in known for k in line):
        unknown = sorted(k for k in line if k not in known)
        raise Rejected("BAD_FIELD", f"{action} has no field {unknown[0]!r}")
    return cls(**values)


# Per command class: (name, JSON key, kind, required) for each field, and every key a line may carry.
_SPECS: dict[type, tuple[tuple[tuple[str, str, Kind, bool], ...], frozenset[str]]] = {}


def _spec(cls: type) -> tuple[tuple[tuple[str, str, Kind, bool], ...], frozenset[str]]:
    fields = tuple((f.name, f.metadata["key"] or f.name, f.metadata["kind"], f.default is MISSING)
                   for f in dataclasses.fields(cls))
    _SPECS[cls] = spec = (fields, frozenset(ENVELOPE_KEYS) | {key for _, key, _, _ in fields})
    return spec
