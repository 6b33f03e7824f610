"""The client side of `copydesk serve`: what the workstation's `--connect URL` mode talks through.

    desk = RemoteDesk("http://127.0.0.1:8421", token)
    desk.execute({"do": "order", "user": "bob", ...})   # {"accepted": true, "result": …} or accepted false
    desk.snapshot(of=["users", "copy"], period="7d")
    async for event in desk.events(): ...              # reconnects by itself; see desk.state

Commands and snapshots go over HTTP (httpx, keep-alive); events over a websocket that reconnects
with backoff (1 s, 2 s, 4 s … 15 s). After every (re)connection the first event is `hello`: events
sent while disconnected are not replayed, so that is the moment to fetch a fresh snapshot.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from .remote_error import RemoteError


@dataclass(frozen=True, slots=True)
class ConnectionState:
    status: str        # connecting | connected | reconnecting | stopped
    attempt: int = 0   # reconnection attempts since the stream last connected
    error: str | None = None

    def __str__(self) -> str:
        if self.status == "reconnecting":
            return f"reconnecting (attempt {self.attempt}{': ' + self.error if self.error else ''})"
        return self.status


class RemoteDesk:
    def __init__(self, url: str, token: str, *, timeout: float = 10.0,
                 backoff_start: float = 1.0, backoff_max: float = 15.0):
        self.url = url.rstrip("/")
        self._token = token
        self._http = httpx.Client(base_url=self.url, timeout=timeout,
                                  headers={"Authorization": f"Bearer {token}"})
        self._backoff = (backoff_start, backoff_max)
        self.state = ConnectionState("connecting")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "RemoteDesk":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- requests ------------------------------------------------------------------------------

    def execute(self, line: dict) -> dict:
        """Run one command line; a rejection comes back as {"accepted": false, "code", "message"}."""
        return self._request("POST", "/v1/commands", json=line)

    def snapshot(self, of: list[str] | None = None, period: str = "all") -> dict:
        params = {"period": period}
        if of:
            params["of"] = ",".join(of)
        return self._request("GET", "/v1/snapshot", params=params)

    def health(self) -> dict:
        return self._request("GET", "/v1/health")

    def get(self, path: str) -> dict:
        return self._request("GET", path)

    def view(self, name: str, ask: dict[str, str]) -> object:
        """One of the workstation's full screens (`app/screen_views.py`), for this token's user."""
        return self._request("GET", f"/v1/views/{name}", params=ask)

    def post(self, path: str, body: dict) -> dict:
        return self._request("POST", path, json=body)

    def _request(self, method: str, path: str, **options) -> dict:
        try:
            response = self._http.request(method, path, **options)
        except httpx.ConnectError as error:
            raise RemoteError("UNREACHABLE", f"cannot reach the Copydesk server at {self.url}: {error}") from None
        except httpx.TimeoutException:
            raise RemoteError("TIMEOUT", f"the Copydesk server at {self.url} did not answer in time") from None
        except httpx.HTTPError as error:
            raise RemoteError("CONNECTION", f"talking to {self.url} failed: {error}") from None
        try:
            payload = response.json()
        except ValueError:
            raise RemoteError("BAD_RESPONSE", f"{self.url} answered {response.status_code} without JSON; "
                                              "is it a Copydesk server?", response.status_code) from None
        if response.status_code != 200:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise RemoteError(error.get("code", "HTTP_ERROR"), error.get("message", response.reason_phrase),
                              response.status_code)
        return payload

    # --- events --------------------------------------------------------------------------------

    def events_url(self) -> str:
        parts = urlsplit(self.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, parts.path + "/v1/events", "", ""))

    async def events(self) -> AsyncIterator[dict]:
        """Every event for this token's user, forever, reconnecting as needed.
        A refused token (401/403) ends the stream with RemoteError: retrying would not help."""
        delay, attempt = self._backoff[0], 0
        try:
            while True:
                try:
                    async with connect(self.events_url(), max_size=2**24, open_timeout=10,
                                       additional_headers={"Authorization": f"Bearer {self._token}"}) as socket:
                        self.state = ConnectionState("connected")
                        delay, attempt = self._backoff[0], 0
                        async for raw in socket:
                            yield json.loads(raw)
                    error = "the server closed the stream"
                except InvalidStatus as refused:
                    status = refused.response.status_code
                    if status in (401, 403):
                        raise RemoteError("UNAUTHORIZED" if status == 401 else "FORBIDDEN",
                                          _error_text(refused.response.body), status) from None
                    error = f"HTTP {status}"
                except (OSError, WebSocketException, TimeoutError) as failure:
                    error = str(failure) or type(failure).__name__
                attempt += 1
                self.state = ConnectionState("reconnecting", attempt, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff[1])
        finally:
            self.state = ConnectionState("stopped", self.state.attempt, self.state.error)


def _error_text(body: bytes) -> str:
    try:
        return json.loads(body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace").strip()
