"""Following an elite trader: the relationship, its settings, follow / update / unfollow (SPEC §7.2)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..accounts import WalletKind, account_id
from ..commands import Follow, Unfollow, UpdateFollow
from ..errors import Rejected, shown
from ..exchange import Exchange, handles
from ..money import ZERO, display, fmt, from_units, to_units, from_units_or_none, to_units_or_none
from ..valuation import value_account
from .leads import PROTECTED_MAX_LEVERAGE, SCALE_LIMIT, Lead, collateral_account, lead_of

MAX_LEADS = 20
ACTIVE, UNFOLLOWED = "active", "unfollowed"
MAJORS = ("BTCUSDT", "ETHUSDT")
DEFAULT_SLIPPAGE_MAJOR = Decimal("0.005")
DEFAULT_SLIPPAGE_OTHER = Decimal("0.015")




@dataclass(slots=True, eq=False)
class Relation:
    TABLE: ClassVar[str] = "relations"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "seq", "copier", "lead", "mode", "amount", "ratio", "leverage", "margin_mode", "max_margin_per_order",
        "max_total_margin", "symbols", "tp_ratio", "sl_ratio", "slippage", "status", "consecutive_failures",
        "countdown_until", "cum_realized_pnl", "shared_profit", "created_ms", "allocation", "week_pnl",
        "rebate_locked", "nav_high", "reminded")
    KEY: ClassVar[tuple[str, ...]] = ("seq",)
    # What a closed copy order and a count of copies change (saved as just these: see engine.changes).
    PNL: ClassVar[tuple[str, ...]] = ("cum_realized_pnl", "week_pnl")
    STREAK: ClassVar[tuple[str, ...]] = ("consecutive_failures", "countdown_until", "reminded")
    SAVED_IN_PART: ClassVar[frozenset[str]] = frozenset(PNL + STREAK + ("rebate_locked",))

    seq: int
    copier: str
    lead: str
    mode: str                      # fixed | ratio
    amount: Decimal | None         # fixed: margin per copied order
    ratio: Decimal | None          # ratio: copier notional = lead notional × ratio
    leverage: int | None           # None: follow the lead
    margin_mode: str | None        # None: follow the lead
    max_margin_per_order: Decimal | None
    max_total_margin: Decimal | None
    symbols: tuple[str, ...] | None  # None: every lead symbol
    tp_ratio: Decimal | None
    sl_ratio: Decimal | None
    slippage: Decimal | None       # None: 0.5% for BTC/ETH, 1.5% otherwise
    status: str
    consecutive_failures: int
    countdown_until: int | None
    cum_realized_pnl: Decimal      # net realized PnL of fully closed copy orders
    shared_profit: Decimal
    created_ms: int
    allocation: Decimal            # funds counted toward a protected lead's scale limit
    week_pnl: Decimal              # protected: this week's net result so far
    rebate_locked: Decimal
    nav_high: Decimal
    reminded: bool

    def key(self) -> int:
        return self.seq

    def row(self) -> tuple:
        return (self.seq, self.copier, self.lead, self.mode, to_units_or_none(self.amount), to_units_or_none(self.ratio), self.leverage,
                self.margin_mode, to_units_or_none(self.max_margin_per_order), to_units_or_none(self.max_total_margin),
                None if self.symbols is None else json.dumps(list(self.symbols)), to_units_or_none(self.tp_ratio),
                to_units_or_none(self.sl_ratio), to_units_or_none(self.slippage), self.status, self.consecutive_failures,
                self.countdown_until, to_units(self.cum_realized_pnl), to_units(self.shared_profit), self.created_ms,
                to_units(self.allocation), to_units(self.week_pnl), to_units(self.rebate_locked),
                to_units(self.nav_high), int(self.reminded))

    @classmethod
    def from_row(cls, row: tuple) -> "Relation":
        return cls(row[0], row[1], row[2], row[3], from_units_or_none(row[4]), from_units_or_none(row[5]), row[6], row[7], from_units_or_none(row[8]),
                   from_units_or_none(row[9]), None if row[10] is None else tuple(json.loads(row[10])), from_units_or_none(row[11]),
                   from_units_or_none(row[12]), from_units_or_none(row[13]), row[14], row[15], row[16], from_units(row[17]),
                   from_units(row[18]), row[19], from_units(row[20]), from_units(row[21]), from_units(row[22]),
                   from_units(row[23]), bool(row[24]))

    def slippage_limit(self, symbol: str) -> Decimal:
        if self.slippage is not None:
            return self.slippage
        return DEFAULT_SLIPPAGE_MAJOR if symbol in MAJORS else DEFAULT_SLIPPAGE_OTHER

    def view(self) -> dict:
        from ..clock import format_time
        return {"copier": self.copier, "lead": self.lead, "mode": self.mode, "status": self.status,
                "consecutive_failures": self.consecutive_failures,
                "countdown_until": None if self.countdown_until is None else format_time(self.countdown_until),
                "cum_realized_pnl": fmt(self.cum_realized_pnl), "shared_profit": fmt(self.shared_profit),
                "amount": fmt(self.amount), "ratio": fmt(self.ratio), "leverage": self.leverage or "follow",
                "margin_mode": self.margin_mode or "follow", "symbols": list(self.symbols) if self.symbols else None,
                "max_margin_per_order": fmt(self.max_margin_per_order),
                "max_total_margin": fmt(self.max_total_margin), "tp_ratio": fmt(self.tp_ratio),
                "sl_ratio": fmt(self.sl_ratio), "slippage": fmt(self.slippage)}


def relation_of(exchange: Exchange, copier: str, lead: str) -> Relation | None:
    return exchange.relations_by_pair.get((copier, lead))


def active_count(exchange: Exchange, copier: str) -> int:
    return sum(1 for r in exchange.relations_of_copier.get(copier, ()) if r.status == ACTIVE)


def follow_settings(command: Follow, lead: Lead, base: Relation | None) -> dict:
    """Validated settings from a follow line, inheriting what an update leaves out."""
    def pick(name, default=None):
        value = getattr(command, name)
        return value if value is not None else (getattr(base, name) if base is not None else default)

    mode = pick("mode")
    if mode is None:
        raise Rejected("BAD_FIELD", "follow needs mode: \"fixed\" (USDT margin per order) or \"ratio\" (proportional)")
    amount, ratio = pick("amount"), pick("ratio")
    if mode == "fixed" and amount is None:
        raise Rejected("BAD_FIELD", "fixed mode needs amount: the USDT margin per copied order")
    if mode == "ratio":
        if ratio is None:
            raise Rejected("BAD_FIELD", "ratio mode needs ratio: the multiple of the lead's order size (0.01–100)")
        if not Decimal("0.01") <= ratio <= 100:
            raise Rejected("BAD_FIELD", f"ratio must be between 0.01 and 100, got {fmt(ratio)}")
    leverage = command.leverage if command.leverage is not None else (base.leverage if base else None)
    if command.leverage == "follow":
        leverage = None
    elif leverage is not None and (isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= 125):
        raise Rejected("LEVERAGE_NOT_ALLOWED", f"leverage must be \"follow\" or a whole number from 1 to 125, got {shown(leverage)}")
    if lead.protected and leverage is not None and leverage > PROTECTED_MAX_LEVERAGE:
        raise Rejected("LEVERAGE_NOT_ALLOWED", f"protected portfolios trade at most {PROTECTED_MAX_LEVERAGE}x")
    margin_mode = command.margin_mode if command.margin_mode is not None else (base.margin_mode if base else None)
    if margin_mode == "follow":
        margin_mode = None
    symbols = pick("symbols")
    if symbols is not None:
        outside = [s for s in symbols if s not in lead.symbols]
        if outside:
            raise Rejected("SYMBOL_NOT_SELECTED", f"{lead.user} does not lead {', '.join(outside)}; "
                           f"choose from {', '.join(lead.symbols)}")
    return {"mode": mode, "amount": amount if mode == "fixed" else None, "ratio": ratio if mode == "ratio" else None,
            "leverage": leverage, "margin_mode": margin_mode,
            "max_margin_per_order": pick("max_margin_per_order"), "max_total_margin": pick("max_total_margin"),
            "symbols": symbols, "tp_ratio": pick("tp_ratio"), "sl_ratio": pick("sl_ratio"),
            "slippage": pick("slippage")}


def protected_aum(exchange: Exchange, lead: Lead) -> Decimal:
    return sum((r.allocation for r in lead.copiers.values()), ZERO)


def check_scale_limit(exchange: Exchange, lead: Lead, extra: Decimal) -> None:
    """Copiers' allocated funds may not pass the protected lead's collateral ÷ 20%."""
    collateral = exchange.ledger.balance(collateral_account(lead.user))
    limit = collateral / SCALE_LIMIT
    if protected_aum(exchange, lead) + extra > limit:
        raise Rejected("FOLLOW_PAUSED_SCALE_LIMIT", f"{lead.user}'s protected portfolio is at its scale limit "
                       f"({display(limit)} USDT of copier funds for {display(collateral)} collateral); "
                       "new follows and larger allocations are paused")


@handles(Follow)
def follow(exchange: Exchange, command: Follow) -> dict:
    copier = exchange.user(command.user)
    lead = lead_of(exchange, command.lead)
    if copier.name == lead.user:
        raise Rejected("BAD_FIELD", "you cannot copy yourself")
    copy_account = exchange.account(copier.name, WalletKind.COPY)
    existing = relation_of(exchange, copier.name, lead.user)
    if existing is not None and existing.status == ACTIVE:
        raise Rejected("ALREADY_FOLLOWING", f"you already follow {lead.user}; use update_follow to change settings")
    if active_count(exchange, copier.name) >= MAX_LEADS:
        raise Rejected("MAX_LEADS", f"you follow {MAX_LEADS} leads already, the most allowed; unfollow one first")
    if lead.at_capacity:
        raise Rejected("LEAD_AT_CAPACITY", f"{lead.user} is at capacity ({lead.capacity} copiers); try again later")
    settings = follow_settings(command, lead, None)
    allocation = ZERO
    if lead.protected:
        allocation = settings["max_total_margin"] or value_account(exchange, copy_account).wallet_balance
        check_scale_limit(exchange, lead, allocation)
    relation = Relation(exchange.next_id("relation"), copier.name, lead.user, created_ms=exchange.now_ms,
                        status=ACTIVE, consecutive_failures=0, countdown_until=None, cum_realized_pnl=ZERO,
                        shared_profit=ZERO, allocation=allocation, week_pnl=ZERO, rebate_locked=ZERO, nav_high=ZERO,
                        reminded=False, **settings)
    exchange.add_relation(relation)
    exchange.changes.save(relation)
    exchange.touch(copy_account)
    exchange.notify(lead.user, "copier", f"{copier.name} started copying you ({len(lead.copiers)}/{lead.capacity})")
    return {"following": lead.user, "relation": relation.seq}


@handles(UpdateFollow)
def update_follow(exchange: Exchange, command: UpdateFollow) -> None:
    exchange.user(command.user)
    lead = lead_of(exchange, command.lead)
    relation = relation_of(exchange, command.user, lead.user)
    if relation is None or relation.status != ACTIVE:
        raise Rejected("NOT_FOLLOWING", f"you do not follow {lead.user}")
    settings = follow_settings(command, lead, relation)
    allocation = relation.allocation
    if lead.protected and settings["max_total_margin"] != relation.max_total_margin:
        # The new limit is the new allocation: growing it must fit the scale limit like a new follow.
        allocation = settings["max_total_margin"]
        if allocation > relation.allocation:
            check_scale_limit(exchange, lead, allocation - relation.allocation)
    for name, value in settings.items():
        setattr(relation, name, value)
    relation.allocation = allocation
    exchange.changes.save(relation)


@handles(Unfollow)
def unfollow(exchange: Exchange, command: Unfollow) -> dict:
    exchange.user(command.user)
    relation = relation_of(exchange, command.user, command.lead)
    if relation is None or relation.status != ACTIVE:
        raise Rejected("NOT_FOLLOWING", f"you do not follow {command.lead}")
    from .settlement import settle_on_unfollow
    from ..order_entry import close_position
    account = exchange.accounts[account_id(command.user, WalletKind.COPY)]
    if command.close_positions:
        # In symbol order: a restart reloads positions in another order, and replay must not differ.
        for position in sorted((p for p in account.positions.values() if p.lead == command.lead),
                               key=lambda p: p.symbol):
            close_position(exchange, account, position, None, f"unfollow:{command.lead}")
    settle_on_unfollow(exchange, relation)
    end_relation(exchange, relation, "You unfollowed")
    return {"unfollowed": command.lead}


def end_relation(exchange: Exchange, relation: Relation, why: str) -> None:
    relation.status = UNFOLLOWED
    relation.countdown_until = None
    exchange.remove_relation(relation)
    exchange.changes.save(relation)
    exchange.notify(relation.copier, "unfollow", f"{why} {relation.lead}; open copy positions stay until you close them")
