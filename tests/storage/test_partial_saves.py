"""Saves that name the columns they changed (a copy order closing, a follow's PnL or failure streak) update
just those columns: the rest of the row stays as stored, a row that is not there fails the commit, and the
values written are exactly what the entity's `row()` would store."""
from decimal import Decimal
from pathlib import Path

import pytest

from app.replay import load_scenario
from engine.changes import Changes, cells
from engine.copytrading.records import CopyOrder
from engine.copytrading.relations import Relation
from engine.ledger import Wallet
from engine.positions import Position
from engine.restore import ENTITY_TYPES
from storage.desk import Desk
from storage.store import StorageError, Store

SCENARIOS = sorted((Path(__file__).parent.parent / "scenarios").glob("*.jsonl"))


def _relation(seq: int, copier: str = "carol") -> Relation:
    return Relation(seq, f"{copier}{seq}", "whale", "fixed", Decimal("20"), None, None, None, None, None, ("BTCUSDT",),
                    None, None, None, "active", 0, None, Decimal(0), Decimal(0), 1_700_000_000_000, Decimal(0),
                    Decimal(0), Decimal(0), Decimal(0), False)


def test_what_every_scenario_saves_in_part_is_encoded_as_its_row(tmp_path):
    """Every save in part made over the scenarios: the cells written are the row's own, and each column a
    type saves in part was written so, holding a value, at least once."""
    written: dict[str, int] = {}

    def checked(commit):
        def checked_commit(changes, meta, journal):
            for cls, parts in changes.partial.items():
                for key, columns in parts.items():
                    entity = changes.saved[cls][key]
                    row = entity.row()
                    values = cells(entity, columns)
                    assert values == [row[cls.COLUMNS.index(c)] for c in columns], (cls.__name__, columns)
                    for column, value in zip(columns, values):
                        if value:
                            written[f"{cls.__name__}.{column}"] = written.get(f"{cls.__name__}.{column}", 0) + 1
            commit(changes, meta, journal)
        return checked_commit

    for scenario in SCENARIOS:
        with Desk.open(tmp_path / f"{scenario.stem}.db") as desk:
            desk.store.commit = checked(desk.store.commit)
            for line in load_scenario(scenario):
                desk.execute(line.command)
    in_part = [cls for cls in ENTITY_TYPES if getattr(cls, "SAVED_IN_PART", None)]
    assert set(in_part) == {CopyOrder, Position, Relation}
    for cls in in_part:
        assert cls.SAVED_IN_PART <= set(cls.COLUMNS) - set(cls.KEY)
        for column in cls.SAVED_IN_PART:
            assert written.get(f"{cls.__name__}.{column}"), f"{cls.__name__}.{column} never saved in part"


def test_partial_saves_merge_and_give_way_to_a_whole_one():
    changes = Changes()
    first, second, third = _relation(1), _relation(2), _relation(3)
    changes.save(first, ("week_pnl",))
    changes.save(first, ("cum_realized_pnl", "week_pnl"))
    assert changes.partial[Relation][1] == ("cum_realized_pnl", "week_pnl")   # both parts, in the table's order
    changes.save(first, ("consecutive_failures",))
    assert changes.partial[Relation][1] == ("consecutive_failures", "cum_realized_pnl", "week_pnl")
    changes.save(second)
    changes.save(second, ("week_pnl",))       # saved whole already: stays whole
    changes.save(third, ("week_pnl",))
    changes.save(third)                       # then whole: whole
    assert set(changes.partial[Relation]) == {1}
    position = Position("a:copy", "BTCUSDT", "whale", 1, Decimal("1"), Decimal("100"), 10, "isolated",
                        Decimal("10"), 1)
    changes.insert(position)
    changes.save(position, ("qty",))          # made in this write set: inserted whole
    assert not changes.partial.get(Position)
    changes.clear()
    changes.delete(position)
    changes.save(position, ("qty",))          # its row deleted in this write set: nothing left to update
    assert not changes.partial.get(Position) and position.key() in changes.saved[Position]


@pytest.mark.parametrize("count", [3, 200])  # one row a step, and a batch whose shared columns are literals
def test_a_partial_save_writes_only_its_columns(tmp_path, count):
    store = Store(tmp_path / "partial.db")
    relations = [_relation(seq) for seq in range(1, count + 1)]
    changes = Changes()
    for relation in relations:
        changes.save(relation)
    store.commit(changes, {}, None)
    changes = Changes()
    for relation in relations:
        relation.week_pnl = Decimal("-12.5")
        relation.cum_realized_pnl = Decimal(relation.seq)
        relation.status = "unfollowed"        # changed, but not named: not written
        changes.save(relation, ("cum_realized_pnl", "week_pnl"))
    store.commit(changes, {}, None)
    stored = store.conn.execute("SELECT seq, cum_realized_pnl, week_pnl, status, symbols FROM relations "
                                "ORDER BY seq").fetchall()
    assert stored == [(seq, seq * 10**8, -1_250_000_000, "active", '["BTCUSDT"]') for seq in range(1, count + 1)]
    store.close()


def _store_with_one_relation(path: Path, count: int = 1) -> Store:
    store = Store(path)
    changes = Changes()
    for seq in range(1, count + 1):
        changes.save(_relation(seq))
    store.commit(changes, {}, None)
    return store


@pytest.mark.parametrize("count", [1, 199])  # one row a step, and many a statement (UPDATE … FROM (VALUES …))
def test_an_update_that_finds_no_row_fails_the_whole_commit(tmp_path, count):
    store = _store_with_one_relation(tmp_path / "missing.db", count)
    changes = Changes()
    changes.save(Wallet("kept:copy", Decimal("5")))
    for seq in range(1, count + 2):           # the last never written: an update would silently lose it
        changes.save(_relation(seq), ("week_pnl",))
    with pytest.raises(StorageError) as refused:
        store.commit(changes, {}, None)
    assert refused.value.code == "STORAGE_ERROR"
    assert f"{count} of {count + 1} relations rows to update" in refused.value.message
    assert store.conn.execute("SELECT count(*) FROM wallets").fetchone() == (0,)
    store.close()


def test_a_column_not_saved_in_part_is_refused(tmp_path):
    store = _store_with_one_relation(tmp_path / "columns.db")
    for columns in (("seq",), ("nonsense",), ("status",)):
        changes = Changes()
        changes.save(_relation(1), columns)
        with pytest.raises(ValueError, match="cannot be saved in part"):
            store.commit(changes, {}, None)
    store.close()
