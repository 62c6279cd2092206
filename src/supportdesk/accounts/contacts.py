"""Who speaks for a customer account: owners, points of contact, invitations, removals.

The published policy lets only **customer-assigned** points of contact open tickets in
the portal. An account's owners (a role supervisors give, e.g. when the subscription is
sold) invite the account's contacts, designate and revoke its points of contact and
remove contacts; supervisors can do all of that for any account, and also set owners and
allow invitations outside the registered domains.

Every function here is an action in the `accounts.actions` sense: it checks who is
acting (`team_role`, read fresh from the database: a role taken away a moment ago no
longer counts), locks the account row (so two owners designating at once cannot both
pass the cap), writes, records an append-only `AccountEvent` on the account, and queues
mail in the same transaction (sent after the commit): the invitation to an invited
person and, for changes to points of contact, a note to the account manager.

Refusals: `PermissionDenied` when the actor may not act on this account at all (views
never get that far for outsiders: their getters answer 404 first), `ValidationError`
with a message for the person acting (the cap, the domain rule, an owner removing an
owner).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supportdesk import clock
from supportdesk.accounts import actions
from supportdesk.accounts.access import SUPERVISOR, team_role
from supportdesk.accounts.models import (
    Account,
    AccountEvent,
    Contact,
    InvitationException,
    User,
)
from supportdesk.accounts.selectors import (
    count_points_of_contact,
    point_of_contact_cap,
    points_of_contact,
)
from supportdesk.accounts.validation import (
    check_email,
    domain_and_parents,
    is_free_mail,
    is_public_suffix,
    normalise_domain,
)

# How an invitation's address was allowed (stored in the event's `after`).
BY_DOMAIN = "registered_domain"
BY_EXCEPTION = "exception"
BY_SUPERVISOR = "supervisor_override"


# --- acting --------------------------------------------------------------------------


def _require(actor: Any, account: Account, *, supervisors_only: bool = False) -> str:
    role = team_role(actor, account)
    if role is None or (supervisors_only and role != SUPERVISOR):
        raise PermissionDenied(
            "only supervisors may do this"
            if supervisors_only
            else "only the account's owners and supervisors may change its contacts"
        )
    return role


def _lock(account_id: int) -> Account:
    return Account.objects.select_for_update(of=("self",)).select_related("account_manager").get(pk=account_id)


def _fresh(contact: Contact, account: Account) -> Contact:
    fresh = Contact.objects.select_for_update(of=("self",)).select_related("user").get(pk=contact.pk)
    if fresh.account_id != account.pk:  # a stale object moved between accounts
        raise PermissionDenied("the contact is not the account's")
    fresh.account = account
    return fresh


def _state(contact: Contact) -> dict[str, Any]:
    return {
        "active": contact.is_active,
        "point_of_contact": contact.is_point_of_contact,
        "owner": contact.is_account_owner,
    }


def _record(
    *,
    account: Account,
    kind: str,
    actor: User | None,
    role: str,
    now: datetime,
    contact: Contact | None = None,
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_name: str = "",
) -> AccountEvent:
    return AccountEvent.objects.create(
        account=account,
        at=now,
        kind=kind,
        actor=actor,
        actor_name=(actor_name or str(actor))[:300],
        actor_role=role,
        contact=contact,
        subject=subject or str(contact),
        before=before or {},
        after=after or {},
    )


# --- points of contact ----------------------------------------------------------------------


def check_point_of_contact_cap(account: Account, *, now: datetime) -> None:
    """Refuse one more point of contact when the plan's cap is reached (the account is locked)."""
    cap = point_of_contact_cap(account, at=now)
    if cap.limit is None:
        return
    if count_points_of_contact(account) >= cap.limit:
        raise ValidationError(
            {
                "is_point_of_contact": _(
                    "%(plan)s allows at most %(cap)d points of contact, and %(account)s has "
                    "%(cap)d already: revoke one first."
                )
                % {"plan": cap.plan_name, "cap": cap.limit, "account": account.name}
            }
        )


