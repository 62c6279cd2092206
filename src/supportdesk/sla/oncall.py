"""On-call paging: a new High ticket on a 24x7 plan pages whoever is on call.

The page goes out by mail and by a signed webhook, and shows in the person's console
notifications with an acknowledge button. Unacknowledged after
SUPPORTDESK_ONCALL_ACK_MINUTES, the worker pages the next person of the rota (see
`rota.escalation_order`); when everybody was paged the supervisors are told. A first
public reply on the ticket ends the page too (somebody is on it).

`Page.escalate_at` is claimed by the worker with a conditional UPDATE, like
`Ticket.next_sla_at`, so two workers never page the same person twice.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from supportdesk import clock
from supportdesk.accounts.models import Account, User
from supportdesk.core import rows
from supportdesk.policy import Calendar, business_time_between
from supportdesk.sla import rota as rotas
from supportdesk.sla.models import Notification, Page, PageAttempt, Rota
from supportdesk.sla.notify import local_text, supervisors, tell, ticket_url
from supportdesk.tickets.models import OPEN_STATUSES, Severity, Ticket
from supportdesk.tickets.notify import only_when, with_batch_form

logger = logging.getLogger(__name__)

WEEK = timedelta(days=7)


def ack_window() -> timedelta:
    return timedelta(minutes=settings.SUPPORTDESK_ONCALL_ACK_MINUTES)


@cache
def _round_the_clock(calendar_id: str, calendar: Calendar) -> bool:
    probe = clock.now()
    return business_time_between(probe, probe + WEEK, calendar) == WEEK


def needs_page(ticket: Ticket) -> bool:
    """A High ticket with an SLA on a clock that always runs (a 24x7 plan), unanswered."""
    if ticket.first_responded_at is not None or ticket.status not in OPEN_STATUSES:
        return False
    return _pages(ticket.severity, ticket.first_response_due, ticket.sla_coverage)


def _pages(severity: str, first_response_due: datetime | None, coverage: str) -> bool:
    """Whether a ticket with these SLA facts pages (while it is open and unanswered)."""
    if severity != Severity.HIGH or first_response_due is None:
        return False
    from supportdesk.core.policy_source import active_policy

    calendar = active_policy().calendars.get(coverage)
    return calendar is not None and _round_the_clock(calendar.id, calendar)


# --- the hook --------------------------------------------------------------------------------


def _may_page(change: Any) -> bool:
    # Decided from the facts core puts in the change, without reading the ticket: most
    # new tickets (not High, or not on a 24x7 clock) never page.
    details = change.details
    return "severity" not in details or _pages(
        details["severity"], details.get("first_response_due"), details.get("sla_coverage", "")
    )


def page_new_tickets(changes: list[Any]) -> None:
    """The batch form of `page_new_ticket` (a bulk intake's new tickets, after their
    commit): the tickets and their accounts in two queries, the rota, who is on call
    and the supervisors read once, the pages in one INSERT, then each announced as one
    at a time would. A ticket paged already fails the batch (the unique ticket), which
    `tickets.notify` then runs one change at a time, where that page is skipped."""
    tickets = _tickets([change.ticket_id for change in changes])
    paging = _Paging(rotas.active_rota())
    now = clock.now()
    wanted = [
        (ticket, change.at)
        for change in changes
        if (ticket := tickets.get(change.ticket_id)) is not None and needs_page(ticket)
    ]
    values = [_page_values(ticket, at, paging.order(at), now, paging) for ticket, at in wanted]
    written = rows.insert_many(Page, values, returning=("id", "ticket_id"))
    ids = {ticket_id: pk for pk, ticket_id in written}
    for (ticket, at), page_values in zip(wanted, values, strict=True):
        page = rows.instance(Page, {**page_values, "id": ids[ticket.pk]})
        rows.remember(page, "ticket", ticket)
        _announce(page, ticket, paging.order(at), now, paging)


@only_when(_may_page)
@with_batch_form(page_new_tickets)
def page_new_ticket(change: Any) -> None:
    """tickets.notify hook for "opened": page the on-call specialist when it is needed."""
    ticket = _ticket(change.ticket_id)
    if ticket is None or not needs_page(ticket):
        return
    page_for(ticket, at=change.at)


def page_raised_ticket(change: Any) -> None:
    """tickets.notify hook for "severity_changed": a ticket a specialist raises to High on
    a 24x7 clock, still unanswered, pages as a new High ticket would. A ticket is paged
    at most once (a page already opened for it, say before it was lowered, stands)."""
    ticket = _ticket(change.ticket_id)
    if ticket is None or not needs_page(ticket):
        return
    page_for(ticket, at=change.at)


def _ticket(ticket_id: int) -> Ticket | None:
    """The ticket with its account (prepared reads: this runs for every new High ticket)."""
    return _tickets([ticket_id]).get(ticket_id)


def _tickets(ticket_ids: list[int]) -> dict[int, Ticket]:
    """The tickets by id, each with its account, in two queries whatever their number."""
    if not ticket_ids:
        return {}
    marks = ", ".join(["%s"] * len(ticket_ids))
    found = rows.select(Ticket, where=f"id IN ({marks})", params=ticket_ids)
    account_ids = sorted({t.account_id for t in found if t.account_id is not None})
    accounts: dict[int, Account] = {}
    if account_ids:
        marks = ", ".join(["%s"] * len(account_ids))
        accounts = {
            a.pk: a for a in rows.select(Account, where=f"id IN ({marks})", params=account_ids)
        }
    for ticket in found:
        rows.remember(ticket, "account", accounts.get(ticket.account_id) if ticket.account_id else None)
    return {ticket.pk: ticket for ticket in found}


class _Paging:
    """What pages read that does not depend on the ticket, read once for a batch: the
    active rota, its escalation order at each instant asked, the supervisors."""

    def __init__(self, rota: Rota | None) -> None:
        self.rota = rota
        self._orders: dict[datetime, list[User]] = {}
        self._supervisors: list[User] | None = None

    def order(self, at: datetime) -> list[User]:
        if self.rota is None:
            return []
        if at not in self._orders:
            self._orders[at] = rotas.escalation_order(self.rota, at)
        return self._orders[at]

    def supervisors(self) -> list[User]:
        if self._supervisors is None:
            self._supervisors = supervisors()
        return self._supervisors


def page_for(
    ticket: Ticket,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
    paging: _Paging | None = None,
) -> Page | None:
    """Open the page for `ticket` (once per ticket) and page the person on call at `at`."""
    now = now or clock.now()
    at = at or now
    paging = paging or _Paging(rotas.active_rota())
    # Who to page, read before the page's transaction (reads only; a page that exists
    # already is refused by the unique ticket below).
    order = paging.order(at)
    try:
        with transaction.atomic():
            # One INSERT with the page's first state (it pages someone or nobody).
            values = _page_values(ticket, at, order, now, paging)
            page = rows.instance(Page, {**values, "id": rows.insert_values(Page, values)})
            rows.remember(page, "ticket", ticket)
            _announce(page, ticket, order, now, paging)
            return page
    except IntegrityError:
        return None  # paged already (the hook ran twice)


def _page_values(ticket: Ticket, at: datetime, order: list[User], now: datetime, paging: _Paging) -> dict[str, Any]:
    """A new page's row: it pages the first of `order`, or nobody."""
    return {
        "ticket_id": ticket.pk,
        "rota_id": paging.rota.pk if paging.rota is not None else None,
        "created_at": at,
        "level": 0,
        "outcome": Page.Outcome.OPEN.value if order else Page.Outcome.NOBODY.value,
        "escalate_at": now + ack_window() if order else None,
    }


