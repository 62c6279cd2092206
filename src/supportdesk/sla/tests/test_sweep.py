from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from supportdesk.accounts.models import User
from supportdesk.core.policy_source import active_policy
from supportdesk.outbound.models import OutboundMail
from supportdesk.sla.models import Notice, Notification, QueueSpecialist
from supportdesk.sla.moments import first_moment, warning_moment
from supportdesk.sla.sweep import sweep
from supportdesk.sla.tests.shared import (
    MONDAY_9_BRT,
    SAO_PAULO,
    brt,
    fresh,
    make_agent,
    make_customer,
    portal_ticket,
)
from supportdesk.tickets import actions
from supportdesk.tickets.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_9_BRT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team():
    return {
        "sam": make_agent("sam@desk.example", name="Sam"),
        "rui": make_agent("rui@desk.example", name="Rui"),
        "sue": make_agent("sue@desk.example", name="Sue", role=User.Role.SUPERVISOR),
    }


@pytest.fixture
def acme():
    return make_customer()  # Gold: 24x7, High 30 min, Medium 6 h


@pytest.fixture
def standard():
    return make_customer(slug="lojas", name="Lojas", domains=["lojas.example"], plan="standard",
                         contacts=[("bia@lojas.example", "Bia", True)])


def notices(ticket):
    return list(Notice.objects.filter(ticket=ticket).order_by("at").values_list("kind", "at"))


def told(kind):
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient__email", flat=True))


def test_it_warns_the_assignee_when_three_quarters_of_the_target_has_passed(clock, acme, team):
    ticket = portal_ticket("high")  # Gold High: 30 min, warning after 22 min 30 s
    actions.assign(ticket=ticket, assignee=team["rui"], actor=team["sam"])
    assert fresh(ticket).next_sla_at == MONDAY_9_BRT + timedelta(minutes=22, seconds=30)

    clock.move_to(MONDAY_9_BRT + timedelta(minutes=22))
    assert sweep().warnings == 0

    clock.move_to(MONDAY_9_BRT + timedelta(minutes=23))
    result = sweep()
    assert result.warnings == 1
    assert notices(ticket) == [("warning", MONDAY_9_BRT + timedelta(minutes=22, seconds=30))]
    assert told("warning") == ["rui@desk.example"]
    assert fresh(ticket).next_sla_at == ticket.first_response_due
    warning_mail = OutboundMail.objects.filter(subject__startswith="SLA warning")
    assert [m.to for m in warning_mail] == [["rui@desk.example"]]
    assert f"#{ticket.number}" in warning_mail[0].subject
    assert "Mon 02 Mar 2026, 09:30 America/Sao_Paulo" in warning_mail[0].text  # the due time, in BRT


def test_it_tells_the_queue_specialists_and_supervisors_of_an_unassigned_breach(clock, acme, team):
    QueueSpecialist.objects.create(queue="customer", user=team["sam"])
    ticket = portal_ticket("high")
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=23))
    sweep()
    assert told("warning") == ["sam@desk.example"]
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=30))
    assert sweep().breaches == 1
    assert told("breach") == ["sam@desk.example", "sue@desk.example"]
    assert fresh(ticket).next_sla_at is None


def test_a_queue_nobody_watches_tells_every_specialist(clock, acme, team):
    portal_ticket("high")
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=23))
    sweep()
    assert told("warning") == ["rui@desk.example", "sam@desk.example"]


def test_a_breach_is_stamped_with_the_due_time_after_an_hour_of_worker_downtime(clock, acme, team):
    ticket = portal_ticket("high")
    due = MONDAY_9_BRT + timedelta(minutes=30)
    clock.move_to(MONDAY_9_BRT + timedelta(hours=1, minutes=30))  # the worker was down
    result = sweep()
    assert result.breaches == 1 and result.warnings == 0  # too late to warn: no warning
    breach = Notice.objects.get(ticket=ticket)
    assert (breach.kind, breach.at, breach.due) == ("breach", due, due)
    assert breach.noticed_at == MONDAY_9_BRT + timedelta(hours=1, minutes=30)
    event = Event.objects.get(ticket=ticket, kind="sla_breached")
    assert event.at == due
    assert result.lag(MONDAY_9_BRT + timedelta(hours=1, minutes=30)) == timedelta(hours=1, minutes=7, seconds=30)


def test_it_never_notifies_twice_for_the_same_moment(clock, acme, team):
    ticket = portal_ticket("high")
    clock.move_to(MONDAY_9_BRT + timedelta(hours=2))
    sweep()
    sweep()
    assert notices(ticket) == [("breach", MONDAY_9_BRT + timedelta(minutes=30))]
    assert len(told("breach")) == 3  # Sam, Rui and Sue once each


def test_a_severity_change_moves_the_pending_warning(clock, acme, team):
    ticket = portal_ticket("medium")  # Gold Medium: 6 h, warning after 4 h 30
    assert fresh(ticket).next_sla_at == MONDAY_9_BRT + timedelta(hours=4, minutes=30)
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=10))
    actions.change_severity(ticket=ticket, severity="high", reason="production down", actor=team["sam"])
    new_warning = MONDAY_9_BRT + timedelta(minutes=22, seconds=30)  # High: 30 min from opening
    assert fresh(ticket).next_sla_at == new_warning

    clock.move_to(MONDAY_9_BRT + timedelta(minutes=25))
    sweep()
    actions.add_public_reply(ticket=ticket, author=team["sam"], body_text="On it")
    clock.move_to(MONDAY_9_BRT + timedelta(hours=7))
    sweep()
    assert notices(ticket) == [("warning", new_warning)]


