"""Market-data feeds: sources of index, mark and last prices that the engine consumes.

The engine never knows which feed runs; every feed yields `PriceTick`s, which become `price` commands.
"""
from .csv_replay import CsvReplayFeed, FeedError
from .simulated import DEFAULT_START_PRICES, DEFAULT_TICKS, SimulatedFeed, SymbolProfile
from .tick import PriceTick

__all__ = [
    "CsvReplayFeed",
    "DEFAULT_START_PRICES",
    "DEFAULT_TICKS",
    "FeedError",
    "PriceTick",
    "SimulatedFeed",
    "SymbolProfile",
]
