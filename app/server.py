"""`copydesk serve`: the engine headless, with an HTTP JSON API and a websocket event stream.

One port serves both:
  GET  /v1/health     {"ok": true, "engine_time": …, "feed": …}      no token needed
  POST /v1/commands   one command line (the scenario vocabulary)      Authorization: Bearer TOKEN
  GET  /v1/snapshot   ?of=users,copy&period=7d — the caller's slice   Authorization: Bearer TOKEN
  GET  /v1/events     websocket of the caller's events                token in ?token= or the header
  GET  /v1/view       the workstation's main view for the caller      Authorization: Bearer TOKEN
  GET  /v1/views/NAME a full screen's view (app/screen_views.py)      Authorization: Bearer TOKEN
  POST /v1/preview    an order, margin change or follow, not applied  Authorization: Bearer TOKEN

Engine time is the wall clock: the server stamps every line, its own price feed's included, as it
queues it for the engine thread, so stamps reach the engine in order and time never runs back.
Whatever a client sends, it gets a JSON answer; a failure is logged here, never sent as a traceback.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import signal
import sys
import time
import traceback
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from engine.clock import format_time
from engine.commands import parse_line
from engine.errors import Rejected
from engine.money import parse_decimal
from engine.previews import preview_order
from storage.desk import Outcome

from . import screen_views, views
from .api.access import admit
from .api.events import EventHub, stream_events
from .api.http import MAX_HEAD, HttpError, Request, error_response, json_response, read_request
from .api.views import market_prices, snapshot_view
from .feeds import DEFAULT_START_PRICES, CsvReplayFeed, SimulatedFeed
from .feeds.live import LiveFeed
from .service import DeskService
from .tokens import TokenError, user_for
from .upgrade_notice import tell_upgrade
from .views_profile import follow_preview

IDLE_TIMEOUT = 60.0
ENGINE_TIMEOUT = 30.0
ROUTES = {"/v1/health": "GET", "/v1/commands": "POST", "/v1/snapshot": "GET", "/v1/events": "GET",
          "/v1/view": "GET", "/v1/preview": "POST"}
VIEWS_PREFIX = "/v1/views/"
LOCAL_ORIGIN_HOSTS = {"127.0.0.1", "localhost", "::1"}


def wall_ms() -> int:
    return int(time.time() * 1000)


def log(message: str) -> None:
    print(f"copydesk serve: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class FeedChoice:
    kind: str                         # simulated | replay | live
    replay: CsvReplayFeed | None = None

    @classmethod
    def parse(cls, spec: str) -> "FeedChoice":
        if spec in ("simulated", "live"):
            return cls(spec)
        path = spec.removeprefix("replay:")
        if spec.startswith("replay:") and path:
            try:
                return cls("replay", CsvReplayFeed.from_path(path))
            except OSError as error:
                raise ValueError(f"cannot read the replay file {path}: {error.strerror or error}") from None
            except UnicodeDecodeError:
                raise ValueError(f"cannot read the replay file {path}: it is not UTF-8 text") from None
        raise ValueError(f"--feed must be simulated, live or replay:FILE, got {spec!r}")


class ApiServer:
    def __init__(self, service: DeskService, feed: FeedChoice, *, seed: int = 7, speed: float = 1.0):
        self.service = service
        self.feed = feed
        self._seed, self._speed = seed, speed
        self._last_stamp = 0
        self._live: LiveFeed | None = None
        self._connections: set[asyncio.Task] = set()
        self._tasks: list[asyncio.Task] = []
        self.hub: EventHub | None = None
        self._server: asyncio.Server | None = None

    # --- life cycle ----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> int:
        """Listen and start the feed; returns the port (useful with port 0)."""
        loop = asyncio.get_running_loop()
        self.hub = EventHub(loop)
        self.service.subscribe(self.hub.on_command)
        self._last_stamp = await self._engine(lambda desk: desk.exchange.now_ms)
        self._server = await asyncio.start_server(self._accept, host, port, limit=MAX_HEAD)
        self._tasks = [asyncio.create_task(self.hub.run_ticker(self._engine_now)),
                       asyncio.create_task(self._run_feed())]
        return self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self.hub is not None:
            self.hub.close_all()
            await asyncio.sleep(0.05)  # let close frames go out
        for task in [*self._tasks, *self._connections]:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._connections, return_exceptions=True)

    # --- the engine ----------------------------------------------------------------------------

    def submit(self, line: dict) -> Future:
        """Stamp `line` with the wall clock and queue it. Called only on the event loop, so stamps
        enter the engine's queue in order; never behind engine time (an operator's `advance`)."""
        stamp = max(wall_ms(), self._last_stamp, self._engine_now())
        self._last_stamp = stamp
        return self.service.submit({**line, "at": format_time(stamp)})

    def _engine_now(self) -> int:
        return self.service.desk.exchange.now_ms  # an int read: safe from this thread

    async def _engine(self, work) -> object:
        return await asyncio.wait_for(asyncio.wrap_future(self.service.call(work)), ENGINE_TIMEOUT)

    # --- connections ---------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        try:
            await self._converse(reader, writer)
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the server is stopping; asyncio would report a cancelled connection task as an error
        except Exception:
            traceback.print_exc(file=sys.stderr)
        finally:
            self._connections.discard(task)
            writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Requests on one connection, one at a time, until it closes or upgrades to a websocket."""
        while True:
            try:
                request = await asyncio.wait_for(read_request(reader), IDLE_TIMEOUT)
            except HttpError as error:
                writer.write(error_response(error, keep_alive=False))
                await writer.drain()
                await _discard(reader, error.unread)
                return
            if request is None:
                return
            if request.path == "/v1/events" and request.method == "GET":
                try:
                    viewer = self._websocket_viewer(request)
                    hello = await self._engine(lambda desk: {
                        "type": "hello", "user": viewer, "engine_time": format_time(desk.exchange.now_ms),
                        "prices": market_prices(desk.exchange)})
                    hello["feed"] = self._feed_status()
                    await stream_events(request, reader, writer, self.hub, viewer, hello)
                except HttpError as error:
                    writer.write(error_response(error, keep_alive=False))
                    await writer.drain()
                return
            writer.write(await self._respond(request))
            await writer.drain()
            if not request.keep_alive:
                return

    async def _respond(self, request: Request) -> bytes:
        try:
            status, payload = await self._route(request)
            return json_response(status, payload, keep_alive=request.keep_alive)
        except HttpError as error:
            return error_response(error, keep_alive=request.keep_alive)
        except TimeoutError:
            # The command may still run: retrying with the same `id` is safe.
            return error_response(HttpError(503, "ENGINE_BUSY", f"the engine did not answer within {ENGINE_TIMEOUT:g} s"),
                                  keep_alive=request.keep_alive)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return error_response(HttpError(500, "INTERNAL", "the server failed to answer; see its log"),
                                  keep_alive=request.keep_alive)

    async def _route(self, request: Request) -> tuple[int, object]:
        named_view = request.path.startswith(VIEWS_PREFIX)
        method = "GET" if named_view else ROUTES.get(request.path)
        if method is None:
            raise HttpError(404, "NOT_FOUND", f"no such endpoint {request.path}; try {', '.join(ROUTES)} "
                                              f"or {VIEWS_PREFIX}NAME")
        if request.method != method:
            raise HttpError(405, "METHOD_NOT_ALLOWED", f"{request.path} takes {method}", headers={"Allow": method})
        if request.path == "/v1/health":
            now = await self._engine(lambda desk: desk.exchange.now_ms)
            return 200, {"ok": True, "engine_time": format_time(now), "feed": self._feed_status()}
        viewer = self._viewer(request.bearer())
        if named_view:
            return 200, await self._screen_view(viewer, request.path[len(VIEWS_PREFIX):], request.query)
        if request.path == "/v1/view":
            return 200, await self._engine(lambda desk: views.desk_view(desk.exchange, viewer, deque()))
        if request.path == "/v1/preview":
            return 200, await self._preview(viewer, request.body)
        if request.path == "/v1/snapshot":
            of = ",".join(request.query.get("of", []))
            period = request.query.get("period", ["all"])[-1]
            return 200, await self._snapshot(viewer, [name for name in of.split(",") if name] or None, period)
        return 200, await self._command(viewer, request.body)

    async def _command(self, viewer: str, body: bytes) -> dict:
        try:
            line = json.loads(body)
        except (ValueError, RecursionError):  # bad UTF-8 and absurd nesting too
            raise HttpError(400, "BAD_JSON", "the body must be one JSON object (a command line)") from None
        line = admit(line, viewer)
        if line.get("do") == "snapshot":
            # The engine's own snapshot consumes records and shows every user: serve the caller's view.
            return {"accepted": True, "result": await self._snapshot(viewer, line.get("of"), line.get("period", "all"))}
        outcome: Outcome = await asyncio.wait_for(asyncio.wrap_future(self.submit(line)), ENGINE_TIMEOUT)
        if not outcome.accepted:
            return {"accepted": False, "code": outcome.code, "message": outcome.message}
        answer = {"accepted": True, "result": outcome.result}
        if outcome.duplicate:
            answer.update(duplicate=True, message=outcome.message)
        return answer

    async def _screen_view(self, viewer: str, name: str, query: dict[str, list[str]]) -> object:
        ask = {key: values[-1] for key, values in query.items()}
        try:
            builder = screen_views.check(name, ask)
            return await self._engine(lambda desk: builder(desk, viewer, ask))
        except Rejected as rejection:
            status = 404 if rejection.code == "UNKNOWN_VIEW" else 400
            raise HttpError(status, rejection.code, rejection.message) from None

    async def _preview(self, viewer: str, body: bytes) -> dict:
        """What the workstation's ticket and margin dialog show before sending: computed, never applied."""
        try:
            ask = json.loads(body)
            what = ask.pop("what")
            if what == "order":
                order = _preview_order_fields(ask)
                work = lambda desk: preview_order(desk.exchange, viewer, **order)  # noqa: E731
            elif what == "margin":
                if not all(isinstance(ask[name], str) for name in ("kind", "symbol", "lead")):
                    raise TypeError("kind, symbol and lead are text")
                delta = parse_decimal(ask["delta"], "delta", allow_zero=True, allow_negative=True)
                work = lambda desk: views.margin_view(desk.exchange, viewer, ask["kind"], ask["symbol"],  # noqa: E731
                                                      ask["lead"], delta)
            elif what == "follow":
                work = lambda desk: follow_preview(desk, viewer, ask)  # noqa: E731
            else:
                raise KeyError(what)
        except Rejected as rejection:  # a field the engine's own parsing refuses (NaN, 1e400, …)
            return {"rejected": {"code": rejection.code, "message": rejection.message}}
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError, RecursionError):
            raise HttpError(400, "BAD_PREVIEW", "a preview is {\"what\": \"order\"|\"margin\"|\"follow\", …} with "
                                                "the ticket's or the dialog's fields") from None
        try:
            return await self._engine(work)
        except Rejected as rejection:
            return {"rejected": {"code": rejection.code, "message": rejection.message}}
        except TypeError:
            raise HttpError(400, "BAD_PREVIEW", "unknown field in the preview request") from None

    async def _snapshot(self, viewer: str, of: object, period: object) -> dict:
        try:
            command = parse_line({"do": "snapshot", "of": of, "period": period}).command
        except Rejected as rejection:
            raise HttpError(400, rejection.code, rejection.message) from None
        return await self._engine(lambda desk: snapshot_view(desk.exchange, viewer, command.of, command.period))

    def _viewer(self, token: str | None) -> str:
        if not token:
            raise HttpError(401, "UNAUTHORIZED", "send your token: Authorization: Bearer TOKEN "
                                                 "(copydesk token NAME prints it)", headers={"WWW-Authenticate": "Bearer"})
        try:
            viewer = user_for(token)
        except TokenError as error:
            log(str(error))
            raise HttpError(500, "TOKENS_UNREADABLE", "the server cannot read its token file; see its log") from None
        if viewer is None:
            raise HttpError(401, "UNAUTHORIZED", "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return viewer

    def _websocket_viewer(self, request: Request) -> str:
        origin = request.headers.get("origin")
        if origin is not None and not local_origin(origin):
            raise HttpError(403, "BAD_ORIGIN", f"origin {origin!r} may not open this stream", close=True)
        return self._viewer(request.query.get("token", [None])[-1] or request.bearer())

    # --- price feeds ---------------------------------------------------------------------------

    def _feed_status(self) -> dict:
        if self._live is None:
            return {"kind": self.feed.kind, "status": "ok", "stale": False}
        return {"kind": "live", "status": self._live.status, "stale": self._live.stale}

    async def _run_feed(self) -> None:
        try:
            if self.feed.kind == "live":
                await self._run_live()
            else:
                await self._run_paced()
        except Exception:
            log("the price feed stopped; the engine keeps running without prices")
            traceback.print_exc(file=sys.stderr)

    async def _run_paced(self) -> None:
        """Simulated or replayed prices, one batch a second of wall time."""
        if self.feed.kind == "replay":
            source, first = self.feed.replay, 0
        else:
            starts = await self._engine(lambda desk: {
                symbol: (desk.exchange.markets[symbol].last if symbol in desk.exchange.markets else price,
                         desk.exchange.instruments[symbol].tick)
                for symbol, price in DEFAULT_START_PRICES.items() if symbol in desk.exchange.instruments})
            source = SimulatedFeed({s: p for s, (p, _) in starts.items()}, {s: t for s, (_, t) in starts.items()},
                                   self._seed, speed=self._speed, start_ms=self._last_stamp)
            first = 1000
        refused: set[str] = set()
        step = first
        while True:
            futures = [(tick.symbol, self.submit(tick.to_command())) for tick in source.advance(step)]
            for symbol, future in futures:
                outcome = await asyncio.wrap_future(future)
                if not outcome.accepted and symbol not in refused:
                    refused.add(symbol)  # say it once, not every second
                    log(f"price for {symbol} refused: {outcome.message}")
            if self.feed.kind == "replay" and source.done:
                log("the replay file has finished; the engine keeps running without new prices")
                return
            step = 1000
            await asyncio.sleep(1)

    async def _run_live(self) -> None:
        ticks = await self._engine(lambda desk: {s: i.tick for s, i in desk.exchange.instruments.items()
                                                 if s in DEFAULT_START_PRICES})
        self._live = feed = LiveFeed(ticks)
        watcher = asyncio.create_task(self._watch_live(feed))
        try:
            try:
                history = await feed.history(limit=1)
                for points in history.values():
                    if points:
                        self.submit(points[-1].to_command())  # a price to start from before the stream
            except Exception as error:
                log(f"no recent history from {feed.rest_url}: {error}")
            async for tick in feed.ticks():
                self.submit(tick.to_command())
        finally:
            watcher.cancel()

    async def _watch_live(self, feed: LiveFeed) -> None:
        shown = None
        while True:
            await asyncio.sleep(1)
            status = self._feed_status()
            if status["status"] != shown:
                shown = status["status"]
                log(shown + (f" ({feed.last_error})" if feed.last_error and not feed.connected else ""))
                self.hub.broadcast({"type": "feed", **status})


def _preview_order_fields(ask: dict) -> dict:
    """The order ticket's fields, checked as the engine checks a command's before it computes anything."""
    order = dict(ask)
    for name in ("account_kind", "symbol", "lead"):
        if name in order and not isinstance(order[name], str):
            raise TypeError(f"{name} is text")
    side = order.get("side")
    if isinstance(side, bool) or side not in (1, -1):
        raise TypeError("side is 1 (buy) or -1 (sell)")
    order["qty"] = parse_decimal(order.get("qty"), "qty", code="INVALID_QTY")
    if order.get("price") is not None:
        order["price"] = parse_decimal(order["price"], "price", code="INVALID_PRICE")
    leverage = order.get("leverage")
    if leverage is not None and (isinstance(leverage, bool) or not isinstance(leverage, int) or not 1 <= leverage <= 125):
        raise Rejected("LEVERAGE_NOT_ALLOWED", "leverage must be a whole number from 1 to 125")
    if order.get("margin_mode") not in (None, "isolated", "cross"):
        raise TypeError("margin_mode is isolated or cross")
    return order


async def _discard(reader: asyncio.StreamReader, size: int) -> None:
    """Read and drop an unwanted body (up to 1 MiB, briefly), so closing does not reset the socket
    before the client has read the error."""
    remaining = min(size, 1 << 20)
    try:
        while remaining > 0:
            chunk = await asyncio.wait_for(reader.read(min(remaining, 65536)), 2)
            if not chunk:
                return
            remaining -= len(chunk)
    except TimeoutError:
        pass


def local_origin(origin: str) -> bool:
    try:
        url = urlsplit(origin)
        return url.scheme in ("http", "https") and url.hostname in LOCAL_ORIGIN_HOSTS and url.port != 0
    except ValueError:  # a malformed port
        return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_server(db: Path, *, host: str, port: int, feed: str, seed: int, speed: float,
               out: TextIO, err: TextIO) -> int:
    try:
        choice = FeedChoice.parse(feed)
    except ValueError as error:  # a FeedError names the bad line
        print(f"copydesk: {error}", file=err)
        return 2
    if not is_loopback(host):
        print(f"copydesk: WARNING: serving on {host}, not loopback: anyone who can reach this address can try "
              "tokens, and traffic is unencrypted (no TLS). Prefer 127.0.0.1 behind an SSH tunnel.", file=err)
    db.parent.mkdir(parents=True, exist_ok=True)
    with DeskService(db, start_ms=wall_ms(), notice=tell_upgrade) as service:
        return asyncio.run(_serve(ApiServer(service, choice, seed=seed, speed=speed), host, port, db, out))


async def _serve(server: ApiServer, host: str, port: int, db: Path, out: TextIO) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        bound = await server.start(host, port)
    except OSError as error:
        print(f"copydesk: cannot listen on {host}:{port}: {error.strerror or error}", file=sys.stderr)
        return 3
    shown = f"[{host}]" if ":" in host else host
    out.write(f"Copydesk API listening on http://{shown}:{bound}\n")
    out.write(f"Database {db}, {server.feed.kind} prices. Tokens: copydesk token NAME. Ctrl-C stops.\n")
    out.flush()
    await stop.wait()
    await server.stop()
    out.write("Stopped. Everything is saved.\n")
    out.flush()
    return 0
