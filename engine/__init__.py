"""The simulated exchange: a pure, deterministic, in-memory state machine (no I/O).

Importing the package registers every command handler with the exchange facade.
"""
from . import copytrading, funding, margin, order_entry, snapshot, ticks, tp_sl, transfers  # noqa: F401  (handler registration)
