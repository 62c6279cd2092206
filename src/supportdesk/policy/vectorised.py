"""The batch deadline computation in numpy, for callers that hand us numpy arrays.

Imported only then, so the one-at-a-time path never pays numpy's import. The steps are those of
`batch._bulk`; the two interval searches use bucket tables instead of binary search.
Working intervals never end closer together than `step` seconds, so a bucket of
`step` seconds holds at most one interval end: the answer is the bucket's first
candidate, or the next one. (The same holds on the working-seconds axis with the
shortest interval as step.) Calendars with intervals shorter than a minute fall back
to `numpy.searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from supportdesk.policy.calendar import Calendar, Timeline

Int64s = NDArray[np.int64]
_MIN_STEP = 60
_NEVER = np.iinfo(np.int64).max


@dataclass(frozen=True)
class _Tables:
    low: int
    count: int  # number of working intervals
    ends: Int64s  # + a sentinel
    pos_at_end: Int64s  # + a sentinel
    shift: Int64s  # pos_at_start - starts: pos(t) = t + shift[i] inside interval i
    back: Int64s  # starts - pos_at_start: instant(pos) = pos + back[j]
    starts: Int64s
    end_step: int
    first_end_after: Int64s | None  # per instant bucket; None = use searchsorted
    pos_step: int
    first_pos_end_at: Int64s | None  # per working-seconds bucket


def deadlines_vectorised(starts: NDArray[Any], budget: int, calendar: Calendar) -> Int64s:
    seconds = np.asarray(starts, dtype=np.int64)
    if seconds.size == 0:
        return seconds
    timeline = calendar.timeline(int(seconds.min()), int(seconds.max()))
    while True:
        result = _on(_tables(timeline), seconds, budget)
        if result is not None:
            return result
        timeline = calendar.extend(timeline)


def _on(tables: _Tables, seconds: Int64s, budget: int) -> Int64s | None:
    if tables.first_end_after is None:
        index = np.searchsorted(tables.ends[: tables.count], seconds, side="right")
    else:
        index = tables.first_end_after[(seconds - tables.low) // tables.end_step]
        index += tables.ends[index] <= seconds
    if int(index.max()) >= tables.count:
        return None
    first_working: Int64s = np.maximum(seconds, tables.starts[index])
    if budget == 0:
        return first_working
    target = first_working + tables.shift[index] + budget
    if tables.first_pos_end_at is None:
        found = np.searchsorted(tables.pos_at_end[: tables.count], target, side="left")
    else:
        bucket = target // tables.pos_step
        if int(bucket.max()) >= len(tables.first_pos_end_at):
            return None
        found = tables.first_pos_end_at[bucket]
        found += tables.pos_at_end[found] < target
    if int(found.max()) >= tables.count:
        return None
    result: Int64s = target + tables.back[found]
    return result


@lru_cache(maxsize=16)
def _tables(timeline: Timeline) -> _Tables:
    count = len(timeline.starts)
    starts = np.asarray(timeline.starts, dtype=np.int64)
    ends = np.asarray([*timeline.ends, _NEVER], dtype=np.int64)
    pos_at_start = np.asarray(timeline.pos_at_start, dtype=np.int64)
    pos_at_end = np.asarray([*timeline.pos_at_end, _NEVER], dtype=np.int64)
    end_step = int(np.diff(ends[:count]).min()) if count > 1 else 86_400
    pos_step = int((pos_at_end[:count] - pos_at_start).min()) if count else 1
    first_end_after = first_pos_end_at = None
    if end_step >= _MIN_STEP:
        buckets = np.arange(timeline.low, timeline.high + end_step, end_step, dtype=np.int64)
        first_end_after = np.searchsorted(ends[:count], buckets, side="right")
    if pos_step >= _MIN_STEP and count:
        buckets = np.arange(0, int(pos_at_end[count - 1]) + pos_step, pos_step, dtype=np.int64)
        first_pos_end_at = np.searchsorted(pos_at_end[:count], buckets, side="left")
    return _Tables(
        low=timeline.low,
        count=count,
        ends=ends,
        pos_at_end=pos_at_end,
        shift=pos_at_start - starts,
        back=starts - pos_at_start,
        starts=starts,
        end_step=end_step,
        first_end_after=first_end_after,
        pos_step=pos_step,
        first_pos_end_at=first_pos_end_at,
    )