def _announce(page: Page, ticket: Ticket, order: list[User], now: datetime, paging: _Paging) -> None:
    """Page the first person of `order`, or tell the supervisors nobody is on call."""
    if order:
        _page_person(page, ticket, order[0], level=0, now=now)
        return
    tell(
        paging.supervisors(),
        kind=Notification.Kind.UNACKNOWLEDGED,
        text=f"#{ticket.number} {ticket.subject}: new High ticket and nobody is on call",
        subject=f"Nobody on call for High ticket #{ticket.number}",
        template="sla/mail/unacknowledged",
        context=_context(ticket, page, level=0),
        now=now,
        ticket=ticket,
        page=page,
    )


def _page_person(page: Page, ticket: Ticket, person: User, *, level: int, now: datetime) -> PageAttempt:
    attempt = PageAttempt.objects.create(page=page, level=level, user=person, at=now)
    context = _context(ticket, page, level=level)
    tell(
        [person],
        kind=Notification.Kind.PAGE,
        text=f"On call: #{ticket.number} {ticket.subject} (High)",
        subject=f"On call: High ticket #{ticket.number}",
        template="sla/mail/page",
        context=context,
        now=now,
        ticket=ticket,
        page=page,
    )
    url = settings.SUPPORTDESK_ONCALL_WEBHOOK_URL
    if url:
        from supportdesk.sla.webhooks import enqueue_webhook

        enqueue_webhook(url=url, body=_webhook_body(ticket, page, person, level, now), attempt=attempt, now=now)
    return attempt


