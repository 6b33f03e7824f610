"""The exchange facade: commands in, events out, given engine time. The single owner of engine state.

Handlers live in modules named after the trading concept they implement and register themselves
with `@handles(CommandType)`. A handler validates everything before it changes anything, so a
rejected command leaves the state exactly as it was.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, Protocol

from .accounts import TradingAccount, User, account_id, activity_day
from .changes import Changes
from .clock import DEFAULT_START_MS, format_time
from .commands import Advance, Command, Envelope
from .config import EngineConfig
from .errors import Rejected
from .ledger import EXTERNAL, INSURANCE_FUND, EntryType, Ledger
from .instruments import DEFAULT_INSTRUMENTS, Instrument
from .market import Market
from .risk import RiskIndex
from .triggers import DOWN, UP, TriggerBook
from .records import Notification

Handler = Callable[["Exchange", Any], Any]
HANDLERS: dict[type, Handler] = {}
# What falls due with time (funding, settlements, countdowns, delivered signals); modules append.
DUE_WORK: list["DueWork"] = []
# Records kept in memory for the next snapshot: a desk that nobody snapshots (the workstation, the
# server) keeps the newest ones only — the rest stay on disk for history.
UNREPORTED_LIMIT = 10_000

# Hooks the copy engine registers: after a trade fill, after a fill that closed (part of) a position, after
# an isolated margin change, and before a manual action on a position.
TRADE_LISTENERS: list[Callable] = []
CLOSE_LISTENERS: list[Callable] = []
MARGIN_LISTENERS: list[Callable] = []
MANUAL_GUARDS: list[Callable] = []
# Called before an order or leverage change: (exchange, account, symbol, leverage).
ORDER_GUARDS: list[Callable] = []
# Called after each funding payment: (exchange, account, position, amount received (+) or paid (−)).
FUNDING_LISTENERS: list[Callable] = []
# Called after a transfer between a user's wallets: (exchange, user, source, target, amount).
TRANSFER_LISTENERS: list[Callable] = []


def handles(command_type: type[Command]) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[command_type] = handler
        return handler
    return register


class DueWork(Protocol):
    """Something that falls due at a time: funding, settlements, countdowns, delivered signals."""

    def next_due(self, exchange: "Exchange") -> int | None: ...
    def run_due(self, exchange: "Exchange", at_ms: int) -> None: ...


class Exchange:
    def __init__(self, config: EngineConfig | None = None, start_ms: int = DEFAULT_START_MS,
                 *, fund_insurance: bool = True) -> None:
        self.changes = Changes()
        self.config = config or EngineConfig()
        self.now_ms = start_ms
        self.ledger = Ledger(self.changes)
        self.users: dict[str, User] = {}
        self.accounts: dict[str, TradingAccount] = {}
        self.markets: dict[str, Market] = {}
        self.instruments: dict[str, Instrument] = dict(DEFAULT_INSTRUMENTS)
        self.settings: dict[tuple[str, str], Any] = {}
        self.orders_by_seq: dict[int, Any] = {}
        self.order_books: dict[tuple[str, str], TriggerBook] = {}
        self.tp_sl_books: dict[str, TriggerBook] = {}
        self.trailing: dict[str, set[int]] = {}
        self.risk = RiskIndex(self)
        self.counters: dict[str, int] = {"fill": 1, "order": 1, "liquidation": 1, "funding": 1, "relation": 1,
                                         "outcome": 1, "copy_order": 1, "signal": 1, "settlement": 1,
                                         "elite_transfer": 1, "lead_trade": 1}
        self.trade_listeners = TRADE_LISTENERS
        self.close_listeners = CLOSE_LISTENERS
        self.margin_listeners = MARGIN_LISTENERS
        self.manual_guards = MANUAL_GUARDS
        self.order_guards = ORDER_GUARDS
        # Copy trading: leads by user, relations by seq (active ones also under their lead).
        self.leads: dict[str, Any] = {}
        self.relations: dict[int, Any] = {}
        self.first_relation: Any = None  # the earliest follow ever (relations stay on record once ended)
        self.relations_by_pair: dict[tuple[str, str], Any] = {}
        self.relations_of_copier: dict[str, list] = {}
        self.relations_of_lead: dict[str, list] = {}  # every relation, ended ones too (profile totals)
        self.countdowns: set[int] = set()
        self.signals: dict[int, Any] = {}
        self.copy_orders: dict[tuple[str, str, str], list] = {}
        self.recently_closed_copy_orders: list = []
        self.pending_upgrades: set[str] = set()
        self.lead_history: dict[str, Any] = {}
        self.next_notification = 1
        # Records since the previous snapshot (`snapshot` reports and clears them).
        self.unreported: dict[str, list] = {"notifications": [], "liquidations": [], "outcomes": []}
        # The last sequence number of each record kind that a snapshot has reported.
        self.reported: dict[str, int] = {"notifications": 0, "liquidations": 0, "outcomes": 0}
        self.events: list[Any] = []
        # Liquidation and ADL fills waiting for the trade listeners, each with the qty its position held before
        # (see settle_risk).
        self.forced_fills: list[tuple[Any, Any, Any]] = []
        # When each kind of due work last ran (engine time).
        self.schedule: dict[str, int] = {}
        # meta() runs on every commit: texts kept with what they were made from, see _config_text.
        self._config_json: tuple[EngineConfig | None, str] = (None, "")
        self._unshown_text: tuple[list | None, int, str] = (None, 0, "")
        if fund_insurance:
            for instrument in self.instruments.values():
                self.changes.save(instrument)
            self.ledger.move(EntryType.DEPOSIT, EXTERNAL, INSURANCE_FUND, self.config.insurance_fund,
                             self.now_ms, "insurance fund")

    # --- running commands ---------------------------------------------------------------------

    def execute(self, envelope: Envelope) -> Any:
        """Advance to the line's time, then apply its command. Returns the handler's result."""
        if envelope.at_ms is not None:
            self.advance_to(envelope.at_ms)
        return self.apply(envelope.command)

    def apply(self, command: Command) -> Any:
        handler = HANDLERS.get(type(command))
        if handler is None:
            raise Rejected("UNKNOWN_ACTION", f"{command.action} is not supported by this engine")
        result = handler(self, command)
        self.settle_risk()
        return result

    def settle_risk(self) -> None:
        """Re-price the liquidation of every account this command touched, and liquidate what crossed.

        Liquidation and ADL fills reach the trade listeners (a liquidated lead's copiers close too) only once
        the liquidation that made them is fully settled and recorded: an ADL runs inside another account's
        bankruptcy, and what the listeners do (copiers closing at market, with their own deficits) must not
        mix into that account's insurance figures. What they do may in turn liquidate: settle again."""
        from .liquidation import check_symbol
        while True:
            for symbol in sorted(self.risk.refresh_touched()):
                if symbol in self.markets:
                    check_symbol(self, symbol)
            if not self.forced_fills:
                return
            forced, self.forced_fills = self.forced_fills, []
            for account, fill, held in forced:
                self.after_trade(account, fill, held)

    def advance_to(self, target_ms: int) -> None:
        """Move engine time forward, running everything that falls due on the way, in time order."""
        if target_ms < self.now_ms:
            raise Rejected("TIME_BACKWARDS",
                           f"time never goes back: engine time is {format_time(self.now_ms)}, "
                           f"the line says {format_time(target_ms)}")
        while True:
            due = [(at, i) for i, work in enumerate(DUE_WORK)
                   if (at := work.next_due(self)) is not None and at <= target_ms]
            if not due:
                break
            at = min(due)[0]
            # Everything due at this instant was found before any of it runs, so one piece of work
            # moving the clock onto the instant cannot push another past it.
            self.now_ms = max(self.now_ms, at)
            for due_at, index in sorted(due):
                if due_at == at:
                    DUE_WORK[index].run_due(self, at)
            self.settle_risk()
        self.now_ms = target_ms

    def emit(self, event: Any) -> None:
        self.events.append(event)

    def take_events(self) -> list[Any]:
        events, self.events = self.events, []
        return events

    def next_id(self, kind: str) -> int:
        value = self.counters[kind]
        self.counters[kind] = value + 1
        return value

    # --- market ---------------------------------------------------------------------------------

    def instrument(self, symbol: str) -> Instrument:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            raise Rejected("UNKNOWN_SYMBOL", f"unknown symbol {symbol}; trade one of {', '.join(sorted(self.instruments))}")
        return instrument

    def market(self, symbol: str) -> Market:
        self.instrument(symbol)
        market = self.markets.get(symbol)
        if market is None:
            raise Rejected("NO_MARKET_PRICE", f"{symbol} has no price yet; send a price line first")
        return market

    def position_view(self, position: Any) -> dict:
        return position.view(self.instruments[position.symbol], self.markets[position.symbol].mark)

    def index_tp_sl(self, position: Any) -> None:
        """TP/SL of a position wait on the mark price, each in the direction that closes it."""
        book = self.tp_sl_books.get(position.symbol)
        if book is None:
            book = self.tp_sl_books[position.symbol] = TriggerBook()
        long = position.side > 0
        book.put(("tp",) + position.key(), position.tp, UP if long else DOWN)
        book.put(("sl",) + position.key(), position.sl, DOWN if long else UP)

    def after_trade(self, account: Any, fill: Any, held: Any = None) -> None:
        """`held`: the qty the position had before `fill`, when it may have changed since (a forced fill)."""
        for listener in self.trade_listeners:
            listener(self, account, fill, held)

    def check_manual(self, account: Any, position: Any) -> None:
        for guard in self.manual_guards:
            guard(self, account, position)

    def add_relation(self, relation: Any) -> None:
        """Index a relation; an active one also joins its lead's copiers (in follow order)."""
        self.relations[relation.seq] = relation
        if self.first_relation is None or relation.seq < self.first_relation.seq:
            self.first_relation = relation
        pair = (relation.copier, relation.lead)
        previous = self.relations_by_pair.get(pair)
        if previous is None or previous.seq < relation.seq:
            self.relations_by_pair[pair] = relation
        self.relations_of_copier.setdefault(relation.copier, []).append(relation)
        self.relations_of_lead.setdefault(relation.lead, []).append(relation)
        if relation.status == "active":
            self.leads[relation.lead].copiers[relation.copier] = relation
        if relation.countdown_until is not None:
            self.countdowns.add(relation.seq)

    def remove_relation(self, relation: Any) -> None:
        """An ended relation stays on record but no longer copies."""
        self.leads[relation.lead].copiers.pop(relation.copier, None)
        self.countdowns.discard(relation.seq)

    # --- users and accounts -------------------------------------------------------------------

    def user(self, name: str) -> User:
        user = self.users.get(name)
        if user is None:
            raise Rejected("UNKNOWN_USER", f"no user named {name!r}; create it first with a 'user' line")
        return user

    def account(self, user: str, kind: str) -> TradingAccount:
        self.user(user)
        account = self.accounts.get(account_id(user, kind))
        if account is None:
            raise Rejected("UNKNOWN_ACCOUNT", f"{user} has no {kind} account"
                           + (" yet: become an elite trader first" if kind == "elite" else ""))
        return account

    def open_account(self, user: str, kind: str) -> TradingAccount:
        kind = str(kind)
        account = TradingAccount(account_id(user, kind), user, kind, last_activity_ms=activity_day(self.now_ms))
        self.accounts[account.id] = account
        self.ledger.open(account.id)
        self.changes.save(account)
        return account

    def touch(self, account: TradingAccount) -> None:
        """Any action wakes a dormant account."""
        day = activity_day(self.now_ms)
        if account.last_activity_ms != day:
            account.last_activity_ms = day
            self.changes.save(account)

    def touch_many(self, accounts: list[TradingAccount]) -> None:
        """`touch` each of `accounts` (a fan-out's copiers), saving the ones it wakes in one step."""
        day = activity_day(self.now_ms)
        woken = [account for account in accounts if account.last_activity_ms != day]
        for account in woken:
            account.last_activity_ms = day
        self.changes.save_many(woken)

    def remember(self, kind: str, records: list) -> None:
        """Keep records for the next snapshot, at most the newest UNREPORTED_LIMIT of them."""
        kept = self.unreported[kind]
        kept.extend(records)
        if len(kept) > UNREPORTED_LIMIT * 11 // 10:  # trim in steps, not on every record
            dropped = len(kept) - UNREPORTED_LIMIT
            self.reported[kind] = kept[dropped - 1].seq
            del kept[:dropped]

    def notify(self, user: str, kind: str, text: str) -> Notification:
        note = Notification(self.next_notification, user, kind, text, self.now_ms)
        self.next_notification += 1
        self.changes.append(note)
        self.remember("notifications", [note])
        self.emit(note)
        return note

    # --- persistence ---------------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        """Scalars that are not entities: engine time, id counters, settings."""
        values = {
            "now_ms": str(self.now_ms),
            "ledger_next_id": str(self.ledger.next_id),
            "next_notification": str(self.next_notification),
            "config": self._config_text(),
        }
        for kind, value in self.counters.items():
            values[f"next_{kind}"] = str(value)
        for name, at in self.schedule.items():
            values[f"schedule_{name}"] = str(at)
        # Copy orders closed since the previous snapshot are still to be shown once.
        values["unshown_closed_copy_orders"] = self._unshown_closed_text()
        for kind, seq in self.reported.items():
            values[f"reported_{kind}"] = str(seq)
        return values

    def _config_text(self) -> str:
        """The config as JSON, made again only when a `config` line replaced the (frozen) config."""
        config, text = self._config_json
        if config is not self.config:
            text = self.config.to_json()
            self._config_json = (self.config, text)
        return text

    def _unshown_closed_text(self) -> str:
        """The seqs of the closed copy orders still to be shown, comma-separated.

        Between snapshots that list only grows (it is extended as copy orders close, and replaced by a new
        list when a snapshot shows some), and it can run to thousands: only what was added since the last
        commit is joined. The cached list is held, so its identity cannot be taken by another list."""
        closed = self.recently_closed_copy_orders
        cached, length, text = self._unshown_text
        if cached is not closed or length > len(closed):
            cached, length, text = closed, 0, ""
        if length < len(closed):
            added = ",".join(str(record.seq) for record in closed[length:])
            text = f"{text},{added}" if text else added
            self._unshown_text = (closed, len(closed), text)
        return text

    def entities(self) -> Iterator[Any]:
        """Every live entity, for the state hash."""
        yield from self.users.values()
        yield from self.accounts.values()
        yield from self.ledger.wallets.values()
        yield from self.markets.values()
        yield from self.instruments.values()
        yield from self.settings.values()
        yield from self.orders_by_seq.values()
        yield from self.leads.values()
        yield from self.relations.values()
        yield from self.signals.values()
        for book in self.copy_orders.values():
            yield from book
        for account in self.accounts.values():
            yield from account.positions.values()

    def state_hash(self) -> str:
        """A digest of the whole live state: equal hashes mean equal states, bit for bit."""
        digest = hashlib.sha256()
        for key, value in sorted(self.meta().items()):
            digest.update(f"{key}={value}\n".encode())
        rows = sorted(f"{type(e).TABLE}|{e.row()!r}" for e in self.entities())
        for row in rows:
            digest.update(row.encode())
            digest.update(b"\n")
        return digest.hexdigest()

    def ledger_sum(self) -> Decimal:
        return self.ledger.total()


@handles(Advance)
def advance(exchange: Exchange, command: Advance) -> None:
    exchange.advance_to(command.to if command.to is not None else exchange.now_ms + command.by)
