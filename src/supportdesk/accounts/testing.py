"""Builders for tests (ours and other packages'): real objects made through the actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from supportdesk.accounts import actions
from supportdesk.accounts.models import Account, Contact, User

PASSWORD = "correct-horse-battery"


def make_customer(
    *,
    slug: str = "acme",
    name: str = "Acme",
    domains: Sequence[str] = ("acme.example",),
    plan: str | None = "gold",
    status: str = "active",
    starts: date = date(2021, 3, 1),
    ends: date | None = date(2027, 3, 1),
    contacts: Sequence[tuple[str, str, bool]] = (("ana@acme.example", "Ana", True),),
    phones: dict[str, str] | None = None,
    allow_subdomains: bool = False,
) -> Account:
    """An account with domains, one subscription and contacts (email, name, point of contact)."""
    account = actions.create_account(
        slug=slug, name=name, domains=list(domains), allow_subdomains=allow_subdomains
    )
    if plan is not None:
        actions.record_subscription(account=account, plan=plan, status=status, starts=starts, ends=ends)
    for email, contact_name, is_poc in contacts:
        actions.add_contact(
            account=account,
            email=email,
            name=contact_name,
            is_point_of_contact=is_poc,
            phone=(phones or {}).get(email, ""),
        )
    return account


def make_agent(
    email: str = "sam@desk.example", *, role: str = User.Role.SPECIALIST, name: str = "Sam"
) -> User:
    return actions.create_user(email=email, name=name, role=role, password=PASSWORD)


def contact(email: str) -> Contact:
    return Contact.objects.select_related("account").get(email=email)


def login_for(email: str) -> User:
    """A portal login for the contact with this email."""
    return actions.give_contact_login(contact=contact(email), password=PASSWORD)
