"""`copydesk soak`: a seeded simulation that drives a real desk (engine + SQLite) with random but
valid-looking command lines and checks the desk's invariants after every step.

The generator is deterministic: given a seed it picks each line from its own random stream and from
the engine's state (which positions exist, which orders rest), so `copydesk soak --steps N --seed S`
replays the same N lines exactly and a failure is reproducible by one command.

Checked after every step:
- ledger_zero: the ledger sums to zero, in memory and in SQL (`SELECT sum(balance) FROM wallets`);
- wallet_matches_ledger: every wallet's balance equals its ledger entries (credits − debits, in
  integer units, counted incrementally from new ledger rows) and the engine's balance in memory;
- no_negative_user_balance: no `user:kind` ledger account below zero, no isolated margin below zero;
- isolated_loss_within_margin: the realized losses of an isolated position's fills in a step never
  exceed the margin it had (at the step's start, plus what the step added to it);
- one_outcome_per_copier: each copier has exactly one outcome per lead fill (SQL, grouped by lead
  order and copier) and, on a step that did not move time, the outcomes went to exactly the lead's
  active copiers;
- rejection_changed_nothing: a rejected line that did not move time left no journal line (the desk
  writes one only when the engine reports changes);
- no_exception: the desk never raised.
Every `reopen_every` steps the desk is closed and reopened (the state hash must survive), every
`audit_every` steps the ledger is re-summed in full in SQL, and every `replay_every` steps and at the
end the journal is replayed into a fresh database, which must reach the same state hash.
"""
from __future__ import annotations

import json
import random
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import TextIO

import engine  # noqa: F401  (registers the command handlers)
from engine.clock import HOUR, format_time
from engine.fills import Fill
from engine.funding import FundingPayment
from engine.margin import MarginChanged
from engine.transfers import available
from storage.desk import Desk, replay_journal

# symbol → (starting price, tick, step)
SYMBOLS: dict[str, tuple[str, str, str]] = {
    "BTCUSDT": ("60000", "0.1", "0.001"),
    "ETHUSDT": ("3000", "0.01", "0.001"),
    "SOLUSDT": ("150", "0.01", "0.01"),
    "DOGEUSDT": ("0.2", "0.00001", "1"),
    "ALTUSDT": ("25", "0.001", "0.1"),   # defined by an instrument line at the start
}
LEADS = [f"lead{i}" for i in range(6)]
TRADERS = [f"user{i:02d}" for i in range(30)]
LEGACY = ["legacy0", "legacy1"]
WALLETS = ("funding", "futures", "copy", "elite")
ORDER_TYPES = ("market", "limit", "post_only", "stop_market", "stop_limit", "trailing_stop", "scaled")

# How often each kind of line is generated (relative weights).
WEIGHTS: dict[str, float] = {
    "price": 18, "order": 22, "lead_order": 10, "close": 5, "reverse": 2, "cancel": 4, "margin": 4,
    "lead_margin": 3, "leverage": 3, "margin_mode": 1, "tp_sl": 2, "deposit": 3, "withdraw": 2, "transfer": 6,
    "follow": 4, "update_follow": 2, "unfollow": 1.5, "become_elite": 0.8, "advance": 2.5, "funding_rate": 1,
    "restrict": 0.4, "upgrade": 0.3, "snapshot": 0.4, "config": 0.2, "user": 0.2,
}


def _q(value: Decimal, step: Decimal) -> Decimal:
    return (value / step).to_integral_value(rounding=ROUND_DOWN) * step