def _designate(
    *, actor: User, role: str, account: Account, contact: Contact, now: datetime
) -> Contact:
    if not contact.is_active:
        raise ValidationError(
            {"contact": _("%(who)s was removed: invite them again first.") % {"who": contact.email}}
        )
    if contact.is_point_of_contact:
        return contact
    check_point_of_contact_cap(account, now=now)
    return _set_point_of_contact(
        actor=actor, role=role, account=account, contact=contact, designated=True, now=now
    )


def _set_point_of_contact(
    *, actor: User, role: str, account: Account, contact: Contact, designated: bool, now: datetime
) -> Contact:
    """Write the role change, record it on the account and tell the account manager."""
    before = _state(contact)
    contact.is_point_of_contact = designated
    contact.save(update_fields=["is_point_of_contact"])
    kind = (
        AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED
        if designated
        else AccountEvent.Kind.POINT_OF_CONTACT_REVOKED
    )
    event = _record(
        account=account,
        kind=kind,
        actor=actor,
        role=role,
        now=now,
        contact=contact,
        before=before,
        after=_state(contact),
    )
    _notify_account_manager(account, event, now=now)
    return contact


@transaction.atomic
def designate_point_of_contact(
    *, actor: User, contact: Contact, now: datetime | None = None
) -> Contact:
    """Let `contact` open tickets in the portal, within the plan's cap."""
    now = now or clock.now()
    account = _lock(contact.account_id)
    role = _require(actor, account)
    return _designate(actor=actor, role=role, account=account, contact=_fresh(contact, account), now=now)


@transaction.atomic
def revoke_point_of_contact(*, actor: User, contact: Contact, now: datetime | None = None) -> Contact:
    """`contact` may still read and reply to the account's tickets, but not open new ones
    (checked on each request, so from their next click)."""
    now = now or clock.now()
    account = _lock(contact.account_id)
    role = _require(actor, account)
    contact = _fresh(contact, account)
    if not contact.is_point_of_contact:
        return contact
    return _set_point_of_contact(
        actor=actor, role=role, account=account, contact=contact, designated=False, now=now
    )


# --- owners (supervisors only) ---------------------------------------------------------------


@transaction.atomic
def set_account_owner(
    *, actor: User, contact: Contact, owner: bool, now: datetime | None = None
) -> Contact:
    """Give or take the account owner role (supervisors only)."""
    now = now or clock.now()
    account = _lock(contact.account_id)
    role = _require(actor, account, supervisors_only=True)
    contact = _fresh(contact, account)
    if contact.is_account_owner == owner:
        return contact
    if owner and not contact.is_active:
        raise ValidationError(
            {"contact": _("%(who)s was removed: invite them again first.") % {"who": contact.email}}
        )
    before = _state(contact)
    contact.is_account_owner = owner
    contact.save(update_fields=["is_account_owner"])
    _record(
        account=account,
        kind=AccountEvent.Kind.OWNER_SET if owner else AccountEvent.Kind.OWNER_UNSET,
        actor=actor,
        role=role,
        now=now,
        contact=contact,
        before=before,
        after=_state(contact),
    )
    return contact


# --- removing --------------------------------------------------------------------------------


@transaction.atomic
def remove_contact(*, actor: User, contact: Contact, now: datetime | None = None) -> Contact:
    """Take `contact` off the account: no sign-in any more (an open session ends at its next
    request), no roles. The row stays, so the tickets they wrote keep their author; inviting
    the address again brings them back without roles."""
    now = now or clock.now()
    account = _lock(contact.account_id)
    role = _require(actor, account)
    contact = _fresh(contact, account)
    if not contact.is_active:
        return contact
    if contact.is_account_owner and role != SUPERVISOR:
        raise ValidationError(
            {"contact": _("Only a supervisor can remove an account owner; ask the support team.")}
        )
    before = _state(contact)
    contact = actions.update_contact(
        contact=contact, is_active=False, is_point_of_contact=False, is_account_owner=False
    )
    event = _record(
        account=account,
        kind=AccountEvent.Kind.CONTACT_REMOVED,
        actor=actor,
        role=role,
        now=now,
        contact=contact,
        before=before,
        after=_state(contact),
    )
    if before["point_of_contact"]:
        _notify_account_manager(account, event, now=now)
    return contact


