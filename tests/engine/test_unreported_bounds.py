"""A desk nobody snapshots (the workstation, the server) keeps a bounded number of records in memory."""
from engine import exchange as exchange_module

from conftest import run


def test_unreported_records_are_bounded_and_the_cursor_follows(exchange, monkeypatch):
    monkeypatch.setattr(exchange_module, "UNREPORTED_LIMIT", 10)
    run(exchange, {"do": "user", "name": "al"})
    for _ in range(30):
        exchange.notify("al", "note", "hello")
    kept = exchange.unreported["notifications"]
    assert 10 <= len(kept) <= 11
    assert kept[-1].seq == 30 and exchange.reported["notifications"] == kept[0].seq - 1
    shown = run(exchange, {"do": "snapshot", "of": ["notifications"]})["notifications"]
    assert len(shown) == len(kept) and exchange.reported["notifications"] == 30
