"""The full screens' named views (app/screen_views.py): each one read back from the wire exactly as the
engine built it, and every question a screen — or a client of `GET /v1/views/NAME` — may ask checked, with a
code and a sentence for the ones refused."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from app import screen_views
from app.api.http import to_json
from app.demo import YOU
from app.screenshots import build_world
from app.service import DeskService
from engine.clock import DAY
from engine.errors import Rejected


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The screenshots' world: leads with a month of trades, copiers, settlements, funding, a desk of your own."""
    service = DeskService(tmp_path_factory.mktemp("views") / "world.db").start()
    build_world(service, copiers=30)
    yield service
    service.stop()


def build(service: DeskService, viewer: str, name: str, **ask: str):
    return service.call(lambda desk: screen_views.build(desk, viewer, name, ask)).result()


def same(built, read, path: str = "view") -> int:
    """Assert `read` is `built` value for value and type for type (a tuple may come back as a list). Returns
    how many decimals it compared."""
    if isinstance(built, dict):
        assert isinstance(read, dict) and read.keys() == built.keys(), path
        return sum(same(value, read[key], f"{path}.{key}") for key, value in built.items())
    if isinstance(built, (list, tuple)):
        assert isinstance(read, list) and len(read) == len(built), path
        return sum(same(value, other, f"{path}[{i}]") for i, (value, other) in enumerate(zip(built, read)))
    assert type(read) is type(built) and read == built, f"{path}: built {built!r}, read back {read!r}"
    return isinstance(built, Decimal)


def questions(service: DeskService) -> list[tuple[str, dict]]:
    now = service.call(lambda desk: desk.exchange.now_ms).result()
    leads = service.call(lambda desk: sorted(desk.exchange.leads)).result()
    return ([("leads", {}), ("copy_manager", {}), ("inbox", {}), ("account_structure", {})]
            + [("leaderboard", {"period": period}) for period in screen_views.PERIODS]
            + [("profile", {"lead": lead, "period": period}) for lead in leads for period in ("7d", "all")]
            + [("history", {"tab": tab}) for tab in screen_views.HISTORY_TABS]
            + [("history", {"tab": "fills", "account": kind}) for kind in ("futures", "copy", "elite")]
            + [("statement", {"account": kind, "since_ms": str(now - 40 * DAY), "until_ms": str(now)})
               for kind in ("funding", "futures", "copy", "elite")])


def test_every_view_reads_back_from_the_wire_as_the_engine_built_it(world):
    """What `--connect` shows is what the embedded desk shows: every decimal comes back a Decimal of the same
    value, and no text is taken for one (a key may be money in one view and a name in another)."""
    decimals: dict[str, int] = {}
    viewers = [YOU, "trend_tina"] + world.call(lambda desk: sorted(desk.exchange.users)[:4]).result()
    for viewer in viewers:
        for name, ask in questions(world):
            try:
                built = build(world, viewer, name, **ask)
            except Rejected as refused:  # a statement of an account this viewer does not have
                assert (name, refused.code) == ("statement", "UNKNOWN_ACCOUNT")
                continue
            read = screen_views.VIEWS[name].decode(json.loads(to_json(built)))
            decimals[name] = decimals.get(name, 0) + same(built, read, f"{viewer}:{name}{ask}")
    # The world has money in every view that shows any, so the comparison above was not vacuous.
    assert {name for name, count in decimals.items() if count} == set(screen_views.VIEWS) - {
        "leads", "inbox", "account_structure"}
    assert decimals["statement"] > 100 and decimals["profile"] > 100


def test_a_view_is_the_viewers_own(world):
    mine = build(world, YOU, "history", tab="ledger")["rows"]
    theirs = build(world, "trend_tina", "history", tab="ledger")["rows"]
    assert mine and theirs
    assert all(YOU + ":" in row["source"] + row["target"] for row in mine)
    assert all("trend_tina:" in row["source"] + row["target"] for row in theirs)  # (some pay you, or you them)
    assert {row["id"] for row in theirs} != {row["id"] for row in mine}
    assert build(world, "nobody", "history", tab="ledger")["rows"] == []
    assert build(world, "nobody", "account_structure") == {"legacy": False, "upgrade_status": None}


@pytest.mark.parametrize("name, ask, code, words", [
    ("positions", {}, "UNKNOWN_VIEW", "no view named 'positions'; the views are leads, leaderboard"),
    ("history", {"tab": "fills", "user": "ann"}, "BAD_FIELD", "the history view has no parameter 'user'"),
    ("inbox", {"limit": "5"}, "BAD_FIELD", "it takes none"),
    ("history", {}, "BAD_FIELD", "tab must be one of orders, fills, funding, liquidations, ledger, statement"),
    ("history", {"tab": "fills", "account": "savings"}, "BAD_FIELD", "account must be one of funding, futures"),
    ("leaderboard", {"period": "1y"}, "BAD_FIELD", "period must be one of 7d, 30d, 90d, all, got '1y'"),
    ("profile", {}, "BAD_FIELD", "this view needs lead"),
    ("statement", {"account": "futures", "since_ms": "yesterday", "until_ms": "1767225600000"}, "BAD_FIELD",
     "since_ms is a time in milliseconds since 1970"),
    ("statement", {"account": "futures", "since_ms": "99999999999999999999", "until_ms": "1767225600000"},
     "BAD_FIELD", "since_ms is a time"),
    ("statement", {"account": "futures", "since_ms": "1767225600000", "until_ms": "1767225600000"}, "BAD_FIELD",
     "the statement's last day must not be before its first"),
])
def test_a_refused_question_has_a_code_and_a_sentence(world, name, ask, code, words):
    with pytest.raises(Rejected) as refused:
        build(world, YOU, name, **ask)
    assert refused.value.code == code
    assert words in refused.value.message


def test_a_profile_of_someone_who_does_not_lead_is_none(world):
    assert build(world, YOU, "profile", lead="nobody") is None