# --- inviting --------------------------------------------------------------------------------


def invitation_allowance(account: Account, address: str) -> tuple[str, str] | None:
    """How `address` may be invited to `account` without a supervisor's override:
    (BY_DOMAIN, domain) at a registered domain (or a subdomain, when the account allows
    subdomains), (BY_EXCEPTION, value) under an invitation exception; else None."""
    domain = address.rpartition("@")[2]
    registered = set(account.domains.values_list("domain", flat=True))
    if domain in registered:
        return BY_DOMAIN, domain
    if account.allow_subdomains:
        for parent in domain_and_parents(domain)[1:-1]:
            if parent in registered:
                return BY_DOMAIN, parent
    exceptions = set(
        InvitationException.objects.filter(account=account, value__in=[address, domain]).values_list(
            "value", flat=True
        )
    )
    for value in (address, domain):
        if value in exceptions:
            return BY_EXCEPTION, value
    return None


def _in_use_elsewhere(address: str, existing: Contact, role: str) -> ValidationError:
    if role == SUPERVISOR:
        message = _("%(address)s is already a contact of account %(other)s (%(slug)s).") % {
            "address": address, "other": existing.account.name, "slug": existing.account.slug,
        }
    else:  # an owner learns nothing about other customers
        message = _(
            "%(address)s cannot be invited here: the address is in use. Ask the support team."
        ) % {"address": address}
    return ValidationError({"email": message})


def _domain_refusal(account: Account, address: str, role: str) -> ValidationError:
    domains = ", ".join(account.domains.order_by("domain").values_list("domain", flat=True))
    message = _(
        "%(address)s is not at a registered domain of %(account)s (%(domains)s). Ask the "
        "support team to allow an exception for it."
    ) % {"address": address, "account": account.name, "domains": domains or _("none")}
    if role == SUPERVISOR:
        message = _(
            "%(address)s is not at a registered domain of %(account)s (%(domains)s): tick "
            "“outside the registered domains” to invite it anyway, or allow an exception."
        ) % {"address": address, "account": account.name, "domains": domains or _("none")}
    return ValidationError({"email": message})


