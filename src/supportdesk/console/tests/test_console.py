from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.outbound.queue import deliver_due
from supportdesk.tickets import actions
from supportdesk.tickets.models import Ticket

pytestmark = pytest.mark.django_db

TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme():
    return make_customer(
        contacts=(("ana@acme.example", "Ana Lima", True),),
        phones={"ana@acme.example": "+55 11 91234-5678"},
    )


@pytest.fixture
def sam():
    return make_agent("sam@desk.example", name="Sam Souza")


def signed_in(client, email):
    client.post(reverse("web:signin"), {"email": email, "password": PASSWORD})
    return client


def portal_ticket(email="ana@acme.example", *, subject="Checkout is down", severity="high"):
    return receive(
        InboundRequest(channel="portal", subject=subject, body_text="Payments fail.",
                       contact=contact(email), requested_severity=severity)
    ).ticket


def test_the_ticket_view_explains_the_sla_decision_in_words(client, acme, sam):
    ticket = portal_ticket()
    page = signed_in(client, sam.email).get(reverse("console:ticket", args=[ticket.number]))
    html = page.content.decode()
    assert "Gold, active, High via portal: 30 min on 24x7" in html
    assert "Tue 11 Mar 2025, 10:30" in html


def test_a_public_reply_records_the_first_response_within_the_sla(client, acme, sam):
    ticket = portal_ticket()
    signed_in(client, sam.email)
    response = client.post(
        reverse("console:reply", args=[ticket.number]), {"body": "We are on it."}, follow=True
    )
    assert "First response recorded: within the SLA." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.first_response_met is True


def test_internal_notes_show_in_the_console_but_do_not_answer(client, acme, sam):
    ticket = portal_ticket()
    signed_in(client, sam.email)
    response = client.post(reverse("console:note", args=[ticket.number]), {"body": "Check the logs"}, follow=True)
    assert "Check the logs" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None


def test_a_severity_change_needs_a_reason_and_recomputes_the_due_time(client, acme, sam):
    ticket = portal_ticket(severity="low")
    signed_in(client, sam.email)
    refused = client.post(reverse("console:severity", args=[ticket.number]), {"severity": "high", "reason": ""})
    assert refused.status_code == 400
    response = client.post(
        reverse("console:severity", args=[ticket.number]),
        {"severity": "high", "reason": "Production is down"}, follow=True,
    )
    html = response.content.decode()
    assert "First response now due by Tue 11 Mar 2025, 10:30 America/Sao_Paulo." in html
    assert "Production is down" in html  # in the audit trail
    ticket.refresh_from_db()
    assert ticket.severity == "high"


def test_assigning_and_changing_status(client, acme, sam):
    ticket = portal_ticket()
    signed_in(client, sam.email)
    client.post(reverse("console:assign", args=[ticket.number]), {"assignee": "me"})
    client.post(reverse("console:status", args=[ticket.number]), {"status": "pending", "reason": ""})
    ticket.refresh_from_db()
    assert ticket.assignee == sam and ticket.status == "pending"
    mine = client.get(reverse("console:queue") + "?queue=mine").content.decode()
    assert "Checkout is down" in mine


def test_moving_an_unidentified_ticket_to_an_account_gives_it_the_plans_sla(client, acme, sam):
    ticket = receive(
        InboundRequest(channel="email", subject="Help", body_text="hi", sender_email="ana@gmail.com")
    ).ticket
    assert ticket.queue == "unidentified" and ticket.first_response_due is None
    signed_in(client, sam.email)
    page = client.get(reverse("console:ticket", args=[ticket.number])).content.decode()
    assert "Move to an account" in page
    client.post(reverse("console:move", args=[ticket.number]),
                {"account": "acme", "requester": "ana@acme.example", "reason": "Ana called"})
    ticket.refresh_from_db()
    assert ticket.queue == "customer" and ticket.account == acme
    assert ticket.first_response_due == TUESDAY_10 + timedelta(hours=6)  # Gold Medium


def test_queues_put_the_most_urgent_first_and_show_time_left_on_the_tickets_clock(client, sam):
    make_customer(slug="std", name="Standardco", domains=("std.example",), plan="standard",
                  starts=date(2025, 1, 1), contacts=(("sue@std.example", "Sue", True),))
    make_customer(contacts=(("ana@acme.example", "Ana", True),))
    with time_machine.travel(datetime(2025, 3, 10, 22, 0, tzinfo=UTC), tick=False):  # Mon 19:00 BRT
        standard = portal_ticket("sue@std.example", subject="Standard question", severity="low")
    gold = portal_ticket("ana@acme.example", subject="Gold outage", severity="high")
    signed_in(client, sam.email)
    response = client.get(reverse("console:queue"))
    html = response.content.decode()
    assert html.index("Gold outage") < html.index("Standard question")
    # Opened Mon 19:00 on 12x5, due Tue 19:00; at Tue 10:00 3 h were used (Mon 19-20, Tue 08-10):
    # 9 h left on its clock, though the night went by.
    assert standard.first_response_due == datetime(2025, 3, 11, 22, 0, tzinfo=UTC)
    rows = {row.ticket.number: row for row in response.context["result"].rows}
    assert rows[standard.number].clock.left == timedelta(hours=9)
    assert rows[gold.number].clock.left == timedelta(minutes=30)
    assert "9 h 00 min" in html and "30 min" in html


