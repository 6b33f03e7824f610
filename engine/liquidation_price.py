"""Liquidation price, bankruptcy price and removable margin of a position (SPEC §4)."""
from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Context, Decimal, localcontext

from .instruments import Instrument, RiskTier
from .money import QUANTUM, ZERO

# Wide enough that no product of prices and quantities rounds before the final quantize.
_PRECISION = 50
# Rounding toward liquidation: a long's price down, a short's up (made once: solved on every fill).
_TOWARD_LIQUIDATION_LONG = Context(prec=_PRECISION, rounding=ROUND_FLOOR)
_TOWARD_LIQUIDATION_SHORT = Context(prec=_PRECISION, rounding=ROUND_CEILING)


def _solve(tier: RiskTier, side: int, qty: Decimal, entry_price: Decimal, wallet_balance: Decimal,
           other_maintenance: Decimal, other_unrealized: Decimal) -> Decimal:
    numerator = (wallet_balance - other_maintenance + other_unrealized + tier.cum - side * qty * entry_price)
    return numerator / (qty * tier.mmr - side * qty)


def _distance(instrument: Instrument, index: int, notional: Decimal) -> Decimal:
    """How far `notional` lies outside tier `index`'s range (floor, max]; 0 when inside."""
    floor = instrument.tiers[index - 1].max_notional if index else ZERO
    if notional <= floor:
        return floor - notional
    if index < len(instrument.tiers) - 1 and notional > instrument.tiers[index].max_notional:
        return notional - instrument.tiers[index].max_notional
    return ZERO


def liquidation_price(instrument: Instrument, side: int, qty: Decimal, entry_price: Decimal,
                      wallet_balance: Decimal, other_maintenance: Decimal = ZERO,
                      other_unrealized: Decimal = ZERO) -> Decimal | None:
    """The mark price at which margin + uPnL falls to maintenance margin, or None if it is ≤ 0.

    Isolated: wallet_balance is the position margin, the others 0. Cross: wallet_balance is the
    account wallet less isolated margins; the others are the other cross positions' MM and uPnL.

    The formula needs the tier of the *liquidation* notional, unknown until solved: the tier of the
    entry notional is tried first, then every other tier, keeping the first whose range holds LP × Q.
    Equity − MM is strictly monotonic in the mark and MM is continuous, so exactly one tier is
    consistent (two agreeing ones at a boundary). Should precision put a boundary root a hair outside
    both neighbours, the tier whose range LP × Q misses by the least is used.

    Rounded to 1e-8 toward liquidation (a long down, a short up) so that a mark at the returned
    price meets the liquidation condition and a mark 1e-8 safer does not.
    """
    tiers = instrument.tiers
    first = instrument.tier_index(qty * entry_price)
    with localcontext(_TOWARD_LIQUIDATION_LONG if side > 0 else _TOWARD_LIQUIDATION_SHORT) as context:
        price = _solve(tiers[first], side, qty, entry_price, wallet_balance, other_maintenance, other_unrealized)
        closest = (_distance(instrument, first, price * qty), price)
        # The entry's tier nearly always holds the liquidation notional too: the others only when it does not.
        for index in range(len(tiers)):
            if closest[0] == 0:
                break
            if index == first:
                continue
            price = _solve(tiers[index], side, qty, entry_price, wallet_balance, other_maintenance, other_unrealized)
            miss = _distance(instrument, index, price * qty)
            if miss < closest[0]:
                closest = (miss, price)
        price = closest[1].quantize(QUANTUM, rounding=context.rounding)
    return price if price > 0 else None


def bankruptcy_price(side: int, qty: Decimal, entry_price: Decimal, wallet_balance: Decimal) -> Decimal | None:
    """The mark at which margin + uPnL = 0, or None if it is ≤ 0.

    Rounded to 1e-8 toward safety (a long up, a short down): a close at the returned price never
    loses more than the margin.
    """
    rounding = ROUND_CEILING if side > 0 else ROUND_FLOOR
    with localcontext(prec=_PRECISION, rounding=rounding):
        price = ((qty * entry_price - side * wallet_balance) / qty).quantize(QUANTUM, rounding=rounding)
    return price if price > 0 else None


def max_removable(margin: Decimal, unrealized_pnl: Decimal, mark_notional: Decimal, leverage: int | Decimal) -> Decimal:
    """Isolated margin that may be withdrawn: never positive uPnL, never below initial margin at mark."""
    # Ceiling on the division keeps any precision loss on the side of removing less.
    with localcontext(prec=_PRECISION, rounding=ROUND_CEILING):
        removable = margin + min(ZERO, unrealized_pnl) - mark_notional / leverage
        return max(ZERO, removable).quantize(QUANTUM, rounding=ROUND_DOWN)
