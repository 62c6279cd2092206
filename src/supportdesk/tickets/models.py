"""Tickets, their messages and attachments, and the audit trail.

Data only: every change goes through `tickets.actions` (lock, write, record the event,
schedule notifications on commit). Nothing here has behaviour in `save()` or signals.
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models

from supportdesk import clock


class Queue(models.TextChoices):
    CUSTOMER = "customer", "customer"
    UNIDENTIFIED = "unidentified", "unidentified"
    REVIEW = "review", "review"


class Channel(models.TextChoices):
    PORTAL = "portal", "portal"
    EMAIL = "email", "email"
    HOTLINE = "hotline", "hotline"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Status(models.TextChoices):
    NEW = "new", "new"
    OPEN = "open", "open"
    PENDING = "pending", "pending"
    SOLVED = "solved", "solved"
    CLOSED = "closed", "closed"


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING)


class TicketSequence(models.Model):
    """The one counter row that hands out ticket numbers.

    Taking a number is `UPDATE ... SET last = last + 1 RETURNING last`, which holds the
    row lock until the opening transaction commits: numbers never repeat, whatever the
    number of processes, and a rolled-back opening gives its number back.
    """

    last = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"last ticket number {self.last}"


class Ticket(models.Model):
    number = models.PositiveBigIntegerField(unique=True)
    # No index of its own: the (account, status) index below starts with it. Every
    # index is written when a ticket is opened and whenever an indexed column moves
    # (the SLA worker moves next_sla_at), so the table keeps only those queries use.
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,
    )
    requester = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    # The requester as they presented themselves (kept even when no contact matched).
    requester_email = models.CharField(max_length=254, blank=True, default="")
    requester_phone = models.CharField(max_length=32, blank=True, default="")
    requester_name = models.CharField(max_length=200, blank=True, default="")
    queue = models.CharField(max_length=16, choices=Queue.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.NEW)
    subject = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    assignee = models.ForeignKey(  # indexed by (assignee, status) below
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
        db_index=False,
    )

    # The SLA decision, frozen when the ticket was opened (or re-decided by a severity
    # change before the first response, or by moving it to an account).
    first_response_due = models.DateTimeField(null=True, blank=True, db_index=True)
    sla_target = models.CharField(max_length=64, blank=True, default="")
    sla_coverage = models.CharField(max_length=64, blank=True, default="")
    sla_terms_plan = models.CharField(max_length=64, blank=True, default="")
    sla_plan = models.CharField(max_length=64, blank=True, default="")
    sla_account_status = models.CharField(max_length=16, blank=True, default="")
    sla_channel_allowed = models.BooleanField(default=True)
    sla_policy_version = models.CharField(max_length=64, blank=True, default="")
    sla_reasons = models.JSONField(default=list, blank=True)

    first_responded_at = models.DateTimeField(null=True, blank=True)
    first_response_met = models.BooleanField(null=True, blank=True)
    # The next instant the SLA worker must look at this ticket (claimed with a
    # conditional UPDATE); None when there is nothing left to watch. Indexed only where
    # set (a partial index): most tickets are answered or closed and have none.
    next_sla_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["queue", "status"]),
            models.Index(fields=["assignee", "status"]),
            models.Index(
                fields=["next_sla_at"],
                name="ticket_next_sla_at_set",
                condition=models.Q(next_sla_at__isnull=False),
            ),
            # An account's open tickets newest first (the portal's "open" list): an
            # ordered scan with a LIMIT instead of sorting all of a big account's open ones.
            models.Index(
                fields=["account", "-number"],
                name="ticket_account_open_by_number",
                condition=models.Q(status__in=OPEN_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", "customer message"
        REPLY = "reply", "public reply"
        NOTE = "note", "internal note"
        SYSTEM = "system", "system message"

    # Indexed by (ticket, created_at) below, not on its own.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_contact = models.ForeignKey(
        "accounts.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it as given (the From of a mail, the caller), kept when nobody matched.
    author_email = models.CharField(max_length=254, blank=True, default="")
    author_name = models.CharField(max_length=200, blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")  # sanitised with nh3
    created_at = models.DateTimeField()
    # The RFC 5322 Message-ID of the mail this message came in as or went out as.
    message_id = models.CharField(max_length=998, null=True, blank=True, db_index=True)
    # Free reference for the channel that produced it (e.g. the stored raw mail).
    source_ref = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.ticket_id}"

    @property
    def is_public(self) -> bool:
        return self.kind != self.Kind.NOTE


def attachment_path(instance: Attachment, filename: str) -> str:
    """A generated name: the sender's file name is metadata, never a path on our disk."""
    suffix = PurePath(filename).suffix.lower()
    if not suffix.isascii() or len(suffix) > 10 or not suffix[1:].isalnum():
        suffix = ""
    now = clock.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=200, default="application/octet-stream")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.original_name


class Event(models.Model):
    """Append-only audit of every change to a ticket: who, when, what, before and after."""

    # Indexed by (ticket, at) below, not on its own.
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", db_index=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # For actions without a user (a mail, the SLA worker): what did it.
    actor_label = models.CharField(max_length=100, blank=True, default="")
    at = models.DateTimeField()
    kind = models.CharField(max_length=32)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} on #{self.ticket_id} at {self.at.isoformat()}"
