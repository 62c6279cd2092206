"""Business-time arithmetic on a coverage calendar, exact to the microsecond.

Everything here reads one structure: the calendar's `Timeline` (working intervals as
UTC epoch seconds, with `pos` = working seconds elapsed before each). Both directions
are the same walk:

    business_time_between(a, b) = pos(b) - pos(a)
    deadline_after(start, budget) = the EARLIEST instant whose pos is pos(start) + budget

so the two invert each other by construction. Conventions (docs/policy.md):

* A start outside working time counts from the next opening; a zero budget gives that
  first working moment (the start itself when it is inside working time).
* The due time is the earliest instant at which the budget is used up: Monday 08:00 +
  12 h on a 08:00-20:00 clock is Monday 20:00, never Tuesday 08:00.
* "N business days" (`BusinessDays`) are counted on the calendar's business-day
  calendar: move the start to the first working moment at or after it, which lies
  `e` working seconds into working day `d`; the due time is `e` working seconds into
  working day `d + N` (at most that day's end). When `e` is zero the budget is used
  up at the end of working day `d + N - 1`, and that earlier instant is the due time.
* Aware datetimes in (any zone), aware UTC datetimes out; naive datetimes are refused.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from supportdesk.policy.calendar import Calendar, Timeline
from supportdesk.policy.targets import Budget, BusinessDays

MICRO = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def deadline_after(start: datetime, budget: Budget, calendar: Calendar) -> datetime:
    """The earliest instant at which `budget` of working time after `start` is used up."""
    # The SLA engine's hot path, inlined on purpose (bench/business_time.py measures it):
    # whole seconds on the cached timeline here; everything else goes to `_deadline`.
    try:
        delta = start - _EPOCH  # exact integer arithmetic, and TypeError when naive
    except TypeError:
        raise _naive("start", start) from None
    seconds = delta.days * 86_400 + delta.seconds
    timeline = calendar.current_timeline
    if (
        budget.__class__ is not timedelta
        or delta.microseconds
        or timeline is None
        or not timeline.low <= seconds < timeline.high
    ):
        return _deadline(calendar, seconds, delta.microseconds, budget)
    budget_seconds = budget.days * 86_400 + budget.seconds
    ends = timeline.ends
    index = bisect_right(ends, seconds)
    if budget_seconds <= 0 or budget.microseconds or index == len(ends):
        return _deadline(calendar, seconds, 0, budget)
    opening = timeline.starts[index]
    if opening > seconds:  # outside working time: count from the next opening
        seconds = opening
    pos = timeline.pos_at_start[index] + seconds - opening + budget_seconds
    pos_at_end = timeline.pos_at_end
    found = bisect_left(pos_at_end, pos)  # the earliest instant pos is reached
    if found == len(pos_at_end):
        return _deadline(calendar, seconds, 0, budget)
    return datetime.fromtimestamp(timeline.starts[found] + pos - timeline.pos_at_start[found], UTC)


def _deadline(calendar: Calendar, seconds: int, micro: int, budget: Budget) -> datetime:
    """`deadline_after` in general: business days, microseconds, uncached years."""
    if isinstance(budget, BusinessDays):
        on = calendar.business_day_calendar
        return _datetime(*_after_business_days(on, seconds, micro, budget.days))
    return _datetime(*_after(calendar, seconds, micro, *_budget_parts(budget)))


def deadline_before(end: datetime, budget: timedelta, calendar: Calendar) -> datetime:
    """The latest instant from which `budget` of working time runs up to `end`.

    With a zero budget: the last working moment at or before `end` (a closing instant
    when `end` lies outside working time).
    """
    seconds, micro = _instant(end, "end")
    budget_micro = _budget_micro(budget)
    timeline = calendar.timeline(seconds)
    while True:
        found = _before_on(timeline, seconds, micro, budget_micro)
        if found is not None:
            return _datetime(*found)
        if timeline.first_year < 1900:
            raise ValueError(f"calendar {calendar.id} has no working time before {end}")
        timeline = calendar.timeline(seconds, timeline.low - 366 * 86_400 * 2)


def business_time_between(a: datetime, b: datetime, calendar: Calendar) -> timedelta:
    """Working time from `a` to `b` on the calendar (negative when `b` is before `a`)."""
    first, second = _instant(a, "a"), _instant(b, "b")
    timeline = calendar.timeline(first[0], second[0])
    elapsed = _pos_micro(timeline, *second) - _pos_micro(timeline, *first)
    return timedelta(microseconds=elapsed)


def working_intervals(
    calendar: Calendar, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The working intervals between `start` and `end`, clipped to them, in UTC."""
    low, high = _instant(start, "start")[0], _instant(end, "end")[0]
    timeline = calendar.timeline(low, high)
    index = timeline.index_after(low)
    for interval_start, interval_end in zip(
        timeline.starts[index:], timeline.ends[index:], strict=True
    ):
        if interval_start >= high:
            break
        yield (
            max(_datetime(interval_start, 0), start.astimezone(UTC)),
            min(_datetime(interval_end, 0), end.astimezone(UTC)),
        )


# --- the walk, on epoch seconds + microseconds ------------------------------------------


def _after(
    calendar: Calendar, seconds: int, micro: int, budget_seconds: int, budget_micro: int
) -> tuple[int, int]:
    timeline = calendar.timeline_for(seconds)
    while True:
        found = _after_on(timeline, seconds, micro, budget_seconds, budget_micro)
        if found is not None:
            return found
        timeline = calendar.extend(timeline)


