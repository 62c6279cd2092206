"""Reads about accounts that the rest of the product relies on.

No permission checks here: these answer questions for the product itself (the intake
service, the SLA). What a user may see is decided in `accounts.access`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection

from supportdesk.accounts.models import (
    Account,
    AccountEvent,
    Contact,
    InvitationException,
    Subscription,
)
from supportdesk.core.rows import select

# Contract dates (a subscription's starts/ends) are calendar days in the vendor's time
# zone: a subscription "ending 2027-03-01" covers up to 2027-03-01 00:00 in São Paulo.
CONTRACT_TIME_ZONE = ZoneInfo("America/Sao_Paulo")


@dataclass(frozen=True)
class EffectiveSubscription:
    """An account's plan and status at one instant, and why."""

    plan: str | None
    status: str  # active, trial, expired or suspended
    subscription: Subscription | None
    reasons: tuple[str, ...]


def contract_day(at: datetime) -> date:
    return at.astimezone(CONTRACT_TIME_ZONE).date()


def effective_subscription(account: Account, *, at: datetime) -> EffectiveSubscription:
    """The plan and status in force for `account` at the instant `at`.

    The latest recorded subscription row covering that day wins. With none, the account
    is treated as expired (on the plan it last had, if any), and the reasons say so.
    """
    day = contract_day(at)
    # The intake hot path: a prepared query (see supportdesk.core.rows).
    rows = select(
        Subscription,
        where="account_id = %s AND starts <= %s",
        params=[account.pk, connection.ops.adapt_datefield_value(day)],
        order_by="id DESC",
    )
    return effective_on(day, rows)


def subscriptions_of(account_ids: Iterable[int]) -> dict[int, list[Subscription]]:
    """Every recorded subscription row of these accounts, newest first, in one query
    (for `effective_on`, when a batch asks about many accounts)."""
    ids = sorted(set(account_ids))
    found: dict[int, list[Subscription]] = {account_id: [] for account_id in ids}
    if ids:
        rows = select(
            Subscription,
            where=f"account_id IN ({', '.join(['%s'] * len(ids))})",
            params=ids,
            order_by="id DESC",
        )
        for row in rows:
            found[row.account_id].append(row)
    return found


def effective_on(day: date, history: Sequence[Subscription]) -> EffectiveSubscription:
    """`effective_subscription` on the contract day `day`, from the account's subscription
    rows (newest first; rows starting after `day` are ignored)."""
    rows = [row for row in history if row.starts <= day]
    for row in rows:
        if row.ends is None or row.ends > day:
            return EffectiveSubscription(
                plan=row.plan,
                status=row.status,
                subscription=row,
                reasons=(
                    f"subscription {row.plan} {row.status} from {row.starts.isoformat()}"
                    + (f" until {row.ends.isoformat()}" if row.ends else "")
                    + f" (in force on {day.isoformat()})",
                ),
            )
    if rows:
        last = max(rows, key=lambda r: (r.ends or day, r.pk))
        ended = last.ends.isoformat() if last.ends else day.isoformat()
        return EffectiveSubscription(
            plan=last.plan,
            status=Subscription.Status.EXPIRED,
            subscription=None,
            reasons=(
                f"subscription {last.plan} ended {ended}: treated as expired on {day.isoformat()}",
            ),
        )
    return EffectiveSubscription(
        plan=None,
        status=Subscription.Status.EXPIRED,
        subscription=None,
        reasons=(f"no subscription in force on {day.isoformat()}: treated as expired",),
    )


def subscription_history(account: Account) -> list[Subscription]:
    """Every recorded subscription row, oldest first."""
    return list(Subscription.objects.filter(account=account).order_by("id"))


def points_of_contact(account: Account) -> list[Contact]:
    return list(
        Contact.objects.filter(account=account, is_point_of_contact=True, is_active=True).order_by(
            "name", "email"
        )
    )


def account_owners(account: Account) -> list[Contact]:
    return list(
        Contact.objects.filter(account=account, is_account_owner=True, is_active=True).order_by(
            "name", "email"
        )
    )


# --- who speaks for an account (issue 7: accounts.contacts writes, these read) -------------


@dataclass(frozen=True)
class PointOfContactCap:
    """The policy's cap on an account's points of contact, and the plan it comes from."""

    plan_id: str
    plan_name: str
    limit: int | None  # None: no cap


def point_of_contact_cap(account: Account, *, at: datetime) -> PointOfContactCap:
    """The cap of the plan whose terms apply to the account at `at`.

    That is the subscribed plan, or the plan named by the status's `terms_of` (a trial is
    served on Support Standard's terms, so Standard's cap applies). No plan, or a plan the
    policy no longer has: no cap.
    """
    from supportdesk.core.policy_source import active_policy

    policy = active_policy()
    effective = effective_subscription(account, at=at)
    rule = policy.statuses.get(effective.status)  # type: ignore[call-overload]
    plan_id = (rule.terms_of if rule is not None and rule.terms_of else None) or effective.plan or ""
    plan = policy.plans.get(plan_id)
    if plan is None:
        return PointOfContactCap(plan_id=plan_id, plan_name=plan_id, limit=None)
    return PointOfContactCap(plan_id=plan.id, plan_name=plan.name, limit=plan.max_points_of_contact)


def count_points_of_contact(account: Account) -> int:
    return Contact.objects.filter(account=account, is_point_of_contact=True, is_active=True).count()


TEAM_EVENTS_SHOWN = 100


@dataclass(frozen=True)
class Team:
    """Everything the owners' and supervisors' team pages show, in a fixed number of queries."""

    account: Account
    contacts: list[Contact]  # active ones, points of contact and owners first
    removed: list[Contact]
    points_of_contact: int
    cap: PointOfContactCap
    domains: list[str]
    exceptions: list[InvitationException]
    events: list[AccountEvent]  # newest first, at most TEAM_EVENTS_SHOWN
    more_events: bool


def team(account: Account, *, at: datetime) -> Team:
    everyone = list(
        Contact.objects.filter(account=account)
        .select_related("user")
        .order_by("-is_account_owner", "-is_point_of_contact", "name", "email")
    )
    active = [c for c in everyone if c.is_active]
    events = list(AccountEvent.objects.filter(account=account)[: TEAM_EVENTS_SHOWN + 1])
    return Team(
        account=account,
        contacts=active,
        removed=[c for c in everyone if not c.is_active],
        points_of_contact=sum(1 for c in active if c.is_point_of_contact),
        cap=point_of_contact_cap(account, at=at),
        domains=list(account.domains.order_by("domain").values_list("domain", flat=True)),
        exceptions=list(InvitationException.objects.filter(account=account).order_by("value")),
        events=events[:TEAM_EVENTS_SHOWN],
        more_events=len(events) > TEAM_EVENTS_SHOWN,
    )
