"""The instrument catalogue: contract sizes, fees and risk tiers (SPEC §2)."""
from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar
from decimal import Decimal, localcontext

from .errors import Rejected, shown
from .money import ZERO, fmt, is_multiple, parse_decimal

FUNDING_HOURS = (1, 2, 4, 8)
DEFAULT_MIN_NOTIONAL = Decimal("5")
DEFAULT_MAKER_FEE = Decimal("0.0002")
DEFAULT_TAKER_FEE = Decimal("0.0005")
DEFAULT_LIQUIDATION_FEE = Decimal("0.005")
DEFAULT_FUNDING_HOURS = 8

_SYMBOL = re.compile(r"[A-Z0-9]{2,20}")
_FIELDS = {"symbol", "tick", "step", "min_qty", "min_notional", "max_leverage", "tiers",
           "funding_hours", "maker_fee", "taker_fee", "liquidation_fee"}
_TIER_FIELDS = {"max_notional", "max_leverage", "mmr"}
# Keys every scenario line may carry (SCENARIOS.md): not instrument fields, not typos either.
_ENVELOPE = {"do", "at", "id", "expect_error"}


@dataclass(frozen=True, slots=True)
class RiskTier:
    max_notional: Decimal
    max_leverage: int
    mmr: Decimal
    cum: Decimal


def derive_tiers(specs: Iterable[tuple[Decimal, int, Decimal]]) -> tuple[RiskTier, ...]:
    """Build tiers from (max_notional, max_leverage, mmr), deriving each tier's `cum`.

    cum_n = floor_n × (MMR_n − MMR_{n−1}) + cum_{n−1} makes maintenance margin continuous at every
    tier boundary, so crossing a boundary never makes a position jump into liquidation.
    """
    tiers: list[RiskTier] = []
    for number, (max_notional, max_leverage, mmr) in enumerate(specs, start=1):
        where = f"tier {number}"
        if isinstance(max_leverage, bool) or not isinstance(max_leverage, int) or max_leverage < 1:
            raise Rejected("BAD_FIELD", f"{where} max_leverage must be a whole number of at least 1, got {max_leverage!r}")
        if not ZERO < mmr < 1:
            raise Rejected("BAD_FIELD", f"{where} mmr must be between 0 and 1 exclusive, got {fmt(mmr)}")
        # At max leverage the initial margin must exceed maintenance, or a new position opens liquidatable.
        if mmr * max_leverage >= 1:
            raise Rejected("BAD_FIELD", f"{where} mmr {fmt(mmr)} must be below 1/max_leverage "
                                        f"(1/{max_leverage}), or a position would open already liquidatable")
        if not tiers:
            if max_notional <= 0:
                raise Rejected("BAD_FIELD", f"{where} max_notional must be greater than zero")
            tiers.append(RiskTier(max_notional, max_leverage, mmr, ZERO))
            continue
        previous = tiers[-1]
        if max_notional <= previous.max_notional:
            raise Rejected("BAD_FIELD", f"{where} max_notional {fmt(max_notional)} must be above the previous "
                                        f"tier's {fmt(previous.max_notional)}")
        if mmr < previous.mmr:
            raise Rejected("BAD_FIELD", f"{where} mmr {fmt(mmr)} must not be below the previous tier's {fmt(previous.mmr)}")
        if max_leverage > previous.max_leverage:
            raise Rejected("BAD_FIELD", f"{where} max_leverage {max_leverage} must not exceed the previous "
                                        f"tier's {previous.max_leverage}")
        with localcontext(prec=50):
            cum = previous.max_notional * (mmr - previous.mmr) + previous.cum
        tiers.append(RiskTier(max_notional, max_leverage, mmr, cum))
    if not tiers:
        raise Rejected("BAD_FIELD", "tiers must list at least one risk tier")
    return tuple(tiers)


