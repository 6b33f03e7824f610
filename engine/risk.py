"""The risk index: every position's liquidation price, kept in a trigger book per symbol.

Isolated positions and cross accounts with a single cross position have an exact liquidation price
that moves only when the account changes, so they sit in the book and a tick costs O(log n). A cross
account with positions in several symbols has liquidation prices that move with every other symbol's
mark; such accounts are few, and are checked in full on every tick of a symbol they hold.
"""
from __future__ import annotations

from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from .accounts import TradingAccount
from .liquidation_price import liquidation_price
from .money import ZERO
from .positions import Position
from .triggers import DOWN, UP, TriggerBook

if TYPE_CHECKING:
    from .exchange import Exchange


class RiskIndex:
    def __init__(self, exchange: "Exchange") -> None:
        self.exchange = exchange
        self.books: dict[str, TriggerBook] = {}
        self.multi_cross: dict[str, set[str]] = {}
        self._placed_symbols: set[str] = set()  # symbols `place_opened` placed in since the last settlement

    def book(self, symbol: str) -> TriggerBook:
        book = self.books.get(symbol)
        if book is None:
            book = self.books[symbol] = TriggerBook()
        return book

    def forget(self, position: Position) -> None:
        self.book(position.symbol).discard(position.key())
        position.liquidation_price = position.liquidation_basis = None

    def refresh_touched(self) -> set[str]:
        """Recompute liquidation prices of the accounts changed since the last look. Returns their symbols."""
        touched = self.exchange.changes.touched
        accounts = self.exchange.accounts
        names = list(touched)
        touched.clear()
        symbols = self.refresh_all(accounts[name] for name in names if name in accounts)
        if self._placed_symbols:
            symbols |= self._placed_symbols
            self._placed_symbols = set()
        return symbols

    def place_opened(self, accounts: list[TradingAccount], positions: list[Position]) -> list[str]:
        """Price and place positions just opened (a fan-out's copies, `positions[i]` in `accounts[i]`) in one
        batch, solving copies alike once. Returns the accounts this leaves nothing to re-price, for the caller to
        take off the command's touched accounts once it has made its other changes to them (a fee, the
        activity): accounts the command had not touched before that hold isolated positions only. An isolated
        price depends on the position alone, and the account's others were priced when it was last touched.
        Cross positions are left to the command's settlement, which prices them with the account's balance;
        the symbols placed in get the settlement's liquidation check all the same."""
        touched = self.exchange.changes.touched
        instruments = self.exchange.instruments
        placements: dict[str, list] = {}
        solved: dict[tuple, tuple] = {}
        settled = []
        for account, position in zip(accounts, positions):
            if not position.isolated:
                continue
            instrument = instruments[position.symbol]
            self._place(position, self._isolated_price(instrument, position, solved), placements)
            position.liquidation_basis = self._basis(instrument, position)
            held = account.positions
            if account.id not in touched and (len(held) == 1 or all(p.isolated for p in held.values())):
                settled.append(account.id)
        for symbol, batch in placements.items():
            self.book(symbol).put_many(batch)
        self._placed_symbols.update(placements)
        return settled

    def refresh_all(self, accounts) -> set[str]:
        """`refresh` each account, placing the new levels in the books in one batch per symbol, and solving
        each distinct isolated position once: copies alike hold the same figure objects, whether a fan-out's
        shared plan made them or a start read them back (money.from_units interns what it reads)."""
        placements: dict[str, list] = {}
        symbols: set[str] = set()
        solved: dict[tuple, tuple] = {}
        for account in accounts:
            self._refresh(account, symbols, placements, solved)
        for symbol, batch in placements.items():
            self.book(symbol).put_many(batch)
        return symbols

    def refresh(self, account: TradingAccount) -> None:
        """Recompute the account's liquidation prices."""
        self._refresh(account, set(), None, None)

    def _refresh(self, account: TradingAccount, symbols: set[str], placements: dict[str, list] | None,
                 solved: dict[tuple, tuple] | None) -> None:
        """`refresh`, adding the account's symbols to `symbols`. With `placements`, isolated positions' new
        levels are collected there (by symbol) for the caller to place in one batch; with `solved`, the
        isolated prices solved so far in that batch are reused."""
        instruments = self.exchange.instruments
        cross = []
        for position in account.positions.values():
            symbol = position.symbol
            symbols.add(symbol)
            if position.isolated:
                # An isolated position's price depends on nothing but these: an account touched by a fill
                # in one position (a copier holding ten leads' copies) re-solves that position only.
                instrument = instruments[symbol]
                basis = self._basis(instrument, position)
                if basis != position.liquidation_basis or position.key() not in self.book(symbol):
                    self._place(position, self._isolated_price(instrument, position, solved), placements)
                    position.liquidation_basis = basis
            else:
                cross.append(position)
        if self.multi_cross:
            for held in self.multi_cross.values():
                held.discard(account.id)
        if cross:
            self._refresh_cross(account, cross)

    @staticmethod
    def _basis(instrument, position: Position) -> tuple:
        return (instrument, position.side, position.qty, position.entry_price, position.margin)

    @staticmethod
    def _isolated_price(instrument, position: Position, solved: dict[tuple, tuple] | None) -> Decimal | None:
        qty, entry, margin = position.qty, position.entry_price, position.margin
        if solved is None:
            return liquidation_price(instrument, position.side, qty, entry, margin)
        # Copies opened from one shared plan hold the very same Decimal objects, so they are looked up by
        # identity: hashing a fresh Decimal (~0.5 µs) would make a batch of all-different copies pay for the
        # reuse. The objects ride along in the value, which keeps them alive and their ids unique meanwhile.
        # By symbol, not instrument: one batch never sees an instrument change, and hashing one is slow.
        terms = (position.symbol, position.side, id(qty), id(entry), id(margin))
        known = solved.get(terms)
        if known is None:
            known = solved[terms] = (liquidation_price(instrument, position.side, qty, entry, margin), qty, entry,
                                     margin)
        return known[0]

    def _refresh_cross(self, account: TradingAccount, cross: list[Position]) -> None:
        from .valuation import value_account
        exchange = self.exchange
        value = value_account(exchange, account)
        base = value.wallet_balance - value.isolated_margin - value.order_margin
        if len(cross) == 1:
            position = cross[0]
            instrument = exchange.instruments[position.symbol]
            self._place(position, liquidation_price(instrument, position.side, position.qty,
                                                    position.entry_price, base))
            return
        marks = {p.symbol: exchange.markets[p.symbol].mark for p in cross}
        # Exact amounts, as the liquidation check uses (engine.liquidation.cross_unhealthy).
        mm = {p.key(): p.exact_maintenance_margin(exchange.instruments[p.symbol], marks[p.symbol]) for p in cross}
        upnl = {p.key(): p.exact_unrealized_pnl(marks[p.symbol]) for p in cross}
        with localcontext(prec=50):
            total_mm, total_upnl = sum(mm.values(), ZERO), sum(upnl.values(), ZERO)
        for position in cross:
            instrument = exchange.instruments[position.symbol]
            own_mm, own_upnl = mm[position.key()], upnl[position.key()]
            # Shown to the trader; the account itself is checked on every tick instead of via the book.
            with localcontext(prec=50):
                other_mm, other_upnl = total_mm - own_mm, total_upnl - own_upnl
            position.liquidation_price = liquidation_price(instrument, position.side, position.qty,
                                                           position.entry_price, base, other_mm, other_upnl)
            self.book(position.symbol).discard(position.key())
            self.multi_cross.setdefault(position.symbol, set()).add(account.id)

    def _place(self, position: Position, price, placements: dict[str, list] | None = None) -> None:
        position.liquidation_price = price
        placement = (position.key(), price, DOWN if position.side > 0 else UP)
        if placements is None:
            self.book(position.symbol).put(*placement)
        else:
            placements.setdefault(position.symbol, []).append(placement)

    def crossed(self, symbol: str, mark) -> tuple[list[tuple], list[str]]:
        """Positions whose liquidation price the mark reached, and multi-symbol cross accounts to check."""
        book = self.books.get(symbol)
        fired = book.fired(mark) if book else []
        return fired, sorted(self.multi_cross.get(symbol, ()))
