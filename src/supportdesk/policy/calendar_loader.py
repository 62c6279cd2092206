"""Reading the [calendars.*] tables of a policy file into Calendar objects."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from datetime import date
from functools import cache

from supportdesk.policy.calendar import WEEKDAYS, Calendar, HolidaySet, Hours
from supportdesk.policy.reading import Reader, Table, dotted, suggest

CALENDAR_KEYS = (
    "description",
    "time_zone",
    "business_days",
    "hours",
    "holidays",
    "extra_holidays",
    "special_hours",
)
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*-\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$")
RANGE_EXAMPLE = '"08:00-20:00" (end exclusive, "24:00" = end of the day)'


def read_calendars(reader: Reader, data: Table) -> dict[str, Calendar]:
    tables = reader.table(data, ("calendars",))
    if tables is None:
        return {}
    calendars: dict[str, Calendar] = {}
    for calendar_id, table in tables.items():
        path = ("calendars", calendar_id)
        if not isinstance(table, dict):
            reader.problem(path, f"calendars.{calendar_id} must be a table")
            continue
        calendar = _read_calendar(reader, calendar_id, table)
        if calendar is not None:
            calendars[calendar_id] = calendar
    for calendar_id, table in tables.items():
        _link_business_days(reader, calendars, list(tables), calendar_id, table)
    return calendars


def _read_calendar(reader: Reader, calendar_id: str, table: Table) -> Calendar | None:
    path = ("calendars", calendar_id)
    reader.only(table, path, CALENDAR_KEYS)
    time_zone = _time_zone(reader, table, path)
    weekly = _weekly_hours(reader, table, path)
    holiday_set = _holiday_set(reader, table, path)
    extra = _extra_holidays(reader, table, path)
    special = _special_hours(reader, table, path)
    description = reader.string(table, (*path, "description"), required=False) or ""
    if time_zone is None or weekly is None:
        return None
    return Calendar(
        calendar_id,
        time_zone=time_zone,
        weekly_hours=weekly,
        holidays=holiday_set,
        extra_holidays=extra,
        special_hours=special,
        description=description,
    )


def _link_business_days(
    reader: Reader,
    calendars: dict[str, Calendar],
    declared: list[str],
    calendar_id: str,
    table: object,
) -> None:
    if not isinstance(table, dict) or calendar_id not in calendars:
        return
    path = ("calendars", calendar_id, "business_days")
    other = reader.string(table, path, required=False)
    if other is None:
        return
    if other not in declared:
        reader.problem(
            path,
            f'unknown calendar "{other}" in {dotted(path)}{suggest(other, declared)}; '
            f"expected one of: {', '.join(declared)}",
        )
    elif other in calendars:  # (a broken calendar has its own problem reported)
        calendars[calendar_id].count_business_days_on(calendars[other])


def _time_zone(reader: Reader, table: Table, path: Sequence[str]) -> str | None:
    name = reader.string(table, (*path, "time_zone"))
    if name is None:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        reader.problem(
            (*path, "time_zone"),
            f'unknown time zone "{name}"{suggest(name, _zone_names())}; '
            'expected an IANA name such as "America/Sao_Paulo"',
        )
        return None
    return name


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _weekly_hours(reader: Reader, table: Table, path: Sequence[str]) -> dict[str, Hours] | None:
    hours_path = (*path, "hours")
    hours = reader.table(table, hours_path)
    if hours is None:
        return None
    reader.only(hours, hours_path, WEEKDAYS)
    weekly: dict[str, Hours] = {}
    broken = False  # keep reading the other days: every mistake is reported at once
    for day in WEEKDAYS:
        if day in hours:
            parsed = read_ranges(reader, hours[day], (*hours_path, day), day)
            if parsed is None:
                broken = True
            else:
                weekly[day] = parsed
    if broken:
        return None
    if not any(weekly.values()):
        reader.problem(
            hours_path,
            f"calendar {path[-1]} has no working hours; expected at least one weekday "
            f"with an interval, e.g. mon = [{RANGE_EXAMPLE.split(' ')[0]}]",
        )
        return None
    return weekly


def read_ranges(reader: Reader, value: object, path: Sequence[str], where: str) -> Hours | None:
    """A list like ["08:00-12:00", "13:00-18:00"]: checked for order and overlap."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        reader.problem(path, f"{dotted(path)} must be a list of intervals like [{RANGE_EXAMPLE}]")
        return None
    ranges: list[tuple[int, int, str]] = []
    broken = False
    for text in value:
        parsed = _range(reader, text, path, where)
        if parsed is None:
            broken = True
        else:
            ranges.append((*parsed, text))
    if broken:
        return None
    ranges.sort()
    for (_, previous_end, previous), (start, _, current) in zip(ranges, ranges[1:], strict=False):
        if start < previous_end:
            reader.problem(
                path,
                f'intervals "{previous}" and "{current}" on {where} overlap; '
                "expected separate intervals (touching is fine)",
            )
            return None
    return tuple((start, end) for start, end, _ in ranges)


