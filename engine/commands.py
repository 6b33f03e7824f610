"""Commands: one small dataclass per action of the command language shared by scenarios, the API
and the workstation. `parse_line` turns a JSON object into an `Envelope` or a rejection."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from . import clock
from .errors import Rejected
from .fields import (Bool, Choice, Dec, Duration, Int, ListOf, Name, Raw, Seconds, Symbol, Text, Time, arg, storable,
                     parse_fields)

WALLETS = ("funding", "futures", "copy", "elite")
TRADING_ACCOUNTS = ("futures", "copy", "elite")
SNAPSHOT_SECTIONS = ("at", "users", "copy", "leads", "notifications", "liquidations", "insurance_fund", "ledger")
PERIODS = ("7d", "30d", "90d", "all")

ACTIONS: dict[str, type["Command"]] = {}


class Command:
    action: ClassVar[str]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "action" in cls.__dict__:
            ACTIONS[cls.action] = cls

    def validate(self) -> None:
        """Cross-field checks that one field's kind cannot express."""


@dataclass(frozen=True, slots=True)
class Envelope:
    command: Command
    at_ms: int | None
    idem_id: str | None
    expect_error: str | None
    line: dict


# --- foundation -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Config(Command):
    action: ClassVar[str] = "config"
    maker_fee: Decimal | None = arg(Dec("BAD_FIELD", allow_zero=True, maximum=Decimal("0.1")), None)
    taker_fee: Decimal | None = arg(Dec("BAD_FIELD", allow_zero=True, maximum=Decimal("0.1")), None)
    slippage_bps: Decimal | None = arg(Dec("BAD_FIELD", allow_zero=True, maximum=Decimal(1000)), None)
    impact_bps: Decimal | None = arg(Dec("BAD_FIELD", allow_zero=True, maximum=Decimal(1000)), None)
    liquidation_fee: Decimal | None = arg(Dec("BAD_FIELD", allow_zero=True, maximum=Decimal("0.1")), None)
    insurance_fund: Decimal | None = arg(Dec("INVALID_AMOUNT", allow_zero=True), None)
    elite_min_equity: Decimal | None = arg(Dec("INVALID_AMOUNT", allow_zero=True), None)
    protected_min_equity: Decimal | None = arg(Dec("INVALID_AMOUNT", allow_zero=True), None)
    signal_hold_s: int | None = arg(Seconds(3600), None)
    signal_expiry_s: int | None = arg(Seconds(86400), None)


@dataclass(frozen=True, slots=True)
class CreateUser(Command):
    action: ClassVar[str] = "user"
    name: str = arg(Name())
    legacy: bool = arg(Bool(), False)


@dataclass(frozen=True, slots=True)
class Deposit(Command):
    action: ClassVar[str] = "deposit"
    user: str = arg(Name())
    amount: Decimal = arg(Dec())


@dataclass(frozen=True, slots=True)
class Withdraw(Command):
    action: ClassVar[str] = "withdraw"
    user: str = arg(Name())
    amount: Decimal = arg(Dec())


@dataclass(frozen=True, slots=True)
class Transfer(Command):
    action: ClassVar[str] = "transfer"
    user: str = arg(Name())
    source: str = arg(Choice(WALLETS), key="from")
    target: str = arg(Choice(WALLETS), key="to")
    amount: Decimal = arg(Dec())

    def validate(self):
        if self.source == self.target:
            raise Rejected("BAD_FIELD", f"transfer from {self.source} to itself moves nothing; pick another wallet")


@dataclass(frozen=True, slots=True)
class Advance(Command):
    action: ClassVar[str] = "advance"
    to: int | None = arg(Time(), None)
    by: int | None = arg(Duration(), None)

    def validate(self):
        if (self.to is None) == (self.by is None):
            raise Rejected("BAD_FIELD", "advance needs exactly one of 'to' (a time) or 'by' (a duration like \"8h\")")


@dataclass(frozen=True, slots=True)
class Snapshot(Command):
    action: ClassVar[str] = "snapshot"
    of: tuple[str, ...] | None = arg(ListOf(Choice(SNAPSHOT_SECTIONS)), None)
    period: str = arg(Choice(PERIODS), "all")


# --- futures -----------------------------------------------------------------------------------

ORDER_TYPES = ("market", "limit", "post_only", "stop_market", "stop_limit", "trailing_stop", "scaled")
PRICE = Dec("INVALID_PRICE", places=8)
QTY = Dec("INVALID_QTY", places=8)
RATE = Dec("BAD_FIELD", allow_zero=True, allow_negative=True, maximum=Decimal("0.1"))


