"""Background tasks of the email channel (django-tasks, run by the database worker)."""

from __future__ import annotations

from django_tasks import task

from supportdesk.intake.email.bulk import process_stored
from supportdesk.intake.email.imap import fetch_mail


@task(queue_name="mail")
def fetch_mail_task() -> dict[str, int]:
    """Poll the configured IMAP mailbox once; meant to be enqueued every minute."""
    outcomes = fetch_mail()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.action] = counts.get(outcome.action, 0) + 1
    return counts


@task(queue_name="mail")
def process_pending_mail() -> int:
    """Process stored mail not processed yet (a store-only listener's backlog, or what a
    crash left after the SMTP 250)."""
    return process_stored(on_outcome=lambda outcome: None)