def _webhook_body(ticket: Ticket, page: Page, person: User, level: int, now: datetime) -> bytes:
    payload = {
        "event": "page",
        "page": page.pk,
        "level": level,
        "sent_at": now.isoformat(),
        "on_call": {"email": person.email, "name": person.name},
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "severity": ticket.severity,
            "account": ticket.account.name if ticket.account_id else None,
            "opened_at": ticket.opened_at.isoformat(),
            "first_response_due": ticket.first_response_due.isoformat() if ticket.first_response_due else None,
            "url": ticket_url(ticket),
        },
        "ack_url": ack_url(page),
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()


def ack_url(page: Page) -> str:
    return f"{settings.SITE_URL}/console/sla/pages/{page.pk}/"


def _context(ticket: Ticket, page: Page, *, level: int) -> dict[str, Any]:
    from supportdesk.core.policy_source import active_policy

    calendar = active_policy().calendars.get(ticket.sla_coverage)
    due = ticket.first_response_due
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "account": ticket.account.name if ticket.account_id else "",
        "due_text": local_text(due, calendar),
        "url": ticket_url(ticket),
        "ack_url": ack_url(page),
        "level": level,
        "ack_minutes": settings.SUPPORTDESK_ONCALL_ACK_MINUTES,
    }


# --- acknowledging -------------------------------------------------------------------------


def acknowledge(*, page: Page, user: User, now: datetime | None = None) -> Page:
    """`user` takes the page: no further escalation. A second acknowledgement is refused."""
    now = now or clock.now()
    if not user.is_active or not user.is_agent:
        raise ValidationError({"user": f"{user.email} is not an active specialist or supervisor"})
    with transaction.atomic():
        taken = Page.objects.filter(pk=page.pk, acknowledged_at__isnull=True, outcome="").update(
            acknowledged_at=now, acknowledged_by=user, escalate_at=None,
            outcome=Page.Outcome.ACKNOWLEDGED,
        )
        fresh = Page.objects.select_related("acknowledged_by").get(pk=page.pk)
        if not taken:
            raise ValidationError({"page": _closed_reason(fresh)})
    return fresh


def _closed_reason(page: Page) -> str:
    if page.acknowledged_by is not None:
        return f"already acknowledged by {page.acknowledged_by.get_full_name()}"
    return f"this page is closed: {page.get_outcome_display()}"


# --- escalating -------------------------------------------------------------------------------


def escalate_due(*, now: datetime | None = None, limit: int = 100) -> int:
    """Page the next person for every page not acknowledged in time. Returns pages handled."""
    now = now or clock.now()
    handled = 0
    due = Page.objects.filter(escalate_at__lte=now).order_by("escalate_at")
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True)
    while True:
        with transaction.atomic():
            batch = list(due.values_list("id", "escalate_at")[:limit])
            for page_id, seen in batch:
                # The claim: only the worker that moves escalate_at from what it saw acts.
                if Page.objects.filter(pk=page_id, escalate_at=seen, outcome="").update(escalate_at=None):
                    _escalate(Page.objects.select_related("ticket", "rota").get(pk=page_id), now=now)
                    handled += 1
        if len(batch) < limit:
            return handled


def _escalate(page: Page, *, now: datetime) -> None:
    ticket = page.ticket
    if ticket.first_responded_at is not None or ticket.status not in OPEN_STATUSES:
        page.outcome = Page.Outcome.ANSWERED
        page.save(update_fields=["outcome"])
        return
    paged = set(page.attempts.values_list("user_id", flat=True))
    order = rotas.escalation_order(page.rota, page.created_at) if page.rota else []
    following = [person for person in order if person.pk not in paged]
    if not following:
        page.outcome = Page.Outcome.EXHAUSTED
        page.save(update_fields=["outcome"])
        tell(
            supervisors(),
            kind=Notification.Kind.UNACKNOWLEDGED,
            text=f"#{ticket.number} {ticket.subject}: nobody acknowledged the on-call page",
            subject=f"Nobody acknowledged the page for High ticket #{ticket.number}",
            template="sla/mail/unacknowledged",
            context=_context(ticket, page, level=page.level),
            now=now,
            ticket=ticket,
            page=page,
        )
        return
    page.level += 1
    _page_person(page, ticket, following[0], level=page.level, now=now)
    page.escalate_at = now + ack_window()
    page.save(update_fields=["level", "escalate_at"])


def unacknowledged_pages() -> int:
    return Page.objects.filter(outcome="", acknowledged_at__isnull=True).count()

