"""app/reporter.py's pacing of the live test figures, on made-up clocks (no sleeping): cheap
scorings come often under TEST_SHARE; a costly one (a conv network's 1,000 test digits) still comes
every TEST_AT_LEAST_EVERY seconds, as long as that stays within TEST_SHARE_MAX of the worker's time."""
from __future__ import annotations

from app.reporter import TEST_AT_LEAST_EVERY, TEST_SHARE, TEST_SHARE_MAX, Reporter


def due_times(cost: float, seconds: float = 30.0, tick: float = 0.05) -> list[float]:
    """When scorings of ``cost`` CPU seconds come, on a worker that trains flat out (CPU = wall)."""
    reporter = Reporter(session=None, metrics_rate=20, frame_rate=30)
    times, now = [], 0.0
    while now < seconds:
        if reporter.scoring_due(now, now):
            reporter.scored(now, now, now + cost)
            times.append(now)
            now += cost
        now += tick
    return times


def test_cheap_scorings_come_as_often_as_their_share_allows():
    times = due_times(cost=0.0036)     # a dense MNIST network's 1,000 test digits
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= 0.0036 / TEST_SHARE + 0.1


def test_a_costly_scoring_still_comes_every_few_seconds():
    """The 8/16-channel CNN of the Digits page scores 1,000 digits in about 0.1 s: under TEST_SHARE
    alone that was every 10 s, and the page saw 98.5 % long after the network got there."""
    times = due_times(cost=0.1)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= TEST_AT_LEAST_EVERY + 0.1 + 0.05
    assert sum(len(times) * [0.1]) / 30 <= TEST_SHARE_MAX + 0.01


def test_a_very_costly_scoring_keeps_within_its_largest_share():
    times = due_times(cost=1.5, seconds=120)
    assert len(times) * 1.5 / 120 <= TEST_SHARE_MAX + 0.02
