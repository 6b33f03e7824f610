"""After a futures scenario with positions and orders of every kind, reopening the desk gives the same
state, the same snapshot, and the same future."""
from storage.desk import Desk
from engine.snapshot import build_snapshot


def order(user, symbol, side, qty, **fields):
    return {"do": "order", "user": user, "account": "futures", "symbol": symbol, "side": side, "qty": qty, **fields}


LINES = [
    {"do": "config", "slippage_bps": "2", "impact_bps": "5"},
    {"do": "user", "name": "alice"},
    {"do": "user", "name": "bob"},
    {"do": "deposit", "user": "alice", "amount": "50000"},
    {"do": "deposit", "user": "bob", "amount": "20000"},
    {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "50000"},
    {"do": "transfer", "user": "bob", "from": "funding", "to": "futures", "amount": "20000"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "10000"},
    {"do": "price", "symbol": "ETHUSDT", "mark": "2000"},
    {"do": "price", "symbol": "SOLUSDT", "mark": "100"},
    # alice: an isolated BTC long with TP/SL and added margin; cross ETH and SOL (a multi-symbol cross account).
    order("alice", "BTCUSDT", "buy", "1", leverage=10, margin_mode="isolated", tp="12000", sl="8000"),
    {"do": "margin", "user": "alice", "account": "futures", "symbol": "BTCUSDT", "delta": "250.5"},
    order("alice", "ETHUSDT", "sell", "5", leverage=20, margin_mode="cross"),
    order("alice", "SOLUSDT", "buy", "30", leverage=5, margin_mode="cross"),
    # Resting orders of every kind.
    order("alice", "BTCUSDT", "buy", "0.5", type="limit", price="9500", client_id="bid"),
    order("alice", "BTCUSDT", "sell", "0.2", type="stop_market", trigger="9000", trigger_by="mark",
          reduce_only=True, client_id="stop"),
    order("alice", "ETHUSDT", "buy", "1", type="stop_limit", trigger="2100", price="2050", client_id="sl"),
    order("alice", "BTCUSDT", "sell", "0.3", type="trailing_stop", callback="0.02", reduce_only=True,
          client_id="trail"),
    order("alice", "SOLUSDT", "buy", "10", type="scaled", price="90", price_to="95", count=3, client_id="ladder"),
    order("bob", "BTCUSDT", "sell", "0.4", type="post_only", price="10500", client_id="ask"),
    # bob: a short that will be liquidated, and time passing over funding.
    order("bob", "SOLUSDT", "sell", "100", leverage=20, margin_mode="isolated"),
    {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0003"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "10400", "at": "2026-01-05T06:00:00Z"},  # trailing high
    {"do": "price", "symbol": "ETHUSDT", "mark": "2100", "at": "2026-01-05T07:00:00Z"},  # stop-limit now rests
    {"do": "price", "symbol": "SOLUSDT", "mark": "106", "at": "2026-01-05T09:00:00Z"},   # bob liquidated
    {"do": "advance", "to": "2026-01-05T12:30:00Z"},
    # Last, a tick that moves the liquidation prices of alice's cross positions without touching her account.
    {"do": "price", "symbol": "SOLUSDT", "mark": "99"},
]

LATER = [
    {"do": "price", "symbol": "ETHUSDT", "mark": "2040"},   # the rested stop-limit fills
    {"do": "price", "symbol": "BTCUSDT", "mark": "10150"},  # the trailing stop fires (10,400 × 0.98 = 10,192)
    {"do": "price", "symbol": "SOLUSDT", "mark": "92"},     # two scaled levels fill (95, 92.5)
    {"do": "advance", "to": "2026-01-06T00:00:00Z"},
    {"do": "price", "symbol": "BTCUSDT", "mark": "12000"},  # take-profit
]


def execute_all(desk, lines):
    for line in lines:
        outcome = desk.execute(line)
        assert outcome.accepted, (line, outcome.code, outcome.message)


def views(desk):
    return build_snapshot(desk.exchange, ("at", "users", "insurance_fund", "ledger"))


def test_reopening_after_a_futures_scenario_gives_the_same_state_and_future(tmp_path):
    with Desk.open(tmp_path / "a.db") as desk:
        execute_all(desk, LINES)
        state, before = desk.state_hash(), views(desk)
        alice = before["users"]["alice"]["futures"]
        # The scenario did leave what it means to test: positions, resting and triggered orders, a liquidation.
        assert {p["symbol"] for p in alice["positions"]} == {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
        assert {o["client_id"]: o["status"] for o in alice["orders"]} == {
            "bid": "open", "stop": "untriggered", "sl": "open", "trail": "untriggered",
            "ladder-1": "open", "ladder-2": "open", "ladder-3": "open"}
        assert before["users"]["bob"]["futures"]["positions"] == []
    with Desk.open(tmp_path / "a.db") as reopened:
        assert reopened.state_hash() == state
        assert views(reopened) == before
        execute_all(reopened, LATER)
        after_reopen = reopened.state_hash(), views(reopened)
    with Desk.open(tmp_path / "b.db") as straight:
        execute_all(straight, LINES + LATER)
        assert (straight.state_hash(), views(straight)) == after_reopen
        alice = views(straight)["users"]["alice"]["futures"]
        assert "BTCUSDT" not in {p["symbol"] for p in alice["positions"]}  # trailing stop then take-profit
        assert {o["client_id"] for o in alice["orders"]} == {"bid", "stop", "ladder-1"}
