"""The event stream: engine events pushed to websocket clients as they happen.

The engine thread never waits for a client. After each command it hands the messages to the
server's event loop with `call_soon_threadsafe`; each connection has a bounded queue, and a slow
client loses its oldest messages and is told so with a `lagging` notice.

Websocket framing is websockets' Sans-I/O `ServerProtocol`, driven over the connection that the
HTTP layer already read the upgrade request from.
"""
from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections import deque
from collections.abc import Callable

from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from engine.clock import format_time
from engine.commands import Price
from engine.money import fmt
from storage.desk import Outcome

from ..tokens import OPERATOR
from .http import HttpError, Request, to_json
from .views import event_messages

MAX_MESSAGE = 64 * 1024      # inbound
QUEUE_LIMIT = 1000           # outbound messages held per connection before the oldest are dropped
TICKER_INTERVAL = 0.25       # at most four market ticker messages a second


class Session:
    """One websocket client's outbound queue (lives on the event loop)."""

    def __init__(self, viewer: str, limit: int = QUEUE_LIMIT):
        self.viewer = viewer
        self._pending: deque[bytes] = deque()
        self._limit = limit
        self._dropped = 0
        self._wake = asyncio.Event()
        self.closing = False

    def push(self, data: bytes) -> None:
        if len(self._pending) >= self._limit:
            self._pending.popleft()
            self._dropped += 1
        self._pending.append(data)
        self._wake.set()

    def close(self) -> None:
        self.closing = True
        self._wake.set()

    async def batch(self) -> list[bytes]:
        await self._wake.wait()
        self._wake.clear()
        batch = list(self._pending)
        self._pending.clear()
        if self._dropped:
            notice = {"type": "lagging", "dropped": self._dropped,
                      "message": f"{self._dropped} older events were dropped because this client read too slowly; "
                                 "fetch a fresh snapshot"}
            batch.insert(0, to_json(notice))
            self._dropped = 0
        return batch


class EventHub:
    """Routes engine events to the sessions of the users they concern; the operator hears everything."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._sessions: dict[str, set[Session]] = {}
        self._prices: dict[str, dict] = {}
        # Read by the engine thread; replaced (never mutated) on the loop, so reads need no lock.
        self._watched: frozenset[str] = frozenset()

    # --- engine thread -------------------------------------------------------------------------

    def on_command(self, line: dict, outcome: Outcome) -> None:
        """DeskService listener: quick, and never raises into the engine."""
        try:
            if not outcome.accepted:
                return
            watched = self._watched
            if not watched:
                return
            everyone = OPERATOR in watched
            messages = [(user, to_json(message)) for user, message in
                        event_messages(outcome.events, lambda user: everyone or user in watched)]
            command = outcome.envelope.command if outcome.envelope else None
            price = None
            if isinstance(command, Price):
                price = (command.symbol, {"mark": fmt(command.mark), "last": fmt(command.last or command.mark),
                                          "index": fmt(command.index or command.mark)})
            if messages or price:
                self._loop.call_soon_threadsafe(self._dispatch, messages, price)
        except RuntimeError:
            pass  # the event loop has closed: the server is shutting down
        except Exception:
            traceback.print_exc(file=sys.stderr)

    # --- event loop ----------------------------------------------------------------------------

    def add(self, session: Session) -> None:
        self._sessions.setdefault(session.viewer, set()).add(session)
        self._watched = frozenset(self._sessions)

    def remove(self, session: Session) -> None:
        sessions = self._sessions.get(session.viewer, set())
        sessions.discard(session)
        if not sessions:
            self._sessions.pop(session.viewer, None)
        self._watched = frozenset(self._sessions)

    def broadcast(self, message: dict) -> None:
        data = to_json(message)
        for sessions in self._sessions.values():
            for session in sessions:
                session.push(data)

    def close_all(self) -> None:
        for sessions in self._sessions.values():
            for session in sessions:
                session.close()

    def _dispatch(self, messages: list[tuple[str, bytes]], price: tuple[str, dict] | None) -> None:
        operators = self._sessions.get(OPERATOR, ())
        for user, data in messages:
            for session in self._sessions.get(user, ()):
                session.push(data)
            for session in operators:
                session.push(data)
        if price:
            self._prices[price[0]] = price[1]

    async def run_ticker(self, now_ms: Callable[[], int]) -> None:
        """Coalesce price updates into one `ticker` message per interval."""
        while True:
            await asyncio.sleep(TICKER_INTERVAL)
            if self._prices and self._sessions:
                prices, self._prices = self._prices, {}
                self.broadcast({"type": "ticker", "at": format_time(now_ms()), "prices": prices})


async def stream_events(request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        hub: EventHub, viewer: str, hello: dict) -> None:
    """Complete the websocket handshake on this connection, then stream the viewer's events."""
    protocol = ServerProtocol(max_size=MAX_MESSAGE)

    def flush() -> None:
        for data in protocol.data_to_send():
            if data:
                writer.write(data)
            elif writer.can_write_eof():
                writer.write_eof()

    protocol.receive_data(request.head)
    received = protocol.events_received()
    if not received:  # websockets refused the head itself (e.g. an upgrade request with a body)
        raise HttpError(400, "BAD_HANDSHAKE", f"not a websocket handshake: {protocol.handshake_exc}", close=True)
    response = protocol.accept(received[0])
    if response.status_code != 101:
        text = bytes(response.body).decode(errors="replace").strip() or "not a websocket handshake"
        raise HttpError(response.status_code, "BAD_HANDSHAKE", text, close=True)
    protocol.send_response(response)
    flush()

    session = Session(viewer)
    session.push(to_json(hello))
    hub.add(session)
    sender = asyncio.create_task(_send(protocol, session, writer, flush))
    fragments: list[bytes] = []
    try:
        while protocol.state is not State.CLOSED:
            data = await reader.read(65536)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            for frame in protocol.events_received():
                _receive(protocol, frame, fragments)
            flush()
            if not data or protocol.close_expected():
                break
    finally:
        hub.remove(session)
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)


async def _send(protocol: ServerProtocol, session: Session, writer: asyncio.StreamWriter,
                flush: Callable[[], None]) -> None:
    while protocol.state is State.OPEN:
        batch = await session.batch()
        if protocol.state is not State.OPEN:
            return
        if session.closing:
            protocol.send_close(1001, "server shutting down")
            flush()
            return
        for data in batch:
            protocol.send_text(data)
        flush()
        try:
            await writer.drain()
        except ConnectionError:
            return  # the reader side notices the closed connection and ends the session


def _receive(protocol: ServerProtocol, frame: Frame, fragments: list[bytes]) -> None:
    """Clients may only ping; anything else is answered with an error, never a disconnect."""
    if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
        fragments[:] = [frame.data]
    elif frame.opcode is Opcode.CONT:
        fragments.append(frame.data)
    else:
        return  # control frames (ping, pong, close) are answered by the protocol itself
    if not frame.fin:
        return
    payload, fragments[:] = b"".join(fragments), []
    try:
        message = json.loads(payload)
    except (ValueError, RecursionError):  # not JSON, or nested thousands deep
        message = None
    if isinstance(message, dict) and set(message) == {"ping"}:
        reply = {"type": "pong", "ping": message["ping"]}
    else:
        reply = {"type": "error", "code": "UNSUPPORTED_MESSAGE",
                 "message": "this stream only accepts {\"ping\": ...}; send commands with POST /v1/commands"}
    if protocol.state is State.OPEN:
        protocol.send_text(to_json(reply))