def test_breaching_soon_and_breached_queues(client, acme, sam, frozen_time):
    ticket = portal_ticket()
    signed_in(client, sam.email)
    assert "Checkout is down" in client.get(reverse("console:queue") + "?queue=breaching").content.decode()
    frozen_time.move_to(TUESDAY_10 + timedelta(minutes=45))
    html = client.get(reverse("console:queue") + "?queue=breached").content.decode()
    assert "Checkout is down" in html and "15 min overdue" in html
    actions.add_public_reply(ticket=ticket, author=sam, body_text="late")
    assert "Checkout is down" not in client.get(reverse("console:queue") + "?queue=breached").content.decode()


def test_filters_find_tickets_by_account_requester_number_and_text(client, acme, sam):
    first = portal_ticket(subject="Checkout is down")
    make_customer(slug="globex", name="Globex", domains=("globex.example",),
                  contacts=(("gina@globex.example", "Gina", True),))
    portal_ticket("gina@globex.example", subject="Reports are slow", severity="medium")
    signed_in(client, sam.email)
    url = reverse("console:queue")

    def subjects(**query):
        response = client.get(url, query)
        return {row.ticket.subject for row in response.context["result"].rows}

    assert subjects(account="globex") == {"Reports are slow"}
    assert subjects(requester="ana@") == {"Checkout is down"}
    assert subjects(number=first.number) == {"Checkout is down"}
    assert subjects(text="payments fail") == {"Checkout is down", "Reports are slow"}
    assert subjects(text="slow") == {"Reports are slow"}


def test_the_queue_page_needs_the_same_queries_for_any_page_size(client, acme, sam, django_assert_max_num_queries):
    for n in range(40):
        portal_ticket(subject=f"Problem {n}", severity="medium")
    signed_in(client, sam.email)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("console:queue"))
    assert len(response.context["result"].rows) == 40


def test_a_hotline_call_from_a_known_number_opens_a_high_ticket(client, acme, sam):
    signed_in(client, sam.email)
    response = client.post(reverse("console:log_call"), {"phone": "+55 11 91234-5678", "notes": "Site down", "caller_name": ""})
    html = response.content.decode()
    assert "Call recorded as ticket #1" in html and "first response due by" in html
    ticket = Ticket.objects.get()
    assert ticket.severity == "high" and ticket.account == acme and ticket.channel == "hotline"


def test_a_hotline_call_from_an_unknown_number_is_recorded_without_sla(client, acme, sam):
    signed_in(client, sam.email)
    html = client.post(reverse("console:log_call"), {"phone": "+55 21 99999-0000", "notes": "Who?"}).content.decode()
    assert "no SLA" in html and "is not the phone number of any contact" in html
    assert Ticket.objects.get().queue == "unidentified"


def test_a_hotline_call_on_a_plan_without_hotline_says_so(client, sam):
    make_customer(slug="std", name="Standardco", domains=("std.example",), plan="standard",
                  starts=date(2025, 1, 1), contacts=(("sue@std.example", "Sue", True),),
                  phones={"sue@std.example": "+55 11 98888-7777"})
    signed_in(client, sam.email)
    html = client.post(reverse("console:log_call"), {"phone": "11 98888-7777", "notes": "Urgent"}).content.decode()
    assert "does not include the hotline" in html
    assert Ticket.objects.get().first_response_due is None


def test_the_policy_page_shows_the_plan_matrix(client, sam):
    html = signed_in(client, sam.email).get(reverse("console:policy")).content.decode()
    for text in ("Mission Critical", "Support Standard", "4 business days", "30 min", "12x5", "until 2022-07-01"):
        assert text in html


def test_supervisors_cannot_sell_a_legacy_plan_on_a_new_subscription(client):
    boss = make_agent("boss@desk.example", role=User.Role.SUPERVISOR, name="Bia")
    signed_in(client, boss.email)
    client.post(reverse("console:account_new"), {"slug": "newco", "name": "Newco", "domains": "newco.example"})
    response = client.post(
        reverse("console:subscription_add", args=["newco"]),
        {"plan": "gold", "status": "active", "starts": "2025-03-01", "ends": "", "note": ""},
    )
    assert response.status_code == 400
    assert "2022-07-01" in response.content.decode()
    ok = client.post(
        reverse("console:subscription_add", args=["newco"]),
        {"plan": "plus", "status": "active", "starts": "2025-03-01", "ends": "", "note": ""}, follow=True,
    )
    assert "Subscription recorded." in ok.content.decode()


