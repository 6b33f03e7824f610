"""Take-profit and stop-loss on an open position, set or cleared after it was opened."""
from __future__ import annotations

from .commands import TpSl
from .exchange import Exchange, handles
from .money import fmt
from .order_entry import check_tp_sl, position_for, resolve_lead
from .errors import Rejected


@handles(TpSl)
def set_tp_sl(exchange: Exchange, command: TpSl) -> dict:
    account = exchange.account(command.user, command.account)
    instrument = exchange.instrument(command.symbol)
    market = exchange.market(command.symbol)
    lead = resolve_lead(exchange, account, command.lead)
    position = position_for(account, command.symbol, lead)
    if position is None:
        raise Rejected("NO_POSITION", f"no {command.symbol} position in {account.kind.capitalize()}")
    exchange.check_manual(account, position)
    tp = position.tp if command.tp is None else (command.tp or None)
    sl = position.sl if command.sl is None else (command.sl or None)
    check_tp_sl(instrument, position.side, market.mark, command.tp or None, command.sl or None)
    position.tp, position.sl = tp, sl
    exchange.changes.save(position)
    exchange.index_tp_sl(position)
    return {"tp": fmt(position.tp), "sl": fmt(position.sl)}
