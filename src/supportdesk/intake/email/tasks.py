"""Background tasks of the email channel (django-tasks, run by the database worker)."""

from __future__ import annotations

from django_tasks import task

from supportdesk.intake.email.imap import fetch_mail
from supportdesk.intake.email.process import process_mail
from supportdesk.intake.email.store import pending


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
    """Process stored mail left unprocessed (e.g. by a crash after the SMTP 250)."""
    done = 0
    for row in list(pending()):
        process_mail(row)
        done += 1
    return done
