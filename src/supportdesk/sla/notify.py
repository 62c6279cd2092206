"""Telling people: the console's notification list and the matching email.

Warnings go to the ticket's assignee or, when nobody has it, to the queue's
specialists; breaches go to them and to the supervisors. Everything is written in
the caller's transaction: the notification rows and the queued mail exist exactly
when the notice that caused them committed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from supportdesk.accounts.models import User
from supportdesk.core import rows
from supportdesk.outbound.services import send_notification
from supportdesk.sla.models import Notification, QueueSpecialist

logger = logging.getLogger(__name__)


def team_for(ticket: Any) -> list[User]:
    """Who works this ticket: its assignee, else the queue's specialists.

    A queue nobody watches (no `QueueSpecialist` rows) counts every active specialist;
    with no specialist at all, the supervisors are told so the notice is never lost.
    """
    assignee = ticket.assignee if ticket.assignee_id else None
    if assignee is not None and assignee.is_active:
        return [assignee]
    watchers = list(
        User.objects.filter(
            pk__in=QueueSpecialist.objects.filter(queue=ticket.queue).values("user_id"),
            is_active=True,
        ).order_by("email")
    )
    if watchers:
        return watchers
    specialists = list(
        User.objects.filter(role=User.Role.SPECIALIST, is_active=True).order_by("email")
    )
    return specialists or supervisors()


def supervisors() -> list[User]:
    # A prepared read (supportdesk.core.rows): every page nobody can take asks.
    return rows.select(
        User,
        where="role = %s AND is_active = %s",
        params=[User.Role.SUPERVISOR.value, True],
        order_by="email",
    )


def unique_people(*groups: Iterable[User]) -> list[User]:
    seen: dict[int, User] = {}
    for group in groups:
        for user in group:
            seen.setdefault(user.pk, user)
    return list(seen.values())


def local_text(moment: datetime | None, calendar: Any) -> str:
    """'Mon 02 Mar 2026, 09:30 America/Sao_Paulo': an instant in the ticket clock's zone
    (mail goes to several people; the clock's zone is the one the SLA is counted in)."""
    if moment is None:
        return "-"
    if calendar is None:
        return f"{moment:%a %d %b %Y, %H:%M} UTC"
    return f"{moment.astimezone(calendar.zone):%a %d %b %Y, %H:%M} {calendar.time_zone}"


def console_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def ticket_url(ticket: Any) -> str:
    return console_url(f"/console/tickets/{ticket.number}/")


def tell(
    people: Sequence[User],
    *,
    kind: str,
    text: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    ticket: Any = None,
    notice: Any = None,
    page: Any = None,
) -> list[Notification]:
    """One notification per person in the console, and one mail each."""
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=person, kind=kind, ticket=ticket, notice=notice, page=page,
                text=text[:500], created_at=now,
            )
            for person in people
        ]
    )
    for person in people:
        # Not linked to the ticket (no `ticket=`): internal mail must never be threaded
        # into the customer's conversation nor carried in its References.
        send_notification(
            person.email,
            subject,
            template,
            {**context, "person": person, "sla_ticket": ticket},
            language=settings.LANGUAGE_CODE,
            now=now,
        )
    return rows
