"""Reads for the console's pages: queues, counts, one ticket with everything around it.

Every list is a fixed number of queries whatever the page size (select_related for the
row's account/requester/assignee; one COUNT for the pager; one aggregate for the tab
counts). Tickets always come through `tickets.access`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet

from supportdesk.accounts.models import Account, User
from supportdesk.tickets.access import messages_visible_to, tickets_visible_to
from supportdesk.tickets.models import OPEN_STATUSES, Event, Message, Ticket
from supportdesk.web.present import (
    Clock,
    TrailEntry,
    active_policy,
    describe_event,
    first_response_clock,
    trail_lookups,
)

PAGE_SIZE = 50
# "Breaching soon": the first response is due within this much real time. Breaches happen
# in real time, so this is wall time; the time LEFT shown on each row is on its own clock.
BREACHING_SOON = timedelta(hours=1)

QUEUES = ("customer", "unidentified", "review", "mine", "unassigned", "breaching", "breached")

ROW_FIELDS = (
    "number", "subject", "status", "severity", "channel", "queue", "opened_at", "updated_at",
    "first_response_due", "first_responded_at", "first_response_met", "sla_plan",
    "sla_coverage", "sla_account_status", "requester_name", "requester_email",
    "requester_phone", "account__name", "account__slug", "requester__name",
    "requester__email", "assignee__name", "assignee__email",
)


def _awaiting(now: datetime) -> Q:
    return Q(first_responded_at__isnull=True, first_response_due__isnull=False)


def queue_filter(queue: str, *, user: User, now: datetime) -> Q:
    """Which open tickets a queue holds."""
    if queue in ("customer", "unidentified", "review"):
        return Q(queue=queue)
    if queue == "mine":
        return Q(assignee=user)
    if queue == "unassigned":
        return Q(assignee__isnull=True)
    if queue == "breaching":
        return _awaiting(now) & Q(first_response_due__gt=now, first_response_due__lte=now + BREACHING_SOON)
    if queue == "breached":
        return _awaiting(now) & Q(first_response_due__lte=now)
    raise ValueError(queue)


@dataclass(frozen=True)
class Filters:
    account: str = ""
    requester: str = ""
    number: int | None = None
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.account or self.requester or self.number or self.text)

    def apply(self, tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.number is not None:
            tickets = tickets.filter(number=self.number)
        if self.account:
            # The matching accounts as a subquery (a few rows), so the database walks each
            # one's open tickets in queue order (console_open_account_by_due) instead of
            # testing every open ticket's joined account.
            accounts = Account.objects.filter(
                Q(slug__iexact=self.account) | Q(name__icontains=self.account)
            ).values("id")
            tickets = tickets.filter(account_id__in=accounts)
        if self.requester:
            tickets = tickets.filter(
                Q(requester_email__icontains=self.requester)
                | Q(requester_name__icontains=self.requester)
                | Q(requester_phone__icontains=self.requester)
            )
        if self.text:
            in_messages = Message.objects.filter(
                ticket=OuterRef("pk"), body_text__icontains=self.text
            )
            tickets = tickets.filter(Q(subject__icontains=self.text) | Exists(in_messages))
        return tickets


@dataclass(frozen=True)
class Row:
    ticket: Ticket
    clock: Clock
    plan: str


@dataclass
class QueuePage:
    queue: str
    page: Page[Ticket]
    rows: list[Row]
    counts: dict[str, int] = field(default_factory=dict)


def queue_page(
    user: User, *, queue: str, filters: Filters, page: Any, now: datetime
) -> QueuePage:
    """One page of a queue, most urgent first: tickets still awaiting their first response
    by due time (the instant their time runs out), then the rest by opening time."""
    tickets = (
        tickets_visible_to(user)
        .filter(status__in=OPEN_STATUSES)
        .filter(queue_filter(queue, user=user, now=now))
        .select_related("account", "requester", "assignee")
        .only(*ROW_FIELDS)
        .order_by(
            F("first_responded_at").asc(nulls_first=True),
            F("first_response_due").asc(nulls_last=True),
            "opened_at",
            "number",
        )
    )
    tickets = filters.apply(tickets)
    current = Paginator(tickets, PAGE_SIZE).get_page(page)
    policy = active_policy()
    rows = [
        Row(
            ticket=ticket,
            clock=first_response_clock(ticket, now=now, policy=policy, soon=BREACHING_SOON),
            plan=(policy.plans[ticket.sla_plan].name if ticket.sla_plan in policy.plans else ticket.sla_plan),
        )
        for ticket in current.object_list
    ]
    return QueuePage(queue=queue, page=current, rows=rows)


def queue_counts(user: User, *, now: datetime) -> dict[str, int]:
    """Open tickets in each queue, in one aggregate query."""
    open_tickets = tickets_visible_to(user).filter(status__in=OPEN_STATUSES)
    return open_tickets.aggregate(
        **{name: Count("pk", filter=queue_filter(name, user=user, now=now)) for name in QUEUES}
    )


# --- one ticket ------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    conversation: list[Message]
    events: list[TrailEntry]
    clock: Clock
    specialists: list[User]


def ticket_view(user: User, *, ticket: Ticket, now: datetime) -> TicketView:
    conversation = list(
        messages_visible_to(user, ticket=ticket).select_related("author_user", "author_contact")
    )
    events = list(Event.objects.filter(ticket=ticket).select_related("actor").order_by("at", "id"))
    team = specialists()
    emails, slugs = trail_lookups(events)
    names = {person.email: person.get_full_name() or person.email for person in team}
    missing = emails - names.keys()
    if missing:  # a former specialist
        names.update(
            (person.email, person.get_full_name() or person.email)
            for person in User.objects.filter(email__in=missing).only("email", "name")
        )
    accounts = dict(Account.objects.filter(slug__in=slugs).values_list("slug", "name")) if slugs else {}
    policy = active_policy()
    return TicketView(
        ticket=ticket,
        conversation=conversation,
        events=[
            describe_event(event, names=names, accounts=accounts, ticket_plan=ticket.sla_plan, policy=policy)
            for event in events
        ],
        clock=first_response_clock(ticket, now=now, soon=BREACHING_SOON, policy=policy),
        specialists=team,
    )


def specialists() -> list[User]:
    return list(
        User.objects.filter(is_active=True, role__in=(User.Role.SPECIALIST, User.Role.SUPERVISOR))
        .only("id", "email", "name", "role")
        .order_by("name", "email")
    )


def accounts_for_choice() -> list[Account]:
    return list(Account.objects.only("id", "slug", "name").order_by("name"))
