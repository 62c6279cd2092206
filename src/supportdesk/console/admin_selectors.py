"""Reads for the supervisors' pages, a fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Prefetch, Q

from supportdesk.accounts.models import Account, Contact, Subscription, User
from supportdesk.accounts.selectors import contract_day, effective_subscription
from supportdesk.tickets.models import OPEN_STATUSES
from supportdesk.web.present import plan_name


def _in_force(subscriptions: list[Subscription], day: Any) -> Subscription | None:
    """The latest recorded row covering `day` (accounts.selectors.effective_subscription's
    rule, applied to prefetched rows so a page of accounts costs no extra queries)."""
    covering = [s for s in subscriptions if s.starts <= day and (s.ends is None or s.ends > day)]
    return max(covering, key=lambda s: s.pk) if covering else None


@dataclass(frozen=True)
class AccountRow:
    account: Account
    plan: str
    status: str
    open_tickets: int


def account_page(*, search: str, page: Any, now: datetime) -> Page[Any]:
    accounts = (
        Account.objects.select_related("account_manager")
        .prefetch_related("domains", Prefetch("subscriptions", queryset=Subscription.objects.order_by("id")))
        .annotate(open_tickets=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES)))
        .order_by("name")
    )
    if search:
        accounts = accounts.filter(
            Q(name__icontains=search) | Q(slug__icontains=search) | Q(domains__domain__icontains=search)
        ).distinct()
    current = Paginator(accounts, 50).get_page(page)
    day = contract_day(now)
    rows = []
    for account in current.object_list:
        row = _in_force(list(account.subscriptions.all()), day)
        rows.append(
            AccountRow(
                account=account,
                plan=plan_name(row.plan) if row else "",
                status=row.status if row else "expired",
                open_tickets=account.open_tickets,  # type: ignore[attr-defined]
            )
        )
    current.object_list = rows  # type: ignore[assignment]
    return current


@dataclass(frozen=True)
class AccountDetail:
    account: Account
    effective: Any
    plan: str
    domains: list[Any]
    contacts: list[Contact]
    subscriptions: list[Subscription]


def account_detail(account: Account, *, now: datetime) -> AccountDetail:
    effective = effective_subscription(account, at=now)
    return AccountDetail(
        account=account,
        effective=effective,
        plan=plan_name(effective.plan or ""),
        domains=list(account.domains.order_by("domain")),
        contacts=list(Contact.objects.filter(account=account).select_related("user").order_by("name", "email")),
        subscriptions=list(
            Subscription.objects.filter(account=account).select_related("recorded_by").order_by("-id")
        ),
    )


def staff() -> list[User]:
    return list(
        User.objects.filter(role__in=(User.Role.SPECIALIST, User.Role.SUPERVISOR), is_active=True)
        .order_by("name", "email")
    )


def staff_with_load() -> list[User]:
    return list(
        User.objects.filter(role__in=(User.Role.SPECIALIST, User.Role.SUPERVISOR))
        .annotate(open_assigned=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=OPEN_STATUSES)))
        .order_by("-is_active", "name", "email")
    )