@dataclass(frozen=True, slots=True)
class Instrument:
    TABLE: ClassVar[str] = "instruments"
    COLUMNS: ClassVar[tuple[str, ...]] = ("symbol", "fields")
    KEY: ClassVar[tuple[str, ...]] = ("symbol",)

    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    min_notional: Decimal
    max_leverage: int
    tiers: tuple[RiskTier, ...]
    funding_hours: int
    maker_fee: Decimal
    taker_fee: Decimal
    liquidation_fee: Decimal
    # Each tier's cap, for finding a tier by bisection (done on every fill and liquidation price).
    caps: tuple[Decimal, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "caps", tuple(tier.max_notional for tier in self.tiers))

    def key(self) -> str:
        return self.symbol

    def row(self) -> tuple:
        return (self.symbol, json.dumps(self.to_fields(), sort_keys=True))

    @classmethod
    def from_row(cls, row: tuple) -> "Instrument":
        return parse_instrument(json.loads(row[1]), None)

    def tier_index(self, notional: Decimal) -> int:
        """Index of the first tier whose cap covers `notional`; the last tier takes anything beyond."""
        return min(bisect_left(self.caps, notional), len(self.caps) - 1)

    def tier_for(self, notional: Decimal) -> RiskTier:
        return self.tiers[self.tier_index(notional)]

    def maintenance_margin(self, notional: Decimal) -> Decimal:
        tier = self.tier_for(notional)
        with localcontext(prec=50):
            return max(ZERO, notional * tier.mmr - tier.cum)

    def max_leverage_for(self, notional: Decimal) -> int:
        return min(self.max_leverage, self.tier_for(notional).max_leverage)

    def to_fields(self) -> dict:
        """The `instrument` action fields that rebuild this instrument through `parse_instrument`."""
        return {
            "symbol": self.symbol,
            "tick": fmt(self.tick),
            "step": fmt(self.step),
            "min_qty": fmt(self.min_qty),
            "min_notional": fmt(self.min_notional),
            "max_leverage": self.max_leverage,
            "tiers": [{"max_notional": fmt(tier.max_notional), "max_leverage": tier.max_leverage,
                       "mmr": fmt(tier.mmr)} for tier in self.tiers],
            "funding_hours": self.funding_hours,
            "maker_fee": fmt(self.maker_fee),
            "taker_fee": fmt(self.taker_fee),
            "liquidation_fee": fmt(self.liquidation_fee),
        }


def _integer(raw: object, field: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Rejected("BAD_FIELD", f"{field} must be a whole number, got {shown(raw)}")
    return raw


def _quantity(raw: object, field: str) -> Decimal:
    return parse_decimal(raw, field, code="INVALID_QTY")


def _amount(raw: object, field: str) -> Decimal:
    return parse_decimal(raw, field, code="BAD_FIELD")


def _funding_hours(raw: object, field: str) -> int:
    hours = _integer(raw, field)
    if hours not in FUNDING_HOURS:
        raise Rejected("BAD_FIELD", f"{field} must be one of 1, 2, 4 or 8, got {hours}")
    return hours


def _rate(raw: object, field: str) -> Decimal:
    value = parse_decimal(raw, field, code="BAD_FIELD", allow_zero=True)
    if value >= 1:
        raise Rejected("BAD_FIELD", f"{field} is a fraction (\"0.0005\" is 0.05%) and must be below 1, got {fmt(value)}")
    return value


def _tiers(raw: object) -> tuple[RiskTier, ...]:
    if not isinstance(raw, list) or not raw:
        raise Rejected("BAD_FIELD", "tiers must be a non-empty list of {\"max_notional\", \"max_leverage\", \"mmr\"}")
    specs = []
    for index, entry in enumerate(raw):
        where = f"tier {index + 1}"
        if not isinstance(entry, dict) or set(entry) != _TIER_FIELDS:
            raise Rejected("BAD_FIELD", f"{where} must be an object with exactly max_notional, max_leverage and mmr")
        specs.append((parse_decimal(entry["max_notional"], f"{where} max_notional", code="BAD_FIELD"),
                      _integer(entry["max_leverage"], f"{where} max_leverage"),
                      parse_decimal(entry["mmr"], f"{where} mmr", code="BAD_FIELD")))
    return derive_tiers(specs)


def parse_instrument(fields: dict, base: Instrument | None) -> Instrument:
    """Validate the `instrument` scenario action: a new symbol, or an override of `base`.

    Fields left out keep `base`'s values; a new symbol needs at least tick, step and tiers.
    """
    unknown = set(fields) - _FIELDS - _ENVELOPE
    if unknown:
        raise Rejected("BAD_FIELD", f"unknown instrument field(s): {', '.join(sorted(unknown))}")
    symbol = fields.get("symbol")
    if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol):
        raise Rejected("BAD_FIELD", f"symbol must be 2 to 20 uppercase letters or digits, got {symbol!r}")
    if base is None:
        missing = [name for name in ("tick", "step", "tiers") if name not in fields]
        if missing:
            raise Rejected("BAD_FIELD", f"a new instrument {symbol} needs {', '.join(missing)}")

    tick = parse_decimal(fields["tick"], "tick", code="INVALID_PRICE") if "tick" in fields else base.tick
    step = _quantity(fields["step"], "step") if "step" in fields else base.step
    tiers = _tiers(fields["tiers"]) if "tiers" in fields else base.tiers

    def given_or_kept(name: str, parse, default):
        """Parse `name` if given, else keep base's value (a new symbol takes `default`)."""
        if name in fields:
            return parse(fields[name], name)
        return default if base is None else getattr(base, name)

    min_qty = given_or_kept("min_qty", _quantity, step)
    if not is_multiple(min_qty, step):
        raise Rejected("INVALID_QTY", f"min_qty {fmt(min_qty)} must be a multiple of step {fmt(step)}")
    if "max_leverage" in fields:
        max_leverage = _integer(fields["max_leverage"], "max_leverage")
        if not 1 <= max_leverage <= tiers[0].max_leverage:
            raise Rejected("BAD_FIELD", f"max_leverage must be between 1 and the first tier's "
                                        f"{tiers[0].max_leverage}, got {max_leverage}")
    else:
        # An inherited cap cannot outrank new tiers: keep the stricter of the two.
        max_leverage = tiers[0].max_leverage if base is None else min(base.max_leverage, tiers[0].max_leverage)
    return Instrument(
        symbol=symbol, tick=tick, step=step, min_qty=min_qty,
        min_notional=given_or_kept("min_notional", _amount, DEFAULT_MIN_NOTIONAL),
        max_leverage=max_leverage, tiers=tiers,
        funding_hours=given_or_kept("funding_hours", _funding_hours, DEFAULT_FUNDING_HOURS),
        maker_fee=given_or_kept("maker_fee", _rate, DEFAULT_MAKER_FEE),
        taker_fee=given_or_kept("taker_fee", _rate, DEFAULT_TAKER_FEE),
        liquidation_fee=given_or_kept("liquidation_fee", _rate, DEFAULT_LIQUIDATION_FEE),
    )


