"""Integer units of 1e-8 and back: exact both ways, and amounts read back are interned (one object per value,
in a bounded cache), which a start relies on to share figures among copies alike; an amount written is
converted once per object (a bounded cache by identity), and never handed another object's units."""
import pytest
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine import money
from engine.money import QUANTUM, ZERO, from_units, to_units


@given(st.integers(-10**23, 10**23))
def test_units_go_there_and_back_exactly(units):
    value = from_units(units)
    assert to_units(value) == units
    assert value == Decimal(units) * QUANTUM
    assert value.as_tuple() == (ZERO if units == 0 else Decimal(units) * QUANTUM).as_tuple()


def test_an_amount_read_twice_is_one_object_and_the_cache_stays_bounded():
    assert from_units(123_456_789) is from_units(123_456_789)
    assert str(from_units(123_456_789)) == "1.23456789"
    for units in range(1, money._FROM_UNITS_LIMIT + 100):
        from_units(units)
    assert 0 < len(money._FROM_UNITS) <= money._FROM_UNITS_LIMIT
    assert from_units(money._FROM_UNITS_LIMIT + 99) == Decimal(money._FROM_UNITS_LIMIT + 99) / 10**8


@given(st.lists(st.integers(-10**20, 10**20), min_size=1, max_size=50))
def test_an_amount_written_is_converted_by_its_own_value_whatever_was_cached(values):
    """The cache is by identity: objects that come and go (and whose ids are reused) get their own units."""
    for units in values:
        fresh = Decimal(units) * QUANTUM + ZERO       # a new object each time
        assert to_units(fresh) == units
        assert to_units(fresh) == units               # and again, from the cache


def test_a_written_amount_off_the_grid_is_refused_and_the_cache_stays_bounded():
    with pytest.raises(ValueError, match="not on the 1e-8 grid"):
        to_units(Decimal("0.000000001"))
    kept = [Decimal(n) * QUANTUM for n in range(1, money._TO_UNITS_LIMIT + 100)]
    assert [to_units(value) for value in kept] == list(range(1, money._TO_UNITS_LIMIT + 100))
    assert 0 < len(money._TO_UNITS) <= money._TO_UNITS_LIMIT
    assert [to_units(value) for value in kept[:10]] == list(range(1, 11))


def test_a_value_no_row_shares_is_converted_outside_the_cache():
    """Wallet balances (one per wallet) go through `own_units`: exact, refused off the grid, and never cached,
    so they do not push the fan-out's shared figures out."""
    money._TO_UNITS.clear()
    shared = Decimal("97.08")
    assert to_units(shared) == 9_708_000_000
    balances = [Decimal(n) * QUANTUM + Decimal("1000") for n in range(money._TO_UNITS_LIMIT + 10)]
    assert [money.own_units(b) for b in balances] == [100_000_000_000 + n for n in range(money._TO_UNITS_LIMIT + 10)]
    assert list(money._TO_UNITS) == [id(shared)]
    with pytest.raises(ValueError, match="not on the 1e-8 grid"):
        money.own_units(Decimal("1.000000001"))
