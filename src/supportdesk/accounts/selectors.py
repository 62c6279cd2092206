"""Reads about accounts that the rest of the product relies on.

No permission checks here: these answer questions for the product itself (the intake
service, the SLA). What a user may see is decided in `accounts.access`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db import connection

from supportdesk.accounts.models import Account, Contact, Subscription
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
