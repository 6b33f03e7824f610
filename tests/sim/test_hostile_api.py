"""Hostile input on the server's surfaces — command bodies, previews, snapshot queries, raw request
heads, tokens and websocket messages — against a real `copydesk serve` subprocess. Every answer is a
JSON error with a code and a sentence (or a rejection with a code), never a 500 or a traceback, and a
refused request changes nothing (the operator's snapshot of every user and the ledger is unchanged)."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import quote

import httpx
import pytest
from hostile import CODES, NASTY_TEXT, encoded, spoiled_lines, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from serving import Served, token
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

SETTINGS = settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
HTTP_ERRORS = {400, 401, 403, 404, 405, 411, 413, 431, 505}
COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    home = tmp_path_factory.mktemp("hostile")
    prices = home / "prices.csv"
    # A replay feed that ends at once: prices stay put, so any change in a snapshot is the request's.
    prices.write_text("time,symbol,mark\n2026-01-05T00:00:00Z,BTCUSDT,50000\n2026-01-05T00:00:00Z,ETHUSDT,3000\n")
    keys = {"operator": token(home, "--operator"), "mallory": token(home, "mallory"), "victim": token(home, "victim")}
    server = Served(home, "--feed", f"replay:{prices}")
    server.tokens = keys
    client = httpx.Client(base_url=server.url, timeout=20)
    server.client = client
    for who, line in (("mallory", {"do": "user", "name": "mallory"}),
                      ("mallory", {"do": "deposit", "user": "mallory", "amount": "10000"}),
                      ("mallory", {"do": "transfer", "user": "mallory", "from": "funding", "to": "futures",
                                   "amount": "5000"}),
                      ("victim", {"do": "user", "name": "victim"}),
                      ("victim", {"do": "deposit", "user": "victim", "amount": "777"})):
        answer = client.post("/v1/commands", json=line, headers=_auth(server, who)).json()
        assert answer["accepted"], answer
    deadline = time.monotonic() + 10
    while "50000" not in client.get("/v1/view", headers=_auth(server, "mallory")).text:  # the feed's prices
        assert time.monotonic() < deadline, "the replay feed never set its prices"
        time.sleep(0.05)
    yield server
    client.close()
    assert server.stop() == 0, server.stderr()
    assert "Traceback" not in server.stderr(), server.stderr()


def _auth(server, who: str | None) -> dict:
    return {"Authorization": f"Bearer {server.tokens[who]}"} if who else {}


def _state(server) -> dict:
    """Everything a refused request must leave alone: every user's accounts and the ledger."""
    answer = server.client.get("/v1/snapshot?of=at,users,copy,ledger,insurance_fund",
                               headers=_auth(server, "operator"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _unchanged(server, before: dict) -> None:
    after = _state(server)
    if {**after, "at": None} != {**before, "at": None}:
        # Engine time is the wall clock here: a funding time (every 4 h) passing between the two snapshots
        # moves positions' money by itself. Anything else is the refused request's doing.
        hours = [int(state["at"][11:13]) // 4 for state in (before, after)]
        assert before["at"][:10] != after["at"][:10] or hours[0] != hours[1], (before, after)


def _check_error(response: httpx.Response) -> dict:
    """A JSON answer: a 200 with an outcome, or an error status with {"error": {"code", "message"}}."""
    assert response.status_code != 500, response.text
    body = response.json()
    if response.status_code == 200:
        return body
    assert response.status_code in HTTP_ERRORS, (response.status_code, response.text)
    assert isinstance(body["error"]["code"], str) and len(body["error"]["message"]) > 5, body
    return body


def _as(item, who: str):
    """Aim a spoiled line at the sender's own user most of the time, so it meets the engine's checks."""
    if isinstance(item, dict):
        for key in ("user", "name"):
            if key in item and item[key] in ("alice", "bob", "newbie"):
                item = {**item, key: who}
    return item


bodies = st.one_of(
    spoiled_lines(), spoiled_lines(), values, st.binary(max_size=300),
    st.sampled_from([b"", b"{", b"null", b"[" * 40000 + b"]" * 40000, b"{\"do\":" * 20000, b"1" * 5000,
                     b"\"\\ud800\"", b"{\"do\": \"deposit\", \"user\": \"mallory\", \"amount\": NaN}",
                     b"\xff\xfe\x00", b"{\"do\": \"deposit\", \"user\": \"mallory\", \"amount\": \"1\", \"at\": 1}",
                     b"x" * (64 * 1024 + 1), json.dumps({"do": "user", "name": "a" * 60000}).encode()]),
)


def test_hostile_command_bodies(served):
    tried = {"n": 0}

    @settings(SETTINGS, max_examples=500)
    @given(bodies, st.sampled_from(["mallory", "mallory", "mallory", "victim", "operator", None]),
           st.sampled_from(["application/json", "text/plain", "", "application/x-www-form-urlencoded"]))
    def check(item, who, content_type):
        tried["n"] += 1
        before = _state(served)
        headers = {**_auth(served, who), **({"Content-Type": content_type} if content_type else {})}
        body = _check_error(served.client.post("/v1/commands", content=encoded(_as(item, who or "mallory")),
                                               headers=headers))
        if body.get("accepted") is True:
            return
        if "accepted" in body:
            assert body["code"] in CODES and len(body["message"]) > 5, body
        _unchanged(served, before)

    check()
    COUNTS["API command bodies"] = tried["n"]
    print(f"\nhostile inputs tried: POST /v1/commands bodies {tried['n']}")


preview_fields = st.dictionaries(
    st.sampled_from(["what", "account_kind", "symbol", "side", "qty", "price", "leverage", "margin_mode", "lead",
                     "kind", "delta", "user", "extra"]), values, max_size=8)

follow_fields = st.dictionaries(
    st.sampled_from(["do", "user", "lead", "mode", "amount", "ratio", "leverage", "margin_mode", "max_margin_per_order",
                     "max_total_margin", "symbols", "tp_ratio", "sl_ratio", "slippage", "id", "at", "extra"]),
    values, max_size=6)


def test_hostile_previews(served):
    tried = {"n": 0}

    @settings(SETTINGS, max_examples=300)
    @given(st.one_of(
        preview_fields,
        preview_fields.map(lambda d: {**d, "what": "order", "account_kind": "futures", "symbol": "BTCUSDT"}),
        preview_fields.map(lambda d: {"what": "margin", "kind": "futures", "symbol": "BTCUSDT", "lead": "", **d}),
        follow_fields.map(lambda d: {"what": "follow", "do": "follow", "lead": "victim", "mode": "fixed", **d}),
        st.fixed_dictionaries({"what": st.just("order"), "account_kind": st.just("futures"),
                               "symbol": st.just("BTCUSDT"), "side": st.sampled_from([1, -1, 0, 2, "buy", None]),
                               "qty": st.sampled_from(NASTY_TEXT), "price": st.sampled_from(NASTY_TEXT + [None]),
                               "leverage": st.sampled_from([None, 0, -1, 5, 126, 10**30, 1.5, "x"])}),
        values, st.binary(max_size=100)))
    def check(item):
        tried["n"] += 1
        before = _state(served)
        response = served.client.post("/v1/preview", content=encoded(item), headers=_auth(served, "mallory"))
        body = _check_error(response)
        if response.status_code == 200 and "rejected" in body:
            assert body["rejected"]["code"] in CODES, body
        _unchanged(served, before)

    check()
    COUNTS["API previews"] = tried["n"]
    print(f"\nhostile inputs tried: POST /v1/preview bodies {tried['n']}")


def test_hostile_snapshot_queries_and_tokens(served):
    tried = {"n": 0}
    query_text = st.one_of(st.sampled_from([t for t in NASTY_TEXT if len(t) < 2000]), st.text(max_size=30),
                           st.sampled_from(["users", "copy", "users,copy", ",,,", "users,users", "7d", "all", "1d"]))

    @settings(SETTINGS, max_examples=200)
    @given(st.dictionaries(st.sampled_from(["of", "period", "x", "of[]", "tab", "account", "lead", "since_ms",
                                            "until_ms", "user"]), query_text, max_size=3),
           st.sampled_from(["/v1/snapshot", "/v1/view", "/v1/health", "/v1/snapshot/", "/v1/%00", "/v1/events",
                            "/v1/views/history", "/v1/views/statement", "/v1/views/profile", "/v1/views/leaderboard",
                            "/v1/views/inbox", "/v1/views/%00", "/v1/views/../view", "/v1/views/"]))
    def queries(params, path):
        tried["n"] += 1
        query = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in params.items())
        response = served.client.get(f"{path}?{query}", headers=_auth(served, "mallory"))
        if path == "/v1/events":
            assert response.status_code in (400, 426) or response.status_code in HTTP_ERRORS, response.text
            return
        _check_error(response)

    queries()

    @settings(SETTINGS, max_examples=150)
    @given(st.one_of(st.text(max_size=80), st.sampled_from(NASTY_TEXT[:40]),
                     st.sampled_from([served.tokens["mallory"] + "x", served.tokens["mallory"][:-1], "Bearer",
                                      " " * 10, served.tokens["operator"].upper()])),
           st.sampled_from(["Bearer ", "bearer ", "Basic ", "", "Bearer  "]))
    def tokens(text, scheme):
        tried["n"] += 1
        value = scheme + text
        try:
            value.encode("ascii")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass").decode("latin-1")
        if any(c in value for c in "\r\n\x00"):
            value = value.replace("\r", "").replace("\n", "").replace("\x00", "")
        before = _state(served)
        try:
            response = served.client.post("/v1/commands", json={"do": "deposit", "user": "victim", "amount": "1"},
                                          headers={"Authorization": value})
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            return  # httpx itself refuses to send such a header
        body = _check_error(response)
        assert response.status_code in (401, 403) or body.get("accepted") is not True, (value, body)
        _unchanged(served, before)

    tokens()
    COUNTS["API queries and tokens"] = tried["n"]
    print(f"\nhostile inputs tried: snapshot/view queries and Authorization headers {tried['n']}")


def test_hostile_request_heads_on_the_socket(served):
    port = int(served.url.rsplit(":", 1)[1])
    tried = {"n": 0}

    @settings(SETTINGS, max_examples=150)
    @given(st.one_of(
        st.binary(max_size=200).map(lambda b: b + b"\r\n\r\n"),
        st.sampled_from([b"GET / HTTP/1.1\r\n\r\n", b"GET\r\n\r\n", b" / HTTP/1.1\r\n\r\n",
                         b"POST /v1/commands HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                         b"POST /v1/commands HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n",
                         b"POST /v1/commands HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                         b"POST /v1/commands HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 2\r\n\r\nab",
                         b"GET /v1/health HTTP/1.1\r\nHost: \xff\xfe\r\n\r\n",
                         b"GET /v1/health?" + b"a=" * 5000 + b" HTTP/1.1\r\n\r\n",
                         b"GET /v1/health HTTP/1.1\r\n" + b"X: y\r\n" * 3000 + b"\r\n",
                         b"GET /v1/health HTTP/1.1\r\nNoColonHere\r\n\r\n",
                         b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"])),
        st.sampled_from(["GET", "POST", "DELETE", "get", "PATCH", "G\x00T"]))
    def check(raw, method):
        tried["n"] += 1
        if not raw.startswith((b"GET", b"POST", b" ", b"\x16")):
            raw = method.encode("latin-1") + b" /v1/health HTTP/1.1\r\n" + raw
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(raw)
            conn.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        if not answer:
            return  # the server may simply close a connection that never formed a request
        head, _, rest = answer.partition(b"\r\n\r\n")  # the first answer (a pipelined second may follow)
        status = int(head.split()[1])
        assert status in HTTP_ERRORS | {200}, answer[:300]
        length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
        if status != 200:
            assert "error" in json.loads(rest[:length])

    check()
    assert httpx.get(f"{served.url}/v1/health").json()["ok"] is True
    COUNTS["raw request heads"] = tried["n"]
    print(f"\nhostile inputs tried: raw request heads {tried['n']}")


WS_LIMIT = 64 * 1024  # a longer message closes the stream (1009): checked on its own below
ws_messages = st.one_of(
    values.map(lambda v: encoded(v).decode("utf-8", "replace")),
    st.text(max_size=200), st.binary(max_size=200),
    st.sampled_from(["", "{", "[" * 30000 + "]" * 30000, "{\"ping\": " * 7000, "{\"ping\": NaN}",
                     "{\"ping\": \"\\ud800\"}", "{\"ping\": 1, \"do\": \"deposit\"}", "{\"ping\": [1, {\"a\": null}]}",
                     "{\"do\": \"deposit\", \"user\": \"victim\", \"amount\": \"1\"}", "x" * 60000]),
).filter(lambda message: len(message.encode() if isinstance(message, str) else message) <= WS_LIMIT)


def test_hostile_websocket_messages(served):
    url = served.url.replace("http://", "ws://") + f"/v1/events?token={served.tokens['mallory']}"
    tried = {"n": 0}
    with connect(url, max_size=None, open_timeout=10) as stream:
        assert json.loads(stream.recv(10))["type"] == "hello"

        @settings(SETTINGS, max_examples=200)
        @given(ws_messages)
        def check(message):
            tried["n"] += 1
            stream.send(message)
            while True:
                reply = json.loads(stream.recv(30))  # generous: a loaded 2-core CI machine
                if reply["type"] in ("pong", "error"):
                    break
            if reply["type"] == "error":
                assert reply["code"] == "UNSUPPORTED_MESSAGE" and len(reply["message"]) > 5

        check()
    # A message over 64 KiB closes the stream with 1009, and the server carries on.
    with connect(url, max_size=None, open_timeout=10) as stream:
        stream.recv(10)
        stream.send("x" * (WS_LIMIT + 1))
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                stream.recv(10)
        assert closed.value.rcvd.code == 1009
        tried["n"] += 1
    assert httpx.get(f"{served.url}/v1/health").json()["ok"] is True
    COUNTS["websocket messages"] = tried["n"]
    print(f"\nhostile inputs tried: websocket messages {tried['n']}")
