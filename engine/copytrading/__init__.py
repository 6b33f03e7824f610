"""Copy trading (SPEC §7): elite traders, following, mirroring, margin sync, profit share, protection."""

from ..errors import Rejected
from ..exchange import (CLOSE_LISTENERS, FUNDING_LISTENERS, MANUAL_GUARDS, MARGIN_LISTENERS, ORDER_GUARDS,
                        TRADE_LISTENERS)
from . import failures, leads, margin_sync, mirror, profile, relations, settlement, upgrade, views  # noqa: F401


def guard_managed(exchange, account, position) -> None:
    """Copiers cannot intervene in protected copy positions."""
    if position is not None and position.managed:
        raise Rejected("MANAGED_POSITION", f"this {position.symbol} copy position is managed by {position.lead}'s "
                       "protected portfolio: it cannot be closed, adjusted or given TP/SL by hand")


def guard_protected_leverage(exchange, account, symbol, leverage) -> None:
    """A protected portfolio's lead orders are limited to 5x."""
    lead = exchange.leads.get(account.user) if account.kind == "elite" else None
    if lead is not None and lead.protected and symbol in lead.symbols and leverage > leads.PROTECTED_MAX_LEVERAGE:
        raise Rejected("LEVERAGE_NOT_ALLOWED", f"a protected portfolio trades {symbol} at "
                       f"{leads.PROTECTED_MAX_LEVERAGE}x at most; asked {leverage}x")


TRADE_LISTENERS.append(mirror.on_trade)
FUNDING_LISTENERS.append(mirror.on_funding)
ORDER_GUARDS.append(guard_protected_leverage)
CLOSE_LISTENERS.append(mirror.on_close)
CLOSE_LISTENERS.append(upgrade.on_close)
MARGIN_LISTENERS.append(margin_sync.on_margin_change)
MANUAL_GUARDS.append(guard_managed)
