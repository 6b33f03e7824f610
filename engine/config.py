"""Engine settings: every default of the rulebook, overridable by a config file or a scenario line."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class EngineConfig:
    # Fees and liquidation fee: None means "use the instrument's own rate".
    maker_fee: Decimal | None = None
    taker_fee: Decimal | None = None
    liquidation_fee: Decimal | None = None
    # Fill model: half-spread, plus size impact in bps per 1,000,000 USDT of notional.
    slippage_bps: Decimal = Decimal("1")
    impact_bps: Decimal = Decimal("2")
    insurance_fund: Decimal = Decimal("1000000")
    elite_min_equity: Decimal = Decimal("500")
    protected_min_equity: Decimal = Decimal("10000")
    signal_hold_ms: int = 2000
    signal_expiry_ms: int = 60000

    def updated(self, **changes) -> "EngineConfig":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_json(self) -> str:
        return json.dumps({k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(self).items()},
                          sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "EngineConfig":
        raw = json.loads(text)
        values = {}
        for f in fields(cls):
            if f.name in raw:
                value = raw[f.name]
                values[f.name] = Decimal(value) if isinstance(value, str) else value
        return cls(**values)
