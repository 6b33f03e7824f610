"""What an order or a margin change would do, before it is sent: cost and resulting liquidation price."""
from __future__ import annotations

from decimal import Decimal

from .errors import Rejected
from .exchange import Exchange
from .fills import fee_rate, taker_price
from .leverage import setting
from .liquidation_price import liquidation_price
from .money import ZERO, usdt
from .positions import ISOLATED
from .trading import plan_fill
from .valuation import value_account


def preview_order(exchange: Exchange, user: str, account_kind: str, symbol: str, side: int, qty: Decimal,
                  price: Decimal | None = None, leverage: int | None = None, margin_mode: str | None = None,
                  lead: str = "") -> dict:
    """Estimated fill price, initial margin + fee needed, and the position's liquidation price after."""
    account = exchange.account(user, account_kind)
    instrument = exchange.instrument(symbol)
    market = exchange.market(symbol)
    current = setting(exchange, account, symbol)
    leverage = leverage or current.leverage
    margin_mode = margin_mode or current.margin_mode
    if qty <= 0:
        raise Rejected("INVALID_QTY", "quantity must be greater than zero")
    fill_price = price or taker_price(exchange.config, instrument, market.last, side, qty)
    position = account.positions.get((symbol, lead))
    plan = plan_fill(position, side, qty, fill_price, leverage, fee_rate(exchange.config, instrument, price is not None))
    after_qty, after_side, entry, margin = ZERO, side, fill_price, ZERO
    if position is not None and position.side == side:
        after_qty = position.qty + plan.open_qty
        entry = usdt((position.qty * position.entry_price + plan.open_qty * fill_price) / after_qty)
        margin = position.margin + plan.open_margin
        leverage, margin_mode = position.leverage, position.margin_mode
    elif position is not None and plan.open_qty == 0:
        after_qty, after_side, entry = position.qty - plan.close_qty, position.side, position.entry_price
        margin = position.margin - plan.released
    else:
        after_qty, margin = plan.open_qty, plan.open_margin
    lp = None
    if after_qty > 0:
        if margin_mode == ISOLATED:
            lp = liquidation_price(instrument, after_side, after_qty, entry, margin)
        else:
            # Cross: the account's other cross positions lend or take margin, as in the snapshot's price.
            value = value_account(exchange, account)
            other_mm, other_upnl = value.cross_maintenance, value.cross_unrealized
            if position is not None and not position.isolated:
                other_mm -= position.maintenance_margin(instrument, market.mark)
                other_upnl -= position.unrealized_pnl(market.mark)
            base = value.wallet_balance - value.isolated_margin - value.order_margin - plan.fee
            lp = liquidation_price(instrument, after_side, after_qty, entry, base, other_mm, other_upnl)
    return {"price": fill_price, "notional": qty * fill_price, "margin": plan.open_margin, "fee": plan.fee,
            "cost": max(ZERO, plan.needs), "liquidation_price": lp, "leverage": leverage,
            "margin_mode": margin_mode, "available": value_account(exchange, account).available}
