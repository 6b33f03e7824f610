"""The trigger book: levels fire in an order fixed by level then key, whether placed one by one or in a batch."""
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.triggers import DOWN, UP, TriggerBook

placements = st.lists(st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(90, 110).map(Decimal)),
                                st.sampled_from((UP, DOWN))), max_size=60)


def test_levels_fire_nearest_first_and_a_key_moves_rather_than_repeats():
    book = TriggerBook()
    book.put_many([("a", Decimal(95), DOWN), ("b", Decimal(97), DOWN), ("c", Decimal(105), UP)])
    book.put_many([("a", Decimal(98), DOWN), ("c", None, UP)])  # a moves up, c leaves the book
    assert len(book) == 2 and "c" not in book and book.level("a") == Decimal(98)
    assert book.fired(Decimal(100)) == []
    assert book.fired(Decimal(97)) == ["a", "b"]  # a long's level at 98 is reached first, then b's at 97
    assert len(book) == 0


@given(st.lists(placements, max_size=4), st.integers(85, 115))
def test_a_batch_places_exactly_as_one_put_after_another(batches, price):
    one_by_one, batched = TriggerBook(), TriggerBook()
    for batch in batches:
        for key, level, direction in batch:
            one_by_one.put(key, level, direction)
        batched.put_many(batch)
    assert len(batched) == len(one_by_one)
    assert all(batched.level(key) == one_by_one.level(key) for key in range(31))
    assert batched.fired(Decimal(price)) == one_by_one.fired(Decimal(price))
    assert len(batched) == len(one_by_one)
