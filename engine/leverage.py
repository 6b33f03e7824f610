"""Per-account, per-symbol trading settings: leverage and margin mode (SPEC §4)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from .positions import ISOLATED

if TYPE_CHECKING:
    from .accounts import TradingAccount
    from .exchange import Exchange

DEFAULT_LEVERAGE = 10
DEFAULT_MARGIN_MODE = ISOLATED


@dataclass(slots=True)
class SymbolSetting:
    TABLE: ClassVar[str] = "symbol_settings"
    COLUMNS: ClassVar[tuple[str, ...]] = ("account", "symbol", "leverage", "margin_mode")
    KEY: ClassVar[tuple[str, ...]] = ("account", "symbol")

    account: str
    symbol: str
    leverage: int = DEFAULT_LEVERAGE
    margin_mode: str = DEFAULT_MARGIN_MODE

    def key(self) -> tuple[str, str]:
        return (self.account, self.symbol)

    def row(self) -> tuple:
        return (self.account, self.symbol, self.leverage, self.margin_mode)

    @classmethod
    def from_row(cls, row: tuple) -> "SymbolSetting":
        return cls(*row)


def setting(exchange: "Exchange", account: "TradingAccount", symbol: str) -> SymbolSetting:
    found = exchange.settings.get((account.id, symbol))
    return found if found is not None else SymbolSetting(account.id, symbol)


def store_setting(exchange: "Exchange", value: SymbolSetting) -> None:
    exchange.settings[value.key()] = value
    exchange.changes.save(value)
