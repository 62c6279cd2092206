"""Reading ../shared/corpora/business-time-cases.json into our Calendar type.

The corpus describes calendars in its own format (see its `format` section). Every
feature it uses is expressed with what a policy file can say: weekly hours, extra
closed dates and special hours for single dates:

* `date_overrides` -> special hours of that date;
* `breaks` and `pauses` (ranges that do not count) -> special hours of that date with
  the range cut out;
* `overnight` ranges (end before start) -> two ranges, to midnight and from midnight on
  the next weekday (the format has no overnight ranges; this is the same clock);
* `end_2359_means_end_of_day` -> "24:00";
* `holidays` and `recurring_holidays_mmdd` -> extra closed dates.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportdesk.policy import Calendar
from supportdesk.policy.calendar import WEEKDAYS

REPO_ROOT = Path(__file__).resolve().parents[4]
Ranges = list[tuple[int, int]]


def shared_dir() -> Path:
    configured = os.environ.get("SUPPORTDESK_SHARED_DIR")
    path = Path(configured) if configured else (REPO_ROOT / ".." / "shared").resolve()
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared test data missing at {path}")
        pytest.skip(f"shared test data not found at {path}")
    return path


@cache
def corpus() -> dict[str, Any]:
    with (shared_dir() / "corpora" / "business-time-cases.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def case_ids() -> list[str]:
    try:
        return [case["id"] for case in corpus()["cases"]]
    except pytest.skip.Exception:
        return []


def case(case_id: str) -> dict[str, Any]:
    return next(item for item in corpus()["cases"] if item["id"] == case_id)


def seconds_of(text: str, *, end: bool, end_2359: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if end and end_2359 and (hours, minutes) == (23, 59):
        return 86_400
    return hours * 3600 + minutes * 60


def calendar_for(case_data: dict[str, Any]) -> Calendar:
    spec = corpus()["calendars"][case_data["calendar"]]
    zone = ZoneInfo(spec["timezone"])
    end_2359 = bool(spec.get("end_2359_means_end_of_day"))
    weekly: dict[str, Ranges] = {day: [] for day in WEEKDAYS}
    for day, ranges in spec["weekly_hours"].items():
        for start_text, end_text in ranges:
            start = seconds_of(start_text, end=False, end_2359=end_2359)
            end = seconds_of(end_text, end=True, end_2359=end_2359)
            if end <= start and spec.get("overnight"):
                weekly[day].append((start, 86_400))
                next_day = WEEKDAYS[(WEEKDAYS.index(day) + 1) % 7]
                weekly[next_day].append((0, end))
            else:
                weekly[day].append((start, end))
    special: dict[date, Ranges] = {}
    for day_text, ranges in spec.get("date_overrides", {}).items():
        special[date.fromisoformat(day_text)] = [
            (
                seconds_of(a, end=False, end_2359=end_2359),
                seconds_of(b, end=True, end_2359=end_2359),
            )
            for a, b in ranges
        ]
    cuts: dict[date, Ranges] = {}
    for day_text, ranges in spec.get("breaks", {}).items():
        cuts.setdefault(date.fromisoformat(day_text), []).extend(
            (seconds_of(a, end=False, end_2359=False), seconds_of(b, end=True, end_2359=False))
            for a, b in ranges
        )
    for start_text, end_text in case_data.get("pauses", []):
        start = datetime.fromisoformat(start_text).astimezone(zone)
        end = datetime.fromisoformat(end_text).astimezone(zone)
        assert start.date() == end.date(), "pauses spanning midnight are not needed by the corpus"
        cuts.setdefault(start.date(), []).append((_seconds(start.time()), _seconds(end.time())))
    for day, removed in cuts.items():
        base = special.get(day, weekly[WEEKDAYS[day.weekday()]])
        special[day] = _cut(base, removed)
    closed = {date.fromisoformat(text) for text in spec.get("holidays", [])}
    for month_day in spec.get("recurring_holidays_mmdd", []):
        month, day_number = (int(part) for part in month_day.split("-"))
        closed |= {date(year, month, day_number) for year in range(1990, 2031)}
    return Calendar(
        case_data["calendar"],
        time_zone=spec["timezone"],
        weekly_hours=weekly,
        extra_holidays=closed,
        special_hours=special,
    )


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _cut(ranges: Ranges, removed: Ranges) -> Ranges:
    """`ranges` minus `removed` (all within one day)."""
    result = sorted(ranges)
    for cut_start, cut_end in removed:
        pieces: Ranges = []
        for start, end in result:
            if end <= cut_start or start >= cut_end:
                pieces.append((start, end))
                continue
            if start < cut_start:
                pieces.append((start, cut_start))
            if end > cut_end:
                pieces.append((cut_end, end))
        result = pieces
    return result


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
