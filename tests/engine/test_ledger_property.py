"""The ledger sums to zero after every command of a long random sequence."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.commands import parse_line
from engine.errors import Rejected
from engine.exchange import Exchange

USERS = ["ann", "ben", "cy"]
WALLETS = ["funding", "futures", "copy"]
amounts = st.decimals(min_value="0.00000001", max_value="100000", places=8).map(str)
lines = st.one_of(
    st.builds(lambda u: {"do": "user", "name": u}, st.sampled_from(USERS)),
    st.builds(lambda u, a: {"do": "deposit", "user": u, "amount": a}, st.sampled_from(USERS), amounts),
    st.builds(lambda u, a: {"do": "withdraw", "user": u, "amount": a}, st.sampled_from(USERS), amounts),
    st.builds(lambda u, s, t, a: {"do": "transfer", "user": u, "from": s, "to": t, "amount": a},
              st.sampled_from(USERS), st.sampled_from(WALLETS), st.sampled_from(WALLETS), amounts),
    st.builds(lambda h: {"do": "advance", "by": f"{h}h"}, st.integers(1, 48)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(lines, min_size=20, max_size=120))
def test_ledger_sums_to_zero_after_every_command(sequence):
    exchange = Exchange()
    for line in sequence:
        before = exchange.state_hash()
        try:
            exchange.execute(parse_line(line))
        except Rejected:
            assert exchange.state_hash() == before, f"rejected {line} changed the state"
        assert exchange.ledger_sum() == 0
        for name, wallet in exchange.ledger.wallets.items():
            if ":" in name:
                assert wallet.balance >= 0, f"{name} went negative"
