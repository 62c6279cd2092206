"""The outgoing-mail queue.

A row is written inside the transaction of whatever caused the mail (a new ticket, a
public reply, a password reset), so mail exists exactly when its cause committed. The
row is the mail: delivery only moves its status. Data only; the rules live in
`outbound.queue` (delivery) and `outbound.services` (what each mail says).
"""

from __future__ import annotations

from django.db import models

from supportdesk import clock


class OutboundMail(models.Model):
    class Kind(models.TextChoices):
        ACKNOWLEDGEMENT = "acknowledgement", "acknowledgement"
        REPLY = "reply", "public reply"
        NOTIFICATION = "notification", "notification"
        PASSWORD_RESET = "password_reset", "password reset"
        INVITATION = "invitation", "invitation"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        # Claimed by one worker (conditional UPDATE); nobody else may send it.
        SENDING = "sending", "sending"
        SENT = "sent", "sent"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_mail",
    )
    # The ticket message this mail carries (a specialist's reply), if any.
    ticket_message = models.ForeignKey(
        "tickets.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbound_mail",
    )
    from_email = models.CharField(max_length=254)
    to = models.JSONField(default=list)  # list of addresses (RFC 5322 form allowed)
    cc = models.JSONField(default=list, blank=True)
    # The first To address, bare and lower-cased: what the per-sender limits count.
    recipient = models.CharField(max_length=254)
    subject = models.TextField()
    text = models.TextField()
    html = models.TextField(blank=True, default="")
    # Files to attach, read from default storage at send time:
    # [{"file": storage name, "filename": shown name, "content_type": ...}].
    attachments = models.JSONField(default=list, blank=True)
    # Every header we add, Message-ID included, exactly as sent (retries resend them).
    headers = models.JSONField(default=dict)
    # The Message-ID (with angle brackets, lower-cased) so replies thread back to us.
    message_id = models.CharField(max_length=255, unique=True)
    language = models.CharField(max_length=16, blank=True, default="")

    attempts = models.PositiveIntegerField(default=0)
    # Earliest instant the next delivery attempt may run.
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbound_due"),
            models.Index(fields=["kind", "recipient", "created_at"], name="outbound_per_recipient"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
