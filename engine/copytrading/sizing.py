"""How big a copy of a lead's open is (SPEC §7.2–7.3): the relationship's mode sizes it, its caps
trim it, and the contract's step and minimum decide whether anything is left. One function, used by
the mirror when it copies and by the copy-settings preview when a trader tries settings on."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..errors import Rejected
from ..exchange import Exchange
from ..instruments import Instrument
from ..money import display, floor_to_step, fmt
from .copy_orders import copy_margin_in_use
from .leads import PROTECTED_MAX_LEVERAGE, Lead


@dataclass(slots=True)  # not frozen: built per copier in a fan-out (README, Performance)
class CopySize:
    qty: Decimal
    leverage: int
    margin_mode: str


def sizing_terms(settings, position) -> tuple | None:
    """Everything `size_copy` reads, when it reads nothing from the copier's account: copiers alike in these
    get the same size. None when it does read the account — the copy position held (`position`, the copier's
    in this symbol for this lead) or the margin in use under a total-margin cap. Keep the two in step."""
    if position is not None or settings.max_total_margin is not None:
        return None
    return (settings.symbols, settings.mode, settings.amount, settings.ratio, settings.leverage,
            settings.margin_mode, settings.max_margin_per_order)


def size_copy(exchange: Exchange, lead: Lead, settings, account, instrument: Instrument, side: int,
              lead_qty: Decimal, price: Decimal, lead_leverage: int, lead_margin_mode: str) -> CopySize:
    """`settings` is a Relation, or anything with its fields (mode, amount, ratio, leverage, margin_mode,
    max_margin_per_order, max_total_margin, symbols). Raises Rejected with the copy's failure code."""
    symbol = instrument.symbol
    if settings.symbols is not None and symbol not in settings.symbols:
        raise Rejected("SYMBOL_NOT_SELECTED", f"you do not copy {symbol} from {lead.user}")
    position = account.positions.get((symbol, lead.user))
    if position is not None and position.side == side:
        leverage, margin_mode = position.leverage, position.margin_mode  # an increase keeps the position's terms
    else:
        leverage = settings.leverage or lead_leverage
        margin_mode = settings.margin_mode or lead_margin_mode
    if lead.protected:
        leverage = min(leverage, PROTECTED_MAX_LEVERAGE)
    step = instrument.step
    if settings.mode == "fixed":
        qty = floor_to_step(settings.amount * leverage / price, step)
    else:
        qty = floor_to_step(lead_qty * settings.ratio, step)
    if settings.max_margin_per_order is not None:
        qty = min(qty, floor_to_step(settings.max_margin_per_order * leverage / price, step))
    if settings.max_total_margin is not None:
        room = settings.max_total_margin - copy_margin_in_use(exchange, account, lead.user)
        if room <= 0 or floor_to_step(room * leverage / price, step) < instrument.min_qty:
            raise Rejected("MAX_MARGIN_REACHED", f"your {display(settings.max_total_margin)} USDT limit for "
                           f"{lead.user} is in use")
        qty = min(qty, floor_to_step(room * leverage / price, step))
    if qty < instrument.min_qty:
        raise Rejected("BELOW_MIN_QTY", f"the copy size {fmt(qty)} is below the {symbol} minimum of "
                       f"{fmt(instrument.min_qty)}")
    return CopySize(qty, leverage, margin_mode)
