"""`copydesk serve` end to end: a real server subprocess on 127.0.0.1, real HTTP and websocket clients."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import statistics
import time

import httpx
import pytest
from serving import Served, copydesk, token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from app import tokens
from app.api.events import Session
from app.client import RemoteDesk, RemoteError
from app.server import is_loopback, local_origin

TRIALS = 20


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("serve")
    keys = {"operator": token(home, "--operator")}
    keys.update({name: token(home, name) for name in ("lena", "carl", "eve", "vic")})
    server = Served(home)
    server.tokens = keys
    yield server
    assert server.stop() == 0, server.stderr()
    assert "Traceback" not in server.stderr()


def post(server, who: str | None, body, **headers) -> httpx.Response:
    if who:
        headers["Authorization"] = f"Bearer {server.tokens[who]}"
    content = body if isinstance(body, bytes) else json.dumps(body)
    return httpx.post(f"{server.url}/v1/commands", content=content, headers=headers, timeout=10)


def accepted(server, who: str, *lines: dict) -> None:
    for line in lines:
        answer = post(server, who, line)
        assert answer.status_code == 200 and answer.json()["accepted"], (line, answer.text)


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


def ws_url(server, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/v1/events" + query


# --- the lead trades, the copier sees it live --------------------------------------------------------

async def test_a_copier_sees_the_lead_order_mirrored_live(served):
    lead, copier = RemoteDesk(served.url, served.tokens["lena"]), RemoteDesk(served.url, served.tokens["carl"])
    for line in ({"do": "user", "name": "lena"}, {"do": "deposit", "user": "lena", "amount": "10000"},
                 {"do": "become_elite", "user": "lena", "symbols": ["BTCUSDT"], "nickname": "Lena"},
                 {"do": "transfer", "user": "lena", "from": "funding", "to": "elite", "amount": "5000"}):
        assert lead.execute(line)["accepted"], line
    for line in ({"do": "user", "name": "carl"}, {"do": "deposit", "user": "carl", "amount": "5000"},
                 {"do": "transfer", "user": "carl", "from": "funding", "to": "copy", "amount": "5000"},
                 {"do": "follow", "user": "carl", "lead": "lena", "mode": "fixed", "amount": "100"}):
        assert copier.execute(line)["accepted"], line

    events = copier.events()
    hello = await anext(events)
    assert hello["type"] == "hello" and hello["user"] == "carl" and copier.state.status == "connected"

    async def until(kind: str) -> list[dict]:
        """Events up to and including the next one of `kind` (which comes last)."""
        seen = []
        async for event in events:
            seen.append(event)
            if event["type"] == kind:
                return seen

    latencies = []
    for trial in range(TRIALS):
        side = "buy" if trial % 2 == 0 else "sell"  # open, then close: the same small position each time
        order = {"do": "order", "user": "lena", "account": "elite", "symbol": "BTCUSDT", "side": side,
                 "type": "market", "qty": "0.01"}
        began = time.perf_counter()
        placed = asyncio.create_task(asyncio.to_thread(lead.execute, order))
        *earlier, outcome = await asyncio.wait_for(until("copy_outcome"), 5)
        latencies.append(time.perf_counter() - began)
        assert (await placed)["result"]["status"] == "filled"
        assert outcome["copier"] == "carl" and outcome["lead"] == "lena" and outcome["symbol"] == "BTCUSDT"
        assert outcome["status"] == "filled", outcome
        assert outcome["kind"] == ("open" if side == "buy" else "close")
        if trial == 0:
            [fill] = [e for e in earlier if e["type"] == "fill"]  # the copier's own fill, in its copy account
            assert fill["account"] == "carl:copy" and fill["lead"] == "lena" and fill["qty"] == outcome["qty"]
            copy_account = copier.snapshot(of=["users"])["users"]["carl"]["copy"]
            assert [p["lead"] for p in copy_account["positions"]] == ["lena"]
    await events.aclose()

    latencies.sort()
    median, p95 = statistics.median(latencies), latencies[round(0.95 * (len(latencies) - 1))]
    print(f"\nlead POST → copier event over {TRIALS} trials: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    assert p95 < 1.0

    # The lead sees only itself among users; the leaderboard is public.
    snapshot = lead.snapshot(of=["users", "leads", "copy"], period="7d")
    assert list(snapshot["users"]) == ["lena"] and "lena" in snapshot["leads"]
    assert {(r["copier"], r["lead"]) for r in snapshot["copy"]["relations"]} == {("carl", "lena")}
    lead.close()
    copier.close()


# --- authentication and authorization ---------------------------------------------------------------

def test_health_needs_no_token(served):
    health = httpx.get(f"{served.url}/v1/health").json()
    assert health["ok"] is True and health["engine_time"].endswith("Z") and health["feed"]["kind"] == "simulated"


def test_a_missing_or_unknown_token_is_401(served):
    line = {"do": "user", "name": "eve"}
    refused(post(served, None, line), 401, "UNAUTHORIZED")
    refused(post(served, None, line, Authorization="Bearer not-a-token"), 401, "UNAUTHORIZED")
    refused(post(served, None, line, Authorization=f"Basic {served.tokens['eve']}"), 401, "UNAUTHORIZED")
    refused(httpx.get(f"{served.url}/v1/snapshot"), 401, "UNAUTHORIZED")
    refused(httpx.get(f"{served.url}/v1/snapshot", headers={"Authorization": "Bearer ünicode".encode("latin-1")}), 401, "UNAUTHORIZED")


def test_acting_for_another_user_is_403_and_changes_nothing(served):
    accepted(served, "vic", {"do": "user", "name": "vic"}, {"do": "deposit", "user": "vic", "amount": "1000"},
             {"do": "transfer", "user": "vic", "from": "funding", "to": "futures", "amount": "400"})
    accepted(served, "eve", {"do": "user", "name": "eve"})
    victim = RemoteDesk(served.url, served.tokens["vic"])
    before = victim.snapshot(of=["users"])
    for line in ({"do": "withdraw", "user": "vic", "amount": "100"},
                 {"do": "transfer", "user": "vic", "from": "futures", "to": "funding", "amount": "1"},
                 {"do": "order", "user": "vic", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "qty": "0.001"},
                 {"do": "follow", "user": "vic", "lead": "lena", "mode": "fixed", "amount": "10"},
                 {"do": "user", "name": "mallory"}):
        refused(post(served, "eve", line), 403, "NOT_YOUR_USER")
    for line in ({"do": "price", "symbol": "BTCUSDT", "mark": "1"}, {"do": "config", "taker_fee": "0.1"},
                 {"do": "advance", "by": "8h"}, {"do": "restrict", "user": "eve", "account": "futures",
                                                 "reduce_only": False}):
        refused(post(served, "eve", line), 403, "OPERATOR_ONLY")
    assert victim.snapshot(of=["users"]) == before
    # Eve's own view never shows Vic.
    assert list(RemoteDesk(served.url, served.tokens["eve"]).snapshot()["users"]) == ["eve"]
    # The operator may act for anyone.
    accepted(served, "operator", {"do": "deposit", "user": "vic", "amount": "1"})
    assert victim.snapshot(of=["users"])["users"]["vic"]["funding"]["balance"] == "601"


def test_ids_are_kept_per_user(served):
    line = {"do": "deposit", "amount": "1", "id": "same-id"}
    accepted(served, "vic", {**line, "user": "vic"})
    again = post(served, "vic", {**line, "user": "vic"}).json()
    assert again["accepted"] and again["duplicate"]
    first_for_eve = post(served, "eve", {**line, "user": "eve"}).json()
    assert first_for_eve["accepted"] and not first_for_eve.get("duplicate")


# --- bad requests ---------------------------------------------------------------------------------

def test_bad_requests_get_a_json_error(served):
    refused(post(served, "eve", b"x" * (64 * 1024 + 1)), 413, "BODY_TOO_LARGE")
    refused(post(served, "eve", b"{not json"), 400, "BAD_JSON")
    refused(post(served, "eve", b"\xff\xfe"), 400, "BAD_JSON")
    for body in ([1, 2], "a string", 5, None):
        refused(post(served, "eve", body), 400, "BAD_REQUEST")
    refused(post(served, "eve", {"do": "deposit", "user": "eve", "amount": "1", "at": "2030-01-01T00:00:00Z"}),
            400, "BAD_FIELD")
    unknown = post(served, "eve", {"do": "teleport", "user": "eve"})
    assert unknown.status_code == 200
    assert unknown.json() == {"accepted": False, "code": "UNKNOWN_ACTION", "message": unknown.json()["message"]}
    rejected = post(served, "eve", {"do": "withdraw", "user": "eve", "amount": "1000000"}).json()
    assert rejected["accepted"] is False and rejected["code"] == "INSUFFICIENT_BALANCE"
    refused(httpx.get(f"{served.url}/v1/commands"), 405, "METHOD_NOT_ALLOWED")
    refused(httpx.get(f"{served.url}/nowhere"), 404, "NOT_FOUND")
    refused(httpx.get(f"{served.url}/v1/snapshot?of=everything",
                      headers={"Authorization": f"Bearer {served.tokens['eve']}"}), 400, "BAD_FIELD")


def test_garbage_on_the_socket_gets_a_json_error(served):
    port = int(served.url.rsplit(":", 1)[1])
    upgrade_with_body = (f"GET /v1/events?token={served.tokens['carl']} HTTP/1.1\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\nContent-Length: 2\r\n\r\nab").encode()
    for garbage in (upgrade_with_body, b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"POST /v1/commands HTTP/1.1\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n", b"GET /v1/health HTTP/1.1\r\nX: " + b"y" * 20000 + b"\r\n\r\n"):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            raw.sendall(garbage)
            answer = raw.recv(65536).decode()
        head, _, body = answer.partition("\r\n\r\n")
        assert head.split()[1] in ("400", "411", "431", "505"), answer
        assert "error" in json.loads(body) and "Traceback" not in answer


async def test_websocket_refusals_and_inbound_messages(served):
    carl = served.tokens["carl"]
    with pytest.raises(InvalidStatus) as bad_origin:
        async with connect(ws_url(served, f"?token={carl}"), origin="http://evil.example"):
            pass
    assert bad_origin.value.response.status_code == 403
    assert json.loads(bad_origin.value.response.body)["error"]["code"] == "BAD_ORIGIN"
    with pytest.raises(InvalidStatus) as no_token:
        async with connect(ws_url(served)):
            pass
    assert no_token.value.response.status_code == 401

    async with connect(ws_url(served, f"?token={carl}"), origin="http://localhost:5173") as stream:
        assert json.loads(await stream.recv())["type"] == "hello"
        await stream.send(json.dumps({"ping": 7}))
        await stream.send("please liquidate everyone")
        replies = []
        while len(replies) < 2:
            message = json.loads(await asyncio.wait_for(stream.recv(), 5))
            if message["type"] != "ticker":
                replies.append(message)
        assert replies[0] == {"type": "pong", "ping": 7}
        assert replies[1]["type"] == "error" and replies[1]["code"] == "UNSUPPORTED_MESSAGE"
    async with connect(ws_url(served), additional_headers={"Authorization": f"Bearer {carl}"},
                       max_size=None) as stream:
        await stream.recv()
        await stream.send("x" * (64 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(stream.recv(), 5)
        assert closed.value.rcvd.code == 1009  # message too big


def test_the_server_is_still_healthy_after_all_that(served):
    assert httpx.get(f"{served.url}/v1/health").json()["ok"] is True
    assert "Traceback" not in served.stderr()


# --- pieces in-process -------------------------------------------------------------------------------

def test_tokens_live_in_a_private_file(tmp_path, monkeypatch):
    monkeypatch.setenv("COPYDESK_HOME", str(tmp_path / "home"))
    alice = tokens.issue_or_show("alice")
    assert tokens.issue_or_show("alice") == alice and len(alice) >= 40
    operator = tokens.issue_or_show(tokens.OPERATOR)
    assert stat.S_IMODE(os.stat(tokens.token_path()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tokens.token_path().parent).st_mode) == 0o700
    assert tokens.user_for(alice) == "alice" and tokens.user_for(operator) == tokens.OPERATOR
    assert tokens.user_for(alice[:-1]) is None and tokens.user_for("") is None and tokens.user_for("é") is None
    with pytest.raises(tokens.TokenError):
        tokens.issue_or_show("not a name")


async def test_a_slow_client_loses_the_oldest_events_with_a_notice():
    session = Session("carl", limit=3)
    for number in range(5):
        session.push(json.dumps({"n": number}).encode())
    notice, *kept = [json.loads(data) for data in await session.batch()]
    assert notice["type"] == "lagging" and notice["dropped"] == 2
    assert kept == [{"n": 2}, {"n": 3}, {"n": 4}]


async def test_the_client_reports_an_unreachable_server_and_keeps_trying():
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    desk = RemoteDesk(f"http://127.0.0.1:{port}", "token", backoff_start=0.01, backoff_max=0.02)
    with pytest.raises(RemoteError) as unreachable:
        desk.execute({"do": "snapshot"})
    assert unreachable.value.code == "UNREACHABLE" and str(port) in unreachable.value.message
    reader = asyncio.create_task(anext(desk.events()))
    await asyncio.sleep(0.2)
    assert desk.state.status == "reconnecting" and desk.state.attempt >= 3
    assert str(desk.state).startswith("reconnecting (attempt ")
    reader.cancel()
    desk.close()


def test_a_replay_feed_sets_the_prices_and_a_bad_feed_is_refused(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("time,symbol,mark\n2026-01-05T00:00:00Z,BTCUSDT,88888.8\n2026-01-05T00:00:00Z,ETHUSDT,3333.33\n")
    operator = token(tmp_path, "--operator")
    server = Served(tmp_path, "--feed", f"replay:{prices}")
    try:
        deadline = time.monotonic() + 5
        while "BTCUSDT" not in (marks := _marks(server.url, operator)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marks == {"BTCUSDT": "88888.8", "ETHUSDT": "3333.33"}
        assert httpx.get(f"{server.url}/v1/health").json()["feed"]["kind"] == "replay"
    finally:
        assert server.stop() == 0
    for feed in ("bogus", f"replay:{tmp_path / 'missing.csv'}"):
        done = copydesk("serve", "--port", "0", "--feed", feed, home=tmp_path)
        assert done.returncode == 2 and "Traceback" not in done.stderr and "copydesk" in done.stderr


def _marks(url: str, operator: str) -> dict:
    async def hello() -> dict:
        async with connect(url.replace("http", "ws") + "/v1/events",
                           additional_headers={"Authorization": f"Bearer {operator}"}) as stream:
            return json.loads(await stream.recv())
    return {symbol: price["mark"] for symbol, price in asyncio.run(hello())["prices"].items()}


def test_only_loopback_is_quiet_and_only_local_pages_may_open_the_stream():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    assert local_origin("http://127.0.0.1:8080") and local_origin("https://localhost")
    assert not local_origin("http://localhost.evil.com") and not local_origin("null")
    assert not local_origin("file://localhost") and not local_origin("http://127.0.0.1:99999")


async def test_the_client_stream_stops_on_a_refused_token(served):
    desk = RemoteDesk(served.url, "not-a-token")
    with pytest.raises(RemoteError) as refused_token:
        await anext(desk.events())
    assert refused_token.value.status == 401 and desk.state.status == "stopped"
    desk.close()