@dataclass(frozen=True, slots=True)
class InstrumentDef(Command):
    """Fields are validated by engine.instruments.parse_instrument (it knows what may be inherited)."""
    action: ClassVar[str] = "instrument"
    symbol: str = arg(Symbol())
    tick: Any = arg(Raw(), None)
    step: Any = arg(Raw(), None)
    min_qty: Any = arg(Raw(), None)
    min_notional: Any = arg(Raw(), None)
    max_leverage: Any = arg(Raw(), None)
    tiers: Any = arg(Raw(), None)
    funding_hours: Any = arg(Raw(), None)
    maker_fee: Any = arg(Raw(), None)
    taker_fee: Any = arg(Raw(), None)
    liquidation_fee: Any = arg(Raw(), None)


@dataclass(frozen=True, slots=True)
class Price(Command):
    action: ClassVar[str] = "price"
    symbol: str = arg(Symbol())
    mark: Decimal = arg(PRICE)
    last: Decimal | None = arg(PRICE, None)
    index: Decimal | None = arg(PRICE, None)


@dataclass(frozen=True, slots=True)
class FundingRate(Command):
    action: ClassVar[str] = "funding_rate"
    symbol: str = arg(Symbol())
    rate: Decimal = arg(RATE)


@dataclass(frozen=True, slots=True)
class Order(Command):
    action: ClassVar[str] = "order"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    side: str = arg(Choice(("buy", "sell")))
    type: str = arg(Choice(ORDER_TYPES), "market")
    qty: Decimal | None = arg(QTY, None)
    # Compatible extension: size by USDT notional instead of quantity (the order ticket's "USDT" mode).
    amount: Decimal | None = arg(Dec(), None)
    price: Decimal | None = arg(PRICE, None)
    trigger: Decimal | None = arg(PRICE, None)
    trigger_by: str = arg(Choice(("last", "mark")), "last")
    callback: Decimal | None = arg(Dec("BAD_FIELD", maximum=Decimal("0.1")), None)
    count: int | None = arg(Int(2, 100), None)
    price_to: Decimal | None = arg(PRICE, None)
    leverage: int | None = arg(Int(1, 125, "LEVERAGE_NOT_ALLOWED"), None)
    margin_mode: str | None = arg(Choice(("isolated", "cross")), None)
    reduce_only: bool = arg(Bool(), False)
    tif: str = arg(Choice(("GTC", "IOC", "FOK")), "GTC")
    tp: Decimal | None = arg(PRICE, None)
    sl: Decimal | None = arg(PRICE, None)
    client_id: str | None = arg(Text(64), None)
    lead: str | None = arg(Name(), None)

    def validate(self):
        if (self.qty is None) == (self.amount is None):
            raise Rejected("INVALID_QTY", "an order needs exactly one of qty (contracts) or amount (USDT)")
        needs = {"limit": ("price",), "post_only": ("price",), "stop_market": ("trigger",),
                 "stop_limit": ("trigger", "price"), "trailing_stop": ("callback",),
                 "scaled": ("price", "price_to", "count")}.get(self.type, ())
        for name in needs:
            if getattr(self, name) is None:
                code = "INVALID_PRICE" if name in ("price", "trigger", "price_to") else "BAD_FIELD"
                raise Rejected(code, f"a {self.type} order needs {name}")


@dataclass(frozen=True, slots=True)
class Cancel(Command):
    action: ClassVar[str] = "cancel"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    client_id: str = arg(Text(64))


@dataclass(frozen=True, slots=True)
class Close(Command):
    action: ClassVar[str] = "close"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    qty: Decimal | None = arg(QTY, None)
    lead: str | None = arg(Name(), None)


@dataclass(frozen=True, slots=True)
class Reverse(Command):
    action: ClassVar[str] = "reverse"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    lead: str | None = arg(Name(), None)


@dataclass(frozen=True, slots=True)
class Margin(Command):
    action: ClassVar[str] = "margin"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    delta: Decimal = arg(Dec("INVALID_AMOUNT", allow_negative=True))
    lead: str | None = arg(Name(), None)
    signal_delay_s: int = arg(Seconds(86400), 0)


@dataclass(frozen=True, slots=True)
class Leverage(Command):
    action: ClassVar[str] = "leverage"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    leverage: int = arg(Int(1, 125, "LEVERAGE_NOT_ALLOWED"))


@dataclass(frozen=True, slots=True)
class MarginMode(Command):
    """Compatible extension: switch a symbol between isolated and cross (no position or order open)."""
    action: ClassVar[str] = "margin_mode"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    mode: str = arg(Choice(("isolated", "cross")))


