"""Rebuild an Exchange from stored rows: the inverse of what `Changes` records."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from .accounts import TradingAccount, User
from .config import EngineConfig
from .exchange import Exchange
from .instruments import Instrument
from .leverage import SymbolSetting
from .ledger import Wallet
from .liquidation import Liquidation
from .market import Market
from .orders import Order, index_order
from .positions import Position
from .records import Notification
from .copytrading.leads import Lead
from .copytrading.margin_sync import MarginSignal
from .copytrading.profile import DailyPoint, EliteTransfer, LeadTrade, history
from .copytrading.records import CopyOrder, Outcome
from .copytrading.relations import Relation

# Entity tables the engine keeps in memory (live orders only: see Order.LOAD_WHERE).
ENTITY_TYPES = (User, TradingAccount, Wallet, Instrument, Market, SymbolSetting, Position, Order, Lead, Relation,
                MarginSignal, CopyOrder)
# Record tables kept whole in memory: the short histories lead metrics are computed from.
HISTORY_TYPES = (LeadTrade, EliteTransfer, DailyPoint)
# Record tables of which only the rows not yet reported by a snapshot are needed.
UNREPORTED_TYPES = {"notifications": Notification, "liquidations": Liquidation, "outcomes": Outcome}


def restore_exchange(meta: Mapping[str, str], rows: Mapping[str, Sequence[tuple]]) -> Exchange:
    exchange = Exchange(EngineConfig.from_json(meta["config"]), int(meta["now_ms"]), fund_insurance=False)
    exchange.ledger.next_id = int(meta["ledger_next_id"])
    exchange.next_notification = int(meta["next_notification"])
    for kind in exchange.counters:
        exchange.counters[kind] = int(meta.get(f"next_{kind}", 1))
    for key, value in meta.items():
        if key.startswith("schedule_"):
            exchange.schedule[key.removeprefix("schedule_")] = int(value)
    for row in rows.get(User.TABLE, ()):
        user = User.from_row(row)
        exchange.users[user.name] = user
    for row in rows.get(TradingAccount.TABLE, ()):
        account = TradingAccount.from_row(row)
        exchange.accounts[account.id] = account
    for row in rows.get(Wallet.TABLE, ()):
        exchange.ledger.restore(Wallet.from_row(row))
    for row in rows.get(Instrument.TABLE, ()):
        instrument = Instrument.from_row(row)
        exchange.instruments[instrument.symbol] = instrument
    for row in rows.get(Market.TABLE, ()):
        market = Market.from_row(row)
        exchange.markets[market.symbol] = market
    for row in rows.get(SymbolSetting.TABLE, ()):
        value = SymbolSetting.from_row(row)
        exchange.settings[value.key()] = value
    for row in rows.get(Position.TABLE, ()):
        position = Position.from_row(row)
        exchange.accounts[position.account].positions[(position.symbol, position.lead)] = position
        exchange.index_tp_sl(position)
    for row in rows.get(Order.TABLE, ()):
        order = Order.from_row(row)
        exchange.accounts[order.account].orders[order.seq] = order
        exchange.orders_by_seq[order.seq] = order
        index_order(exchange, order)
    for row in rows.get(Lead.TABLE, ()):
        lead = Lead.from_row(row)
        exchange.leads[lead.user] = lead
    for row in sorted(rows.get(Relation.TABLE, ())):
        exchange.add_relation(Relation.from_row(row))
    for row in rows.get(MarginSignal.TABLE, ()):
        signal = MarginSignal.from_row(row)
        exchange.signals[signal.seq] = signal
    closed = {}
    for row in sorted(rows.get(CopyOrder.TABLE, ())):
        record = CopyOrder.from_row(row)
        if record.status == "open":
            exchange.copy_orders.setdefault((record.copier, record.lead, record.symbol), []).append(record)
        else:
            closed[record.seq] = record
    # In the order they closed (the meta lists them so), not by seq: a restart must not reorder them.
    unshown = [int(seq) for seq in meta.get("unshown_closed_copy_orders", "").split(",") if seq]
    exchange.recently_closed_copy_orders = [closed[seq] for seq in unshown if seq in closed]
    for record_type in HISTORY_TYPES:
        for row in sorted(rows.get(record_type.TABLE, ())):  # by seq, or by (lead, day)
            record = record_type.from_row(row)
            past = history(exchange, record.lead)
            {LeadTrade: past.trades, EliteTransfer: past.transfers, DailyPoint: past.daily}[record_type].append(record)
    exchange.pending_upgrades = {u.name for u in exchange.users.values() if u.upgrade_status == "pending"}
    exchange.risk.refresh_all(account for account in exchange.accounts.values() if account.positions)
    for kind, record_type in UNREPORTED_TYPES.items():
        exchange.reported[kind] = int(meta.get(f"reported_{kind}", 0))
        exchange.unreported[kind] = [record_type.from_row(r) for r in rows.get(record_type.TABLE, ())]
    exchange.changes.clear()
    return exchange
