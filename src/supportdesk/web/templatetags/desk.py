"""Template filters for showing times: always in the viewer's zone, with the zone named."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import format_html
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

register = template.Library()


# 24-hour clock with the weekday: unambiguous in both languages (names are translated).
MOMENT_FORMAT = "D d M Y, H:i"


def zone_label(moment: datetime) -> str:
    """'America/Sao_Paulo' or 'Europe/Lisbon WET': the IANA name, plus the abbreviation
    when the zone database has a real one (many zones only have '-03' style offsets)."""
    zone = timezone.get_current_timezone()
    key = getattr(zone, "key", str(zone))
    abbreviation = moment.astimezone(zone).tzname() or ""
    return f"{key} {abbreviation}" if abbreviation.isalpha() and abbreviation != key else key


@lru_cache(maxsize=32)
def _names(language: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    # Called with the active language, so the lazy names translate into it.
    weekdays = tuple(str(WEEKDAYS_ABBR[day]) for day in range(7))
    months = ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))
    return weekdays, months


def moment_text(local: datetime) -> str:
    """`local` as Django's date_format(local, MOMENT_FORMAT) writes it ("Tue 11 Mar 2025,
    10:00"), without parsing the format and translating the names on every call: a
    queue page shows a hundred of these."""
    weekdays, months = _names(get_language())
    return (
        f"{weekdays[local.weekday()]} {local.day:02d} {months[local.month]} {local.year:04d}, "
        f"{local.hour:02d}:{local.minute:02d}"
    )


@register.filter
def when(moment: datetime | None) -> str:
    """A <time> element: the instant in the viewer's zone, naming the zone."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    text = moment_text(local)
    return format_html(
        '<time datetime="{}" title="{}">{} <span class="zone">{}</span></time>',
        moment.isoformat(),
        moment.astimezone(timezone.get_fixed_timezone(0)).strftime("%Y-%m-%d %H:%M UTC"),
        text,
        zone_label(moment),
    )


@register.filter
def when_text(moment: datetime | None) -> str:
    """Plain text form of `when`, for sentences and messages."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{moment_text(local)} {zone_label(moment)}"


def describe_duration(delta: timedelta) -> str:
    """'2 d 3 h', '1 h 05 min', '12 min' — a budget or time left, coarse enough to read."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": mins}
    return ngettext("%(m)d min", "%(m)d min", mins) % {"m": mins}


@register.filter
def duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    text = describe_duration(delta)
    if delta < timedelta(0):
        return _("%(t)s overdue") % {"t": text}
    return text


@register.filter
def status_label(value: str) -> str:
    from supportdesk.web.present import STATUS_LABELS

    return str(STATUS_LABELS.get(value, value))


@register.filter
def agent_status_label(value: str) -> str:
    from supportdesk.web.present import AGENT_STATUS_LABELS

    return str(AGENT_STATUS_LABELS.get(value, value))


@register.filter
def severity_label(value: str) -> str:
    from supportdesk.web.present import SEVERITY_LABELS

    return str(SEVERITY_LABELS.get(value, value))


@register.filter
def channel_label(value: str) -> str:
    from supportdesk.web.present import CHANNEL_LABELS

    return str(CHANNEL_LABELS.get(value, value))


@register.filter
def queue_label(value: str) -> str:
    from supportdesk.web.present import QUEUE_LABELS

    return str(QUEUE_LABELS.get(value, value))


@register.filter
def filesize(value: int) -> str:
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.0f} KB"
    return f"{value / 1024 / 1024:.1f} MB"


@register.filter
def duration_abs(delta: timedelta | None) -> str:
    return describe_duration(delta) if delta is not None else ""


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key, "") if mapping else ""


@register.filter
def show_value(value: object) -> str:
    """An audit value: instants in the viewer's zone, empty as a dash."""
    if isinstance(value, datetime):
        return when(value)
    if value in (None, ""):
        return "—"
    return str(value)
