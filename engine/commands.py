"""Commands: one small dataclass per action of the command language shared by scenarios, the API
and the workstation. `parse_line` turns a JSON object into an `Envelope` or a rejection."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from . import clock
from .errors import Rejected
from .fields import (Bool, Choice, Dec, Duration, Int, ListOf, Name, Raw, Seconds, Symbol, Text, Time, arg,
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
    if idem is not None and (not isinstance(idem, (str, int)) or isinstance(idem, bool) or len(str(idem)) > 128):
        raise Rejected("BAD_FIELD", "id must be a string or number of at most 128 characters")
    expect = line.get("expect_error")
    if expect is not None and not isinstance(expect, str):
        raise Rejected("BAD_FIELD", "expect_error must be a rejection code such as \"INSUFFICIENT_BALANCE\"")
    command = parse_fields(cls, line, action)
    command.validate()
    return Envelope(command, at_ms, None if idem is None else str(idem), expect, line)