def test_supervisors_add_and_invite_contacts(client, acme, django_capture_on_commit_callbacks, mailoutbox):
    boss = make_agent("boss@desk.example", role=User.Role.SUPERVISOR, name="Bia")
    signed_in(client, boss.email)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("console:contact_add", args=["acme"]),
                    {"email": "carl@acme.example", "name": "Carl", "phone": "", "is_point_of_contact": "on", "invite": "on"})
    assert contact("carl@acme.example").is_point_of_contact
    deliver_due(early=True)  # what the worker does
    assert mailoutbox[-1].to == ["carl@acme.example"] and "/invitation/" in mailoutbox[-1].body


def test_console_pages_refuse_outsiders(client, acme, sam):
    ticket = portal_ticket()
    login_for("ana@acme.example")
    get_urls = [reverse("console:queue"), reverse("console:ticket", args=[ticket.number]),
                reverse("console:log_call"), reverse("console:policy"), reverse("console:accounts"),
                reverse("console:account", args=["acme"]), reverse("console:specialists")]
    post_urls = [reverse(f"console:{name}", args=[ticket.number]) for name in ("reply", "note", "severity", "assign", "status", "move")]
    for url in get_urls + post_urls:  # anonymous: to sign-in
        response = client.post(url) if url in post_urls else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/"), url
    signed_in(client, "ana@acme.example")  # a customer: never the console
    for url in get_urls:
        assert client.get(url)["Location"] == reverse("portal:tickets"), url
    for url in post_urls:
        assert client.post(url, {"body": "x", "severity": "low", "reason": "x", "status": "solved"}).status_code == 404, url
    client.post(reverse("web:signout"))
    signed_in(client, sam.email)  # a specialist: not the supervisors' pages
    for url in (reverse("console:accounts"), reverse("console:account", args=["acme"]), reverse("console:specialists")):
        assert client.get(url).status_code == 404, url


def visible_text(html: str) -> str:
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def a_ticket_that_breached(client, sam, frozen_time):
    from supportdesk.sla.sweep import sweep

    ticket = portal_ticket(severity="medium")
    signed_in(client, sam.email)
    client.post(reverse("console:assign", args=[ticket.number]), {"assignee": "me"})
    client.post(reverse("console:severity", args=[ticket.number]),
                {"severity": "high", "reason": "Production is down"})
    client.post(reverse("console:note", args=[ticket.number]), {"body": "Check the logs"})
    frozen_time.move_to(TUESDAY_10 + timedelta(minutes=25))
    sweep()  # the warning (75 % of 30 min)
    frozen_time.move_to(TUESDAY_10 + timedelta(minutes=50))
    sweep()  # the breach, at 10:30
    return ticket


def test_the_audit_trail_says_what_happened_in_words(client, acme, sam, frozen_time):
    ticket = a_ticket_that_breached(client, sam, frozen_time)
    text = visible_text(client.get(reverse("console:ticket", args=[ticket.number])).content.decode())
    trail = text[text.index("Audit trail"):]
    assert "Opened in the portal Severity Medium Account Acme" in trail
    assert "First response due Tue 11 Mar 2025, 16:00 America/Sao_Paulo" in trail  # Gold Medium: 6 h
    assert "Assigned to Sam Souza" in trail
    assert "Severity changed from Medium to High — reason: “Production is down”" in trail
    assert "First response due moved to Tue 11 Mar 2025, 10:30 America/Sao_Paulo" in trail
    assert "Target: 30 min on 24x7" in trail
    assert "Internal note added" in trail
    assert "SLA warning" in trail
    assert "SLA breached at Tue 11 Mar 2025, 10:30 America/Sao_Paulo" in trail
    assert "SLA worker" in trail
    for raw in ("opened", "assigned", "internal_note", "severity_changed", "sla_warning", "sla_breached",
                "first_response_due", "sla_terms_plan", "sla_target"):
        assert f"{raw} " not in trail and f"{raw}:" not in trail


def test_the_audit_trail_is_translated(client, acme, sam, frozen_time):
    ticket = a_ticket_that_breached(client, sam, frozen_time)
    page = client.get(reverse("console:ticket", args=[ticket.number]), HTTP_ACCEPT_LANGUAGE="pt-BR")
    trail = visible_text(page.content.decode())
    assert "Aberto pelo portal" in trail
    assert "Atribuído a Sam Souza" in trail
    assert "Severidade alterada de Média para Alta — motivo: “Production is down”" in trail
    assert "Prazo da primeira resposta alterado para" in trail
    assert "Alerta de SLA" in trail
    assert "SLA violado em" in trail
    assert "Nota interna adicionada" in trail