def _s(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class Generator:
    """Seeded lines: a setup of users, money and prices, then a random mix of every action."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.setup = self._setup_lines()
        self.count = 0
        self.extra_users = 0

    # --- the world at the start ------------------------------------------------------------------

    def _setup_lines(self) -> list[dict]:
        rng = self.rng
        lines: list[dict] = [
            {"do": "instrument", "symbol": "ALTUSDT", "tick": "0.001", "step": "0.1", "min_qty": "0.1",
             "max_leverage": 50, "funding_hours": 4,
             "tiers": [{"max_notional": "20000", "max_leverage": 50, "mmr": "0.01"},
                       {"max_notional": "200000", "max_leverage": 20, "mmr": "0.025"},
                       {"max_notional": "2000000", "max_leverage": 5, "mmr": "0.1"}]},
        ]
        for symbol, (price, _tick, _step) in SYMBOLS.items():
            lines.append({"do": "price", "symbol": symbol, "mark": price})
        for name in LEADS + TRADERS:
            lines.append({"do": "user", "name": name})
            amount = rng.choice((2000, 5000, 20000, 60000)) if name in LEADS else rng.choice((300, 1000, 3000, 10000))
            lines.append({"do": "deposit", "user": name, "amount": str(amount), "id": f"seed-{name}"})
        for name in LEGACY:
            lines.append({"do": "user", "name": name, "legacy": True})
            lines.append({"do": "deposit", "user": name, "amount": "4000"})
        for index, name in enumerate(LEADS):
            symbols = rng.sample(sorted(SYMBOLS), rng.randint(1, 3))
            if "BTCUSDT" not in symbols and index % 2 == 0:
                symbols.append("BTCUSDT")
            lines.append({"do": "become_elite", "user": name, "symbols": symbols,
                          "capacity": rng.choice((3, 10, 1000)), "profit_share": rng.choice(("0", "0.1", "0.3"))})
            lines.append({"do": "transfer", "user": name, "from": "funding", "to": "elite", "amount": "1500"})
        for name in TRADERS:
            lines.append({"do": "transfer", "user": name, "from": "funding", "to": "copy", "amount": "150"})
            lines.append({"do": "transfer", "user": name, "from": "funding", "to": "futures", "amount": "100"})
        return lines

    # --- helpers that read the engine (never change it) -------------------------------------------

    def _available(self, exchange, user: str, wallet: str) -> Decimal:
        try:
            return available(exchange, user, wallet)
        except Exception:  # noqa: BLE001 - an account that does not exist yet has nothing available
            return Decimal(0)

    def _amount(self, ceiling: Decimal) -> str:
        """Mostly within `ceiling`, sometimes just past it, now and then malformed."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return rng.choice(("0", "-5", "1.123456789", "abc", "1e400", "NaN", "Infinity", " ", "1" * 41))
        if ceiling <= 0 or roll < 0.08:
            return _s(Decimal(rng.randint(1, 500)))
        fraction = Decimal(rng.randint(1, 120)) / 100
        value = _q(ceiling * fraction, Decimal("0.01"))
        return _s(value) if value > 0 else "0.01"

    def _user(self, pool=None) -> str:
        return self.rng.choice(pool or (LEADS + TRADERS + LEGACY))

    def _price(self, exchange, symbol: str) -> Decimal:
        market = exchange.markets.get(symbol)
        return market.last if market is not None else Decimal(SYMBOLS[symbol][0])

    def _offset(self, exchange, symbol: str, move: float) -> str:
        tick = Decimal(SYMBOLS[symbol][1])
        return _s(max(tick, _q(self._price(exchange, symbol) * Decimal(str(1 + move)), tick)))

    def _kinds(self, user: str) -> tuple[str, ...]:
        return ("futures", "elite") if user in LEADS else ("futures",)

    def _positions(self, exchange, user: str, kind: str):
        account = exchange.accounts.get(f"{user}:{kind}")
        return [] if account is None else sorted(account.positions.values(), key=lambda p: (p.symbol, p.lead))

    def _maybe_at(self, exchange, line: dict) -> dict:
        roll = self.rng.random()
        if roll < 0.2:
            line["at"] = format_time(exchange.now_ms + self.rng.randint(0, 30_000))
        elif roll < 0.21:
            line["at"] = format_time(exchange.now_ms - 1000)  # time never goes back: TIME_BACKWARDS
        return line

    # --- the lines -------------------------------------------------------------------------------

    def next_line(self, exchange) -> dict:
        self.count += 1
        if self.setup:
            return self.setup.pop(0)
        kinds, weights = zip(*WEIGHTS.items())
        kind = self.rng.choices(kinds, weights)[0]
        line = getattr(self, f"_gen_{kind}")(exchange)
        if kind not in ("advance",):
            line = self._maybe_at(exchange, line)
        if self.rng.random() < 0.02:
            line["id"] = f"k{self.rng.randint(0, 200)}"  # some ids repeat: applied at most once
        return line

    def _gen_price(self, exchange) -> dict:
        rng = self.rng
        symbol = rng.choice(sorted(SYMBOLS))
        base, tick_text, _ = SYMBOLS[symbol]
        tick = Decimal(tick_text)
        mark = exchange.markets[symbol].mark if symbol in exchange.markets else Decimal(base)
        roll = rng.random()
        if roll < 0.025:
            move = -rng.uniform(0.08, 0.45)          # crash
        elif roll < 0.05:
            move = rng.uniform(0.08, 0.6)            # spike
        else:
            move = rng.gauss(0, 0.006)
        # Drift back toward the starting price so a long run stays in a sane range.
        anchor = float(Decimal(base) / mark) if mark > 0 else 1.0
        if anchor > 3 or anchor < 0.33:
            move += 0.05 if anchor > 1 else -0.05
        new_mark = max(tick, _q(mark * Decimal(str(1 + move)), tick))
        line = {"do": "price", "symbol": symbol, "mark": _s(new_mark)}
        if rng.random() < 0.5:
            line["last"] = _s(max(tick, _q(new_mark * Decimal(str(1 + rng.uniform(-0.002, 0.002))), tick)))
        if rng.random() < 0.3:
            line["index"] = _s(max(tick, _q(new_mark * Decimal(str(1 + rng.uniform(-0.003, 0.003))), tick)))
        if rng.random() < 0.01:
            line["mark"] = rng.choice(("0", "-1", "1e16", "NaN", "0.000000001"))
        return line

    def _order_line(self, exchange, user: str, kind: str, symbols=None) -> dict:
        rng = self.rng
        symbol = rng.choice(symbols or sorted(SYMBOLS))
        _base, tick_text, step_text = SYMBOLS[symbol]
        step = Decimal(step_text)
        price = self._price(exchange, symbol)
        leverage = rng.choice((None, None, None, 1, 2, 3, 5, 10, 10, 20, 20, 50, 125))
        free = self._available(exchange, user, kind)
        lev = leverage or 10
        notional = free * lev * Decimal(str(rng.uniform(0.05, 1.3)))
        qty = _q(notional / price, step) if price > 0 else step
        if qty <= 0 or rng.random() < 0.05:
            qty = step * rng.randint(1, 50)
        otype = rng.choice(ORDER_TYPES)
        side = rng.choice(("buy", "sell"))
        line = {"do": "order", "user": user, "account": kind, "symbol": symbol, "side": side, "type": otype}
        if rng.random() < 0.1:
            line["amount"] = _s(_q(notional, Decimal("0.01")) or Decimal(10))
        else:
            line["qty"] = _s(qty)
        direction = 1 if side == "buy" else -1
        # Mostly resting (a buy below the market, a stop beyond it), sometimes marketable or wrong-sided.
        away = -direction if rng.random() < 0.85 else direction
        if otype in ("limit", "post_only", "stop_limit", "scaled"):
            line["price"] = self._offset(exchange, symbol, away * rng.uniform(0.0005, 0.03))
        if otype in ("stop_market", "stop_limit"):
            line["trigger"] = self._offset(exchange, symbol, -away * rng.uniform(0.0005, 0.03))
            line["trigger_by"] = rng.choice(("last", "mark"))
        if otype == "trailing_stop":
            line["callback"] = rng.choice(("0.001", "0.005", "0.01", "0.05"))
        if otype == "scaled":
            line["price_to"] = self._offset(exchange, symbol, away * rng.uniform(0.0005, 0.05))
            line["count"] = rng.randint(2, 6)
        held = exchange.accounts.get(f"{user}:{kind}")
        if held is not None and any(p.symbol == symbol for p in held.positions.values()) and rng.random() < 0.8:
            leverage = None  # the open position's leverage
        if leverage is not None:
            line["leverage"] = leverage
        if rng.random() < 0.15:
            line["margin_mode"] = rng.choice(("isolated", "cross"))
        if rng.random() < 0.12:
            line["reduce_only"] = True
        if otype in ("limit", "market") and rng.random() < 0.2:
            line["tif"] = rng.choice(("GTC", "IOC", "FOK"))
        if rng.random() < 0.15:
            tick = Decimal(tick_text)
            line["tp"] = _s(max(tick, _q(price * Decimal(str(1 + direction * rng.uniform(0.005, 0.1))), tick)))
            line["sl"] = _s(max(tick, _q(price * Decimal(str(1 - direction * rng.uniform(0.005, 0.1))), tick)))
        if rng.random() < 0.1:
            line["client_id"] = f"c{rng.randint(0, 30)}"
        return line

    def _gen_order(self, exchange) -> dict:
        rng = self.rng
        user = self._user(TRADERS + LEGACY)
        roll = rng.random()
        if roll < 0.1:
            # By hand in the copy account: only reducing a copy is allowed.
            copies = self._positions(exchange, user, "copy")
            if copies:
                position = rng.choice(copies)
                qty = _q(position.qty * Decimal(str(rng.uniform(0.1, 1.0))), Decimal(SYMBOLS[position.symbol][2]))
                return {"do": "order", "user": user, "account": "copy", "symbol": position.symbol, "lead": position.lead,
                        "side": "sell" if position.side > 0 else "buy", "qty": _s(qty or position.qty),
                        "reduce_only": rng.random() < 0.8}
        return self._order_line(exchange, user, "futures")

    def _gen_lead_order(self, exchange) -> dict:
        user = self._user(LEADS)
        lead = exchange.leads.get(user)
        symbols = sorted(lead.symbols) if lead is not None and self.rng.random() < 0.9 else None
        line = self._order_line(exchange, user, "elite", symbols)
        if lead is not None and lead.protected and "leverage" in line and self.rng.random() < 0.8:
            line["leverage"] = min(line["leverage"], 5)
        return line

    def _pick_position(self, exchange, users=None, kinds=("futures", "elite", "copy")):
        rng = self.rng
        for _ in range(4):
            user = self._user(users)
            kind = rng.choice(kinds)
            positions = self._positions(exchange, user, kind)
            if positions:
                return user, kind, rng.choice(positions)
        return None

    def _gen_close(self, exchange) -> dict:
        picked = self._pick_position(exchange)
        if picked is None:
            return {"do": "close", "user": self._user(), "account": "futures", "symbol": "BTCUSDT"}
        user, kind, position = picked
        line = {"do": "close", "user": user, "account": kind, "symbol": position.symbol}
        if position.lead:
            line["lead"] = position.lead
        if self.rng.random() < 0.4:
            step = Decimal(SYMBOLS[position.symbol][2])
            line["qty"] = _s(_q(position.qty * Decimal(str(self.rng.uniform(0.05, 1.1))), step) or step)
        return line

    def _gen_reverse(self, exchange) -> dict:
        picked = self._pick_position(exchange, kinds=("futures", "elite"))
        if picked is None:
            return {"do": "reverse", "user": self._user(), "account": "futures", "symbol": "ETHUSDT"}
        user, kind, position = picked
        return {"do": "reverse", "user": user, "account": kind, "symbol": position.symbol}

    def _gen_cancel(self, exchange) -> dict:
        rng = self.rng
        user = self._user()
        kind = rng.choice(self._kinds(user))
        account = exchange.accounts.get(f"{user}:{kind}")
        if account is not None and account.orders and rng.random() < 0.9:
            order = account.orders[rng.choice(sorted(account.orders))]
            return {"do": "cancel", "user": user, "account": kind, "client_id": order.client_id}
        return {"do": "cancel", "user": user, "account": kind, "client_id": f"c{rng.randint(0, 30)}"}

    def _margin_line(self, exchange, picked) -> dict:
        rng = self.rng
        user, kind, position = picked
        if rng.random() < 0.5:
            delta = self._safe_decimal(self._amount(self._available(exchange, user, kind)))
        else:
            delta = -_q(position.margin * Decimal(str(rng.uniform(0.01, 0.6))), Decimal("0.01"))
        line = {"do": "margin", "user": user, "account": kind, "symbol": position.symbol,
                "delta": _s(delta) if delta is not None else "abc"}
        if position.lead:
            line["lead"] = position.lead
        return line

    def _safe_decimal(self, text: str) -> Decimal | None:
        try:
            value = Decimal(text)
        except Exception:  # noqa: BLE001 - a deliberately malformed amount
            return None
        return value if value.is_finite() else None

    def _gen_margin(self, exchange) -> dict:
        picked = self._pick_position(exchange, TRADERS)
        if picked is None:
            return {"do": "margin", "user": self._user(), "account": "futures", "symbol": "SOLUSDT", "delta": "10"}
        return self._margin_line(exchange, picked)

    def _gen_lead_margin(self, exchange) -> dict:
        picked = self._pick_position(exchange, LEADS, kinds=("elite",))
        if picked is None:
            return self._gen_lead_order(exchange)
        line = self._margin_line(exchange, picked)
        line["signal_delay_s"] = self.rng.choice((0, 0, 1, 3, 10, 59, 61, 90, 0.5))
        return line

    def _gen_leverage(self, exchange) -> dict:
        rng = self.rng
        picked = self._pick_position(exchange) if rng.random() < 0.6 else None
        if picked is None:
            return {"do": "leverage", "user": self._user(), "account": rng.choice(("futures", "elite", "copy")),
                    "symbol": rng.choice(sorted(SYMBOLS)), "leverage": rng.choice((1, 3, 5, 10, 20, 50, 125, 126, 0))}
        user, kind, position = picked
        return {"do": "leverage", "user": user, "account": kind, "symbol": position.symbol,
                "leverage": rng.choice((1, 2, 5, 10, 20, 50, 100, 125))}

    def _gen_margin_mode(self, exchange) -> dict:
        user = self._user()
        return {"do": "margin_mode", "user": user, "account": self.rng.choice(self._kinds(user)),
                "symbol": self.rng.choice(sorted(SYMBOLS)), "mode": self.rng.choice(("isolated", "cross"))}

    def _gen_tp_sl(self, exchange) -> dict:
        rng = self.rng
        picked = self._pick_position(exchange)
        if picked is None:
            return {"do": "tp_sl", "user": self._user(), "account": "futures", "symbol": "BTCUSDT", "tp": "0"}
        user, kind, position = picked
        line = {"do": "tp_sl", "user": user, "account": kind, "symbol": position.symbol}
        if position.lead:
            line["lead"] = position.lead
        spread = rng.uniform(0.002, 0.15)
        if rng.random() < 0.7:
            line["tp"] = self._near_side(exchange, position.symbol, position.side * spread)
        if rng.random() < 0.7 or "tp" not in line:
            line["sl"] = self._near_side(exchange, position.symbol, -position.side * spread)
        if rng.random() < 0.1:
            line[rng.choice(("tp", "sl"))] = "0"
        return line

    def _near_side(self, exchange, symbol: str, move: float) -> str:
        tick = Decimal(SYMBOLS[symbol][1])
        return _s(max(tick, _q(exchange.markets[symbol].mark * Decimal(str(1 + move)), tick)))

    def _gen_deposit(self, exchange) -> dict:
        return {"do": "deposit", "user": self._user(), "amount": self._amount(Decimal(self.rng.choice((100, 2000, 20000))))}

    def _gen_withdraw(self, exchange) -> dict:
        user = self._user()
        return {"do": "withdraw", "user": user, "amount": self._amount(self._available(exchange, user, "funding"))}

    def _gen_transfer(self, exchange) -> dict:
        rng = self.rng
        user = self._user()
        source, target = rng.sample(WALLETS, 2)
        if rng.random() < 0.5:
            source = "funding"
            if target == "funding":
                target = rng.choice(("futures", "copy", "elite"))
        if user in LEADS and rng.random() < 0.4:
            source, target = "funding", "elite"
        elif user not in LEADS and "elite" in (source, target) and rng.random() < 0.9:
            source, target = "funding", rng.choice(("futures", "futures", "copy"))
        return {"do": "transfer", "user": user, "from": source, "to": target,
                "amount": self._amount(self._available(exchange, user, source))}

    def _follow_settings(self, exchange, lead: str, update: bool) -> dict:
        rng = self.rng
        settings: dict = {}
        if not update or rng.random() < 0.5:
            if rng.random() < 0.5:
                settings.update(mode="fixed", amount=rng.choice(("5", "20", "50", "200", "1000")))
            else:
                settings.update(mode="ratio", ratio=rng.choice(("0.01", "0.1", "0.5", "1", "3", "100", "150")))
        options = {
            "leverage": lambda: rng.choice(("follow", 1, 3, 5, 10, 20, 125, 200, "x")),
            "margin_mode": lambda: rng.choice(("follow", "isolated", "cross")),
            "max_margin_per_order": lambda: rng.choice(("10", "100", "1000")),
            "max_total_margin": lambda: rng.choice(("50", "500", "5000")),
            "symbols": lambda: rng.sample(sorted(exchange.leads[lead].symbols if lead in exchange.leads else ["BTCUSDT"]), 1),
            "tp_ratio": lambda: rng.choice(("0.1", "0.5", "2")),
            "sl_ratio": lambda: rng.choice(("0.1", "0.5", "0.9")),
            "slippage": lambda: rng.choice(("0.001", "0.01", "0.05")),
        }
        for name, make in options.items():
            if rng.random() < 0.25:
                settings[name] = make()
        return settings

    def _gen_follow(self, exchange) -> dict:
        copier, lead = self._user(TRADERS), self._user(LEADS)
        return {"do": "follow", "user": copier, "lead": lead, **self._follow_settings(exchange, lead, False)}

    def _gen_update_follow(self, exchange) -> dict:
        rng = self.rng
        relations = sorted(k for k, r in exchange.relations_by_pair.items() if r.status == "active")
        copier, lead = rng.choice(relations) if relations else (self._user(TRADERS), self._user(LEADS))
        return {"do": "update_follow", "user": copier, "lead": lead, **self._follow_settings(exchange, lead, True)}

    def _gen_unfollow(self, exchange) -> dict:
        rng = self.rng
        relations = sorted(k for k, r in exchange.relations_by_pair.items() if r.status == "active")
        copier, lead = rng.choice(relations) if relations else (self._user(TRADERS), self._user(LEADS))
        line = {"do": "unfollow", "user": copier, "lead": lead}
        if rng.random() < 0.5:
            line["close_positions"] = True
        return line

    def _gen_become_elite(self, exchange) -> dict:
        rng = self.rng
        user = self._user(LEADS + LEGACY + TRADERS[:3])
        symbols = rng.sample(sorted(SYMBOLS), rng.randint(1, 3))
        line = {"do": "become_elite", "user": user, "symbols": symbols}
        if rng.random() < 0.4:
            equity = self._available(exchange, user, "elite")
            line.update(mode="protected", collateral=self._amount(equity / 4 if equity else Decimal(1000)),
                        protected_share=rng.choice(("0.6", "0.7", "0.8", "0.9")))
        if rng.random() < 0.3:
            line["nickname"] = rng.choice(("Tina", "Sam", "Sara", "x" * 33))
        if rng.random() < 0.2:
            line["capacity"] = rng.choice((1, 2, 50, 1000))
        return line

    def _gen_advance(self, exchange) -> dict:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return {"do": "advance", "by": rng.choice(("1s", "2s", "30s", "90s", "5m", "1h"))}
        if roll < 0.85:
            return {"do": "advance", "by": rng.choice(("4h", "8h", "12h", "1d"))}
        if roll < 0.95:
            return {"do": "advance", "by": rng.choice(("3d", "1w"))}
        # Just past the next funding time, as an absolute time.
        return {"do": "advance", "to": format_time((exchange.now_ms // (4 * HOUR) + 1) * 4 * HOUR + 1000)}

    def _gen_funding_rate(self, exchange) -> dict:
        return {"do": "funding_rate", "symbol": self.rng.choice(sorted(SYMBOLS)),
                "rate": self.rng.choice(("0.0001", "-0.0003", "0.003", "-0.01", "0", "0.2"))}

    def _gen_restrict(self, exchange) -> dict:
        return {"do": "restrict", "user": self._user(), "account": self.rng.choice(("futures", "copy", "elite")),
                "reduce_only": self.rng.random() < 0.4}

    def _gen_upgrade(self, exchange) -> dict:
        return {"do": "upgrade", "user": self._user(LEGACY + TRADERS[:2])}

    def _gen_snapshot(self, exchange) -> dict:
        line = {"do": "snapshot"}
        if self.rng.random() < 0.5:
            line["of"] = self.rng.sample(["users", "copy", "leads", "ledger", "insurance_fund"], 2)
        return line

    def _gen_config(self, exchange) -> dict:
        rng = self.rng
        name, value = rng.choice((("slippage_bps", rng.choice(("0", "1", "5"))), ("impact_bps", rng.choice(("0", "2", "50"))),
                                  ("taker_fee", rng.choice(("0.0005", "0.001"))), ("signal_hold_s", rng.choice((0, 2, 5))),
                                  ("elite_min_equity", rng.choice(("0", "500", "3000")))))
        return {"do": "config", name: value}

    def _gen_user(self, exchange) -> dict:
        self.extra_users += 1
        name = self.rng.choice((f"late{self.extra_users}", self.rng.choice(TRADERS)))  # some exist: USER_EXISTS
        return {"do": "user", "name": name}


# --- invariants ------------------------------------------------------------------------------------


class InvariantBroken(Exception):
    def __init__(self, name: str, detail: str):
        super().__init__(f"{name}: {detail}")
        self.name, self.detail = name, detail


@dataclass
class SoakReport:
    steps: int = 0
    accepted: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    lead_orders: int = 0
    outcomes: int = 0
    liquidations: int = 0
    fills: int = 0
    replays: int = 0
    reopens: int = 0
    failure: InvariantBroken | None = None
    failed_step: int | None = None
    failed_line: dict | None = None
    seconds: float = 0.0


def _units(value: Decimal) -> int:
    return int(value * 100_000_000)


class Checker:
    """The invariants, checked against the desk's engine and its SQLite file after each step."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ledger_sums: dict[str, int] = defaultdict(int)
        self.ledger_seen = 0
        self.outcome_seen = 0
        self.journal_rows = self._journal_count()

    def rebind(self, desk: Desk) -> None:
        self.desk = desk

    def _journal_count(self) -> int:
        return self.desk.store.conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0]

    # state captured before a step
    def before(self) -> dict:
        exchange = self.desk.exchange
        isolated, cross = {}, {}
        for account in exchange.accounts.values():
            for position in account.positions.values():
                if position.isolated:
                    isolated[position.key()] = (position.margin, position.leverage, position.side, position.qty)
                else:
                    cross[position.key()] = (position.side, position.qty)
        copiers = {lead.user: set(lead.copiers) for lead in exchange.leads.values()}
        return {"isolated": isolated, "cross": cross, "copiers": copiers, "now_ms": exchange.now_ms}

    def after(self, line: dict, outcome, before: dict) -> None:
        exchange = self.desk.exchange
        conn = self.desk.store.conn
        # ledger_zero
        total = exchange.ledger.total()
        if total != 0:
            raise InvariantBroken("ledger_zero", f"the engine's ledger sums to {total}")
        sql_total = conn.execute("SELECT coalesce(sum(balance), 0) FROM wallets").fetchone()[0]
        if sql_total != 0:
            raise InvariantBroken("ledger_zero", f"SELECT sum(balance) FROM wallets = {sql_total} units")
        # wallet_matches_ledger (incrementally from the new ledger rows)
        for entry_id, debit, credit, amount in conn.execute(
                "SELECT id, debit, credit, amount FROM ledger WHERE id > ? ORDER BY id", (self.ledger_seen,)):
            self.ledger_sums[debit] -= amount
            self.ledger_sums[credit] += amount
            self.ledger_seen = entry_id
        wallets = dict(conn.execute("SELECT account, balance FROM wallets"))
        for account, balance in wallets.items():
            if self.ledger_sums.get(account, 0) != balance:
                raise InvariantBroken("wallet_matches_ledger", f"{account}: wallets.balance {balance} units, ledger "
                                      f"credits − debits {self.ledger_sums.get(account, 0)} units")
            memory = exchange.ledger.wallets.get(account)
            if memory is None or _units(memory.balance) != balance:
                raise InvariantBroken("wallet_matches_ledger", f"{account}: {balance} units in SQLite, "
                                      f"{None if memory is None else memory.balance} in the engine")
            # no_negative_user_balance
            if ":" in account and balance < 0:
                raise InvariantBroken("no_negative_user_balance", f"{account} is at {balance} units")
        if len(wallets) != len(exchange.ledger.wallets):
            raise InvariantBroken("wallet_matches_ledger", f"{len(wallets)} wallets in SQLite, "
                                  f"{len(exchange.ledger.wallets)} in the engine")
        for account in exchange.accounts.values():
            for position in account.positions.values():
                if position.isolated and position.margin < 0:
                    raise InvariantBroken("no_negative_user_balance", f"{position.key()} has margin {position.margin}")
        events = outcome.events if outcome is not None else []
        self._isolated_losses(before, events)
        self._outcomes(line, before, events)
        # rejection_changed_nothing
        rows = self._journal_count()
        if outcome is not None and not outcome.accepted and not outcome.code.startswith("STORAGE_"):
            moved_time = exchange.now_ms != before["now_ms"]
            if rows != self.journal_rows and not moved_time:
                raise InvariantBroken("rejection_changed_nothing", f"a {line.get('do')} rejected with {outcome.code} "
                                      "still wrote changes")
        self.journal_rows = rows

    def _isolated_losses(self, before: dict, events: list) -> None:
        exchange = self.desk.exchange
        losses: dict = defaultdict(Decimal)
        credit: dict = defaultdict(Decimal)
        # The position each key holds as the step's fills go by: (side, qty, leverage if known). A position
        # opened within the step has the leverage of its order, which no event carries: count its whole
        # notional as margin then (leverage 1), an upper bound.
        # A cross position's closes do not count (its loss may reach the wallet, not just a margin).
        held = {key: (side, qty, leverage, True) for key, (_m, leverage, side, qty) in before["isolated"].items()}
        held.update({key: (side, qty, None, False) for key, (side, qty) in before["cross"].items()})

        for event in events:
            if isinstance(event, Fill):
                key = (event.account, event.symbol, event.lead)
                side, qty, leverage, isolated = held.get(key, (event.side, Decimal(0), None, None))
                if event.closed_qty:
                    if event.realized_pnl < 0 and isolated is not False:
                        losses[key] -= event.realized_pnl
                    qty -= event.closed_qty
                opened = event.qty - event.closed_qty
                if opened:
                    if qty <= 0 or side != event.side:
                        side, qty, leverage, isolated = event.side, Decimal(0), None, None
                    credit[key] += opened * event.price / (leverage or 1) + Decimal("0.00000001")
                    qty += opened
                held[key] = (side, qty, leverage, isolated)
            elif isinstance(event, MarginChanged) and event.delta > 0:
                credit[(event.account, event.symbol, event.lead)] += event.delta
            elif isinstance(event, FundingPayment) and event.amount > 0:
                credit[(event.account, event.symbol, event.lead)] += event.amount
            elif isinstance(event, tuple) and event and event[0] == "margin_sync":
                for sync in event[3]:
                    if sync.delta is not None and sync.delta > 0:
                        credit[(f"{sync.copier}:copy", sync.symbol, sync.lead)] += sync.delta
        for key, loss in losses.items():
            start = before["isolated"].get(key)
            account = exchange.accounts.get(key[0])
            now = account.positions.get((key[1], key[2])) if account is not None else None
            if start is None and (now is None or not now.isolated):
                continue  # a cross position, or one opened and gone within the step
            had = (start[0] if start else Decimal(0)) + credit[key]
            if loss > had:
                raise InvariantBroken("isolated_loss_within_margin", f"{key} realized a loss of {loss} in one step "
                                      f"with at most {had} of margin")

    def _outcomes(self, line: dict, before: dict, events: list) -> None:
        conn = self.desk.store.conn
        exchange = self.desk.exchange
        dupes = conn.execute("SELECT lead_order, copier, count(*) FROM outcomes WHERE seq > ? "
                             "GROUP BY lead_order, copier HAVING count(*) > 1 LIMIT 1", (self.outcome_seen,)).fetchone()
        if dupes:
            raise InvariantBroken("one_outcome_per_copier", f"{dupes[1]} has {dupes[2]} outcomes for {dupes[0]}")
        self.outcome_seen = conn.execute("SELECT coalesce(max(seq), 0) FROM outcomes").fetchone()[0]
        quiet = exchange.now_ms == before["now_ms"] and line.get("do") != "advance"
        for event in events:
            if isinstance(event, tuple) and event and event[0] == "lead_order":
                _, lead, lead_order, _fill, outcomes = event
                copiers = [o.copier for o in outcomes]
                if len(copiers) != len(set(copiers)):
                    raise InvariantBroken("one_outcome_per_copier", f"{lead_order} gave a copier two outcomes")
                if quiet and set(copiers) != before["copiers"].get(lead, set()):
                    missing = before["copiers"].get(lead, set()) - set(copiers)
                    raise InvariantBroken("one_outcome_per_copier", f"{lead_order} of {lead}: no outcome for "
                                          f"{sorted(missing)[:5]}, or one for a non-copier")

    def audit(self) -> None:
        audit_database(self.desk.store.conn)


def audit_database(conn) -> None:
    """The invariants SQL alone can check, over the whole file: the ledger sums to zero, every wallet
    equals its entries (credits − debits), no user balance is below zero, and no copier has two outcomes
    for one lead order. Raises InvariantBroken."""
    total = conn.execute("SELECT coalesce(sum(balance), 0) FROM wallets").fetchone()[0]
    if total != 0:
        raise InvariantBroken("ledger_zero", f"SELECT sum(balance) FROM wallets = {total} units")
    row = conn.execute("""
        SELECT w.account, w.balance, coalesce(c.total, 0) - coalesce(d.total, 0)
        FROM wallets w
        LEFT JOIN (SELECT credit AS account, sum(amount) AS total FROM ledger GROUP BY credit) c USING (account)
        LEFT JOIN (SELECT debit AS account, sum(amount) AS total FROM ledger GROUP BY debit) d USING (account)
        WHERE w.balance != coalesce(c.total, 0) - coalesce(d.total, 0) LIMIT 1""").fetchone()
    if row:
        raise InvariantBroken("wallet_matches_ledger", f"{row[0]}: balance {row[1]}, ledger {row[2]} (full audit)")
    row = conn.execute("SELECT account, balance FROM wallets WHERE account LIKE '%:%' AND balance < 0 LIMIT 1").fetchone()
    if row:
        raise InvariantBroken("no_negative_user_balance", f"{row[0]} is at {row[1]} units")
    dupes = conn.execute("SELECT lead_order, copier, count(*) FROM outcomes GROUP BY lead_order, copier "
                         "HAVING count(*) > 1 LIMIT 1").fetchone()
    if dupes:
        raise InvariantBroken("one_outcome_per_copier", f"{dupes[1]} has {dupes[2]} outcomes for {dupes[0]}")


# --- the run ---------------------------------------------------------------------------------------


def command_line(steps: int, seed: int) -> str:
    return f"copydesk soak --steps {steps} --seed {seed}"


def run_soak(steps: int, seed: int, *, out: TextIO | None = None, db: Path | None = None,
             replay_every: int = 250, reopen_every: int = 500, audit_every: int = 250,
             progress_every: int = 1000) -> SoakReport:
    """Run `steps` generated lines through a desk on a fresh database, checking after each one."""
    report = SoakReport()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="copydesk-soak-") as scratch:
        path = Path(db) if db is not None else Path(scratch) / "soak.db"
        generator = Generator(seed)
        desk = Desk.open(path)
        checker = Checker(desk)
        # The journal replayed as it grows into a second fresh database (linear, unlike a full replay
        # every N steps); at the end the whole journal is also replayed from scratch by replay_journal.
        shadow = Desk.open(Path(scratch) / "shadow.db", lock=False)
        shadow_seq = 0
        step = 0
        line: dict | None = None
        try:
            for step in range(1, steps + 1):
                line = generator.next_line(desk.exchange)
                before = checker.before()
                try:
                    outcome = desk.execute(json.loads(json.dumps(line)))
                except Exception:  # noqa: BLE001 - an engine bug: report it like a broken invariant
                    raise InvariantBroken("no_exception", traceback.format_exc(limit=8).strip()) from None
                action = str(line.get("do"))
                (report.accepted if outcome.accepted else report.rejected)[action] += 1
                if not outcome.accepted:
                    report.codes[outcome.code] += 1
                for event in outcome.events:
                    if isinstance(event, Fill):
                        report.fills += 1
                    elif isinstance(event, tuple) and event and event[0] == "lead_order":
                        report.lead_orders += 1
                        report.outcomes += len(event[4])
                    elif type(event).__name__ == "Liquidation":
                        report.liquidations += 1
                checker.after(line, outcome, before)
                report.steps = step
                if audit_every and step % audit_every == 0:
                    checker.audit()
                if reopen_every and step % reopen_every == 0:
                    state = desk.state_hash()
                    desk.close()
                    desk = Desk.open(path)
                    checker.rebind(desk)
                    report.reopens += 1
                    if desk.state_hash() != state:
                        raise InvariantBroken("reopen_same_state", "the state loaded from SQLite differs from the "
                                              "engine's state before closing")
                if replay_every and step % replay_every == 0:
                    shadow_seq = _catch_up(desk, shadow, shadow_seq)
                    report.replays += 1
                if step == steps:
                    _check_replay(desk, Path(scratch) / "replay.db")
                    report.replays += 1
                if out is not None and progress_every and step % progress_every == 0:
                    elapsed = time.perf_counter() - started
                    out.write(f"step {step}/{steps}  users {len(desk.exchange.users)}  fills {report.fills}  "
                              f"lead orders {report.lead_orders}  outcomes {report.outcomes}  "
                              f"liquidations {report.liquidations}  ledger entries {desk.exchange.ledger.entry_count}"
                              f"  ({step / elapsed:.0f} steps/s)\n")
                    out.flush()
        except InvariantBroken as broken:
            report.failure, report.failed_step, report.failed_line = broken, step, line
        finally:
            desk.close()
            shadow.close()
    report.seconds = time.perf_counter() - started
    return report


def _catch_up(desk: Desk, shadow: Desk, seen: int) -> int:
    """Apply the journal lines after `seen` to the shadow desk; it must reach the desk's state."""
    for seq, command in desk.store.conn.execute("SELECT seq, command FROM journal WHERE seq > ? ORDER BY seq",
                                                (seen,)).fetchall():
        shadow.execute(json.loads(command))
        seen = seq
    if shadow.state_hash() != desk.state_hash():
        raise InvariantBroken("replay_same_state", "the journal replayed into a fresh database (incrementally) gave "
                              "another state hash")
    return seen


def _check_replay(desk: Desk, target: Path) -> None:
    copy = replay_journal(desk.store, target)
    try:
        if copy.state_hash() != desk.state_hash():
            raise InvariantBroken("replay_same_state", "replaying the journal into a fresh database gave another "
                                  "state hash")
    finally:
        copy.close()
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(target) + suffix).unlink(missing_ok=True)


def main(steps: int, seed: int, db: Path | None, out: TextIO, err: TextIO) -> int:
    """`copydesk soak`: exit 0 when every invariant held, 1 with the broken one and how to reproduce it."""
    if not 1 <= steps <= 10_000_000:
        err.write("copydesk soak: --steps must be between 1 and 10000000\n")
        return 2
    if db is not None and db.exists() and db.stat().st_size > 0:
        err.write(f"copydesk soak: {db} already exists; the soak needs a fresh database (pick a new --db)\n")
        return 2
    out.write(f"soak: {steps} steps, seed {seed}\n")
    out.flush()
    report = run_soak(steps, seed, out=out, db=db)
    if report.failure is not None:
        err.write(f"INVARIANT BROKEN at step {report.failed_step}: {report.failure.name}\n")
        err.write(f"  {report.failure.detail}\n")
        err.write(f"  line: {json.dumps(report.failed_line, ensure_ascii=False)}\n")
        err.write(f"reproduce: {command_line(report.failed_step, seed)}\n")
        return 1
    accepted, rejected = sum(report.accepted.values()), sum(report.rejected.values())
    out.write(f"ok: {report.steps} steps ({accepted} accepted, {rejected} rejected) in {report.seconds:.1f} s; "
              f"{report.fills} fills, {report.lead_orders} lead orders, {report.outcomes} copier outcomes, "
              f"{report.liquidations} liquidations; {report.reopens} reopens and {report.replays} journal replays "
              "gave the same state\n")
    return 0


# --- the `soak` subcommand (wired into app/cli.py) -------------------------------------------------


def add_soak_command(commands) -> None:
    soak = commands.add_parser("soak", help="run a seeded random simulation and check the desk's invariants "
                                            "after every step")
    soak.add_argument("--steps", type=int, default=5000, help="how many command lines to run (default 5000)")
    soak.add_argument("--seed", type=int, default=1, help="seed of the generated lines (default 1)")
    soak.add_argument("--db", dest="soak_db", type=Path, metavar="PATH",
                      help="keep the simulation's database in this new file (default: a temporary one)")


def run_soak_command(args) -> int:
    import sys
    return main(args.steps, args.seed, args.soak_db, sys.stdout, sys.stderr)