def test_lowering_the_severity_moves_the_warning_later(clock, acme, team):
    ticket = portal_ticket("high")
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=5))
    actions.change_severity(ticket=ticket, severity="medium", reason="a workaround exists", actor=team["sam"])
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=40))
    assert sweep().claimed == 0  # nothing was due at the old High times
    clock.move_to(MONDAY_9_BRT + timedelta(hours=4, minutes=30))
    assert sweep().warnings == 1


def test_a_first_response_cancels_the_warning_and_the_breach(clock, acme, team):
    ticket = portal_ticket("high")
    clock.move_to(MONDAY_9_BRT + timedelta(minutes=10))
    actions.add_public_reply(ticket=ticket, author=team["sam"], body_text="Looking")
    for minutes in (23, 31, 120):
        clock.move_to(MONDAY_9_BRT + timedelta(minutes=minutes))
        assert sweep().claimed == 0
    assert notices(ticket) == []
    assert Notification.objects.count() == 0


def test_a_solved_ticket_gets_no_warning_and_its_breach_is_recorded_without_telling_anyone(clock, acme, team):
    ticket = portal_ticket("high")
    actions.change_status(ticket=ticket, status="solved", actor=team["sam"], reason="duplicate")
    clock.move_to(MONDAY_9_BRT + timedelta(hours=1))
    sweep()
    assert notices(ticket) == [("breach", MONDAY_9_BRT + timedelta(minutes=30))]
    assert Notice.objects.get(ticket=ticket).notified is False
    assert Notification.objects.count() == 0


def test_a_ticket_without_sla_is_never_watched(clock, team):
    make_customer(status="expired")
    ticket = portal_ticket("high")
    assert fresh(ticket).next_sla_at is None


# --- 12x5: warnings inside coverage hours ---------------------------------------------------


def _inside_12x5(moment: datetime) -> bool:
    local = moment.astimezone(SAO_PAULO)
    start = local.replace(hour=8, minute=0, second=0, microsecond=0)
    end = local.replace(hour=20, minute=0, second=0, microsecond=0)
    return local.weekday() < 5 and start <= local <= end


def test_a_12x5_warning_moment_is_always_inside_coverage_hours():
    policy = active_policy()
    calendar = policy.calendars["12x5"]
    from supportdesk.policy import deadline_after, parse_target

    budget = parse_target("1 business day").budget
    opened = datetime(2026, 2, 27, 0, 7, tzinfo=UTC)
    for _ in range(2 * 7 * 24 * 60 // 37):  # every 37 minutes for two weeks, nights and weekends too
        due = deadline_after(opened, budget, calendar)
        warning = warning_moment(opened_at=opened, due=due, coverage="12x5", target="1 business day", policy=policy)
        assert warning is not None and _inside_12x5(warning), (opened, warning)
        opened += timedelta(minutes=37)


def test_a_12x5_ticket_opened_in_the_evening_is_warned_the_next_working_morning(standard, team):
    with time_machine.travel(brt(2, 19), tick=False):  # Monday 19:00 BRT
        ticket = portal_ticket("high", email="bia@lojas.example")
    # 1 business day = 12 working hours: due Tuesday 19:00; 75% = 9 h: Tuesday 16:00.
    assert ticket.first_response_due == brt(3, 19)
    assert fresh(ticket).next_sla_at == brt(3, 16)
    for moment in (brt(2, 23), brt(3, 3), brt(3, 7, 59)):
        with time_machine.travel(moment, tick=False):
            assert sweep().warnings == 0


def test_a_worker_back_at_3_am_holds_a_12x5_warning_until_the_office_opens(standard, team):
    with time_machine.travel(brt(2, 10), tick=False):  # Monday 10:00, due Tuesday 10:00
        ticket = portal_ticket("high", email="bia@lojas.example")
    assert fresh(ticket).next_sla_at == brt(2, 19)  # warning at Monday 19:00
    with time_machine.travel(brt(3, 3), tick=False):  # the worker was down from 18:00 to 03:00
        result = sweep()
    assert (result.warnings, result.postponed) == (0, 1)
    assert Notification.objects.count() == 0
    assert fresh(ticket).next_sla_at == brt(3, 8)
    with time_machine.travel(brt(3, 8, 0), tick=False):
        assert sweep().warnings == 1
    sent = Notification.objects.filter(kind="warning").values_list("created_at", flat=True)
    assert list(sent) == [brt(3, 8), brt(3, 8)]  # Sam and Rui, at the opening


def test_the_first_moment_of_an_answered_ticket_is_none(clock, acme, team):
    ticket = portal_ticket("low")
    ticket = actions.add_public_reply(ticket=ticket, author=team["sam"], body_text="Hi").ticket
    assert first_moment(ticket) is None and ticket.next_sla_at is None
