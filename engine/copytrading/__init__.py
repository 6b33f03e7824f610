"""Copy trading (SPEC §7): elite traders, following, mirroring, margin sync, profit share, protection."""

from ..errors import Rejected
from ..exchange import FILL_LISTENERS, MANUAL_GUARDS, MARGIN_LISTENERS, TRADE_LISTENERS
from . import failures, leads, margin_sync, mirror, profile, relations, settlement, upgrade, views  # noqa: F401


def guard_managed(exchange, account, position) -> None:
    """Copiers cannot intervene in protected copy positions."""
    if position is not None and position.managed:
        raise Rejected("MANAGED_POSITION", f"this {position.symbol} copy position is managed by {position.lead}'s "
                       "protected portfolio: it cannot be closed, adjusted or given TP/SL by hand")


TRADE_LISTENERS.append(mirror.on_trade)
FILL_LISTENERS.append(mirror.on_fill)
FILL_LISTENERS.append(upgrade.on_fill)
MARGIN_LISTENERS.append(margin_sync.on_margin_change)
MANUAL_GUARDS.append(guard_managed)
