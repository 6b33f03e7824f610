"""Just enough HTTP/1.1 for a JSON API: request heads, Content-Length bodies, keep-alive.

The server reads requests itself rather than through websockets' `process_request`, because
websockets' handshake parser refuses any request that carries a body — so a POST could never
arrive. Websocket upgrades are handed to websockets' Sans-I/O protocol (see `events.py`).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from decimal import Decimal
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from engine.money import fmt

MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024


class HttpError(Exception):
    """A request answered with an error status and a JSON body `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str, *, close: bool = False,
                 headers: dict[str, str] | None = None, unread: int = 0):
        super().__init__(message)
        self.status, self.code, self.message, self.close = status, code, message, close
        self.headers = headers or {}
        self.unread = unread  # body bytes left on the socket (read and dropped before closing)


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]       # lower-case names; a repeated header keeps its last value
    head: bytes                   # the raw request head, for the websocket handshake
    body: bytes = b""
    keep_alive: bool = True

    def bearer(self) -> str | None:
        scheme, _, token = self.headers.get("authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on a connection, or None when the client has gone. Raises HttpError."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise HttpError(431, "HEADERS_TOO_LARGE", f"the request head exceeds {MAX_HEAD} bytes", close=True)
    request = parse_head(head)
    if "transfer-encoding" in request.headers:
        raise HttpError(411, "LENGTH_REQUIRED", "send the body with a Content-Length, not chunked", close=True)
    length = _content_length(request.headers.get("content-length", "0"))
    if length > MAX_BODY:
        raise HttpError(413, "BODY_TOO_LARGE", f"a request body may be at most {MAX_BODY} bytes, got {length}",
                        close=True, unread=length)
    if length:
        try:
            request.body = await reader.readexactly(length)
        except asyncio.IncompleteReadError:
            return None
    return request


def parse_head(head: bytes) -> Request:
    try:
        text = head.decode("latin-1")
        request_line, *header_lines = text.split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise HttpError(400, "BAD_REQUEST", "malformed HTTP request line", close=True) from None
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise HttpError(505, "HTTP_VERSION", "only HTTP/1.1 and HTTP/1.0 are spoken here", close=True)
    headers: dict[str, str] = {}
    for line in header_lines:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise HttpError(400, "BAD_REQUEST", "malformed HTTP header line", close=True)
        headers[name.lower()] = value.strip()
    url = urlsplit(target)
    connection = headers.get("connection", "").lower()
    keep_alive = "close" not in connection and (version == "HTTP/1.1" or "keep-alive" in connection)
    return Request(method, url.path, parse_qs(url.query), headers, head, keep_alive=keep_alive)


def _content_length(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise HttpError(400, "BAD_REQUEST", "Content-Length must be a number of bytes", close=True)
    return int(raw)


def to_json(payload: object) -> bytes:
    """Compact JSON; decimals as strings at full precision, like the snapshot."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False,
                      default=lambda value: fmt(value) if isinstance(value, Decimal) else str(value))
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate a client sent (a ping echoed back): escape it instead
        return json.dumps(payload, separators=(",", ":"),
                          default=lambda value: fmt(value) if isinstance(value, Decimal) else str(value)).encode()


def json_response(status: int, payload: object, *, keep_alive: bool = True, headers: dict | None = None) -> bytes:
    body = to_json(payload)
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
             "Content-Type: application/json; charset=utf-8",
             f"Content-Length: {len(body)}",
             "Cache-Control: no-store",
             f"Connection: {'keep-alive' if keep_alive else 'close'}",
             *(f"{name}: {value}" for name, value in (headers or {}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def error_response(error: HttpError, *, keep_alive: bool = True) -> bytes:
    return json_response(error.status, {"error": {"code": error.code, "message": error.message}},
                         keep_alive=keep_alive and not error.close, headers=error.headers)
