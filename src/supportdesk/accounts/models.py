"""Who the customers are and what they bought, and who works the desk.

Models hold data only. Every rule (domain checks, the legacy-plan rule, roles) lives in
`accounts.actions`, which is the one write path; reads go through `accounts.selectors`
and, for anything a user asks to see, `accounts.access`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models

from supportdesk import clock


def normalise_email(address: str) -> str:
    """Addresses are compared case-insensitively everywhere, so they are stored lower-cased."""
    return address.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalise_email(username or ""))

    def create_user(
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        if not email:
            raise ValueError("a user needs an email address")
        user = self.model(email=normalise_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        # Django's `createsuperuser` passes is_staff; our staff flag follows the role.
        extra.pop("is_staff", None)
        extra.setdefault("role", User.Role.SUPERVISOR)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in: a customer contact, a specialist or a supervisor.

    The email address is the login. Supervisors use the Django admin (so `is_staff`
    follows the role rather than being a separate switch that could disagree with it)
    and hold every permission there.
    """

    class Role(models.TextChoices):
        CONTACT = "contact", "customer contact"
        SPECIALIST = "specialist", "specialist"
        SUPERVISOR = "supervisor", "supervisor"

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.SPECIALIST)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=clock.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["email"]
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email

    @property
    def is_staff(self) -> bool:  # Django admin's gate
        return self.is_active and self.role == self.Role.SUPERVISOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR

    @property
    def is_agent(self) -> bool:
        """A member of the support team (specialist or supervisor): sees every ticket."""
        return self.role in (self.Role.SPECIALIST, self.Role.SUPERVISOR)

    @property
    def is_customer(self) -> bool:
        return self.role == self.Role.CONTACT

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if self.is_active and self.role == self.Role.SUPERVISOR:
            return True
        return super().has_perm(perm, obj)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.role == self.Role.SUPERVISOR:
            return True
        return super().has_module_perms(app_label)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class Account(models.Model):
    """A customer company."""

    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    account_manager = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_accounts"
    )
    # Mission Critical includes a named technical account manager.
    technical_account_manager = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="technical_accounts",
    )
    # Off by default: "mail.acme.io" identifies Acme only when Acme asked for it.
    allow_subdomains = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccountDomain(models.Model):
    """A registered email domain: mail from it is identified as this account's."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="domains")
    # Lower-cased IDNA (punycode) form; one account per domain.
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class Contact(models.Model):
    """A person at a customer account. Points of contact may open tickets in the portal."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200, blank=True)
    # Lower-cased; one contact per address, so an address names one person at one account.
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=20, blank=True, default="")  # E.164 or empty
    is_point_of_contact = models.BooleanField(default=False)
    is_account_owner = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="contact"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "email"]
        indexes = [models.Index(fields=["phone"])]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


class Subscription(models.Model):
    """One recorded period of an account's plan and status.

    Rows are never changed: a renewal, suspension or correction records a new row, and
    for any instant the latest recorded row covering it wins. So the history is kept and
    the effective plan at any past instant can still be asked for.
    `starts` is inclusive and `ends` exclusive, both as calendar dates in the contract
    time zone (`accounts.selectors.CONTRACT_TIME_ZONE`); no `ends` means open-ended.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        TRIAL = "trial", "trial"
        EXPIRED = "expired", "expired"
        SUSPENDED = "suspended", "suspended"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="subscriptions")
    plan = models.CharField(max_length=64)  # a plan id of the policy
    status = models.CharField(max_length=16, choices=Status.choices)
    starts = models.DateField()
    ends = models.DateField(null=True, blank=True)
    recorded_at = models.DateTimeField(default=clock.now)
    recorded_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["account", "id"]
        indexes = [models.Index(fields=["account", "starts"])]

    def __str__(self) -> str:
        ends = self.ends.isoformat() if self.ends else "open-ended"
        return f"{self.plan} {self.status} {self.starts.isoformat()}..{ends}"


class InvitationException(models.Model):
    """An address or a domain outside the account's registered domains at which its
    owners may still invite contacts, allowed by a supervisor (a contractor's domain, one
    person's free-mail address). It does not identify mail as the account's: only
    registered domains do that."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="invitation_exceptions"
    )
    # Lower-cased: a whole address ("lia@gmail.com") or a domain in IDNA form ("partner.example").
    value = models.CharField(max_length=254)
    allowed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    allowed_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(fields=["account", "value"], name="one_exception_per_value")
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def is_address(self) -> bool:
        return "@" in self.value


class AccountEvent(models.Model):
    """One change to who speaks for an account (owners, points of contact, invitations,
    removals, invitation exceptions): who did it, when, and the state before and after.

    Append-only: written by `accounts.contacts` (and by `accounts.transfer` for imports,
    with no actor) and never changed or deleted (the guard below refuses it), so the
    account's history can be shown to its owners as it was.
    Names are copied into the row so the history reads the same after a login is gone.
    """

    class Kind(models.TextChoices):
        CONTACT_ADDED = "contact_added", "contact added"
        CONTACT_INVITED = "contact_invited", "contact invited"
        INVITATION_RESENT = "invitation_resent", "invitation sent again"
        CONTACT_REMOVED = "contact_removed", "contact removed"
        POINT_OF_CONTACT_DESIGNATED = "point_of_contact_designated", "point of contact designated"
        POINT_OF_CONTACT_REVOKED = "point_of_contact_revoked", "point of contact revoked"
        OWNER_SET = "owner_set", "account owner set"
        OWNER_UNSET = "owner_unset", "account owner unset"
        EXCEPTION_ALLOWED = "invitation_exception_allowed", "invitation exception allowed"
        EXCEPTION_WITHDRAWN = "invitation_exception_withdrawn", "invitation exception withdrawn"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=300)  # "Ana Lima <ana@acme.example>"
    actor_role = models.CharField(max_length=16)  # "owner", "supervisor" or "import"
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whom or what it is about, as it was: the contact's "Name <email>" or the exception.
    subject = models.CharField(max_length=300)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "-at", "-id"], name="account_event_recent")]

    def __str__(self) -> str:
        return f"{self.at.isoformat()} {self.account_id} {self.kind} {self.subject} by {self.actor_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("account events are append-only: record a new event instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("account events are append-only and cannot be deleted")
