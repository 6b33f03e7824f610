"""Live mark prices from a public exchange's futures websocket (prices only: trading stays simulated).

Default source: Binance USDⓈ-M futures — the combined `<symbol>@markPrice@1s` streams for the
prices, REST 1-minute klines for recent history. Both base URLs can be changed (constructor, or
COPYDESK_LIVE_WS / COPYDESK_LIVE_REST), which is how tests point the feed at a local stand-in.

The feed reconnects forever with backoff (1 s, 2 s, 4 s … 15 s) and says how it is doing in
`status`; when it is lost the engine simply stops receiving prices and keeps running.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from engine.errors import Rejected
from engine.money import parse_decimal, round_to_step

from .tick import PriceTick

DEFAULT_WS = "wss://fstream.binance.com"
DEFAULT_REST = "https://fapi.binance.com"


class LiveFeed:
    """Async source of PriceTicks for the given symbols (symbol → tick size)."""

    def __init__(self, ticks: dict[str, Decimal], *, ws_url: str | None = None, rest_url: str | None = None,
                 stale_after: float = 10.0, backoff_start: float = 1.0, backoff_max: float = 15.0,
                 clock: Callable[[], float] = time.monotonic):
        if not ticks:
            raise ValueError("a live feed needs at least one symbol")
        self._ticks = {symbol.upper(): tick for symbol, tick in ticks.items()}
        self.ws_url = (ws_url or os.environ.get("COPYDESK_LIVE_WS") or DEFAULT_WS).rstrip("/")
        self.rest_url = (rest_url or os.environ.get("COPYDESK_LIVE_REST") or DEFAULT_REST).rstrip("/")
        self.stale_after = stale_after
        self._backoff = (backoff_start, backoff_max)
        self._clock = clock
        self._started = clock()
        self._last_price: float | None = None
        self.connected = False
        self.attempt = 0          # reconnection attempts since prices last flowed
        self.last_error: str | None = None

    # --- health ---------------------------------------------------------------------------------

    def quiet_for(self) -> float:
        return self._clock() - (self._started if self._last_price is None else self._last_price)

    @property
    def stale(self) -> bool:
        return self.quiet_for() > self.stale_after

    @property
    def status(self) -> str:
        """One line for a banner."""
        if self.attempt and not self.connected:
            return f"reconnecting (attempt {self.attempt})"
        if self.stale:
            return f"live feed stale for {int(self.quiet_for())} s"
        return "live feed ok" if self._last_price is not None else "live feed connecting"

    # --- prices ---------------------------------------------------------------------------------

    def stream_url(self) -> str:
        streams = "/".join(f"{symbol.lower()}@markPrice@1s" for symbol in self._ticks)
        return f"{self.ws_url}/stream?streams={streams}"

    async def ticks(self) -> AsyncIterator[PriceTick]:
        """Mark price updates as they arrive, across reconnections, forever."""
        delay = self._backoff[0]
        while True:
            try:
                async with connect(self.stream_url(), open_timeout=10, max_size=2**20) as socket:
                    self.connected = True
                    while True:
                        # A socket that stays silent far past "stale" is presumed dead: reconnect.
                        raw = await asyncio.wait_for(socket.recv(), timeout=self.stale_after * 3)
                        tick = self.parse(raw)
                        if tick is not None:
                            self._last_price = self._clock()
                            self.attempt, delay = 0, self._backoff[0]
                            yield tick
            except (OSError, WebSocketException, TimeoutError) as error:
                self.last_error = str(error) or type(error).__name__
            self.connected = False
            self.attempt += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff[1])

    def parse(self, raw: str | bytes) -> PriceTick | None:
        """A `markPriceUpdate` (bare or wrapped as {"stream", "data"}) → PriceTick; anything else → None."""
        try:
            message = json.loads(raw)
        except ValueError:
            return None
        data = message.get("data", message) if isinstance(message, dict) else None
        if not isinstance(data, dict) or data.get("e") != "markPriceUpdate":
            return None
        symbol = str(data.get("s", "")).upper()
        tick = self._ticks.get(symbol)
        mark = _price(data.get("p"), tick)
        if tick is None or mark is None:
            return None
        index = _price(data.get("i"), tick) or mark
        at_ms = data.get("E") if isinstance(data.get("E"), int) else int(time.time() * 1000)
        # The mark stream carries no trade price; last follows mark.
        return PriceTick(at_ms=at_ms, symbol=symbol, mark=mark, last=mark, index=index)

    async def history(self, limit: int = 60, interval: str = "1m") -> dict[str, list[PriceTick]]:
        """Recent closes per symbol from REST klines (the last one is the current minute so far)."""
        history: dict[str, list[PriceTick]] = {}
        async with httpx.AsyncClient(base_url=self.rest_url, timeout=10) as client:
            for symbol, tick in self._ticks.items():
                response = await client.get("/fapi/v1/klines",
                                            params={"symbol": symbol, "interval": interval, "limit": limit})
                response.raise_for_status()
                points = []
                for row in response.json():
                    close = _price(row[4], tick)
                    if close is not None:
                        points.append(PriceTick(at_ms=int(row[6]), symbol=symbol, mark=close, last=close, index=close))
                history[symbol] = points
        return history


def _price(raw: object, tick: Decimal | None) -> Decimal | None:
    if tick is None or not isinstance(raw, (str, int)):
        return None
    try:  # the engine's parser, as the CSV feed's: nothing it refuses ("NaN", "-5", "1e9999999") becomes a mark
        value = parse_decimal(raw, "mark", code="INVALID_PRICE", max_places=None)
    except Rejected:
        return None
    return max(round_to_step(value, tick), tick)
