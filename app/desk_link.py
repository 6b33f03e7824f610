"""The workstation's line to the engine: awaitable commands and views, and what streams in live
(lead-order fan-outs, margin syncs, notifications, fills) collected on the engine thread."""
from __future__ import annotations

import asyncio
import threading
from collections import Counter, deque
from decimal import Decimal
from typing import Any

from engine.clock import format_time
from engine.fills import Fill
from engine.liquidation import Liquidation
from engine.money import fmt
from engine.previews import preview_order
from engine.records import Notification
from storage.desk import Outcome

from . import screen_views, views
from .service import DeskService
from .views_profile import follow_preview

SAMPLE = 12  # outcomes kept per lead order for the mirror panel


def summarize(kind: str, lead_order: str, symbol: str, outcomes: list[dict], at: str, side: str | None = None,
              qty: Decimal | None = None, price: Decimal | None = None) -> dict:
    """One entry of the mirror panel from outcome views: counts, reasons and a sample of copiers."""
    filled = [o for o in outcomes if o["status"] == "filled"]
    failed = [o for o in outcomes if o["status"] != "filled"]
    number = lambda text: None if text is None else Decimal(text)  # noqa: E731
    return {"kind": kind, "lead_order": lead_order, "symbol": symbol, "at": at, "side": side, "qty": qty,
            "price": price, "filled": len(filled), "failed": len(failed),
            "reasons": Counter(o["code"] for o in failed).most_common(4),
            "copied_qty": sum((number(o["qty"]) for o in filled if o["qty"] is not None), Decimal(0)),
            "sample": [{"copier": o["copier"], "status": o["status"], "code": o["code"], "qty": number(o["qty"]),
                        "price": number(o["price"]), "delta": number(o["delta"]), "kind": o["kind"]}
                       for o in outcomes[:SAMPLE]]}


class DeskLink:
    def __init__(self, service: DeskService, user: str) -> None:
        self.service = service
        self.user = user
        self.lead_orders: deque = deque(maxlen=40)
        self._activity: deque = deque(maxlen=500)
        self._guard = threading.Lock()
        service.subscribe(self._on_command)

    # --- engine thread ---------------------------------------------------------------------------

    def _on_command(self, line: dict, outcome: Outcome) -> None:
        for event in outcome.events:
            if isinstance(event, tuple) and event[0] == "lead_order" and event[1] == self.user:
                _, _, lead_order, fill, outcomes = event
                self.lead_orders.appendleft(summarize(
                    "open/close", lead_order, fill.symbol, [o.view() for o in outcomes], format_time(fill.at_ms),
                    "buy" if fill.side > 0 else "sell", fill.qty, fill.price))
            elif isinstance(event, tuple) and event[0] == "margin_sync" and event[1] == self.user and event[3]:
                _, _, symbol, outcomes = event
                self.lead_orders.appendleft(summarize("margin sync", outcomes[0].lead_order, symbol,
                                                      [o.view() for o in outcomes], format_time(outcomes[0].at_ms)))
            elif isinstance(event, Notification) and event.user == self.user:
                self._note("notice", event.kind, event.text, event.at_ms)
            elif isinstance(event, Fill) and event.account.startswith(self.user + ":"):
                verb = "bought" if event.side > 0 else "sold"
                where = event.account.split(":")[1].capitalize()
                pnl = f", PnL {fmt(event.realized_pnl)}" if event.closed_qty else ""
                self._note("fill", event.kind, f"{where}: {verb} {fmt(event.qty)} {event.symbol} at "
                           f"{fmt(event.price)} (fee {fmt(event.fee)}{pnl})", event.at_ms)
            elif isinstance(event, Liquidation) and event.user == self.user:
                self._note("liquidation", event.kind, f"{event.account.capitalize()}: {event.symbol} {event.kind} "
                           f"liquidation of {fmt(event.qty)} at {fmt(event.price)}", event.at_ms)

    def _note(self, category: str, kind: str, text: str, at_ms: int) -> None:
        with self._guard:
            self._activity.append({"category": category, "kind": kind, "text": text, "at": format_time(at_ms)})

    # --- UI side -------------------------------------------------------------------------------------

    def start(self, app) -> None:
        """Nothing to start: events arrive through the engine thread's listener."""

    def take_activity(self) -> list[dict]:
        with self._guard:
            items = list(self._activity)
            self._activity.clear()
        return items

    async def execute(self, line: dict) -> Outcome:
        return await asyncio.wrap_future(self.service.submit(line))

    async def call(self, work) -> Any:
        return await asyncio.wrap_future(self.service.call(work))

    async def screen_view(self, name: str, **ask: str) -> Any:
        """A full screen's view by name (`app/screen_views.py`): the same one `--connect` asks the server for."""
        user = self.user
        return await self.call(lambda desk: screen_views.build(desk, user, name, ask))

    async def follow_preview(self, line: dict) -> dict:
        user = self.user
        return await self.call(lambda desk: follow_preview(desk, user, line))

    async def view(self) -> dict:
        user, lead_orders = self.user, self.lead_orders
        return await self.call(lambda desk: views.desk_view(desk.exchange, user, lead_orders))

    async def preview(self, **order) -> dict:
        user = self.user
        return await self.call(lambda desk: preview_order(desk.exchange, user, **order))

    async def margin_view(self, kind: str, symbol: str, lead: str, delta: Decimal) -> dict:
        user = self.user
        return await self.call(lambda desk: views.margin_view(desk.exchange, user, kind, symbol, lead, delta))
