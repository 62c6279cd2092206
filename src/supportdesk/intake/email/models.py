"""Every inbound mail, kept as received, with what became of it.

A row is written and committed before anything else happens to the mail (before the
SMTP `250`, before an IMAP message is marked seen), so nothing a customer sends can be
lost to a crash, a bug or a parse failure. Processing then fills in the outcome.
"""

from __future__ import annotations

from django.db import models


class InboundMail(models.Model):
    class Route(models.TextChoices):
        SMTP = "smtp", "SMTP"
        LMTP = "lmtp", "LMTP"
        PIPE = "pipe", "pipe (ingest-email)"
        MAILDIR = "maildir", "maildir"
        IMAP = "imap", "IMAP"

    class Status(models.TextChoices):
        STORED = "stored", "stored, not yet processed"
        PROCESSED = "processed", "processed"
        FAILED = "failed", "processing failed"

    class Action(models.TextChoices):
        CREATED = "created", "created a ticket"
        APPENDED = "appended", "appended to a ticket"
        DUPLICATE = "duplicate", "duplicate of an earlier delivery"
        REVIEW = "review", "filed for review"
        IGNORED = "ignored", "ignored (automatic mail)"

    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    # Digest of the author's headers and body, the same whatever route delivered it.
    digest = models.CharField(max_length=64, db_index=True)
    # Set on the first delivery of a content only: the database refuses a second one,
    # which is what makes "one message, one ticket" hold across processes.
    first_digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    received_at = models.DateTimeField()
    route = models.CharField(max_length=8, choices=Route.choices)
    envelope_sender = models.CharField(max_length=998, null=True, blank=True)
    envelope_recipients = models.JSONField(default=list, blank=True)
    # Where it came from beyond the route: the IMAP mailbox and UID, the file name.
    origin = models.CharField(max_length=500, blank=True, default="")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.STORED)
    message_id = models.CharField(max_length=998, blank=True, default="")
    sender = models.CharField(max_length=254, blank=True, default="")
    subject = models.CharField(max_length=300, blank=True, default="")
    action = models.CharField(max_length=10, choices=Action.choices, blank=True, default="")
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reasons = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True, default="")
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self) -> str:
        return f"inbound mail {self.pk} ({self.route}, {self.size} bytes, {self.status})"
