"""Users and their wallets: funding, and three isolated trading accounts (futures, copy, elite)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from .clock import DAY
from .errors import Rejected
from .money import ZERO


class WalletKind(StrEnum):
    FUNDING = "funding"
    FUTURES = "futures"
    COPY = "copy"
    ELITE = "elite"


TRADING = (WalletKind.FUTURES, WalletKind.COPY, WalletKind.ELITE)
DORMANT_AFTER_MS = 30 * DAY


def activity_day(ms: int) -> int:
    """Activity is kept per UTC day (the start of it): an account last active on day D is dormant from day
    D + 30. A copier's account is active with every mirrored fill, and recording the day rather than the
    instant writes its account row once a day instead of once per lead order."""
    return ms - ms % DAY


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def account_id(user: str, wallet: str) -> str:
    return user + ":" + wallet  # not an f-string: formatting a WalletKind member is 2x slower (once per copier)


def check_user_name(raw: object) -> str:
    if not isinstance(raw, str) or not _NAME.fullmatch(raw):  # fullmatch: "$" would let a trailing "\n" in
        raise Rejected("BAD_FIELD", "user names are 1–32 letters, digits, '_', '.' or '-', starting with a letter or digit")
    return raw


@dataclass(slots=True)
class User:
    TABLE: ClassVar[str] = "users"
    COLUMNS: ClassVar[tuple[str, ...]] = ("name", "legacy", "created_ms", "upgrade_status")
    KEY: ClassVar[tuple[str, ...]] = ("name",)

    name: str
    legacy: bool
    created_ms: int
    # None for the three-account structure from the start; "pending" or "done" after `upgrade`.
    upgrade_status: str | None = None

    def key(self) -> str:
        return self.name

    def row(self) -> tuple:
        return (self.name, int(self.legacy), self.created_ms, self.upgrade_status)

    @classmethod
    def from_row(cls, row: tuple) -> "User":
        return cls(row[0], bool(row[1]), row[2], row[3])


@dataclass(slots=True, eq=False)
class TradingAccount:
    """One isolated trading account. Its wallet balance lives in the ledger under `id`."""
    TABLE: ClassVar[str] = "accounts"
    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "user", "kind", "restricted", "last_activity_ms")
    KEY: ClassVar[tuple[str, ...]] = ("id",)

    id: str
    user: str
    kind: str
    restricted: bool = False
    last_activity_ms: int = 0   # the start of the UTC day of the last activity (see activity_day)
    # (symbol, lead) → Position; lead is "" outside the copy account.
    positions: dict = field(default_factory=dict)
    # order id → Order
    orders: dict = field(default_factory=dict)

    def key(self) -> str:
        return self.id

    def row(self) -> tuple:
        return (self.id, self.user, self.kind, int(self.restricted), self.last_activity_ms)

    @classmethod
    def from_row(cls, row: tuple) -> "TradingAccount":
        return cls(row[0], row[1], row[2], bool(row[3]), row[4])

    def isolated_margin(self) -> Decimal:
        """What the account's isolated positions own of its wallet balance."""
        total = ZERO
        for position in self.positions.values():  # a loop, not sum() of a generator: a fill asks, per copier
            if position.isolated:
                total += position.margin
        return total

    def dormant(self, now_ms: int) -> bool:
        return now_ms - activity_day(self.last_activity_ms) >= DORMANT_AFTER_MS
