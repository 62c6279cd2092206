"""The SLA sweep: claim the tickets whose next SLA moment has come, warn, record breaches.

Each unanswered ticket carries its next moment in the indexed `Ticket.next_sla_at`:
first its warning moment, then its due time (see `sla.moments`). A sweep, in one
transaction per batch:

1. claims due rows by moving their `next_sla_at` on (warning -> due time, due time ->
   None) in one conditional UPDATE. On PostgreSQL the rows are picked with
   `FOR UPDATE SKIP LOCKED`, so several workers split the work and never take the
   same row; on SQLite the transaction is IMMEDIATE (it holds the write lock from
   BEGIN), so nothing changes between the pick and the update;
2. records a `Notice` per claimed moment, stamped with the moment it happened (the
   warning moment, or the due time), not the time of the sweep;
3. writes the console notifications and queues the mail.

A crash anywhere rolls the whole batch back, claim included: the next sweep does it
again. `Notice` is unique per (ticket, kind, due), a second line of defence against a
double notification. The actions keep `next_sla_at` right in their own transactions
(a first response clears it, a severity change moves it), so a claimed moment is
always current; the sweep still re-checks the ticket before telling anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from supportdesk import clock
from supportdesk.policy import Policy
from supportdesk.sla import moments
from supportdesk.sla.models import Notice, Notification
from supportdesk.sla.notify import (
    local_text,
    supervisors,
    team_for,
    tell,
    ticket_url,
    unique_people,
)
from supportdesk.tickets.models import OPEN_STATUSES, Event, Ticket

logger = logging.getLogger(__name__)

BATCH = 200
WORKER_LABEL = "SLA worker"


@dataclass(frozen=True)
class Claimed:
    ticket_id: int
    moment: datetime  # the next_sla_at that came due
    due: datetime | None


@dataclass
class SweepResult:
    claimed: int = 0
    warnings: int = 0
    breaches: int = 0
    skipped: int = 0
    postponed: int = 0
    oldest_moment: datetime | None = None
    notices: list[int] = field(default_factory=list)

    def lag(self, now: datetime) -> timedelta:
        """How late the oldest moment handled was (zero when nothing was due)."""
        return now - self.oldest_moment if self.oldest_moment else timedelta(0)


# --- claiming ------------------------------------------------------------------------------

_PG_CLAIM = """
UPDATE {table} AS t
   SET next_sla_at = CASE WHEN d.next_sla_at < t.first_response_due
                          THEN t.first_response_due ELSE NULL END
  FROM (SELECT id, next_sla_at FROM {table}
         WHERE next_sla_at <= %s
         ORDER BY next_sla_at
         LIMIT %s
         FOR UPDATE SKIP LOCKED) AS d
 WHERE t.id = d.id
