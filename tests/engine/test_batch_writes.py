"""The batch forms of the write set and the ledger a fan-out's runs of fresh opens use: the same result as
one call per item, in the same order."""
from decimal import Decimal

import pytest

from engine.changes import Changes
from engine.ledger import FEES, EntryType, Ledger, LedgerEntry, Wallet
from engine.positions import Position


def _ledger(*accounts: tuple[str, str]) -> Ledger:
    ledger = Ledger(Changes())
    for account, balance in accounts:
        ledger.open(account)
        ledger.move(EntryType.DEPOSIT, "external", account, Decimal(balance), 0)
    ledger._changes.clear()
    return ledger


def test_pay_many_is_move_after_move_and_skips_zero_payments():
    one, many = _ledger(("a", "10"), ("b", "10"), ("c", "10")), _ledger(("a", "10"), ("b", "10"), ("c", "10"))
    payments = [("a", Decimal("0.5")), ("b", Decimal("0")), ("c", Decimal("1.25"))]
    for debit, amount in payments:
        one.move(EntryType.TRADING_FEE, debit, FEES, amount, 7, "copy:lead")
    many.pay_many(EntryType.TRADING_FEE, payments, FEES, 7, "copy:lead")
    # b paid nothing and left no entry: ids 4 and 5 follow the three deposits.
    entries = many._changes.appended[LedgerEntry]
    assert [(e.id, e.debit, e.amount) for e in entries] == [(4, "a", Decimal("0.5")), (5, "c", Decimal("1.25"))]
    assert [e.row() for e in entries] == [e.row() for e in one._changes.appended[LedgerEntry]]
    assert list(many._changes.saved[Wallet]) == list(one._changes.saved[Wallet]) == ["a", FEES, "c"]
    assert many.balance(FEES) == Decimal("1.75") and many.total() == 0 and many.next_id == one.next_id == 6


@pytest.mark.parametrize("payments", [[("a", Decimal("1")), ("b", Decimal("-1"))],
                                      [("a", Decimal("1")), ("b", Decimal("0.000000001"))],
                                      [("a", Decimal("1")), ("nobody", Decimal("1"))]])
def test_pay_many_refuses_a_bad_payment_before_moving_any(payments):
    ledger = _ledger(("a", "10"), ("b", "10"))
    with pytest.raises((ValueError, KeyError)):
        ledger.pay_many(EntryType.TRADING_FEE, payments, FEES, 7)
    assert (ledger.balance("a"), ledger.balance(FEES), ledger.next_id) == (Decimal("10"), 0, 3)
    assert not ledger._changes


def _position(account: str) -> Position:
    return Position(account, "BTCUSDT", "lead", 1, Decimal("1"), Decimal("100"), 10, "isolated", Decimal("10"), 0)


def test_insert_many_records_new_rows_and_touches_their_accounts():
    changes = Changes()
    positions = [_position("a:copy"), _position("b:copy")]
    changes.insert_many(positions)
    assert list(changes.saved[Position].values()) == positions
    assert changes.new[Position] == {p.key() for p in positions}
    assert changes.touched == {"a:copy", "b:copy"} and changes.writes == 2


def test_insert_many_over_a_key_deleted_in_the_same_write_set_updates_its_row():
    # A position closed and reopened in one command still has its row until the commit: an update, not an insert.
    changes = Changes()
    closed = _position("a:copy")
    changes.delete(closed)
    reopened = [_position("a:copy"), _position("b:copy")]
    changes.insert_many(reopened)
    assert changes.new[Position] == {reopened[1].key()}
    assert not changes.deleted[Position]
    assert list(changes.saved[Position].values()) == reopened