def _range(reader: Reader, text: str, path: Sequence[str], where: str) -> tuple[int, int] | None:
    match = _RANGE.match(text)
    if match is None:
        reader.problem(
            path, f'interval "{text}" on {where} is not a time range; expected {RANGE_EXAMPLE}'
        )
        return None
    hour1, minute1, second1, hour2, minute2, second2 = (int(part or 0) for part in match.groups())
    start = hour1 * 3600 + minute1 * 60 + second1
    end = hour2 * 3600 + minute2 * 60 + second2
    if max(minute1, minute2, second1, second2) > 59 or start >= 86_400 or end > 86_400:
        reader.problem(
            path,
            f'interval "{text}" on {where} has an impossible time; expected times from 00:00 to 24:00',
        )
        return None
    if end <= start:
        reader.problem(
            path,
            f'interval "{text}" on {where} ends before it starts; expected start before end '
            '(for hours past midnight write two intervals, e.g. "22:00-24:00" and next day "00:00-06:00")',
        )
        return None
    return start, end


def _holiday_set(reader: Reader, table: Table, path: Sequence[str]) -> HolidaySet | None:
    holidays_path = (*path, "holidays")
    spec = reader.table(table, holidays_path, required=False)
    if spec is None:
        return None
    reader.only(spec, holidays_path, ("country", "subdivision"))
    country = reader.string(spec, (*holidays_path, "country"))
    subdivision = reader.string(spec, (*holidays_path, "subdivision"), required=False)
    if country is None:
        return None
    supported = _supported_countries()
    if country not in supported:
        reader.problem(
            (*holidays_path, "country"),
            f'unknown holiday country "{country}"{suggest(country, supported)}; expected an '
            'ISO 3166 code supported by the holidays package, e.g. "BR"',
        )
        return None
    if subdivision is not None and subdivision not in supported[country]:
        reader.problem(
            (*holidays_path, "subdivision"),
            f'unknown subdivision "{subdivision}" of {country}; expected one of: '
            f"{', '.join(supported[country])}",
        )
        return None
    return HolidaySet(country, subdivision)


@cache
def _supported_countries() -> dict[str, list[str]]:
    from holidays.utils import list_supported_countries

    return dict(list_supported_countries())


def _extra_holidays(reader: Reader, table: Table, path: Sequence[str]) -> list[date]:
    extra_path = (*path, "extra_holidays")
    value = table.get("extra_holidays", [])
    if not isinstance(value, list):
        reader.problem(
            extra_path, f"{dotted(extra_path)} must be a list of dates like [2026-12-24]"
        )
        return []
    dates = [reader.a_date(item, extra_path, "extra holiday") for item in value]
    return [day for day in dates if day is not None]


def _special_hours(reader: Reader, table: Table, path: Sequence[str]) -> dict[date, Hours]:
    special_path = (*path, "special_hours")
    special = reader.table(table, special_path, required=False) or {}
    result: dict[date, Hours] = {}
    for key, value in special.items():
        day = reader.a_date(key, (*special_path, key), "special_hours key")
        hours = read_ranges(reader, value, (*special_path, key), key)
        if day is not None and hours is not None:
            result[day] = hours
    return result