@dataclass(frozen=True, slots=True)
class TpSl(Command):
    """Compatible extension: set (or clear with "0") take-profit and stop-loss on an open position."""
    action: ClassVar[str] = "tp_sl"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    symbol: str = arg(Symbol())
    tp: Decimal | None = arg(Dec("INVALID_PRICE", allow_zero=True), None)
    sl: Decimal | None = arg(Dec("INVALID_PRICE", allow_zero=True), None)
    lead: str | None = arg(Name(), None)

    def validate(self):
        if self.tp is None and self.sl is None:
            raise Rejected("BAD_FIELD", "tp_sl needs tp, sl or both (\"0\" clears one)")


@dataclass(frozen=True, slots=True)
class Restrict(Command):
    action: ClassVar[str] = "restrict"
    user: str = arg(Name())
    account: str = arg(Choice(TRADING_ACCOUNTS))
    reduce_only: bool = arg(Bool())


# --- copy trading --------------------------------------------------------------------------------

SYMBOLS = ListOf(Symbol(), 20)
SHARE = Dec("BAD_FIELD", allow_zero=True, maximum=Decimal("1"))


@dataclass(frozen=True, slots=True)
class BecomeElite(Command):
    """Creates the elite account and profile; sent again, updates the profile."""
    action: ClassVar[str] = "become_elite"
    user: str = arg(Name())
    symbols: tuple[str, ...] = arg(SYMBOLS)
    nickname: str | None = arg(Text(32), None)
    bio: str | None = arg(Text(280), None)
    capacity: int | None = arg(Int(1, 100_000), None)
    profit_share: Decimal | None = arg(SHARE, None)
    mode: str | None = arg(Choice(("standard", "protected")), None)
    collateral: Decimal | None = arg(Dec(), None)
    protected_share: Decimal | None = arg(SHARE, None)


@dataclass(frozen=True, slots=True)
class Follow(Command):
    action: ClassVar[str] = "follow"
    user: str = arg(Name())
    lead: str = arg(Name())
    mode: str | None = arg(Choice(("fixed", "ratio")), None)
    amount: Decimal | None = arg(Dec(), None)
    ratio: Decimal | None = arg(Dec("BAD_FIELD", maximum=Decimal(100)), None)
    leverage: Any = arg(Raw(), None)          # "follow" or 1–125
    margin_mode: str | None = arg(Choice(("follow", "isolated", "cross")), None)
    max_margin_per_order: Decimal | None = arg(Dec(), None)
    max_total_margin: Decimal | None = arg(Dec(), None)
    symbols: tuple[str, ...] | None = arg(SYMBOLS, None)
    tp_ratio: Decimal | None = arg(Dec("BAD_FIELD", maximum=Decimal(100)), None)
    sl_ratio: Decimal | None = arg(Dec("BAD_FIELD", maximum=Decimal(1)), None)
    slippage: Decimal | None = arg(Dec("BAD_FIELD", maximum=Decimal("0.5")), None)


@dataclass(frozen=True, slots=True)
class UpdateFollow(Follow):
    action: ClassVar[str] = "update_follow"


@dataclass(frozen=True, slots=True)
class Unfollow(Command):
    action: ClassVar[str] = "unfollow"
    user: str = arg(Name())
    lead: str = arg(Name())
    close_positions: bool = arg(Bool(), False)


@dataclass(frozen=True, slots=True)
class Upgrade(Command):
    action: ClassVar[str] = "upgrade"
    user: str = arg(Name())


def parse_line(line: Any) -> Envelope:
    """JSON object → Envelope. Raises Rejected(UNKNOWN_ACTION | BAD_FIELD | …)."""
    if not isinstance(line, dict):
        raise Rejected("BAD_FIELD", "a command is a JSON object with a \"do\" field")
    action = line.get("do")
    cls = ACTIONS.get(action) if isinstance(action, str) else None
    if cls is None:
        raise Rejected("UNKNOWN_ACTION", f"unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}")
    at_ms = clock.parse_time(line["at"]) if line.get("at") is not None else None
    idem = line.get("id")
    if idem is not None and (not isinstance(idem, (str, int)) or isinstance(idem, bool) or len(str(idem)) > 128
                             or (isinstance(idem, str) and not storable(idem))):
        raise Rejected("BAD_FIELD", "id must be a string or number of at most 128 characters")
    expect = line.get("expect_error")
    if expect is not None and (not isinstance(expect, str) or len(expect) > 64 or not storable(expect)):
        raise Rejected("BAD_FIELD", "expect_error must be a rejection code such as \"INSUFFICIENT_BALANCE\"")
    command = parse_fields(cls, line, action)
    command.validate()
    return Envelope(command, at_ms, None if idem is None else str(idem), expect, line)
