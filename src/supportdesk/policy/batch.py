"""Deadlines for many starts at once (reports, replays, benchmarks).

Same results as `deadline_after` one by one, computed in bulk on the calendar's
timeline: `deadline(t) = max(t, opening) + offset(interval) + budget`, then back from
working-seconds position to instant, with the two interval look-ups done by C-level
`bisect` over the whole input (`map`), not by a Python loop. Given a numpy array of
epoch seconds, the same steps run vectorised in numpy: about 30x faster again, which
is why reports and replays hand us numpy arrays (docs/benchmarks.md).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import add, sub
from typing import TYPE_CHECKING, Any

from supportdesk.policy.business_time import deadline_after
from supportdesk.policy.calendar import Calendar, Timeline
from supportdesk.policy.targets import Budget, BusinessDays

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def deadlines_after(
    starts: Iterable[datetime], budget: Budget, calendar: Calendar
) -> list[datetime]:
    """`deadline_after(start, budget, calendar)` for every start, in order."""
    starts = list(starts)
    if (
        isinstance(budget, BusinessDays)
        or budget.microseconds
        or any(start.microsecond for start in starts)
    ):
        return [deadline_after(start, budget, calendar) for start in starts]
    seconds = epoch_seconds(starts)
    from_epoch = datetime.fromtimestamp
    return [from_epoch(due, UTC) for due in deadlines_after_epoch(seconds, budget, calendar)]


def epoch_seconds(moments: Sequence[datetime]) -> list[int]:
    """Whole epoch seconds of aware datetimes (ValueError for a naive one)."""
    try:
        deltas = list(map(sub, moments, repeat(_EPOCH)))
    except TypeError:
        naive = next(moment for moment in moments if moment.utcoffset() is None)
        raise ValueError(
            f"start {naive.isoformat()} has no time zone; business time needs aware datetimes"
        ) from None
    return [delta.days * 86_400 + delta.seconds for delta in deltas]


def deadlines_after_epoch(starts: Any, budget: timedelta | int, calendar: Calendar) -> Any:
    """Due times as epoch seconds for starts given as epoch seconds (whole seconds).

    `starts` is a sequence of ints (returns a list) or a numpy integer array (returns a
    numpy int64 array, computed vectorised).
    """
    budget_seconds = _whole_seconds(budget)
    if type(starts).__module__ == "numpy":
        return _vectorised(starts, budget_seconds, calendar)
    starts = list(starts)
    if not starts:
        return []
    timeline = calendar.timeline(min(starts), max(starts))
    while True:
        try:
            return _bulk(timeline, starts, budget_seconds)
        except IndexError:  # some deadline lies beyond the built years
            timeline = calendar.extend(timeline)


def _bulk(timeline: Timeline, starts: list[int], budget: int) -> list[int]:
    opening = timeline.starts
    index = list(map(bisect_right, repeat(timeline.ends), starts))
    first_working = list(map(max, starts, map(opening.__getitem__, index)))
    if budget == 0:
        return first_working
    # pos(t) + budget = t + (pos_at_start - start) + budget for t inside an interval
    shift = [
        pos - start + budget for start, pos in zip(opening, timeline.pos_at_start, strict=True)
    ]
    target = list(map(add, first_working, map(shift.__getitem__, index)))
    back = [start - pos for start, pos in zip(opening, timeline.pos_at_start, strict=True)]
    found = map(bisect_left, repeat(timeline.pos_at_end), target)
    return list(map(add, target, map(back.__getitem__, found)))


def _vectorised(starts: NDArray[Any], budget: int, calendar: Calendar) -> NDArray[np.int64]:
    from supportdesk.policy.vectorised import deadlines_vectorised

    return deadlines_vectorised(starts, budget, calendar)


def _whole_seconds(budget: timedelta | int) -> int:
    seconds = budget if isinstance(budget, int) else budget // timedelta(seconds=1)
    if isinstance(budget, timedelta) and budget % timedelta(seconds=1):
        raise ValueError(f"the epoch batch form counts whole seconds; got a budget of {budget}")
    if seconds < 0:
        raise ValueError(f"a budget cannot be negative ({budget})")
    return seconds