@transaction.atomic
def invite_contact(
    *,
    actor: User,
    account: Account,
    email: str,
    name: str = "",
    point_of_contact: bool = False,
    outside_registered_domains: bool = False,
    now: datetime | None = None,
) -> Contact:
    """Add a contact to `account` and mail them a one-use link to choose a password.

    The address must be at one of the account's registered domains or under an
    invitation exception; a supervisor may invite any address with
    `outside_registered_domains` (recorded on the event). Inviting a removed contact of
    the account brings them back (without roles, with a new password to choose); inviting
    a contact who never chose a password sends the invitation again.
    `point_of_contact` designates them too (within the cap, as its own event).
    """
    now = now or clock.now()
    account = _lock(account.pk)
    role = _require(actor, account)
    if outside_registered_domains and role != SUPERVISOR:
        raise PermissionDenied("only supervisors may invite outside the registered domains")
    address = check_email(email)
    existing = (
        Contact.objects.select_for_update(of=("self",)).select_related("user", "account").filter(email=address).first()
    )
    if existing is not None and existing.account_id != account.pk:
        raise _in_use_elsewhere(address, existing, role)

    if existing is not None and existing.is_active:
        existing.account = account
        user = existing.user
        if user is not None and user.has_usable_password():
            raise ValidationError(
                {"email": _("%(address)s is already a contact of %(account)s and has signed in.")
                 % {"address": address, "account": account.name}}
            )
        contact = existing
        user = actions.give_contact_login(contact=contact, password=None)
        _record(
            account=account, kind=AccountEvent.Kind.INVITATION_RESENT, actor=actor, role=role,
            now=now, contact=contact, before=_state(contact), after=_state(contact),
        )
    else:
        allowance = invitation_allowance(account, address)
        if allowance is None:
            if not outside_registered_domains:
                raise _domain_refusal(account, address, role)
            allowance = (BY_SUPERVISOR, str(actor))
        if existing is None:
            before: dict[str, Any] = {}
            try:
                with transaction.atomic():
                    contact = actions.add_contact(account=account, email=address, name=name.strip(), now=now)
            except IntegrityError:
                # Invited to another account at the same moment (PostgreSQL: the other
                # transaction committed the address after our look above).
                taken = Contact.objects.select_related("account").filter(email=address).first()
                if taken is None:
                    raise
                raise _in_use_elsewhere(address, taken, role) from None
        else:  # a removed contact of this account comes back
            before = _state(existing)
            contact = actions.update_contact(
                contact=existing, is_active=True, name=name.strip() or None
            )
        user = actions.give_contact_login(contact=contact, password=None)
        if user.has_usable_password():  # an old password must not work again: choose anew
            user.set_unusable_password()
            user.save(update_fields=["password"])
        _record(
            account=account, kind=AccountEvent.Kind.CONTACT_INVITED, actor=actor, role=role,
            now=now, contact=contact, before=before,
            after={**_state(contact), "allowed_by": allowance[0], "via": allowance[1]},
        )
    if point_of_contact:
        contact = _designate(actor=actor, role=role, account=account, contact=contact, now=now)

    # Imported here: the mail helpers live in the web layer, which itself imports accounts.
    from supportdesk.web.invitations import send_invitation

    send_invitation(user, invited_by=actor, account_name=account.name)
    return contact


@transaction.atomic
def add_contact(
    *,
    actor: User,
    account: Account,
    email: str,
    name: str = "",
    phone: str = "",
    point_of_contact: bool = False,
    invite: bool = False,
    now: datetime | None = None,
) -> Contact:
    """A supervisor records a contact (any address, e.g. someone who called the hotline),
    optionally invites them and designates them (within the cap)."""
    now = now or clock.now()
    account = _lock(account.pk)
    role = _require(actor, account, supervisors_only=True)
    contact = actions.add_contact(account=account, email=email, name=name, phone=phone, now=now)
    user = actions.give_contact_login(contact=contact, password=None) if invite else None
    _record(
        account=account, kind=AccountEvent.Kind.CONTACT_ADDED, actor=actor, role=role, now=now,
        contact=contact, after={**_state(contact), "invited": invite},
    )
    if point_of_contact:
        contact = _designate(actor=actor, role=role, account=account, contact=contact, now=now)
    if user is not None:
        from supportdesk.web.invitations import send_invitation

        send_invitation(user, invited_by=actor, account_name=account.name)
    return contact


# --- invitation exceptions (supervisors only) ------------------------------------------------


def _check_exception_value(account: Account, raw: str) -> str:
    text = raw.strip().lower()
    if "@" in text:
        return check_email(text, field="value")
    try:
        domain = normalise_domain(text)
    except ValueError:
        raise ValidationError(
            {"value": _("%(value)s is neither an email address nor a domain.") % {"value": raw}}
        ) from None
    if is_free_mail(domain) or is_public_suffix(domain):
        raise ValidationError(
            {
                "value": _(
                    "%(domain)s is shared by many people: allow single addresses there instead "
                    "(e.g. name@%(domain)s)."
                )
                % {"domain": domain}
            }
        )
    if account.domains.filter(domain=domain).exists():
        raise ValidationError(
            {"value": _("%(domain)s is a registered domain of the account already.") % {"domain": domain}}
        )
    holder = Account.objects.filter(domains__domain=domain).first()
    if holder is not None:
        raise ValidationError(
            {
                "value": _("%(domain)s is registered on account %(other)s: its people are that "
                           "customer's contacts.")
                % {"domain": domain, "other": holder.name}
            }
        )
    return domain


