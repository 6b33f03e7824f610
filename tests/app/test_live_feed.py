"""The live feed against a local stand-in speaking Binance's formats (no internet)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
from decimal import Decimal

import httpx
from binance_standin import BinanceStandIn, kline, mark_update
from serving import Served, token
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.feeds.live import LiveFeed

TICKS = {"BTCUSDT": Decimal("0.1"), "ETHUSDT": Decimal("0.01")}


def feed_for(standin: BinanceStandIn, **options) -> LiveFeed:
    options.setdefault("backoff_start", 0.05)
    return LiveFeed(TICKS, ws_url=f"ws://{standin.base}", rest_url=f"http://{standin.base}", **options)


async def collect(feed: LiveFeed, count: int, timeout: float = 5) -> list:
    ticks = []
    stream = feed.ticks()

    async def read():
        async for tick in stream:
            ticks.append(tick)
            if len(ticks) == count:
                return

    try:
        await asyncio.wait_for(read(), timeout)
    finally:
        await stream.aclose()
    return ticks


async def test_mark_price_updates_become_ticks_on_the_instrument_tick():
    async def script(connection, number):
        await connection.send(mark_update("BTCUSDT", "97123.45678912", index="97100.04000000"))
        await connection.send(mark_update("ETHUSDT", "3400.125"))
        await connection.wait_closed()

    async with BinanceStandIn(script) as standin:
        feed = feed_for(standin)
        assert feed.status == "live feed connecting"
        btc, eth = await collect(feed, 2)
        assert standin.paths == ["/stream?streams=btcusdt@markPrice@1s/ethusdt@markPrice@1s"]
    assert (btc.symbol, btc.mark, btc.last, btc.index) == ("BTCUSDT", Decimal("97123.5"), Decimal("97123.5"),
                                                           Decimal("97100.0"))
    assert btc.at_ms == 1767225600000
    assert eth.mark == Decimal("3400.12")  # banker's rounding to the 0.01 tick
    assert btc.to_command() == {"do": "price", "symbol": "BTCUSDT", "mark": "97123.5", "last": "97123.5",
                                "index": "97100"}
    assert feed.status == "live feed ok" and not feed.stale


async def test_junk_and_other_symbols_are_ignored():
    async def script(connection, number):
        for junk in ("not json", '{"stream": "x", "data": {"e": "aggTrade", "s": "BTCUSDT", "p": "1"}}',
                     mark_update("PEPEUSDT", "0.00001"), mark_update("BTCUSDT", "NaN"), mark_update("BTCUSDT", "-5"),
                     mark_update("BTCUSDT", "1e9999999"),
                     '[1, 2]', mark_update("BTCUSDT", "65000")):
            await connection.send(junk)
        await connection.wait_closed()

    async with BinanceStandIn(script) as standin:
        [tick] = await collect(feed_for(standin), 1)
    assert tick.mark == Decimal("65000")


async def test_a_dropped_connection_reconnects_and_prices_continue():
    async def script(connection, number):
        await connection.send(mark_update("BTCUSDT", str(60000 + number)))
        if number == 1:
            await connection.close()  # the exchange drops us
            return
        await connection.wait_closed()

    async with BinanceStandIn(script) as standin:
        feed = feed_for(standin)
        ticks = await collect(feed, 2)
        assert standin.connections == 2
    assert [t.mark for t in ticks] == [Decimal("60001"), Decimal("60002")]
    assert feed.attempt == 0 and feed.status == "live feed ok"


async def test_reconnecting_status_counts_attempts_while_the_exchange_is_down():
    async def script(connection, number):
        await connection.close()

    async with BinanceStandIn(script) as standin:
        feed = feed_for(standin, backoff_start=0.01, backoff_max=0.02)
        reader = asyncio.create_task(collect(feed, 1))
        await asyncio.sleep(0.3)
        assert feed.attempt >= 3
        assert re.fullmatch(r"reconnecting \(attempt \d+\)", feed.status)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_goes_stale_when_the_stream_falls_quiet():
    async def script(connection, number):
        await connection.send(mark_update("BTCUSDT", "70000"))
        await connection.wait_closed()

    async with BinanceStandIn(script) as standin:
        feed = feed_for(standin, stale_after=0.3)
        reader = asyncio.create_task(collect(feed, 2, timeout=10))
        while feed.status != "live feed ok":
            await asyncio.sleep(0.02)
        assert not feed.stale
        await asyncio.sleep(0.45)
        assert feed.stale and feed.connected
        assert re.fullmatch(r"live feed stale for \d+ s", feed.status)
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_recent_history_from_rest_klines():
    klines = {"BTCUSDT": [kline(1767225600000 + i * 60_000, f"9700{i}.123") for i in range(5)],
              "ETHUSDT": [kline(1767225600000, "3400.5")]}

    async def script(connection, number):
        await connection.wait_closed()

    async with BinanceStandIn(script, klines) as standin:
        history = await feed_for(standin).history(limit=3)
    assert [t.mark for t in history["BTCUSDT"]] == [Decimal("97002.1"), Decimal("97003.1"), Decimal("97004.1")]
    assert history["BTCUSDT"][-1].at_ms == 1767225600000 + 4 * 60_000 + 59_999
    assert [t.mark for t in history["ETHUSDT"]] == [Decimal("3400.5")]


async def test_the_server_takes_its_prices_from_the_live_stream(tmp_path):
    async def script(connection, number):
        with contextlib.suppress(ConnectionClosed):
            while True:
                await connection.send(mark_update("BTCUSDT", "50000.14"))
                await asyncio.sleep(0.1)

    klines = {"BTCUSDT": [kline(1767225600000, "49999.9")]}
    async with BinanceStandIn(script, klines) as standin:
        operator = token(tmp_path, "--operator")
        env = {"COPYDESK_LIVE_WS": f"ws://{standin.base}", "COPYDESK_LIVE_REST": f"http://{standin.base}"}
        server = await asyncio.to_thread(Served, tmp_path, "--feed", "live", env=env)
        try:
            async with connect(server.url.replace("http", "ws") + "/v1/events",
                               additional_headers={"Authorization": f"Bearer {operator}"}) as stream:
                hello = json.loads(await stream.recv())
                assert hello["type"] == "hello" and hello["feed"]["kind"] == "live"
                mark = hello["prices"].get("BTCUSDT", {}).get("mark")
                while mark != "50000.1":
                    message = json.loads(await asyncio.wait_for(stream.recv(), 5))
                    if message["type"] == "ticker" and "BTCUSDT" in message["prices"]:
                        mark = message["prices"]["BTCUSDT"]["mark"]
            async with httpx.AsyncClient() as client:
                health = (await client.get(f"{server.url}/v1/health")).json()
            assert health["feed"] == {"kind": "live", "status": "live feed ok", "stale": False}
        finally:
            assert await asyncio.to_thread(server.stop) == 0
    assert "Traceback" not in server.stderr()
