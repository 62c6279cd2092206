"""Who is on call: a weekly rotation with overrides (SPEC §5).

Weeks start at the rota's handoff (weekday + local time in its zone, so a handoff at
09:00 stays at 09:00 across DST changes); the week starting at the first handoff on or
after `starts_on` is the first member's. An override covering an instant wins over
the rotation (the most recently created one when several overlap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from supportdesk.accounts.models import User
from supportdesk.core import rows
from supportdesk.sla.models import Rota, RotaMember, RotaOverride


@dataclass(frozen=True)
class Shift:
    user: User
    starts_at: datetime
    ends_at: datetime
    override: RotaOverride | None = None


def active_rota() -> Rota | None:
    """The rota that pages for new High tickets (the first active one)."""
    # A prepared read (supportdesk.core.rows): every new High ticket asks.
    found = rows.select(Rota, where="is_active = %s", params=[True], order_by="id", limit=1)
    return found[0] if found else None


def _handoff_on(rota: Rota, day: date) -> datetime:
    zone = ZoneInfo(rota.time_zone)
    local = datetime.combine(day, rota.handoff_time, tzinfo=zone)
    return local.astimezone(UTC)


def week_start(rota: Rota, moment: datetime) -> datetime:
    """The handoff instant that began the rotation week containing `moment`."""
    zone = ZoneInfo(rota.time_zone)
    local_day = moment.astimezone(zone).date()
    back = (local_day.weekday() - rota.handoff_weekday) % 7
    day = local_day - timedelta(days=back)
    start = _handoff_on(rota, day)
    if start > moment:
        start = _handoff_on(rota, day - timedelta(days=7))
    return start


def _first_handoff(rota: Rota) -> date:
    ahead = (rota.handoff_weekday - rota.starts_on.weekday()) % 7
    return rota.starts_on + timedelta(days=ahead)


def members(rota: Rota) -> list[User]:
    return [
        member.user
        for member in RotaMember.objects.filter(rota=rota, user__is_active=True)
        .select_related("user")
        .order_by("position", "id")
    ]


def rotation_index(rota: Rota, moment: datetime, count: int) -> int:
    """Index of the member whose week contains `moment` (weeks before the start wrap)."""
    zone = ZoneInfo(rota.time_zone)
    start_day = week_start(rota, moment).astimezone(zone).date()
    weeks = (start_day - _first_handoff(rota)).days // 7
    return weeks % count


def override_at(rota: Rota, moment: datetime) -> RotaOverride | None:
    return (
        RotaOverride.objects.filter(
            rota=rota, starts_at__lte=moment, ends_at__gt=moment, user__is_active=True
        )
        .select_related("user")
        .order_by("-created_at", "-id")
        .first()
    )


def on_call_at(rota: Rota, moment: datetime) -> Shift | None:
    """Who is on call at `moment`, with their shift; None when the rota is empty."""
    override = override_at(rota, moment)
    if override is not None:
        return Shift(override.user, override.starts_at, override.ends_at, override)
    people = members(rota)
    if not people:
        return None
    start = week_start(rota, moment)
    end = week_start(rota, start + timedelta(days=7, hours=12))
    return Shift(people[rotation_index(rota, moment, len(people))], start, end)


def escalation_order(rota: Rota, moment: datetime) -> list[User]:
    """Whom to page in turn: the person on call, then the following rota members."""
    people = members(rota)
    order: list[User] = []
    shift = on_call_at(rota, moment)
    if shift is not None:
        order.append(shift.user)
    if people:
        first = rotation_index(rota, moment, len(people))
        if shift is not None and shift.override is None:
            first += 1
        for step in range(len(people)):
            person = people[(first + step) % len(people)]
            if all(person.pk != other.pk for other in order):
                order.append(person)
    return order


def schedule(rota: Rota, *, start: datetime, weeks: int = 8) -> list[Shift]:
    """The rotation's weeks from the one containing `start` (overrides listed separately)."""
    people = members(rota)
    if not people:
        return []
    shifts = []
    begin = week_start(rota, start)
    for _ in range(weeks):
        end = week_start(rota, begin + timedelta(days=7, hours=12))
        shifts.append(Shift(people[rotation_index(rota, begin, len(people))], begin, end))
        begin = end
    return shifts
