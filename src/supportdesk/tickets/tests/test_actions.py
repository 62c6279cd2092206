from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from supportdesk.accounts.testing import contact, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive, receive_many
from supportdesk.tickets import actions, notify
from supportdesk.tickets.models import Event, Ticket

pytestmark = pytest.mark.django_db

# Tuesday 2025-03-04 12:00 UTC = 09:00 in São Paulo.
OPENED = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(OPENED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sam():
    return make_agent()


@pytest.fixture
def acme():
    return make_customer()


def portal_ticket(severity: str = "medium") -> Ticket:
    result = receive(InboundRequest(channel="portal", contact=contact("ana@acme.example"),
                                    subject="Reports are slow", body_text="since 8am",
                                    requested_severity=severity))
    assert result.ticket is not None
    return result.ticket


def email_ticket(sender: str = "ana@acme.example") -> Ticket:
    ticket = receive(InboundRequest(channel="email", sender_email=sender, subject="Help")).ticket
    assert ticket is not None
    return ticket


def kinds(ticket: Ticket) -> list[str]:
    return list(Event.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))


# --- first response ----------------------------------------------------------------------


def test_the_first_public_reply_in_time_meets_the_sla(clock, acme, sam):
    ticket = portal_ticket("medium")  # Gold Medium: 6 h
    clock.shift(timedelta(hours=2))
    reply = actions.add_public_reply(ticket=ticket, author=sam, body_text="Looking at it")
    ticket = reply.ticket
    assert ticket.first_responded_at == OPENED + timedelta(hours=2)
    assert ticket.first_response_met is True
    assert ticket.next_sla_at is None
    assert ticket.status == "open"


def test_a_first_reply_after_the_due_time_breaches_the_sla(clock, acme, sam):
    ticket = portal_ticket("high")  # Gold High: 30 min
    clock.shift(timedelta(minutes=31))
    ticket = actions.add_public_reply(ticket=ticket, author=sam, body_text="Sorry").ticket
    assert ticket.first_response_met is False


def test_only_the_first_reply_counts_as_the_first_response(clock, acme, sam):
    ticket = portal_ticket("high")
    actions.add_public_reply(ticket=ticket, author=sam, body_text="On it")
    clock.shift(timedelta(hours=3))
    ticket = actions.add_public_reply(ticket=ticket, author=sam, body_text="Fixed").ticket
    assert (ticket.first_responded_at, ticket.first_response_met) == (OPENED, True)


def test_internal_notes_and_customer_messages_do_not_stop_the_clock(clock, acme, sam):
    ticket = portal_ticket()
    actions.add_internal_note(ticket=ticket, author=sam, body_text="checking logs")
    actions.add_customer_message(ticket=ticket, author_contact=contact("ana@acme.example"), body_text="any news?")
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None
    assert OPENED < ticket.next_sla_at <= ticket.first_response_due  # the SLA worker will look


def test_a_customer_cannot_give_the_first_response(clock, acme):
    ticket = portal_ticket()
    from supportdesk.accounts.testing import login_for

    with pytest.raises(ValidationError, match="not an active specialist"):
        actions.add_public_reply(ticket=ticket, author=login_for("ana@acme.example"), body_text="hi")


def test_a_reply_to_a_ticket_without_sla_records_the_response_but_no_verdict(clock, acme, sam):
    ticket = email_ticket("someone@gmail.com")
    ticket = actions.add_public_reply(ticket=ticket, author=sam, body_text="Who are you?").ticket
    assert ticket.first_responded_at == OPENED
    assert ticket.first_response_met is None


# --- severity ----------------------------------------------------------------------------


def test_changing_severity_before_the_first_response_recomputes_the_due_time_from_opening(clock, acme, sam):
    ticket = portal_ticket("low")
    clock.shift(timedelta(hours=1))
    ticket = actions.change_severity(ticket=ticket, severity="high", reason="production is down", actor=sam)
    assert ticket.severity == "high"
    assert ticket.first_response_due == OPENED + timedelta(minutes=30)  # from opening, not now
    assert OPENED < ticket.next_sla_at <= ticket.first_response_due  # the SLA worker will look
    event = Event.objects.get(ticket=ticket, kind="severity_changed")
    assert (event.before["severity"], event.after["severity"], event.reason) == ("low", "high", "production is down")
    assert event.actor == sam


def test_a_specialist_can_raise_an_email_ticket_above_medium(clock, acme, sam):
    ticket = email_ticket()
    ticket = actions.change_severity(ticket=ticket, severity="high", reason="outage", actor=sam)
    assert (ticket.severity, ticket.first_response_due) == ("high", OPENED + timedelta(minutes=30))
    assert "severity High set by a specialist" in ticket.sla_reasons


def test_changing_severity_after_the_first_response_keeps_the_sla(clock, acme, sam):
    ticket = portal_ticket("low")
    actions.add_public_reply(ticket=ticket, author=sam, body_text="ok")
    due = Ticket.objects.get(pk=ticket.pk).first_response_due
    ticket = actions.change_severity(ticket=ticket, severity="high", reason="worse now", actor=sam)
    assert (ticket.severity, ticket.first_response_due, ticket.first_response_met) == ("high", due, True)


def test_a_severity_change_needs_a_reason(clock, acme, sam):
    ticket = portal_ticket()
    with pytest.raises(ValidationError, match="say why"):
        actions.change_severity(ticket=ticket, severity="high", reason="  ", actor=sam)
    assert Ticket.objects.get(pk=ticket.pk).severity == "medium"


# --- assignment, status, moving --------------------------------------------------------