RETURNING t.id, d.next_sla_at, t.first_response_due
"""


def claim_due(now: datetime, limit: int = BATCH) -> list[Claimed]:
    """Claim up to `limit` tickets whose next SLA moment is at or before `now`.

    Must run inside a transaction (the claim commits or rolls back with the work).
    """
    table = connection.ops.quote_name(Ticket._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PG_CLAIM.format(table=table), [now, limit])
            rows = cursor.fetchall()
        claimed = [Claimed(row[0], row[1], row[2]) for row in rows]
        claimed.sort(key=lambda item: item.moment)
        return claimed
    # SQLite: IMMEDIATE transactions hold the write lock from BEGIN, so the rows picked
    # here are still as seen when the UPDATE runs; the UPDATE is conditional anyway.
    picked = list(
        Ticket.objects.filter(next_sla_at__lte=now)
        .order_by("next_sla_at")
        .values_list("id", "next_sla_at", "first_response_due")[:limit]
    )
    claimed = []
    for ticket_id, moment, due in picked:
        after = due if due is not None and moment < due else None
        if Ticket.objects.filter(id=ticket_id, next_sla_at=moment).update(next_sla_at=after):
            claimed.append(Claimed(ticket_id, moment, due))
    return claimed


# --- the sweep -------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None, batch: int = BATCH, policy: Policy | None = None) -> SweepResult:
    """Handle every SLA moment that has come by `now`; returns what was done."""
    now = now or clock.now()
    if policy is None:
        from supportdesk.core.policy_source import active_policy

        policy = active_policy()
    result = SweepResult()
    while True:
        with transaction.atomic():
            claimed = claim_due(now, batch)
            if claimed:
                _handle(claimed, now=now, policy=policy, result=result)
        # Go on until nothing is due: a claimed warning whose due time has passed too
        # comes back at once as a breach (every claim moves next_sla_at forward or
        # clears it, so this ends).
        if not claimed:
            return result


def _handle(claimed: list[Claimed], *, now: datetime, policy: Policy, result: SweepResult) -> None:
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_related("account", "assignee").filter(
            pk__in=[item.ticket_id for item in claimed]
        )
    }
    for item in claimed:
        result.claimed += 1
        if result.oldest_moment is None or item.moment < result.oldest_moment:
            result.oldest_moment = item.moment
        ticket = tickets.get(item.ticket_id)
        if ticket is None or item.due is None or ticket.first_responded_at is not None:
            result.skipped += 1
            continue
        if item.moment < item.due:
            _warning(ticket, item, now=now, policy=policy, result=result)
        else:
            _breach(ticket, item, now=now, policy=policy, result=result)


def _warning(ticket: Ticket, item: Claimed, *, now: datetime, policy: Policy, result: SweepResult) -> None:
    assert item.due is not None
    if now >= item.due or ticket.status not in OPEN_STATUSES:
        result.skipped += 1  # too late to warn (the breach comes next), or nobody needs it
        return
    calendar = moments.clock_of(policy, ticket.sla_coverage, ticket.sla_target)
    if calendar is not None:
        opening = moments.next_opening(now, calendar)
        if opening > now:
            # A worker back from downtime outside coverage hours: warn at the next
            # opening, never at 3 a.m. (or not at all when the due time comes first).
            if opening < item.due:
                Ticket.objects.filter(id=ticket.pk, next_sla_at=item.due).update(next_sla_at=opening)
                result.postponed += 1
            else:
                result.skipped += 1
            return
    notice = _record_notice(ticket, Notice.Kind.WARNING, at=item.moment, due=item.due, now=now)
    if notice is None:
        result.skipped += 1  # this due time was warned about already
        return
    result.warnings += 1
    result.notices.append(notice.pk)
    _record_event(ticket, "sla_warning", at=now, after={
        "warning_at": item.moment.isoformat(), "first_response_due": item.due.isoformat(),
    })
    left = ticket.first_response_due - now if ticket.first_response_due else timedelta(0)
    tell(
        team_for(ticket),
        kind=Notification.Kind.WARNING,
        text=f"#{ticket.number} {ticket.subject}: first response due soon",
        subject=f"SLA warning: #{ticket.number} first response due soon",
        template="sla/mail/warning",
        context=_context(ticket, notice, policy, extra={"left": left}),
        now=now,
        ticket=ticket,
        notice=notice,
    )


def _breach(ticket: Ticket, item: Claimed, *, now: datetime, policy: Policy, result: SweepResult) -> None:
    assert item.due is not None
    is_open = ticket.status in OPEN_STATUSES
    notice = _record_notice(
        ticket, Notice.Kind.BREACH, at=item.due, due=item.due, now=now, notified=is_open
    )
    if notice is None:
        result.skipped += 1
        return
    result.breaches += 1
    result.notices.append(notice.pk)
    _record_event(ticket, "sla_breached", at=item.due, after={
        "first_response_due": item.due.isoformat(), "noticed_at": now.isoformat(),
    })
    if not is_open:
        return  # recorded for the reports; nobody needs to act on a solved ticket
    tell(
        unique_people(team_for(ticket), supervisors()),
        kind=Notification.Kind.BREACH,
        text=f"#{ticket.number} {ticket.subject}: first response overdue",
        subject=f"SLA breach: #{ticket.number} first response overdue",
        template="sla/mail/breach",
        context=_context(ticket, notice, policy),
        now=now,
        ticket=ticket,
        notice=notice,
    )


def _record_notice(
    ticket: Ticket, kind: str, *, at: datetime, due: datetime, now: datetime, notified: bool = True
) -> Notice | None:
    """The notice, or None when one for this (ticket, kind, due) exists already."""
    if Notice.objects.filter(ticket=ticket, kind=kind, due=due).exists():
        return None
    try:
        with transaction.atomic():  # a savepoint: a concurrent insert loses cleanly
            return Notice.objects.create(
                ticket=ticket, kind=kind, at=at, due=due, noticed_at=now,
                severity=ticket.severity, target=ticket.sla_target,
                coverage=ticket.sla_coverage, notified=notified,
            )
    except IntegrityError:
        return None


def _record_event(ticket: Ticket, kind: str, *, at: datetime, after: dict[str, Any]) -> None:
    # The ticket's audit trail shows SLA moments too (an append-only record, not a change
    # of the ticket, so it is written here rather than through tickets.actions).
    Event.objects.create(ticket=ticket, kind=kind, at=at, actor=None, actor_label=WORKER_LABEL, after=after)


def _context(ticket: Ticket, notice: Notice, policy: Policy, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    calendar = policy.calendars.get(ticket.sla_coverage)
    return {
        "notice": notice,
        "number": ticket.number,
        "subject": ticket.subject,
        "account": ticket.account.name if ticket.account_id else "",
        "severity": ticket.get_severity_display(),
        "target": ticket.sla_target,
        "coverage": ticket.sla_coverage,
        "due_text": local_text(ticket.first_response_due, calendar),
        "url": ticket_url(ticket),
        **(extra or {}),
    }


def pending_moments(ticket_ids: Iterable[int]) -> dict[int, datetime | None]:
    """The next SLA moment of each ticket (for tests and the console)."""
    return dict(Ticket.objects.filter(pk__in=list(ticket_ids)).values_list("pk", "next_sla_at"))
