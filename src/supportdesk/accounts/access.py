"""Permission-checked getters for accounts and contacts.

Views obtain accounts only through these. Specialists and supervisors see every
account; a customer contact sees only their own; anyone else sees nothing. A refusal
is indistinguishable from a missing object (Http404), so outsiders learn nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from supportdesk.accounts.models import Account, Contact, User


def contact_of(user: User | AnonymousUser) -> Contact | None:
    """The active contact behind a customer login, or None."""
    if not user.is_authenticated or not user.is_active or user.role != User.Role.CONTACT:
        return None
    contact = getattr(user, "contact", None)
    if contact is None or not contact.is_active:
        return None
    return contact


def accounts_visible_to(user: User | AnonymousUser) -> QuerySet[Account]:
    if user.is_authenticated and user.is_active and user.is_agent:
        return Account.objects.all()
    contact = contact_of(user)
    if contact is None:
        return Account.objects.none()
    return Account.objects.filter(pk=contact.account_id)


def get_account_for_user(user: User | AnonymousUser, *, slug: str) -> Account:
    try:
        return accounts_visible_to(user).get(slug=slug)
    except Account.DoesNotExist:
        raise Http404("no such account") from None


def contacts_visible_to(user: User | AnonymousUser) -> QuerySet[Contact]:
    return Contact.objects.filter(account__in=accounts_visible_to(user))


def get_contact_for_user(user: User | AnonymousUser, *, contact_id: int) -> Contact:
    try:
        return contacts_visible_to(user).select_related("account").get(pk=contact_id)
    except Contact.DoesNotExist:
        raise Http404("no such contact") from None


def get_account_for_supervisor(user: User | AnonymousUser, *, slug: str) -> Account:
    """For managing an account (contacts, plans): supervisors only."""
    if not (user.is_authenticated and user.is_active and user.is_supervisor):
        raise Http404("no such account")
    return get_account_for_user(user, slug=slug)


# --- managing who speaks for an account (owners and supervisors; see accounts.contacts) ----

SUPERVISOR = "supervisor"
OWNER = "owner"


def team_role(user: User | AnonymousUser, account: Account) -> str | None:
    """"supervisor" or "owner" when `user` may manage `account`'s contacts, else None.

    Read from the database on every call (not from a cached `user.contact`), so an owner
    whose role was taken away, or who was removed, cannot act a moment later.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_supervisor:
        return SUPERVISOR
    if user.is_customer and Contact.objects.filter(
        user=user, account=account, is_active=True, is_account_owner=True
    ).exists():
        return OWNER
    return None


def owned_account(user: User | AnonymousUser) -> Account:
    """The account a customer contact owns (the portal's team page); 404 for anyone else."""
    contact = (
        Contact.objects.select_related("account", "account__account_manager")
        .filter(user_id=user.pk, is_active=True, is_account_owner=True)
        .first()
        if user.is_authenticated and user.is_active and user.is_customer
        else None
    )
    if contact is None:
        raise Http404("no such account")
    return contact.account


def get_team_contact(user: User | AnonymousUser, *, account: Account, contact_id: int | str) -> Contact:
    """A contact of `account`, for someone who may manage its team; 404 otherwise (so a
    contact of another account looks missing to an outsider)."""
    if team_role(user, account) is None:
        raise Http404("no such contact")
    try:
        return Contact.objects.select_related("account", "user").get(
            pk=int(contact_id), account=account
        )
    except (Contact.DoesNotExist, ValueError, TypeError):
        raise Http404("no such contact") from None
