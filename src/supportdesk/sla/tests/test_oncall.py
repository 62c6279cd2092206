import hashlib
import hmac
import json
import threading
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from supportdesk.accounts.models import User
from supportdesk.accounts.testing import contact
from supportdesk.intake.service import InboundRequest, receive_many
from supportdesk.sla import oncall, rota
from supportdesk.sla.models import (
    Notification,
    Page,
    Rota,
    RotaMember,
    RotaOverride,
    WebhookDelivery,
)
from supportdesk.sla.tests.shared import (
    MONDAY_9_BRT,
    brt,
    make_agent,
    make_customer,
    portal_ticket,
)
from supportdesk.sla.worker import Worker
from supportdesk.tickets import actions

SECRET = "s3cret-for-tests"


class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it is sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    server = Receiver()
    settings.SUPPORTDESK_ONCALL_WEBHOOK_URL = server.url
    settings.SUPPORTDESK_ONCALL_WEBHOOK_SECRET = SECRET
    settings.SUPPORTDESK_ONCALL_ACK_MINUTES = 15
    yield server
    server.close()


@pytest.fixture
def people():
    return {
        "ana": make_agent("ana.s@desk.example", name="Ana"),
        "bob": make_agent("bob@desk.example", name="Bob"),
        "cid": make_agent("cid@desk.example", name="Cid"),
        "sue": make_agent("sue@desk.example", name="Sue", role=User.Role.SUPERVISOR),
    }


@pytest.fixture
def weekly(people):
    """Handoff Mondays 09:00 BRT; Ana's week starts Monday 2 March 2026."""
    desk = Rota.objects.create(name="Specialists", starts_on=date(2026, 3, 2),
                               handoff_weekday=0, handoff_time=time(9, 0))
    for position, name in enumerate(("ana", "bob", "cid")):
        RotaMember.objects.create(rota=desk, user=people[name], position=position)
    return desk


def run_worker() -> Worker:
    worker = Worker(once=True, worker_id="test-worker")
    worker.run()
    return worker


# --- the rota ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rota_rotates_weekly_at_the_handoff(weekly, people):
    def on_call(moment: datetime) -> str:
        shift = rota.on_call_at(weekly, moment)
        assert shift is not None
        return shift.user.name

    assert on_call(brt(2, 9)) == "Ana"
    assert on_call(brt(9, 8, 59)) == "Ana"
    assert on_call(brt(9, 9)) == "Bob"
    assert on_call(brt(16, 9)) == "Cid"
    assert on_call(brt(23, 9)) == "Ana"
    assert on_call(brt(1, 12)) == "Cid"  # the week before the start wraps round
    assert [s.user.name for s in rota.schedule(weekly, start=brt(4, 12), weeks=4)] == ["Ana", "Bob", "Cid", "Ana"]


@pytest.mark.django_db
def test_an_override_wins_over_the_rotation(weekly, people):
    RotaOverride.objects.create(rota=weekly, user=people["cid"], starts_at=brt(3, 18), ends_at=brt(4, 8),
                                note="Ana at the dentist")
    assert rota.on_call_at(weekly, brt(3, 20)).user.name == "Cid"
    assert rota.on_call_at(weekly, brt(4, 8)).user.name == "Ana"
    # Escalation goes on from the override to the rotation's person and the rest.
    assert [u.name for u in rota.escalation_order(weekly, brt(3, 20))] == ["Cid", "Ana", "Bob"]
    assert [u.name for u in rota.escalation_order(weekly, brt(10, 20))] == ["Bob", "Cid", "Ana"]


# --- paging ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_new_high_ticket_on_a_24x7_plan_pages_whoever_is_on_call(receiver, weekly, people):
    make_customer()  # Gold: 24x7
    with time_machine.travel(brt(10, 3), tick=False):  # Tuesday 03:00 of Bob's week
        ticket = portal_ticket("high", subject="Checkout is down")
        run_worker()
    page = Page.objects.get(ticket=ticket)
    assert [a.user.name for a in page.attempts.all()] == ["Bob"]
    assert Notification.objects.get(kind="page").recipient == people["bob"]
    paged = [m for m in mail.outbox if m.subject.startswith("On call")]
    assert [m.to for m in paged] == [["bob@desk.example"]]
    assert f"/console/sla/pages/{page.pk}/" in paged[0].body

    [(headers, body)] = receiver.requests
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Supportdesk-Signature"], expected)
    payload = json.loads(body)
    assert payload["on_call"]["email"] == "bob@desk.example"
    assert payload["ticket"]["number"] == ticket.number
    assert WebhookDelivery.objects.get().status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_it_pages_the_next_person_when_nobody_acknowledges_in_time(receiver, weekly, people):
    make_customer()
    with time_machine.travel(brt(10, 3), tick=False) as traveller:
        ticket = portal_ticket("high")
        run_worker()
        traveller.shift(timedelta(minutes=14))
        run_worker()
        assert Page.objects.get(ticket=ticket).level == 0
        traveller.shift(timedelta(minutes=1))
        run_worker()
        assert [a.user.name for a in Page.objects.get(ticket=ticket).attempts.all()] == ["Bob", "Cid"]
        traveller.shift(timedelta(minutes=15))
        run_worker()
        traveller.shift(timedelta(minutes=15))
        run_worker()
        page = Page.objects.get(ticket=ticket)
    assert [a.user.name for a in page.attempts.all()] == ["Bob", "Cid", "Ana"]
    assert page.outcome == "exhausted"
    assert Notification.objects.get(kind="unacknowledged").recipient == people["sue"]
    assert [json.loads(body)["on_call"]["email"] for _, body in receiver.requests] == [
        "bob@desk.example", "cid@desk.example", "ana.s@desk.example",
    ]


