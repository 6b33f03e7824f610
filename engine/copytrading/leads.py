"""Elite traders: the profile, the elite account, and what makes a fill a lead order (SPEC §7.1)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import ClassVar

from ..accounts import WalletKind, account_id
from ..commands import BecomeElite
from ..errors import Rejected
from ..exchange import Exchange, handles
from ..ledger import EntryType
from ..leverage import setting, store_setting
from ..money import ZERO, display, fmt, from_units, to_units
from ..valuation import value_account

DEFAULT_CAPACITY = 1000
DEFAULT_PROFIT_SHARE = Decimal("0.1")
DEFAULT_PROTECTED_SHARE = Decimal("0.7")
MAX_PROFIT_SHARE = Decimal("0.3")
PROTECTED_SHARE_RANGE = (Decimal("0.6"), Decimal("0.8"))
PROTECTED_MAX_LEVERAGE = 5
SCALE_LIMIT = Decimal("0.2")   # AUM may not exceed collateral ÷ 20%


@dataclass(slots=True, eq=False)
class Lead:
    TABLE: ClassVar[str] = "leads"
    COLUMNS: ClassVar[tuple[str, ...]] = ("user", "nickname", "bio", "symbols", "capacity", "profit_share", "mode",
                                          "protected_share", "created_ms")
    KEY: ClassVar[tuple[str, ...]] = ("user",)

    user: str
    nickname: str
    bio: str
    symbols: tuple[str, ...]
    capacity: int
    profit_share: Decimal
    mode: str
    protected_share: Decimal
    created_ms: int
    # Active relations by copier name, kept in follow order (derived, rebuilt at load).
    copiers: dict = field(default_factory=dict)

    def key(self) -> str:
        return self.user

    def row(self) -> tuple:
        return (self.user, self.nickname, self.bio, json.dumps(list(self.symbols)), self.capacity,
                to_units(self.profit_share), self.mode, to_units(self.protected_share), self.created_ms)

    @classmethod
    def from_row(cls, row: tuple) -> "Lead":
        return cls(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], from_units(row[5]), row[6],
                   from_units(row[7]), row[8])

    @property
    def protected(self) -> bool:
        return self.mode == "protected"

    @property
    def at_capacity(self) -> bool:
        return len(self.copiers) >= self.capacity


def collateral_account(user: str) -> str:
    return account_id(user, "collateral")


def rebate_account(user: str) -> str:
    return account_id(user, "rebate_pool")


def elite_equity(exchange: Exchange, user: str) -> Decimal:
    account = exchange.accounts.get(account_id(user, WalletKind.ELITE))
    return ZERO if account is None else value_account(exchange, account).equity


def lead_of(exchange: Exchange, user: str) -> Lead:
    lead = exchange.leads.get(user)
    if lead is None:
        raise Rejected("NOT_ELITE", f"{user} is not an elite trader")
    return lead


@handles(BecomeElite)
def become_elite(exchange: Exchange, command: BecomeElite) -> dict:
    user = exchange.user(command.user)
    for symbol in command.symbols:
        exchange.instrument(symbol)
    if not command.symbols:
        raise Rejected("BAD_FIELD", "an elite trader leads at least one symbol")
    share = command.profit_share
    if share is not None and share > MAX_PROFIT_SHARE:
        raise Rejected("BAD_FIELD", f"profit_share is at most {fmt(MAX_PROFIT_SHARE)} (30%), got {fmt(share)}")
    protected_share = command.protected_share
    if protected_share is not None and not PROTECTED_SHARE_RANGE[0] <= protected_share <= PROTECTED_SHARE_RANGE[1]:
        raise Rejected("BAD_FIELD", "protected_share must be between 0.6 and 0.8 (60–80%)")
    if user.legacy and user.upgrade_status != "done":
        raise Rejected("ELITE_REQUIREMENTS", "a legacy account must be upgraded to the three-account structure "
                       "before it can lead: send an upgrade line first")
    existing = exchange.leads.get(user.name)
    mode = command.mode or (existing.mode if existing else "standard")
    collateral = command.collateral or ZERO
    if mode == "protected":
        equity = elite_equity(exchange, user.name)
        if equity < exchange.config.protected_min_equity:
            raise Rejected("ELITE_REQUIREMENTS", f"a protected portfolio needs elite account equity of at least "
                           f"{display(exchange.config.protected_min_equity)} USDT; it has {display(equity)}")
        if existing is None or not existing.protected:
            if collateral <= 0:
                raise Rejected("ELITE_REQUIREMENTS", "a protected portfolio locks collateral: add \"collateral\"")
    if collateral > 0:
        if mode != "protected":
            raise Rejected("BAD_FIELD", "collateral applies to protected portfolios only")
        # A first become_elite has no elite account yet (reachable when protected_min_equity is 0).
        elite = exchange.accounts.get(account_id(user.name, WalletKind.ELITE))
        free = ZERO if elite is None else value_account(exchange, elite).available
        if collateral > free:
            raise Rejected("INSUFFICIENT_BALANCE", f"Insufficient available balance: {display(collateral)} USDT "
                           f"needed for collateral, {display(free)} available in Elite")
    if existing is not None and existing.protected and mode == "standard" and existing.copiers:
        raise Rejected("BAD_FIELD", "a protected portfolio with copiers cannot switch to standard")
    if existing is None:
        if account_id(user.name, WalletKind.ELITE) not in exchange.accounts:
            exchange.open_account(user.name, WalletKind.ELITE)
        exchange.ledger.open(collateral_account(user.name))
        exchange.ledger.open(rebate_account(user.name))
        existing = Lead(user.name, command.nickname or user.name, command.bio or "", command.symbols,
                        command.capacity or DEFAULT_CAPACITY, share if share is not None else DEFAULT_PROFIT_SHARE,
                        mode, protected_share or DEFAULT_PROTECTED_SHARE, exchange.now_ms)
        exchange.leads[user.name] = existing
    else:
        existing.symbols = command.symbols
        existing.mode = mode
        for name in ("nickname", "bio", "capacity", "protected_share"):
            if getattr(command, name) is not None:
                setattr(existing, name, getattr(command, name))
        if share is not None:
            existing.profit_share = share
    exchange.ledger.move(EntryType.COLLATERAL_LOCK, account_id(user.name, WalletKind.ELITE),
                         collateral_account(user.name), collateral, exchange.now_ms, "protected collateral")
    if collateral > 0:
        from .profile import record_transfer
        record_transfer(exchange, user.name, -collateral)  # collateral leaves the trading equity, not as a loss
    exchange.changes.save(existing)
    if existing.protected:
        _cap_default_leverage(exchange, existing)
    return {"elite": user.name, "mode": existing.mode}


def _cap_default_leverage(exchange: Exchange, lead: Lead) -> None:
    """A protected lead's symbols default to 5x, so an order without a leverage field is allowed."""
    elite = exchange.accounts[account_id(lead.user, WalletKind.ELITE)]
    for symbol in lead.symbols:
        current = setting(exchange, elite, symbol)
        if current.leverage > PROTECTED_MAX_LEVERAGE:
            current.leverage = PROTECTED_MAX_LEVERAGE
            store_setting(exchange, current)
