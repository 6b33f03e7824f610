from decimal import Decimal

import pytest

from conftest import balance, rejects, run

D = Decimal


@pytest.fixture
def funded(exchange):
    run(exchange, {"do": "user", "name": "alice"}, {"do": "deposit", "user": "alice", "amount": "1000"})
    return exchange


def test_deposit_lands_in_funding_and_external_pays(funded):
    assert balance(funded, "alice", "funding") == D("1000")
    assert funded.ledger.balance("external") == D("-1001000")  # 1,000,000 seeded the insurance fund
    assert funded.ledger_sum() == 0


def test_transfers_move_exactly_the_amount(funded):
    run(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": "400.12345678"},
        {"do": "transfer", "user": "alice", "from": "futures", "to": "copy", "amount": "0.00000001"})
    assert balance(funded, "alice", "funding") == D("599.87654322")
    assert balance(funded, "alice", "futures") == D("400.12345677")
    assert balance(funded, "alice", "copy") == D("0.00000001")
    assert funded.ledger_sum() == 0


def test_transfer_of_the_whole_available_balance_is_allowed(funded):
    run(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "1000"})
    assert balance(funded, "alice", "funding") == 0


def test_transfer_above_available_is_refused_with_the_figures(funded):
    error = rejects(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "futures",
                             "amount": "1000.00000001"}, "INSUFFICIENT_BALANCE")
    assert "1,000.00 USDT needed" in error.message and "1,000.00 available in Funding" in error.message


def test_withdraw_above_balance_is_refused(funded):
    rejects(funded, {"do": "withdraw", "user": "alice", "amount": "1000.5"}, "INSUFFICIENT_BALANCE")
    run(funded, {"do": "withdraw", "user": "alice", "amount": "999.5"})
    assert balance(funded, "alice", "funding") == D("0.5")


@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN", "Infinity", "-Infinity", "1e400", "0.000000001",
                                    "1e9999999", "-1e9999999", "1e-9999999",
                                    "", "  ", 1.5, None, True, [], {}, "1" * 41, "10000000000000000"])
def test_bad_amounts_are_refused_and_change_nothing(funded, amount):
    line = {"do": "transfer", "user": "alice", "from": "funding", "to": "futures", "amount": amount}
    code = "BAD_FIELD" if amount is None else "INVALID_AMOUNT"
    rejects(funded, line, code)


def test_unknown_users_and_wallets(funded):
    rejects(funded, {"do": "deposit", "user": "zed", "amount": "1"}, "UNKNOWN_USER")
    rejects(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "elite", "amount": "1"},
            "UNKNOWN_ACCOUNT")
    rejects(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "savings", "amount": "1"},
            "BAD_FIELD")
    rejects(funded, {"do": "transfer", "user": "alice", "from": "copy", "to": "copy", "amount": "1"}, "BAD_FIELD")
    rejects(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "1",
                     "amout": "2"}, "BAD_FIELD")


def test_duplicate_user_and_bad_names(funded):
    rejects(funded, {"do": "user", "name": "alice"}, "USER_EXISTS")
    for name in ["", "a b", "x" * 33, "-lead", 7, "é"]:
        rejects(funded, {"do": "user", "name": name}, "BAD_FIELD")


def test_time_never_goes_back(funded):
    run(funded, {"do": "advance", "to": "2026-01-06T00:00:00Z"})
    rejects(funded, {"do": "deposit", "user": "alice", "amount": "1", "at": "2026-01-05T23:59:59Z"},
            "TIME_BACKWARDS")


def test_legacy_user_has_a_single_futures_account(exchange):
    run(exchange, {"do": "user", "name": "old", "legacy": True})
    assert "old:futures" in exchange.accounts and "old:copy" not in exchange.accounts


def test_accounts_turn_dormant_after_thirty_days_and_wake_on_action(funded):
    run(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "10"},
        {"do": "advance", "by": "30d"})
    assert funded.accounts["alice:copy"].dormant(funded.now_ms)
    run(funded, {"do": "transfer", "user": "alice", "from": "copy", "to": "funding", "amount": "1"})
    assert not funded.accounts["alice:copy"].dormant(funded.now_ms)


def test_dormancy_counts_whole_utc_days_and_a_day_of_activity_writes_the_account_once(funded):
    # Active late on 5 January: dormant from 4 February 00:00 UTC (day 5 + 30), not a minute before.
    run(funded, {"do": "transfer", "user": "alice", "from": "funding", "to": "copy", "amount": "10",
                 "at": "2026-01-05T22:00:00Z"})
    account = funded.accounts["alice:copy"]
    funded.changes.clear()
    run(funded, {"do": "transfer", "user": "alice", "from": "copy", "to": "funding", "amount": "1",
                 "at": "2026-01-05T23:30:00Z"})
    assert account.key() not in funded.changes.saved.get(type(account), {})  # the same day: no account row
    run(funded, {"do": "advance", "to": "2026-02-03T23:59:59Z"})
    assert not account.dormant(funded.now_ms)
    run(funded, {"do": "advance", "to": "2026-02-04T00:00:00Z"})
    assert account.dormant(funded.now_ms)


def test_config_insurance_fund_is_moved_not_set(exchange):
    run(exchange, {"do": "config", "insurance_fund": "250"})
    assert exchange.ledger.balance("insurance_fund") == D("250")
    assert exchange.ledger_sum() == 0