def test_assigning_and_changing_status_are_recorded(clock, acme, sam):
    ticket = portal_ticket()
    ticket = actions.assign(ticket=ticket, assignee=sam, actor=sam)
    ticket = actions.change_status(ticket=ticket, status="solved", actor=sam)
    assert (ticket.assignee, ticket.status) == (sam, "solved")
    assert kinds(ticket) == ["opened", "assigned", "status_changed"]


def test_a_customer_message_reopens_a_solved_ticket(clock, acme, sam):
    ticket = actions.change_status(ticket=portal_ticket(), status="solved", actor=sam)
    message = actions.add_customer_message(ticket=ticket, author_contact=contact("ana@acme.example"), body_text="still broken")
    assert message.ticket.status == "open"


def test_a_closed_ticket_stays_closed(clock, acme, sam):
    ticket = actions.change_status(ticket=portal_ticket(), status="closed", actor=sam)
    with pytest.raises(ValidationError, match="is closed"):
        actions.change_status(ticket=ticket, status="open", actor=sam)


def test_only_team_members_can_be_assigned(clock, acme, sam):
    from supportdesk.accounts.testing import login_for

    with pytest.raises(ValidationError, match="not an active specialist"):
        actions.assign(ticket=portal_ticket(), assignee=login_for("ana@acme.example"), actor=sam)


def test_moving_an_unidentified_ticket_to_an_account_gives_it_that_accounts_sla_from_opening(clock, acme, sam):
    ticket = email_ticket("ana.acme@gmail.com")
    assert ticket.first_response_due is None
    clock.shift(timedelta(hours=1))
    ticket = actions.move_to_account(ticket=ticket, account=acme, actor=sam, reason="Ana's personal address")
    assert (ticket.queue, ticket.account) == ("customer", acme)
    assert ticket.first_response_due == OPENED + timedelta(hours=6)  # Gold Medium from opening
    assert OPENED < ticket.next_sla_at <= ticket.first_response_due  # the SLA worker will look
    assert kinds(ticket) == ["opened", "moved_to_account"]


def test_a_customer_queue_ticket_cannot_be_moved(clock, acme, sam):
    with pytest.raises(ValidationError, match="already in the customer queue"):
        actions.move_to_account(ticket=portal_ticket(), account=acme, actor=sam)


# --- the write path itself -------------------------------------------------------------


def test_every_action_appends_an_event_and_never_rewrites_one(clock, acme, sam):
    ticket = portal_ticket()
    opened = Event.objects.get(ticket=ticket)
    actions.add_internal_note(ticket=ticket, author=sam, body_text="n")
    actions.add_public_reply(ticket=ticket, author=sam, body_text="r")
    actions.change_severity(ticket=ticket, severity="low", reason="question", actor=sam)
    assert kinds(ticket) == ["opened", "internal_note", "public_reply", "severity_changed"]
    assert Event.objects.get(pk=opened.pk).after == opened.after


def test_notifications_run_after_commit_only(clock, acme, sam, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setitem(notify.HOOKS, "public_reply", ("supportdesk.tickets.tests.test_actions.remember",))
    notify._hooks_for.cache_clear()
    REMEMBERED.clear()
    ticket = portal_ticket()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        actions.add_public_reply(ticket=ticket, author=sam, body_text="r")
    assert REMEMBERED == []  # nothing ran before the commit
    for callback in callbacks:
        callback()
    seen = [(c.kind, c.number) for c in REMEMBERED]
    assert seen == [("public_reply", ticket.number)]
    notify._hooks_for.cache_clear()


REMEMBERED: list[notify.TicketChange] = []


def remember(change: notify.TicketChange) -> None:
    REMEMBERED.append(change)


batches_seen: list[list[int]] = []


def remember_batch(changes: list[notify.TicketChange]) -> None:
    if any(change.details.get("severity") == "high" for change in changes):
        raise RuntimeError("the batch form fails on a High ticket")
    batches_seen.append([change.number for change in changes])


@notify.with_batch_form(remember_batch)
def remember_each(change: notify.TicketChange) -> None:
    REMEMBERED.append(change)


@pytest.mark.parametrize("severities", [("low", "medium"), ("low", "high", "medium")])
def test_a_batch_hands_its_changes_to_a_hooks_batch_form_or_else_one_at_a_time(
    clock, acme, monkeypatch, severities, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(notify.HOOKS, "opened", ("supportdesk.tickets.tests.test_actions.remember_each",))
    notify._hooks_for.cache_clear()
    REMEMBERED.clear()
    batches_seen.clear()
    try:
        requests = [
            InboundRequest(channel="portal", contact=contact("ana@acme.example"), subject=f"#{n}",
                           body_text="x", requested_severity=severity)
            for n, severity in enumerate(severities)
        ]
        with django_capture_on_commit_callbacks(execute=True):
            numbers = [result.ticket.number for result in receive_many(requests)]
    finally:
        notify._hooks_for.cache_clear()
    if "high" in severities:  # the batch form failed: every change still got its hook
        assert (batches_seen, [c.number for c in REMEMBERED]) == ([], numbers)
    else:
        assert batches_seen == [numbers]
        assert REMEMBERED == []


# --- opening -------------------------------------------------------------------------------


def test_opening_writes_the_ticket_its_first_message_and_an_event_with_its_number(clock, acme):
    ticket = portal_ticket("high")
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.number, stored.severity, stored.status, stored.account) == (ticket.number, "high", "new", acme)
    assert stored.first_response_due == ticket.first_response_due
    assert stored.next_sla_at == ticket.next_sla_at and stored.next_sla_at is not None
    message = stored.messages.get()
    assert (message.body_text, message.author_contact, message.kind) == ("since 8am", contact("ana@acme.example"), "customer")
    event = Event.objects.get(ticket=ticket)
    assert (event.kind, event.after["number"], event.after["severity"]) == ("opened", ticket.number, "high")
    assert event.after["sla_reasons"] == stored.sla_reasons
