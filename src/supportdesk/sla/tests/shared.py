"""Helpers for the SLA tests: tickets opened through the real intake, the real worker."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from django.core.management import call_command

from supportdesk.accounts.testing import contact, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets.models import Ticket

# Monday 2 March 2026, 12:00 UTC = 09:00 in São Paulo (BRT, no DST since 2019).
MONDAY_9_BRT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def brt(day: int, hour: int, minute: int = 0, *, month: int = 3, year: int = 2026) -> datetime:
    """An instant given as São Paulo wall time, in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO).astimezone(UTC)


def portal_ticket(severity: str = "medium", *, email: str = "ana@acme.example",
                  subject: str = "Reports are slow", now: datetime | None = None) -> Ticket:
    result = receive(
        InboundRequest(channel="portal", contact=contact(email), subject=subject,
                       body_text="since 8am", requested_severity=severity),
        now=now,
    )
    assert result.ticket is not None, result.refusal
    return result.ticket


def email_ticket(sender: str, *, subject: str = "Help", now: datetime | None = None) -> Ticket:
    ticket = receive(InboundRequest(channel="email", sender_email=sender, subject=subject,
                                    body_text="please"), now=now).ticket
    assert ticket is not None
    return ticket


def run_tasks(queue: str = "*") -> None:
    """The real django-tasks database worker, in batch mode: runs what is ready, then exits."""
    call_command("db_worker", queue_name=queue, batch=True, startup_delay=False, interval=0, verbosity=0)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


__all__ = ["MONDAY_9_BRT", "brt", "email_ticket", "fresh", "make_agent", "make_customer",
           "portal_ticket", "run_tasks"]