@transaction.atomic
def allow_invitation_exception(
    *, actor: User, account: Account, value: str, now: datetime | None = None
) -> InvitationException:
    """Let the account's owners invite at an address or domain outside its registered
    domains (supervisors only). It does not make mail from there the account's."""
    now = now or clock.now()
    account = _lock(account.pk)
    role = _require(actor, account, supervisors_only=True)
    value = _check_exception_value(account, value)
    exception, created = InvitationException.objects.get_or_create(
        account=account, value=value, defaults={"allowed_by": actor, "allowed_at": now}
    )
    if created:
        _record(
            account=account, kind=AccountEvent.Kind.EXCEPTION_ALLOWED, actor=actor, role=role,
            now=now, subject=value, after={"exception": value},
        )
    return exception


@transaction.atomic
def withdraw_invitation_exception(
    *, actor: User, account: Account, value: str, now: datetime | None = None
) -> None:
    """No more invitations there; contacts already invited under it stay."""
    now = now or clock.now()
    account = _lock(account.pk)
    role = _require(actor, account, supervisors_only=True)
    value = value.strip().lower()
    deleted, _rows = InvitationException.objects.filter(account=account, value=value).delete()
    if deleted:
        _record(
            account=account, kind=AccountEvent.Kind.EXCEPTION_WITHDRAWN, actor=actor, role=role,
            now=now, subject=value, before={"exception": value},
        )


# --- changes made by `supportdesk import accounts` --------------------------------------------

# The `actor_role` of events recorded by an import (no user acts: `actor` is None and
# `actor_name` says which file, e.g. "import accounts accounts.json").
IMPORT = "import"

# Changes to points of contact: the kinds the account manager is told about.
POINT_OF_CONTACT_KINDS = (
    AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED,
    AccountEvent.Kind.POINT_OF_CONTACT_REVOKED,
)


def contact_state(contact: Contact) -> dict[str, Any]:
    """What an event's `before` and `after` hold: active, point_of_contact, owner."""
    return _state(contact)


def record_imported_change(
    *,
    account: Account,
    kind: str,
    by: str,
    contact: Contact,
    before: dict[str, Any],
    now: datetime,
    notify: bool,
) -> AccountEvent:
    """Record a change an import made to `contact` (already saved) as an account event, and
    with `notify` queue the account manager's note as the actions do for changes to points
    of contact (designated, revoked, a point of contact removed). The caller holds the
    account's lock (`lock_account`) inside its transaction."""
    event = _record(
        account=account, kind=kind, actor=None, actor_name=by, role=IMPORT, now=now,
        contact=contact, before=before, after=_state(contact),
    )
    if notify:
        _notify_account_manager(account, event, now=now)
    return event


def lock_account(account_id: int) -> Account:
    """The account row, locked until the end of the transaction (as every action does)."""
    return _lock(account_id)


# --- telling the account manager -------------------------------------------------------------

SUBJECT = gettext_lazy("{account}: points of contact changed")


def _notify_account_manager(account: Account, event: AccountEvent, *, now: datetime) -> None:
    """Queue a note to the account manager (sent after the commit); nobody to tell: nothing."""
    manager = account.account_manager
    if manager is None or not manager.is_active:
        return
    from supportdesk.outbound.services import send_notification

    cap = point_of_contact_cap(account, at=now)
    send_notification(
        manager.email,
        format_lazy(SUBJECT, account=account.name),
        "accounts/mail/points_of_contact_changed",
        {
            "account": account.name,
            "event": event,
            "points": [str(c) for c in points_of_contact(account)],
            "cap": cap,
            "link": settings.SITE_URL + reverse("console:team", kwargs={"slug": account.slug}),
        },
        now=now,
    )