@pytest.mark.django_db(transaction=True)
def test_an_acknowledged_page_does_not_escalate(receiver, weekly, people):
    make_customer()
    with time_machine.travel(brt(10, 3), tick=False) as traveller:
        ticket = portal_ticket("high")
        run_worker()
        page = Page.objects.get(ticket=ticket)
        traveller.shift(timedelta(minutes=5))
        oncall.acknowledge(page=page, user=people["bob"])
        with pytest.raises(ValidationError, match="already acknowledged by Bob"):
            oncall.acknowledge(page=page, user=people["cid"])
        traveller.shift(timedelta(hours=1))
        run_worker()
    page.refresh_from_db()
    assert (page.outcome, page.acknowledged_by, page.level) == ("acknowledged", people["bob"], 0)
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_first_reply_ends_the_page(receiver, weekly, people):
    make_customer()
    with time_machine.travel(brt(10, 3), tick=False) as traveller:
        ticket = portal_ticket("high")
        run_worker()
        actions.add_public_reply(ticket=ticket, author=people["ana"], body_text="On it")
        traveller.shift(timedelta(minutes=20))
        run_worker()
    assert Page.objects.get(ticket=ticket).outcome == "answered"
    assert len(receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_only_new_high_tickets_on_24x7_plans_page(receiver, weekly, people):
    make_customer()
    make_customer(slug="lojas", name="Lojas", domains=["lojas.example"], plan="standard",
                  contacts=[("bia@lojas.example", "Bia", True)])
    with time_machine.travel(MONDAY_9_BRT, tick=False):
        portal_ticket("medium")
        portal_ticket("high", email="bia@lojas.example")  # Support Standard: 12x5
        run_worker()
    assert Page.objects.count() == 0
    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_rota", [True, False])
def test_a_bulk_intake_pages_for_each_new_high_ticket_as_single_openings_do(
    receiver, people, request, with_rota
):
    if with_rota:
        request.getfixturevalue("weekly")
    make_customer()  # Gold: 24x7
    make_customer(slug="lojas", name="Lojas", domains=["lojas.example"], plan="standard",
                  contacts=[("bia@lojas.example", "Bia", True)])
    asked = [("ana@acme.example", "high"), ("ana@acme.example", "medium"),
             ("bia@lojas.example", "high"), ("ana@acme.example", "high")]
    with time_machine.travel(brt(10, 3), tick=False):  # Tuesday 03:00 of Bob's week
        results = receive_many([
            InboundRequest(channel="portal", contact=contact(email), subject=f"Down {n}",
                           body_text="x", requested_severity=severity)
            for n, (email, severity) in enumerate(asked)
        ])
        run_worker()
    paged = [results[0].ticket.number, results[3].ticket.number]  # Gold and High only
    pages = Page.objects.order_by("ticket__number")
    assert [page.ticket.number for page in pages] == paged
    if with_rota:
        assert [a.user.name for page in pages for a in page.attempts.all()] == ["Bob", "Bob"]
        on_call = [m for m in mail.outbox if m.subject.startswith("On call")]
        assert sorted(m.subject for m in on_call) == [f"On call: High ticket #{n}" for n in paged]
        assert sorted(json.loads(body)["ticket"]["number"] for _, body in receiver.requests) == paged
    else:
        assert [page.outcome for page in pages] == ["nobody", "nobody"]
        told = Notification.objects.filter(kind="unacknowledged").order_by("ticket__number")
        assert [(n.recipient.name, n.ticket.number) for n in told] == [("Sue", n) for n in paged]


@pytest.mark.django_db(transaction=True)
def test_a_failing_webhook_is_retried_with_backoff(receiver, weekly, people):
    make_customer()
    receiver.statuses = [500, 503]
    with time_machine.travel(brt(10, 3), tick=False) as traveller:
        portal_ticket("high")
        run_worker()
        delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("queued", 1, "HTTP 500")
        traveller.shift(timedelta(seconds=29))
        run_worker()
        assert WebhookDelivery.objects.get().attempts == 1  # not before its retry time
        traveller.shift(timedelta(seconds=1))
        run_worker()
        assert WebhookDelivery.objects.get().attempts == 2  # 503: again in a minute
        traveller.shift(timedelta(minutes=1))
        run_worker()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert len(receiver.requests) == 3
    assert len({body for _, body in receiver.requests}) == 1  # the same signed body each time


@pytest.mark.django_db(transaction=True)
def test_nobody_on_call_tells_the_supervisors(receiver, people):
    make_customer()
    with time_machine.travel(brt(10, 3), tick=False):
        ticket = portal_ticket("high")
    page = Page.objects.get(ticket=ticket)
    assert page.outcome == "nobody"
    assert Notification.objects.get(kind="unacknowledged").recipient == people["sue"]


@pytest.mark.django_db(transaction=True)
def test_a_ticket_raised_to_high_on_a_24x7_plan_pages_once(receiver, weekly, people):
    make_customer()  # Gold: 24x7
    with time_machine.travel(brt(10, 3), tick=False):  # Tuesday 03:00 of Bob's week
        ticket = portal_ticket("medium", subject="Refunds slow")
        run_worker()
        assert Page.objects.count() == 0
        actions.change_severity(ticket=ticket, severity="high", reason="all refunds failing now",
                                actor=people["ana"])
        run_worker()
        page = Page.objects.get(ticket=ticket)
        assert [a.user.name for a in page.attempts.all()] == ["Bob"]
        actions.change_severity(ticket=ticket, severity="medium", reason="workaround found",
                                actor=people["ana"])
        actions.change_severity(ticket=ticket, severity="high", reason="workaround stopped working",
                                actor=people["ana"])
        run_worker()
    assert Page.objects.filter(ticket=ticket).count() == 1
    assert len(receiver.requests) == 1