def _table(*rows: tuple[str, int, str]) -> tuple[RiskTier, ...]:
    """Tiers from (max_notional, max_leverage, MMR in percent) rows, as exchanges publish them."""
    return derive_tiers((Decimal(cap), leverage, Decimal(percent) / 100) for cap, leverage, percent in rows)


def _default(symbol: str, tick: str, step: str, funding_hours: int, liquidation_fee: str,
             tiers: tuple[RiskTier, ...]) -> Instrument:
    return Instrument(symbol=symbol, tick=Decimal(tick), step=Decimal(step), min_qty=Decimal(step),
                      min_notional=DEFAULT_MIN_NOTIONAL, max_leverage=tiers[0].max_leverage, tiers=tiers,
                      funding_hours=funding_hours, maker_fee=DEFAULT_MAKER_FEE, taker_fee=DEFAULT_TAKER_FEE,
                      liquidation_fee=Decimal(liquidation_fee))


DEFAULT_INSTRUMENTS: dict[str, Instrument] = {instrument.symbol: instrument for instrument in (
    _default("BTCUSDT", "0.1", "0.001", 8, "0.003", _table(
        ("50000", 125, "0.40"), ("250000", 100, "0.50"), ("1000000", 50, "1.00"),
        ("10000000", 20, "2.50"), ("20000000", 10, "5.00"), ("50000000", 5, "10.00"),
        ("100000000", 4, "12.50"), ("200000000", 3, "15.00"), ("300000000", 2, "25.00"),
        ("500000000", 1, "50.00"))),
    _default("ETHUSDT", "0.01", "0.001", 8, "0.005", _table(
        ("50000", 125, "0.50"), ("250000", 100, "0.65"), ("1000000", 50, "1.00"),
        ("5000000", 20, "2.00"), ("10000000", 10, "5.00"), ("20000000", 5, "10.00"),
        ("50000000", 4, "12.50"), ("100000000", 3, "15.00"), ("200000000", 2, "25.00"),
        ("300000000", 1, "50.00"))),
    _default("SOLUSDT", "0.01", "0.01", 4, "0.005", _table(
        ("25000", 75, "0.65"), ("100000", 50, "1.00"), ("500000", 25, "2.00"),
        ("2000000", 20, "2.50"), ("5000000", 10, "5.00"), ("10000000", 5, "10.00"),
        ("20000000", 4, "12.50"), ("50000000", 2, "25.00"), ("100000000", 1, "50.00"))),
    _default("XRPUSDT", "0.0001", "0.1", 4, "0.005", _table(
        ("10000", 75, "0.65"), ("50000", 50, "1.00"), ("250000", 25, "2.00"),
        ("1000000", 20, "2.50"), ("3000000", 10, "5.00"), ("5000000", 5, "10.00"),
        ("10000000", 4, "12.50"), ("20000000", 2, "25.00"), ("50000000", 1, "50.00"))),
    _default("DOGEUSDT", "0.00001", "1", 4, "0.005", _table(
        ("10000", 50, "1.00"), ("50000", 25, "2.00"), ("250000", 20, "2.50"),
        ("1000000", 10, "5.00"), ("3000000", 5, "10.00"), ("5000000", 4, "12.50"),
        ("10000000", 2, "25.00"), ("20000000", 1, "50.00"))),
)}

