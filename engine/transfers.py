"""Money in, out and between one user's own wallets, under the available-balance rule."""
from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

from .accounts import TRADING, User, WalletKind, account_id
from .commands import Config, CreateUser, Deposit, Transfer, Withdraw
from .errors import Rejected
from .exchange import TRANSFER_LISTENERS, Exchange, handles
from .ledger import EXTERNAL, INSURANCE_FUND, EntryType
from .money import display
from .valuation import available_balance


def available(exchange: Exchange, user: str, wallet: str) -> Decimal:
    """What can leave a wallet now: all of funding; a trading account's available balance."""
    if wallet == WalletKind.FUNDING:
        return exchange.ledger.balance(account_id(user, wallet))
    return available_balance(exchange, exchange.account(user, wallet))


def require_available(exchange: Exchange, user: str, wallet: str, amount: Decimal, what: str) -> None:
    free = available(exchange, user, wallet)
    if amount > free:
        raise Rejected("INSUFFICIENT_BALANCE",
                       f"Insufficient available balance: {display(amount)} USDT needed for {what}, "
                       f"{display(free)} available in {wallet.capitalize()}")


@handles(CreateUser)
def create_user(exchange: Exchange, command: CreateUser) -> None:
    if command.name in exchange.users:
        raise Rejected("USER_EXISTS", f"a user named {command.name!r} already exists")
    user = User(command.name, command.legacy, exchange.now_ms)
    exchange.users[user.name] = user
    exchange.changes.save(user)
    exchange.ledger.open(account_id(user.name, WalletKind.FUNDING))
    # A legacy user has one futures account for everything until it upgrades (SPEC §9).
    for kind in (WalletKind.FUTURES,) if command.legacy else TRADING[:2]:
        exchange.open_account(user.name, kind)


@handles(Deposit)
def deposit(exchange: Exchange, command: Deposit) -> None:
    exchange.user(command.user)
    exchange.ledger.move(EntryType.DEPOSIT, EXTERNAL, account_id(command.user, WalletKind.FUNDING),
                         command.amount, exchange.now_ms, "deposit")


@handles(Withdraw)
def withdraw(exchange: Exchange, command: Withdraw) -> None:
    exchange.user(command.user)
    require_available(exchange, command.user, WalletKind.FUNDING, command.amount, "this withdrawal")
    exchange.ledger.move(EntryType.WITHDRAWAL, account_id(command.user, WalletKind.FUNDING), EXTERNAL,
                         command.amount, exchange.now_ms, "withdrawal")


@handles(Transfer)
def transfer(exchange: Exchange, command: Transfer) -> None:
    exchange.user(command.user)
    for wallet in (command.source, command.target):
        if wallet != WalletKind.FUNDING:
            exchange.account(command.user, wallet)
    require_available(exchange, command.user, command.source, command.amount,
                      f"this transfer to {command.target.capitalize()}")
    exchange.ledger.move(EntryType.TRANSFER, account_id(command.user, command.source),
                         account_id(command.user, command.target), command.amount, exchange.now_ms,
                         f"{command.source}->{command.target}")
    for wallet in (command.source, command.target):
        if wallet != WalletKind.FUNDING:
            exchange.touch(exchange.accounts[account_id(command.user, wallet)])
    for listener in TRANSFER_LISTENERS:
        listener(exchange, command.user, command.source, command.target, command.amount)


@handles(Config)
def configure(exchange: Exchange, command: Config) -> None:
    changes = {f.name: getattr(command, f.name) for f in fields(command)}
    changes["signal_hold_ms"] = changes.pop("signal_hold_s")
    changes["signal_expiry_ms"] = changes.pop("signal_expiry_s")
    target = changes.pop("insurance_fund")
    exchange.config = exchange.config.updated(**changes)
    if target is not None:
        # The fund is topped up from (or returned to) the outside world, never set.
        delta = target - exchange.ledger.balance(INSURANCE_FUND)
        exchange.ledger.move(EntryType.DEPOSIT if delta > 0 else EntryType.WITHDRAWAL,
                             EXTERNAL, INSURANCE_FUND, delta, exchange.now_ms, "insurance fund")
