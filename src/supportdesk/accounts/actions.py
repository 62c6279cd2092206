"""The one write path for accounts, contacts, subscriptions and staff users.

Each action validates with the `check_…` functions of `accounts.validation` (which raise
`ValidationError` naming the field) and writes in one transaction. The admin and the
importer go through these too.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from supportdesk import clock
from supportdesk.accounts.models import Account, AccountDomain, Contact, Subscription, User
from supportdesk.accounts.validation import (
    check_contact_email,
    check_domain,
    check_email,
    check_phone,
    check_plan,
    check_plan_can_be_sold,
)


def _check_staff(user: User | None, *, field: str) -> None:
    if user is not None and not user.is_agent:
        raise ValidationError({field: f"{user.email} is not a specialist or supervisor"})


# --- staff and logins ----------------------------------------------------------------


def create_user(
    *, email: str, name: str, role: str, password: str | None = None, is_active: bool = True
) -> User:
    """A specialist, supervisor or (via `give_contact_login`) a contact login."""
    address = check_email(email)
    if role not in User.Role.values:
        raise ValidationError({"role": f"{role!r} is not a role ({', '.join(User.Role.values)})"})
    if User.objects.filter(email=address).exists():
        raise ValidationError({"email": f"a user with {address} already exists"})
    return User.objects.create_user(
        address, password, name=name, role=role, is_active=is_active
    )


def ensure_staff_user(*, email: str, name: str, role: str, password: str | None = None) -> tuple[User, bool]:
    """The user with this email, created with this role if missing; True when created."""
    existing = User.objects.filter(email=check_email(email)).first()
    if existing is not None:
        return existing, False
    return create_user(email=email, name=name, role=role, password=password), True


@transaction.atomic
def give_contact_login(*, contact: Contact, password: str | None) -> User:
    """Let a contact sign in to the portal (their contact email is the login)."""
    if contact.user_id is not None:
        user = contact.user
        assert user is not None
        if password is not None:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user
    if User.objects.filter(email=contact.email).exists():
        raise ValidationError({"email": f"a user with {contact.email} already exists"})
    user = User.objects.create_user(
        contact.email, password, name=contact.name, role=User.Role.CONTACT
    )
    contact.user = user
    contact.save(update_fields=["user"])
    return user


# --- accounts and domains --------------------------------------------------------------


@transaction.atomic
def create_account(
    *,
    slug: str,
    name: str,
    domains: list[str] | tuple[str, ...] = (),
    account_manager: User | None = None,
    technical_account_manager: User | None = None,
    allow_subdomains: bool = False,
    now: datetime | None = None,
) -> Account:
    if not slug or not name:
        raise ValidationError({"slug" if not slug else "name": "is required"})
    if Account.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"an account with slug {slug!r} already exists"})
    _check_staff(account_manager, field="account_manager")
    _check_staff(technical_account_manager, field="technical_account_manager")
    account = Account(
        slug=slug,
        name=name,
        account_manager=account_manager,
        technical_account_manager=technical_account_manager,
        allow_subdomains=allow_subdomains,
        created_at=now or clock.now(),
    )
    account.full_clean()
    account.save()
    for domain in domains:
        add_domain(account=account, domain=domain)
    return account


@transaction.atomic
def update_account(
    *,
    account: Account,
    name: str | None = None,
    account_manager: User | None = None,
    technical_account_manager: User | None = None,
    allow_subdomains: bool | None = None,
    clear_managers: bool = False,
) -> Account:
    """Change an account's details; managers are only cleared with `clear_managers`."""
    if name is not None:
        account.name = name
    if account_manager is not None or clear_managers:
        _check_staff(account_manager, field="account_manager")
        account.account_manager = account_manager
    if technical_account_manager is not None or clear_managers:
        _check_staff(technical_account_manager, field="technical_account_manager")
        account.technical_account_manager = technical_account_manager
    if allow_subdomains is not None:
        account.allow_subdomains = allow_subdomains
    account.full_clean()
    account.save()
    return account


def add_domain(*, account: Account, domain: str) -> AccountDomain:
    """Register a domain on the account (no-op if it is already there)."""
    normalised = check_domain(domain, account=account)
    registered, _ = AccountDomain.objects.get_or_create(
        domain=normalised, defaults={"account": account}
    )
    return registered


def remove_domain(*, account: Account, domain: str) -> None:
    AccountDomain.objects.filter(account=account, domain=domain.strip().lower()).delete()


# --- contacts --------------------------------------------------------------------------


@transaction.atomic
def add_contact(
    *,
    account: Account,
    email: str,
    name: str = "",
    phone: str = "",
    is_point_of_contact: bool = False,
    is_account_owner: bool = False,
    now: datetime | None = None,
) -> Contact:
    contact = Contact(
        account=account,
        email=check_contact_email(email),
        name=name,
        phone=check_phone(phone),
        is_point_of_contact=is_point_of_contact,
        is_account_owner=is_account_owner,
        created_at=now or clock.now(),
    )
    contact.save()
    return contact


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    email: str | None = None,
    name: str | None = None,
    phone: str | None = None,
    is_point_of_contact: bool | None = None,
    is_account_owner: bool | None = None,
    is_active: bool | None = None,
) -> Contact:
    """Change the given fields of a contact; a deactivated contact loses its login."""
    if email is not None:
        contact.email = check_contact_email(email, contact=contact)
        if contact.user is not None and contact.user.email != contact.email:
            if User.objects.filter(email=contact.email).exclude(pk=contact.user.pk).exists():
                raise ValidationError({"email": f"a user with {contact.email} already exists"})
            contact.user.email = contact.email
            contact.user.save(update_fields=["email"])
    if name is not None:
        contact.name = name
    if phone is not None:
        contact.phone = check_phone(phone)
    if is_point_of_contact is not None:
        contact.is_point_of_contact = is_point_of_contact
    if is_account_owner is not None:
        contact.is_account_owner = is_account_owner
    if is_active is not None:
        contact.is_active = is_active
        if contact.user is not None and contact.user.is_active != is_active:
            contact.user.is_active = is_active
            contact.user.save(update_fields=["is_active"])
    contact.save()
    return contact


# --- subscriptions ---------------------------------------------------------------------


@transaction.atomic
def record_subscription(
    *,
    account: Account,
    plan: str,
    status: str,
    starts: date,
    ends: date | None = None,
    actor: User | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Subscription:
    """Record a subscription period (new, renewal, status change or correction).

    Earlier rows are kept; for any day the latest recorded row covering it wins.
    A new subscription to a legacy plan dated on or after its last sale date is refused;
    renewing a plan the account already had is allowed.
    """
    if status not in Subscription.Status.values:
        raise ValidationError(
            {"status": f"{status!r} is not a status ({', '.join(Subscription.Status.values)})"}
        )
    check_plan(plan)
    if ends is not None and ends <= starts:
        raise ValidationError({"ends": f"ends {ends.isoformat()} is not after starts {starts.isoformat()}"})
    # Lock the account so two concurrent "first" subscriptions cannot both pass as renewals.
    Account.objects.select_for_update().filter(pk=account.pk).first()
    check_plan_can_be_sold(account=account, plan_id=plan, starts=starts)
    return Subscription.objects.create(
        account=account,
        plan=plan,
        status=status,
        starts=starts,
        ends=ends,
        recorded_by=actor,
        note=note,
        recorded_at=now or clock.now(),
    )
