"""Hypothesis strategies for hostile input: malformed, oversized, wrong-typed, non-finite and boundary
values, and command lines built from valid ones with one such value put in."""
from __future__ import annotations

import json

from hypothesis import strategies as st

from engine.commands import ACTIONS

# Every rejection code a command line may get (README "Rejection codes").
CODES = frozenset("""
INVALID_AMOUNT INVALID_QTY INVALID_PRICE INSUFFICIENT_BALANCE UNKNOWN_USER UNKNOWN_ACCOUNT UNKNOWN_SYMBOL
NO_MARKET_PRICE UNKNOWN_ORDER USER_EXISTS TIME_BACKWARDS BELOW_MIN_QTY BELOW_MIN_NOTIONAL LEVERAGE_NOT_ALLOWED
REDUCE_ONLY RISK_RESTRICTED POST_ONLY_WOULD_TAKE NO_POSITION MARGIN_MODE_LOCKED NOT_ISOLATED
MAX_REMOVABLE_EXCEEDED NOT_ELITE ELITE_REQUIREMENTS LEAD_AT_CAPACITY FOLLOW_PAUSED_SCALE_LIMIT ALREADY_FOLLOWING
NOT_FOLLOWING MAX_LEADS MANAGED_POSITION SYMBOL_NOT_SELECTED UNKNOWN_ACTION BAD_FIELD
""".split())

NASTY_TEXT = [
    "", " ", "NaN", "nan", "-NaN", "sNaN", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "1e-400", "1E+15",
    "1e15", "1000000000000001", "-0", "0", "0.0", "-0.00000001", "0.000000001", "0.00000001", "1.000000001",
    "99999999999999999999999999999999999999999", "1" * 41, "1" * 5000, "1,5", "0x10", "1_000", "١٢٣", "½",
    "10%", "+5", " 5 ", "5\n", "\u00005", "5\u0000", "null", "true", "[]", "{}", "BTCUSDT", "btcusdt", "../etc",
    "a" * 70000, "\ud800", "😀" * 40, "2026-01-05T00:00:00Z", "1999-12-31T23:59:59Z", "2201-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-13-45T25:61:61Z", "90s", "0s", "-1h",
    "1" * 400 + "s", "1e308h", "99999999999w", "0.0000001ms", "1e9999999", "-1e9999999", "1e-9999999",
]
NASTY_NUMBERS = [0, -1, 1, 2, 99, 100, 101, 125, 126, 2**31, 2**53 + 1, -2**63, 10**15, 10**16, 10**40, 10**41,
                 10**300, 0.1, -0.5, 1.5, 1e-9, 1e308, float("inf"), float("-inf"), float("nan"), 86400, 86401,
                 3600.0000001, True, False]

scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(NASTY_TEXT), st.sampled_from(NASTY_NUMBERS),
    st.integers(), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=8)

# Valid-looking lines of every action, for one field to be spoiled at a time.
TEMPLATES: list[dict] = [
    {"do": "config", "taker_fee": "0.0005", "signal_hold_s": 2},
    {"do": "instrument", "symbol": "NEWUSDT", "tick": "0.01", "step": "0.1", "max_leverage": 20,
     "tiers": [{"max_notional": "10000", "max_leverage": 20, "mmr": "0.01"}], "funding_hours": 4},
    {"do": "price", "symbol": "BTCUSDT", "mark": "50000", "last": "50001", "index": "49999"},
    {"do": "funding_rate", "symbol": "BTCUSDT", "rate": "0.0001"},
    {"do": "user", "name": "newbie"},
    {"do": "deposit", "user": "alice", "amount": "100"},
    {"do": "withdraw", "user": "alice", "amount": "1"},
    {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "10"},
    {"do": "become_elite", "user": "alice", "symbols": ["BTCUSDT"], "nickname": "Al", "capacity": 10,
     "profit_share": "0.1", "mode": "standard"},
    {"do": "order", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "side": "buy", "type": "limit",
     "qty": "0.01", "price": "40000", "leverage": 5, "margin_mode": "isolated", "tif": "GTC", "client_id": "x1"},
    {"do": "order", "user": "bob", "account": "futures", "symbol": "ETHUSDT", "side": "sell", "type": "scaled",
     "qty": "0.1", "price": "3100", "price_to": "3200", "count": 3},
    {"do": "order", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "side": "sell",
     "type": "trailing_stop", "qty": "0.01", "callback": "0.01", "trigger_by": "mark"},
    {"do": "cancel", "user": "bob", "account": "futures", "client_id": "x1"},
    {"do": "close", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "qty": "0.001"},
    {"do": "reverse", "user": "bob", "account": "futures", "symbol": "BTCUSDT"},
    {"do": "margin", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "delta": "-1", "signal_delay_s": 3},
    {"do": "leverage", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "leverage": 20},
    {"do": "margin_mode", "user": "bob", "account": "futures", "symbol": "SOLUSDT", "mode": "cross"},
    {"do": "tp_sl", "user": "bob", "account": "futures", "symbol": "BTCUSDT", "tp": "90000", "sl": "1000"},
    {"do": "restrict", "user": "bob", "account": "futures", "reduce_only": False},
    {"do": "follow", "user": "bob", "lead": "alice", "mode": "ratio", "ratio": "0.5", "leverage": "follow",
     "margin_mode": "isolated", "max_margin_per_order": "100", "max_total_margin": "500", "symbols": ["BTCUSDT"],
     "tp_ratio": "0.5", "sl_ratio": "0.5", "slippage": "0.01"},
    {"do": "update_follow", "user": "bob", "lead": "alice", "amount": "20", "mode": "fixed"},
    {"do": "unfollow", "user": "bob", "lead": "alice", "close_positions": True},
    {"do": "upgrade", "user": "bob"},
    {"do": "advance", "by": "1s"},
    {"do": "snapshot", "of": ["users"], "period": "7d"},
]
ENVELOPE = ("do", "at", "id", "expect_error")


@st.composite
def spoiled_lines(draw) -> object:
    """A line that is wrong in one way: a field's value, a missing field, an unknown field, a bad
    action, or not an object at all."""
    how = draw(st.sampled_from(["value", "value", "value", "drop", "extra", "action", "envelope", "whole"]))
    if how == "whole":
        return draw(values.filter(lambda v: not isinstance(v, dict)))
    line = dict(draw(st.sampled_from(TEMPLATES)))
    if how == "value":
        key = draw(st.sampled_from(sorted(k for k in line if k != "do")))
        line[key] = draw(values)
    elif how == "drop":
        line.pop(draw(st.sampled_from(sorted(k for k in line if k != "do"))), None)
    elif how == "extra":
        line[draw(st.text(min_size=1, max_size=20).filter(lambda k: k not in ENVELOPE))] = draw(values)
    elif how == "action":
        line["do"] = draw(values.filter(lambda v: not (isinstance(v, str) and v in ACTIONS)))
    else:
        line[draw(st.sampled_from(ENVELOPE[1:]))] = draw(values)
    return line


def json_safe(value: object) -> bool:
    """Whether a value survives a JSON round trip as itself (no NaN, no lone surrogates, no big ints)."""
    try:
        return json.loads(json.dumps(value, allow_nan=False)) == value
    except (ValueError, TypeError, RecursionError):
        return False


def encoded(item) -> bytes:
    """A hostile value as the bytes a client would send: JSON where it can be (NaN, lone surrogates and all),
    else its repr; bytes as they are."""
    if isinstance(item, bytes):
        return item
    try:
        return json.dumps(item, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError, RecursionError):
        return repr(item).encode("utf-8", "surrogatepass")
