"""Exact decimal arithmetic for money, prices and quantities.

Everything the engine counts is a `Decimal`. USDT balances live on a grid of 1e-8; SQLite stores
them as integers of that grid (`to_units` / `from_units`) so sums in SQL are exact.
"""
from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation

from .errors import Rejected, shown

QUANTUM = Decimal("1e-8")
UNITS_PER_USDT = 10**8
ZERO = Decimal(0)
ONE = Decimal(1)
# Anything beyond this is a typo or an attack, not a trade: 10^15 USDT.
ABSURD = Decimal("1e15")


def usdt(value: Decimal) -> Decimal:
    """Round a computed amount to the 1e-8 grid (banker's rounding, the ledger's one rule)."""
    return value.quantize(QUANTUM, rounding=ROUND_HALF_EVEN)


def usdt_up(value: Decimal) -> Decimal:
    """Round away from zero: used for amounts the user must have (fees, margin requirements)."""
    return value.quantize(QUANTUM, rounding=ROUND_UP)


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    """Round a quantity down to a multiple of `step` (never buy more than asked)."""
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_to_step(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_HALF_EVEN) * step


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return (value % step) == 0


_UNITS = Decimal(UNITS_PER_USDT)
# Amounts written are converted once per object: a fan-out's copies alike share their figures (one qty, price,
# margin and fee for thousands of rows), found here by identity — hashing a fresh Decimal would cost more than
# converting it. The object is kept in the value, so an id found here is still that object's. Bounded, as a cache.
_TO_UNITS: dict[int, tuple[Decimal, int]] = {}
_TO_UNITS_LIMIT = 4096


def to_units(value: Decimal) -> int:
    """Decimal on the 1e-8 grid → integer for SQLite. Refuses values off the grid."""
    if not value:  # a third of the amounts a fan-out writes (no PnL yet, nothing closed)
        return 0
    known = _TO_UNITS.get(id(value))
    if known is not None:
        return known[1]
    units = own_units(value)
    if len(_TO_UNITS) >= _TO_UNITS_LIMIT:
        _TO_UNITS.clear()
    _TO_UNITS[id(value)] = (value, units)
    return units


def own_units(value: Decimal) -> int:
    """`to_units` of a value no other row shares (a wallet's balance): kept out of the cache, which it would
    only fill and clear, the shared figures with it."""
    scaled = value * _UNITS
    units = int(scaled)
    if units != scaled:
        raise ValueError(f"{value} is not on the 1e-8 grid")
    return units


# Amounts read back are interned: a start loads the same few values over and over (10,000 copies of one size
# hold one qty, entry price and margin), and one shared object is both cheaper to get than a new Decimal and
# what lets the risk index solve such copies once (see RiskIndex.refresh). Bounded, as a cache.
_FROM_UNITS: dict[int, Decimal] = {}
_FROM_UNITS_LIMIT = 65_536


def from_units(units: int) -> Decimal:
    if not units:  # most of what a start loads is zero (PnL, fees, counters of a fresh relation)
        return ZERO
    value = _FROM_UNITS.get(units)
    if value is None:
        if len(_FROM_UNITS) >= _FROM_UNITS_LIMIT:
            _FROM_UNITS.clear()
        value = _FROM_UNITS[units] = Decimal(units) * QUANTUM  # exact: as .scaleb(-8), a third faster
    return value


def to_units_or_none(value: Decimal | None) -> int | None:
    return None if value is None else to_units(value)


def from_units_or_none(units: int | None) -> Decimal | None:
    return None if units is None else from_units(units)


def fmt(value: Decimal | None) -> str | None:
    """Full-precision string for snapshots: no exponent, no trailing zeros ('0' for zero)."""
    if value is None:
        return None
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


_QUANTA = {places: Decimal(1).scaleb(-places) for places in range(9)}


def _places(places: int) -> Decimal:
    """1e-`places`, made once for the usual ones: every amount a command line carries is checked against it."""
    return _QUANTA.get(places) or Decimal(1).scaleb(-places)


def parse_decimal(raw: object, field: str, *, code: str = "INVALID_AMOUNT",
                  positive: bool = True, allow_zero: bool = False, allow_negative: bool = False,
                  max_places: int | None = 8, maximum: Decimal = ABSURD) -> Decimal:
    """Parse a decimal from a JSON string (or an int) with a clear rejection for anything else.

    Floats are refused on purpose: `0.1` as a JSON number has already lost its exact value.
    """
    if isinstance(raw, bool) or raw is None:
        raise Rejected(code, f"{field} must be a decimal string such as \"10.5\", got {shown(raw)}")
    if isinstance(raw, int):
        if abs(raw) >= 10**40:  # str() of an int of thousands of digits raises; none of them is an amount
            raise Rejected(code, f"{field} is beyond the allowed maximum of {fmt(maximum)}")
        text = str(raw)
    elif isinstance(raw, str):
        text = raw.strip()
    else:
        raise Rejected(code, f"{field} must be a decimal string such as \"10.5\", got {type(raw).__name__}")
    if not text or len(text) > 40:
        raise Rejected(code, f"{field} must be a decimal string such as \"10.5\", got {shown(raw)}")
    try:
        # Exact whatever the context's precision; malformed text raises, as the engine keeps the default traps.
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise Rejected(code, f"{field} is not a number: {shown(raw)}") from None
    if not value.is_finite():
        raise Rejected(code, f"{field} must be finite, got {shown(raw)}")
    if value.is_signed() and value != 0 and not allow_negative:
        raise Rejected(code, f"{field} must not be negative, got {text}")
    if value == 0 and not allow_zero:
        raise Rejected(code, f"{field} must be greater than zero")
    if value.copy_abs() > maximum:  # quiet: abs() would round to the context and overflow on "1e9999999"
        raise Rejected(code, f"{field} {text} is beyond the allowed maximum of {fmt(maximum)}")
    if max_places is not None and value != value.quantize(_places(max_places), rounding=ROUND_DOWN):
        raise Rejected(code, f"{field} {text} has more than {max_places} decimal places")
    return value + 0  # normalise -0 to 0


def display(value: Decimal | None, places: int = 2) -> str:
    """Human display with thousands separators: 1234.5 → '1,234.50'."""
    if value is None:
        return "—"
    return f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN):,}"
