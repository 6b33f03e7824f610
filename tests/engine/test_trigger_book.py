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


levels = st.one_of(st.none(), st.integers(90, 110).map(Decimal))
operations = st.lists(st.one_of(
    st.tuples(st.just("put"), st.integers(0, 200), levels, st.sampled_from((UP, DOWN))),
    st.tuples(st.just("many"), st.lists(st.tuples(st.integers(0, 200), levels, st.sampled_from((UP, DOWN))),
                                        max_size=150)),
    st.tuples(st.just("discard"), st.integers(0, 200)),
    st.tuples(st.just("discard_range"), st.integers(0, 200), st.integers(0, 200)),  # a lead's close: many at once
    st.tuples(st.just("fired"), st.integers(85, 115).map(Decimal))), max_size=40)


@given(operations)
def test_puts_discards_and_fires_in_any_order_leave_the_book_a_plain_model_says(steps):
    """Whatever mix of placements, discards (one or a lead's close of many) and ticks: what fires, and in
    which order, is what a plain model of the book says."""
    book, model = TriggerBook(), {}

    def fire(price):
        ups = sorted((level, key) for key, (level, d) in model.items() if d == UP and level <= price)
        downs = sorted(((level, key) for key, (level, d) in model.items() if d == DOWN and level >= price),
                       reverse=True)
        for _, key in ups + downs:
            del model[key]
        return [key for _, key in ups + downs]

    for step in steps:
        kind = step[0]
        if kind == "put":
            _, key, level, direction = step
            book.put(key, level, direction)
            model.pop(key, None)
            if level is not None:
                model[key] = (level, direction)
        elif kind == "many":
            book.put_many(step[1])
            for key, level, direction in step[1]:
                model.pop(key, None)
                if level is not None:
                    model[key] = (level, direction)
        elif kind in ("discard", "discard_range"):
            keys = [step[1]] if kind == "discard" else range(min(step[1:]), max(step[1:]) + 1)
            for key in keys:
                book.discard(key)
                model.pop(key, None)
        else:
            assert book.fired(step[1]) == fire(step[1])
        assert len(book) == len(model) and all(book.level(key) == model[key][0] for key in model)
    assert book.fired(Decimal(0)) + book.fired(Decimal(10**6)) == fire(Decimal(0)) + fire(Decimal(10**6))


def test_a_close_of_most_of_a_book_leaves_the_rest_firing_in_order():
    book = TriggerBook()
    book.put_many([(key, Decimal(90 + key % 7), DOWN) for key in range(300)])
    for key in range(0, 300, 3):                # a third of the keys go, from every level
        book.discard(key)
    assert book.level(3) is None and book.level(4) == Decimal(94)
    fired = book.fired(Decimal(93))
    assert fired == [key for level in (96, 95, 94, 93) for key in range(299, -1, -1)
                     if key % 3 and 90 + key % 7 == level]
    assert len(book) == 200 - len(fired)


def test_a_level_leaves_the_sorted_levels_with_its_last_key():
    # A lead's close forgets every copy: its levels go with the last key at each, so ticks look at none of them.
    book = TriggerBook()
    book.put_many([(key, Decimal(90 + key % 7), DOWN) for key in range(300)])
    assert list(book._down) == [Decimal(level) for level in range(90, 97)]
    for key in range(300):
        book.discard(key)
    assert list(book._down) == [] and len(book) == 0
    book.put_many([("new", Decimal(91), DOWN)])
    book.put("up", Decimal("91.0"), UP)          # the same price firing the other way is a level of its own
    assert list(book._down) == [Decimal(91)] and list(book._up) == [Decimal(91)] and len(book) == 2
    assert book.fired(Decimal(95)) == ["up"] and book.fired(Decimal(91)) == ["new"]
    assert list(book._up) == list(book._down) == []
