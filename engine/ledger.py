"""The double-entry ledger: every movement of money, and the only way a balance ever changes.

Each entry moves a positive amount from one ledger account to another, so the sum of every
balance — users' wallets and the system accounts — is always exactly zero. Balances are never set.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from .changes import Changes
from .money import ZERO, QUANTUM, from_units, own_units, to_units


class EntryType(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    TRADING_FEE = "trading_fee"
    REALIZED_PNL = "realized_pnl"
    FUNDING = "funding"
    LIQUIDATION_FEE = "liquidation_fee"
    INSURANCE_PAYOUT = "insurance_payout"
    ADL = "adl"
    PROFIT_SHARE = "profit_share"
    COMPENSATION = "compensation"
    FEE_REBATE = "fee_rebate"
    COLLATERAL_LOCK = "collateral_lock"
    COLLATERAL_RELEASE = "collateral_release"


# The other side of every user movement.
EXTERNAL = "external"          # deposits and withdrawals: the world outside the exchange
MARKET = "market"              # the simulated counterparty of every fill and funding payment
FEES = "fees"                  # trading fees earned by the exchange
INSURANCE_FUND = "insurance_fund"
SYSTEM_ACCOUNTS = (EXTERNAL, MARKET, FEES, INSURANCE_FUND)


@dataclass(slots=True)
class Wallet:
    """The balance of one ledger account (a user's wallet, or a system account)."""
    TABLE: ClassVar[str] = "wallets"
    COLUMNS: ClassVar[tuple[str, ...]] = ("account", "balance")
    KEY: ClassVar[tuple[str, ...]] = ("account",)

    account: str
    balance: Decimal = ZERO

    def key(self) -> str:
        return self.account

    def row(self) -> tuple:
        return (self.account, own_units(self.balance))

    @classmethod
    def from_row(cls, row: tuple) -> "Wallet":
        return cls(row[0], from_units(row[1]))


@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class LedgerEntry:
    TABLE: ClassVar[str] = "ledger"
    COLUMNS: ClassVar[tuple[str, ...]] = ("id", "at_ms", "type", "debit", "credit", "amount", "ref")

    id: int
    at_ms: int
    type: str
    debit: str      # the account the money leaves
    credit: str     # the account the money reaches
    amount: Decimal
    ref: str

    def row(self) -> tuple:
        return (self.id, self.at_ms, self.type, self.debit, self.credit, to_units(self.amount), self.ref)

    @classmethod
    def from_row(cls, row: tuple) -> "LedgerEntry":
        return cls(row[0], row[1], row[2], row[3], row[4], from_units(row[5]), row[6])


class Ledger:
    __slots__ = ("wallets", "next_id", "_changes")

    def __init__(self, changes: Changes) -> None:
        self.wallets: dict[str, Wallet] = {}
        self.next_id = 1
        self._changes = changes
        for account in SYSTEM_ACCOUNTS:
            self.open(account)

    def open(self, account: str) -> Wallet:
        wallet = self.wallets.get(account)
        if wallet is None:
            wallet = self.wallets[account] = Wallet(account)
            self._changes.save(wallet)
        return wallet

    def restore(self, wallet: Wallet) -> None:
        self.wallets[wallet.account] = wallet

    def balance(self, account: str) -> Decimal:
        return self.wallets[account].balance

    def move(self, entry_type: EntryType, debit: str, credit: str, amount: Decimal, at_ms: int,
             ref: str = "") -> LedgerEntry | None:
        """Move `amount` (on the 1e-8 grid) from `debit` to `credit`. Zero moves nothing and records nothing."""
        if not amount:
            return None
        if amount < 0:
            debit, credit, amount = credit, debit, -amount
        if amount != amount.quantize(QUANTUM):
            raise ValueError(f"ledger amount {amount} is off the 1e-8 grid")
        source, target = self.wallets[debit], self.wallets[credit]
        source.balance -= amount
        target.balance += amount
        entry = LedgerEntry(self.next_id, at_ms, entry_type.value, debit, credit, amount, ref)
        self.next_id += 1
        changes = self._changes
        changes.save(source)
        changes.save(target)
        changes.append(entry)
        return entry

    def pay_many(self, entry_type: EntryType, payments: list[tuple[str, Decimal]], credit: str, at_ms: int,
                 ref: str = "") -> None:
        """`move` each (debit, amount) of `payments` to `credit`, in order: a fan-out's fees, in one step.
        Amounts are zero (moving nothing) or positive."""
        checked: set[int] = set()  # payments alike share an amount object: each is checked once
        for debit, amount in payments:  # every payment before any moves
            if id(amount) not in checked:
                if amount < 0 or amount != amount.quantize(QUANTUM):
                    raise ValueError(f"ledger payment {amount} is negative or off the 1e-8 grid")
                checked.add(id(amount))
            if debit not in self.wallets:
                raise KeyError(debit)
        wallets, target = self.wallets, self.wallets[credit]
        entries, payers = [], []
        entry_id, kind = self.next_id, entry_type.value
        for debit, amount in payments:
            if not amount:
                continue
            source = wallets[debit]
            source.balance -= amount
            target.balance += amount
            entries.append(LedgerEntry(entry_id, at_ms, kind, debit, credit, amount, ref))
            entry_id += 1
            payers.append(source)
        if not entries:
            return
        self.next_id = entry_id
        changes = self._changes
        changes.save_many([payers[0], target, *payers[1:]])  # the order `move` after `move` saves them in
        changes.append_many(entries)

    def total(self) -> Decimal:
        """Sum of every balance: exactly zero, always."""
        return sum((w.balance for w in self.wallets.values()), ZERO)

    @property
    def entry_count(self) -> int:
        return self.next_id - 1
