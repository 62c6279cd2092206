from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.sla.models import Notification, Page, Rota, RotaMember
from supportdesk.sla.oncall import page_for
from supportdesk.sla.sweep import sweep
from supportdesk.sla.tests.shared import MONDAY_9_BRT, make_agent, make_customer, portal_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam():
    return make_agent("sam@desk.example", name="Sam")


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY_9_BRT, tick=False) as traveller:
        yield traveller


def test_the_live_list_shows_a_specialists_warnings_newest_first(client, clock, sam):
    make_customer()
    ticket = portal_ticket("high", subject="Checkout down")
    clock.shift(timedelta(minutes=23))
    sweep()
    client.force_login(sam)
    page = client.get(reverse("sla:notifications")).content.decode()
    assert 'hx-trigger="every 15s"' in page  # polled by htmx
    live = client.get(reverse("sla:notifications_live")).content.decode()
    assert f"#{ticket.number} Checkout down: first response due soon" in live
    assert client.get(reverse("sla:notifications_count")).content.decode().strip().endswith("(1)</strong>")


def test_marking_read_only_touches_ones_own_notifications(client, clock, sam):
    make_customer()
    rui = make_agent("rui@desk.example", name="Rui")
    portal_ticket("high")
    clock.shift(timedelta(minutes=23))
    sweep()
    rui_notification = Notification.objects.get(recipient=rui)
    client.force_login(sam)
    client.post(reverse("sla:notifications_read"), {"id": rui_notification.pk})
    assert Notification.objects.get(pk=rui_notification.pk).read_at is None
    client.post(reverse("sla:notifications_read"))
    assert Notification.objects.get(recipient=sam).read_at is not None


def test_the_page_link_lets_the_on_call_person_acknowledge(client, clock, sam):
    make_customer()
    rota = Rota.objects.create(name="Desk", starts_on=date(2026, 3, 2))
    RotaMember.objects.create(rota=rota, user=sam, position=0)
    ticket = portal_ticket("high")
    page = page_for(ticket)
    client.force_login(sam)
    shown = client.get(reverse("sla:page", args=[page.pk])).content.decode()
    assert "Acknowledge: I am on it" in shown
    client.post(reverse("sla:acknowledge", args=[page.pk]))
    page.refresh_from_db()
    assert (page.outcome, page.acknowledged_by) == ("acknowledged", sam)
    assert page.escalate_at is None


def test_the_on_call_page_shows_who_is_on_call_and_supervisors_add_overrides(client, clock, sam):
    sue = make_agent("sue@desk.example", name="Sue", role=User.Role.SUPERVISOR)
    rota = Rota.objects.create(name="Desk", starts_on=date(2026, 3, 2))
    RotaMember.objects.create(rota=rota, user=sam, position=0)
    client.force_login(sam)
    assert "Sam</strong> is on call now" in client.get(reverse("sla:oncall")).content.decode()
    assert client.post(reverse("sla:oncall"), {}).status_code == 404  # specialists cannot edit
    client.force_login(sue)
    response = client.post(reverse("sla:oncall"), {
        "user": sue.pk, "starts_at": "2026-03-02T08:00", "ends_at": "2026-03-02T20:00", "note": "swap",
    })
    assert response.status_code == 302
    assert "Sue</strong> is on call now" in client.get(reverse("sla:oncall")).content.decode()


def test_acknowledging_a_page_is_for_the_team_only(client, clock, sam):
    make_customer()
    ticket = portal_ticket("high")
    page = Page.objects.create(ticket=ticket, created_at=MONDAY_9_BRT)
    from supportdesk.accounts.testing import login_for

    client.force_login(login_for("ana@acme.example"))
    assert client.post(reverse("sla:acknowledge", args=[page.pk])).status_code == 404
    page.refresh_from_db()
    assert page.acknowledged_at is None
