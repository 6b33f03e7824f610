"""Garbage-collector settings for a process that hosts an engine.

The engine keeps a large, long-lived heap (every account, position, relation and open copy order) and a
lead order fanned out to 10,000 copiers allocates a few hundred thousand small objects, nearly all of
them either kept or freed by reference counting: the engine makes next to no reference cycles. With
CPython's default thresholds (700, 10, 10) the collector runs hundreds of times during such a fan-out and
walks the whole heap several times; `copydesk bench` measured a fan-out to 10,000 copiers about 150 ms
(20%) slower with them. Collections still happen, only less often.

The first threshold is 200,000 rather than 50,000: a fan-out to 10,000 copiers keeps about 200,000 new
container objects alive until its commit, and at 50,000 the collector walked them two or three times on the
way (20–45 ms of a 600 ms fan-out; `copydesk bench` measured 590 → 553 ms). A command to 1,000 copiers
allocates too little to meet either threshold.
"""
from __future__ import annotations

import gc

THRESHOLDS = (200_000, 20, 100)


def tune_collector() -> None:
    gc.set_threshold(*THRESHOLDS)
