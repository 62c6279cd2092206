"""Reads for the portal's pages. Tickets always come through `tickets.access`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from supportdesk.accounts.models import Account, Contact, User
from supportdesk.accounts.selectors import effective_subscription
from supportdesk.tickets.access import messages_visible_to, tickets_visible_to
from supportdesk.tickets.models import Event, Message, Ticket
from supportdesk.web.present import active_policy, plan_name

PAGE_SIZE = 50
LIST_FIELDS = (
    "number",
    "subject",
    "status",
    "severity",
    "channel",
    "opened_at",
    "updated_at",
    "first_response_due",
    "first_responded_at",
    "first_response_met",
    "requester_name",
    "requester_email",
    "requester__name",
    "requester__email",
)


def account_ticket_page(user: User, *, page: int | str | None, status: str = "") -> Page[Ticket]:
    """One page of the account's tickets, newest first; a fixed number of queries."""
    tickets: QuerySet[Ticket] = (
        tickets_visible_to(user).select_related("requester").only(*LIST_FIELDS).order_by("-number")
    )
    if status == "open":
        tickets = tickets.filter(status__in=("new", "open", "pending"))
    elif status == "closed":
        tickets = tickets.filter(status__in=("solved", "closed"))
    return Paginator(tickets, PAGE_SIZE).get_page(page)


def public_conversation(user: User, *, ticket: Ticket) -> list[Message]:
    """The messages this user may read (never internal notes for a customer), with authors
    and attachments in two queries."""
    return list(
        messages_visible_to(user, ticket=ticket).select_related("author_user", "author_contact")
    )


def severity_changes(ticket: Ticket) -> list[Event]:
    return list(Event.objects.filter(ticket=ticket, kind="severity_changed").order_by("at"))


@dataclass(frozen=True)
class AccountTerms:
    """What the account's subscription means for new tickets, in words for its contacts."""

    account: Account
    plan: str  # plan name, empty when none
    status: str  # active, trial, expired, suspended
    has_sla: bool
    terms_plan: str  # the plan whose terms apply (trial: Support Standard)
    channels: tuple[str, ...]
    coverage: str
    targets: tuple[tuple[str, str], ...]  # (severity, target text)
    account_manager: User | None
    ends: Any


def account_terms(account: Account, *, now: datetime) -> AccountTerms:
    policy = active_policy()
    effective = effective_subscription(account, at=now)
    status = str(effective.status)
    rule = policy.statuses.get(status)
    has_sla = bool(rule and rule.sla and (effective.plan or rule.terms_of))
    terms_id = (rule.terms_of if rule and rule.terms_of else effective.plan) or ""
    terms = policy.plans.get(terms_id) if has_sla else None
    return AccountTerms(
        account=account,
        plan=plan_name(effective.plan or "", policy),
        status=status,
        has_sla=terms is not None,
        terms_plan=terms.name if terms else "",
        channels=tuple(str(c.value) for c in terms.channel_list()) if terms else (),
        coverage=terms.coverage if terms else "",
        targets=tuple(
            (severity, terms.target(severity).text) for severity in ("high", "medium", "low")
        )
        if terms
        else (),
        account_manager=account.account_manager,
        ends=effective.subscription.ends if effective.subscription else None,
    )


def points_of_contact_and_owners(account: Account) -> list[Contact]:
    """Whom a contact who may not open tickets should ask (issue 7 adds owners' role)."""
    return list(
        Contact.objects.filter(account=account, is_active=True)
        .filter(is_point_of_contact=True)
        .order_by("name", "email")
    ) + list(
        Contact.objects.filter(account=account, is_active=True, is_account_owner=True)
        .exclude(is_point_of_contact=True)
        .order_by("name", "email")
    )