def _after_on(
    timeline: Timeline, seconds: int, micro: int, budget_seconds: int, budget_micro: int
) -> tuple[int, int] | None:
    """The deadline on this timeline, or None when it lies beyond its end."""
    ends = timeline.ends
    index = bisect_right(ends, seconds)
    if index == len(ends):
        return None
    opening = timeline.starts[index]
    if opening > seconds:  # outside working time: count from the next opening
        seconds, micro = opening, 0
    if not (budget_seconds or budget_micro):
        return seconds, micro
    pos = timeline.pos_at_start[index] + seconds - opening + budget_seconds
    micro += budget_micro
    if micro >= MICRO:
        pos, micro = pos + 1, micro - MICRO
    pos_at_end = timeline.pos_at_end
    found = bisect_left(pos_at_end, pos + 1 if micro else pos)  # the earliest instant
    if found == len(pos_at_end):
        return None
    return timeline.starts[found] + pos - timeline.pos_at_start[found], micro


def _at_pos(timeline: Timeline, pos: int, micro: int) -> tuple[int, int] | None:
    """The earliest instant at which `pos` (+ micro) working seconds have elapsed."""
    index = bisect_left(timeline.pos_at_end, pos + 1 if micro else pos)
    if index == len(timeline.pos_at_end):
        return None
    return timeline.starts[index] + pos - timeline.pos_at_start[index], micro


def _after_business_days(
    calendar: Calendar, seconds: int, micro: int, days: int
) -> tuple[int, int]:
    timeline = calendar.timeline_for(seconds)
    while True:
        found = _after_business_days_on(timeline, seconds, micro, days)
        if found is not None:
            return found
        timeline = calendar.extend(timeline)


def _after_business_days_on(
    timeline: Timeline, seconds: int, micro: int, days: int
) -> tuple[int, int] | None:
    index = bisect_right(timeline.ends, seconds)
    if index == len(timeline.ends):
        return None
    opening = timeline.starts[index]
    if opening > seconds:
        seconds, micro = opening, 0
    if days == 0:
        return seconds, micro
    pos = timeline.pos_at_start[index] + seconds - opening
    day = bisect_right(timeline.day_pos_start, pos) - 1
    into = pos - timeline.day_pos_start[day]
    if into == 0 and micro == 0:  # a whole day's budget from its opening: used up at its close
        last = day + days - 1
        if last >= len(timeline.day_pos_end):
            return None
        return _at_pos(timeline, timeline.day_pos_end[last], 0)
    target_day = day + days
    if target_day >= len(timeline.day_pos_end):
        return None
    target = timeline.day_pos_start[target_day] + into
    day_end = timeline.day_pos_end[target_day]
    if target > day_end or (target == day_end and micro):  # a shorter day: due at its close
        target, micro = day_end, 0
    return _at_pos(timeline, target, micro)


def _before_on(
    timeline: Timeline, seconds: int, micro: int, budget_micro: int
) -> tuple[int, int] | None:
    index = bisect_right(timeline.ends, seconds)
    inside = index < len(timeline.ends) and timeline.starts[index] <= seconds
    if budget_micro == 0:
        if inside:
            return seconds, micro
        return (timeline.ends[index - 1], 0) if index > 0 else None
    total = _pos_micro(timeline, seconds, micro) - budget_micro
    if total < 0:
        return None
    pos, rest = divmod(total, MICRO)
    found = bisect_right(timeline.pos_at_start, pos) - 1
    return timeline.starts[found] + pos - timeline.pos_at_start[found], rest


def _pos_micro(timeline: Timeline, seconds: int, micro: int) -> int:
    """Working microseconds from the timeline's beginning to the instant."""
    index = bisect_right(timeline.ends, seconds)
    if index == len(timeline.ends):
        return timeline.pos_at_end[-1] * MICRO if timeline.pos_at_end else 0
    opening = timeline.starts[index]
    if opening > seconds:
        return timeline.pos_at_start[index] * MICRO
    return (timeline.pos_at_start[index] + seconds - opening) * MICRO + micro


# --- conversions ---------------------------------------------------------------------


def _instant(moment: datetime, name: str) -> tuple[int, int]:
    """(epoch seconds, microseconds) of an aware datetime."""
    try:
        delta = moment - _EPOCH  # exact integer arithmetic, and TypeError when naive
    except TypeError:
        raise _naive(name, moment) from None
    return delta.days * 86_400 + delta.seconds, delta.microseconds


def _naive(name: str, moment: datetime) -> ValueError:
    return ValueError(
        f"{name} {moment.isoformat()} has no time zone; business time needs an aware "
        "datetime (e.g. datetime(..., tzinfo=UTC))"
    )


def _datetime(seconds: int, micro: int) -> datetime:
    if micro:
        return _EPOCH + timedelta(0, seconds, micro)
    return datetime.fromtimestamp(seconds, UTC)


def _budget_parts(budget: timedelta) -> tuple[int, int]:
    """(whole seconds, microseconds) of a non-negative timedelta budget."""
    if not isinstance(budget, timedelta):
        raise TypeError(f"a budget is a timedelta or BusinessDays, not {type(budget).__name__}")
    if budget.days < 0:
        raise ValueError(f"a budget cannot be negative ({budget})")
    return budget.days * 86_400 + budget.seconds, budget.microseconds


def _budget_micro(budget: timedelta) -> int:
    budget_seconds, budget_micro = _budget_parts(budget)
    return budget_seconds * MICRO + budget_micro
