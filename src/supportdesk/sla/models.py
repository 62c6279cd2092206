"""SLA runtime data: recorded warnings and breaches, the console's notifications, the
on-call rota and its pages, webhook deliveries, worker heartbeats, intake latency.

Data only. The worker (`sla.sweep`, `sla.oncall`) writes these; reads go through
`sla.selectors` and `sla.reports`. The ticket's own next SLA moment is
`tickets.Ticket.next_sla_at` (indexed), owned by this app's worker.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from supportdesk import clock


class Notice(models.Model):
    """A warning or a breach of one ticket's first-response target, as it happened.

    `at` is the moment it happened (the warning moment, or the due time for a breach),
    never the moment a worker noticed it (`noticed_at`): a worker that was down for an
    hour still records the right breach times. One row per (ticket, kind, due): a
    second worker, or a severity change that leaves the due time as it was, cannot
    record (or notify) it twice.
    """

    class Kind(models.TextChoices):
        WARNING = "warning", "warning"
        BREACH = "breach", "breach"

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_notices")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField()
    due = models.DateTimeField()
    noticed_at = models.DateTimeField()
    severity = models.CharField(max_length=8)
    target = models.CharField(max_length=64, blank=True, default="")
    coverage = models.CharField(max_length=64, blank=True, default="")
    # False when nobody needed telling (the ticket was solved or closed unanswered).
    notified = models.BooleanField(default=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "due"], name="sla_notice_once_per_due"),
        ]
        indexes = [models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.kind} of #{self.ticket_id} at {self.at.isoformat()}"


class Notification(models.Model):
    """One line in a specialist's live notification list (the console), also mailed."""

    class Kind(models.TextChoices):
        WARNING = "warning", "SLA warning"
        BREACH = "breach", "SLA breach"
        PAGE = "page", "on-call page"
        UNACKNOWLEDGED = "unacknowledged", "page not acknowledged"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sla_notifications"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    notice = models.ForeignKey(Notice, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    page = models.ForeignKey("sla.Page", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}: {self.text}"


class QueueSpecialist(models.Model):
    """A specialist who watches a queue: told about its unassigned tickets' warnings and
    breaches. A queue nobody watches tells every active specialist."""

    queue = models.CharField(max_length=16)  # tickets.Queue values
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["queue", "user"]
        constraints = [models.UniqueConstraint(fields=["queue", "user"], name="sla_queue_specialist_once")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.queue}"


# --- on call ---------------------------------------------------------------------------


class Rota(models.Model):
    """A weekly on-call rotation: each member is on call for one week in turn.

    Weeks begin at the handoff (weekday and local time in `time_zone`); the week that
    begins at the first handoff on or after `starts_on` belongs to the first member.
    Overrides (holidays, swaps) win over the rotation for their period.
    """

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="America/Sao_Paulo")
    handoff_weekday = models.PositiveSmallIntegerField(default=0)  # 0 = Monday
    handoff_time = models.TimeField(default=time(9, 0))
    starts_on = models.DateField()
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class RotaMember(models.Model):
    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["rota", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["rota", "user"], name="sla_rota_member_once")]

    def __str__(self) -> str:
        return f"{self.position}. {self.user_id}"


class RotaOverride(models.Model):
    """`user` is on call from `starts_at` to `ends_at` instead of the rotation's person."""

    rota = models.ForeignKey(Rota, on_delete=models.CASCADE, related_name="overrides")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["rota", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.starts_at.isoformat()}..{self.ends_at.isoformat()}"


class Page(models.Model):
    """Paging the on-call specialist about one new High ticket, with escalation.

    `escalate_at` is the next moment the worker must look at it (claimed with a
    conditional UPDATE, like `Ticket.next_sla_at`); None once acknowledged, answered,
    or nobody is left to page.
    """

    class Outcome(models.TextChoices):
        OPEN = "", "waiting for acknowledgement"
        ACKNOWLEDGED = "acknowledged", "acknowledged"
        ANSWERED = "answered", "the ticket was answered"
        EXHAUSTED = "exhausted", "nobody acknowledged"
        NOBODY = "nobody", "nobody on call"

    ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE, related_name="sla_page")
    rota = models.ForeignKey(Rota, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    level = models.PositiveSmallIntegerField(default=0)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, default="")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"page for #{self.ticket_id} (level {self.level})"


class PageAttempt(models.Model):
    """One person paged (by mail and webhook) for a page, in escalation order."""

    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="attempts")
    level = models.PositiveSmallIntegerField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["page", "level"]
        constraints = [models.UniqueConstraint(fields=["page", "level"], name="sla_page_attempt_once")]

    def __str__(self) -> str:
        return f"{self.page_id} level {self.level}: {self.user_id}"


class WebhookDelivery(models.Model):
    """A signed webhook POST (the on-call page), delivered by a task with retries."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        SENDING = "sending", "sending"
        DELIVERED = "delivered", "delivered"
        FAILED = "failed", "failed"

    attempt = models.ForeignKey(
        PageAttempt, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.CharField(max_length=2000)
    body = models.TextField()  # exactly the bytes signed and sent (UTF-8 JSON)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"webhook {self.pk} {self.status}"


# --- operations --------------------------------------------------------------------------


class WorkerBeat(models.Model):
    """The last sweep of each worker (for /metrics and the console)."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    last_sweep_at = models.DateTimeField()
    # How late the oldest moment this worker handled in its last sweep was, in seconds.
    last_lag_seconds = models.FloatField(default=0.0)
    handled_total = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.worker_id} at {self.last_sweep_at.isoformat()}"


# The upper bound stored for the +Inf bucket (portable across SQLite and PostgreSQL).
INF_BUCKET = 1e308


class IntakeLatencyBucket(models.Model):
    """A cumulative histogram cell: intakes of `channel` that took at most `le` seconds.

    Kept in the database (one UPDATE per intake) so every web and worker process of a
    fleet adds to the same histogram. The +Inf row (`le` = INF_BUCKET) also carries the
    sum of all observed seconds.
    """

    channel = models.CharField(max_length=16)
    le = models.FloatField()
    count = models.PositiveBigIntegerField(default=0)
    sum_seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["channel", "le"]
        constraints = [models.UniqueConstraint(fields=["channel", "le"], name="sla_latency_cell_once")]

    def __str__(self) -> str:
        return f"{self.channel} <= {self.le}: {self.count}"
