"""A local stand-in for Binance USDⓈ-M futures market data: the combined mark-price websocket stream and
REST klines, in Binance's message formats, on one 127.0.0.1 port. Tests script what it sends."""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response


def mark_update(symbol: str, mark: str, index: str | None = None, event_ms: int = 1767225600000) -> str:
    data = {"e": "markPriceUpdate", "E": event_ms, "s": symbol, "p": mark, "i": index or mark,
            "P": mark, "r": "0.00010000", "T": 1767254400000}
    return json.dumps({"stream": f"{symbol.lower()}@markPrice@1s", "data": data})


def kline(open_ms: int, close: str) -> list:
    return [open_ms, close, close, close, close, "12.5", open_ms + 59_999, "1000", 10, "6", "500", "0"]


class BinanceStandIn:
    """`script(connection, number)` runs for each websocket connection (numbered from 1)."""

    def __init__(self, script: Callable[[ServerConnection, int], Awaitable[None]],
                 klines: dict[str, list[list]] | None = None):
        self.script = script
        self.klines = klines or {}
        self.connections = 0
        self.paths: list[str] = []
        self._server = None

    async def __aenter__(self) -> "BinanceStandIn":
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._http)
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def base(self) -> str:
        return f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def _http(self, connection: ServerConnection, request) -> Response | None:
        url = urlsplit(request.path)
        if url.path != "/fapi/v1/klines":
            return None  # the websocket stream
        symbol = parse_qs(url.query)["symbol"][0]
        limit = int(parse_qs(url.query).get("limit", ["500"])[0])
        body = json.dumps(self.klines.get(symbol, [])[-limit:]).encode()
        return Response(HTTPStatus.OK, "OK", Headers({"Content-Type": "application/json",
                                                      "Content-Length": str(len(body))}), body)

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        self.paths.append(connection.request.path)
        await self.script(connection, self.connections)
