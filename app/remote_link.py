"""The workstation's line to a `copydesk serve` desk: the same calls as DeskLink, over HTTP for
commands and views and a websocket for what streams in live. A dropped connection is retried with
backoff, and the screen says so."""
from __future__ import annotations

import asyncio
from collections import deque
from decimal import Decimal
from types import SimpleNamespace

from engine.errors import Rejected
from engine.money import fmt

from . import screen_views, views
from .client import RemoteDesk, RemoteError
from .desk_link import summarize


class RemoteLink:
    def __init__(self, remote: RemoteDesk, user: str) -> None:
        self.remote = remote
        self.user = user
        self.lead_orders: deque = deque(maxlen=40)
        self._activity: deque = deque(maxlen=500)
        self.connection = "connecting"
        self.feed_warning: str | None = None  # a stale or lost live feed on the server, for the header

    def start(self, app) -> None:
        app.run_worker(self._pump(app), group="remote-events", exclusive=True)

    async def _pump(self, app) -> None:
        """Fold the event stream into the mirror panel and the activity feed."""
        try:
            async for event in self.remote.events():
                self.connection = str(self.remote.state)
                self._take(event)
        except RemoteError as error:
            self.connection = f"disconnected: {error.message}"
            app.notify(error.message, title="Server refused the event stream", severity="error")

    def _take(self, event: dict) -> None:
        kind = event.get("type")
        feed = event.get("feed") if kind == "hello" else event if kind == "feed" else None
        if feed is not None:
            self.feed_warning = None if not feed.get("stale") else f"⚠ {feed.get('status', 'market feed stale')}"
        if kind in ("lead_order", "margin_sync") and event.get("lead") == self.user:
            outcomes = event.get("outcomes", [])
            if kind == "lead_order":
                fill = event["fill"]
                self.lead_orders.appendleft(summarize("open/close", event["lead_order"], fill["symbol"], outcomes,
                                                      fill["at"], fill["side"], Decimal(fill["qty"]),
                                                      Decimal(fill["price"])))
            elif outcomes:
                self.lead_orders.appendleft(summarize("margin sync", outcomes[0]["lead_order"], event["symbol"],
                                                      outcomes, outcomes[0]["at"]))
        elif kind == "fill":
            verb = "bought" if event["side"] == "buy" else "sold"
            where = event["account"].split(":")[1].capitalize()
            self._note("fill", f"{where}: {verb} {event['qty']} {event['symbol']} at {event['price']} "
                               f"(fee {event['fee']})", event["at"])
        elif kind == "notification":
            self._note("notice", event["text"], event["at"], event.get("kind", "notice"))
        elif kind == "liquidation":
            self._note("liquidation", f"{event['account'].capitalize()}: {event['symbol']} {event['kind']} "
                                      f"liquidation of {event['qty']} at {event['price']}", event["at"])

    def _note(self, category: str, text: str, at: str, kind: str | None = None) -> None:
        self._activity.append({"category": category, "kind": kind or category, "text": text, "at": at})

    def take_activity(self) -> list[dict]:
        items = list(self._activity)
        self._activity.clear()
        return items

    async def _http(self, call, *args):
        try:
            return await asyncio.to_thread(call, *args)
        except RemoteError as error:
            if not _refused_request(error):
                self.connection = f"server unreachable: {error.message}"
            raise

    async def _ask(self, call, *args):
        """A read: its answer, or a Rejected with a code and a sentence — the server refused the question, or
        could not be reached (`execute` reports that as a rejection too), so a screen handles one exception
        whichever desk it is on."""
        try:
            return await self._http(call, *args)
        except RemoteError as error:
            raise Rejected(error.code, error.message) from None

    async def screen_view(self, name: str, **ask: str):
        wired = await self._ask(self.remote.view, name, ask)  # an unknown name is refused: 404 UNKNOWN_VIEW
        return screen_views.VIEWS[name].decode(wired)

    async def follow_preview(self, line: dict) -> dict:
        return await self._preview({"what": "follow", **line}, screen_views.FOLLOW_PREVIEW_DECIMALS)

    async def execute(self, line: dict):
        try:
            answer = await self._http(self.remote.execute, line)
        except RemoteError as error:
            return SimpleNamespace(accepted=False, code=error.code, message=error.message, result=None)
        return SimpleNamespace(accepted=answer["accepted"], result=answer.get("result"), code=answer.get("code"),
                               message=answer.get("message"))

    async def view(self) -> dict:
        view = views.decode(await self._http(self.remote.get, "/v1/view"))
        if view.get("mirror") is not None:
            view["mirror"]["lead_orders"] = list(self.lead_orders)
        state = str(self.remote.state) if self.remote.state else "connected"
        self.connection = f"{state} · {self.feed_warning}" if self.feed_warning else state
        return view

    async def _preview(self, ask: dict, decimals: frozenset[str] = views.DECIMAL_FIELDS) -> dict:
        answer = await self._ask(self.remote.post, "/v1/preview", ask)
        if "rejected" in answer:
            raise Rejected(answer["rejected"]["code"], answer["rejected"]["message"])
        return views.decode(answer, decimals)

    async def preview(self, **order) -> dict:
        ask = {"what": "order", **{k: (fmt(v) if isinstance(v, Decimal) else v) for k, v in order.items()}}
        return await self._preview(ask)

    async def margin_view(self, kind: str, symbol: str, lead: str, delta: Decimal) -> dict:
        return await self._preview({"what": "margin", "kind": kind, "symbol": symbol, "lead": lead,
                                    "delta": fmt(delta)})


def _refused_request(error: RemoteError) -> bool:
    """The server answered, and refused what was asked (4xx): the connection itself is fine."""
    return error.status is not None and 400 <= error.status < 500
