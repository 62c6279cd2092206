from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from supportdesk.accounts import actions as account_actions
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets import actions
from supportdesk.tickets.attachments import NewAttachment

pytestmark = pytest.mark.django_db

# Tuesday 2025-03-11 10:00 in São Paulo.
TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


@pytest.fixture
def acme():
    account = make_customer(
        contacts=(("ana@acme.example", "Ana Lima", True), ("bruno@acme.example", "Bruno Reis", False))
    )
    login_for("ana@acme.example")
    login_for("bruno@acme.example")
    return account


@pytest.fixture
def globex():
    account = make_customer(
        slug="globex", name="Globex", domains=("globex.example",),
        contacts=(("gina@globex.example", "Gina", True),),
    )
    login_for("gina@globex.example")
    return account


def signed_in(client, email):
    client.post(reverse("web:signin"), {"email": email, "password": PASSWORD})
    return client


def open_portal_ticket(email, *, subject="Checkout is down", severity="high", files=()):
    return receive(
        InboundRequest(
            channel="portal", subject=subject, body_text="It fails since 9:00.",
            contact=contact(email), requested_severity=severity, attachments=list(files),
        )
    ).ticket


def test_a_point_of_contact_opens_a_ticket_and_is_promised_a_first_response(client, acme):
    signed_in(client, "ana@acme.example")
    page = client.get(reverse("portal:new_ticket"))
    assert "business operations stopped" in page.content.decode()  # SPEC §3 explained
    response = client.post(
        reverse("portal:new_ticket"),
        {
            "subject": "Checkout is down",
            "severity": "high",
            "description": "Every payment fails since 9:00.",
            "attachments": [SimpleUploadedFile("error log.txt", b"Traceback ...", "text/plain")],
        },
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200
    # Gold, High via portal: 30 min on 24x7 -> 10:30 São Paulo time.
    assert "Ticket #1 is open. First response by Tue 11 Mar 2025, 10:30 America/Sao_Paulo." in html
    assert "error log.txt" in html


def test_other_contacts_are_told_who_their_points_of_contact_are(client, acme):
    signed_in(client, "bruno@acme.example")
    response = client.get(reverse("portal:new_ticket"))
    html = response.content.decode()
    assert response.status_code == 403
    assert "Only Acme's points of contact can open tickets." in html
    assert "ana@acme.example" in html
    refused = client.post(
        reverse("portal:new_ticket"),
        {"subject": "x", "severity": "low", "description": "y"},
    )
    assert refused.status_code == 403
    from supportdesk.tickets.models import Ticket

    assert not Ticket.objects.exists()


def test_every_contact_reads_the_accounts_tickets_but_never_internal_notes(client, acme):
    ticket = open_portal_ticket("ana@acme.example")
    sam = make_agent()
    actions.add_internal_note(ticket=ticket, author=sam, body_text="Customer is on old version")
    actions.add_public_reply(ticket=ticket, author=sam, body_text="We are looking into it.")
    signed_in(client, "bruno@acme.example")
    listing = client.get(reverse("portal:tickets")).content.decode()
    assert "Checkout is down" in listing
    detail = client.get(reverse("portal:ticket", args=[ticket.number])).content.decode()
    assert "We are looking into it." in detail
    assert "old version" not in detail


def test_a_contact_cannot_see_another_accounts_ticket(client, acme, globex):
    theirs = open_portal_ticket("gina@globex.example")
    signed_in(client, "ana@acme.example")
    assert client.get(reverse("portal:ticket", args=[theirs.number])).status_code == 404
    assert client.post(reverse("portal:reply", args=[theirs.number]), {"body": "hi"}).status_code == 404
    assert "Checkout is down" not in client.get(reverse("portal:tickets")).content.decode()


def test_a_contact_replies_with_an_attachment(client, acme):
    ticket = open_portal_ticket("ana@acme.example")
    signed_in(client, "bruno@acme.example")
    response = client.post(
        reverse("portal:reply", args=[ticket.number]),
        {"body": "Here is a screenshot", "attachments": [SimpleUploadedFile("shot.png", b"\x89PNG", "image/png")]},
        follow=True,
    )
    html = response.content.decode()
    assert "Here is a screenshot" in html and "shot.png" in html


def test_attachments_download_only_for_those_who_may_see_the_ticket(client, acme, globex):
    ticket = open_portal_ticket(
        "ana@acme.example", files=[NewAttachment("page.html", b"<script>alert(1)</script>", "text/html")]
    )
    attachment = ticket.messages.get().attachments.get()
    url = reverse("web:attachment", args=[attachment.pk, attachment.original_name])
    signed_in(client, "bruno@acme.example")
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/octet-stream"
    client.post(reverse("web:signout"))
    assert client.get(url).status_code == 404  # anonymous
    signed_in(client, "gina@globex.example")
    assert client.get(url).status_code == 404  # another account's contact


def test_internal_note_attachments_stay_with_the_team(client, acme):
    ticket = open_portal_ticket("ana@acme.example")
    note = actions.add_internal_note(
        ticket=ticket, author=make_agent(), body_text="db dump",
        attachments=[NewAttachment("dump.sql", b"secret")],
    )
    attachment = note.attachments.get()
    signed_in(client, "ana@acme.example")
    assert client.get(reverse("web:attachment", args=[attachment.pk, "dump.sql"])).status_code == 404


def test_a_trial_account_sees_support_standard_terms(client):
    make_customer(slug="trial", name="Trialco", domains=("trialco.example",), plan="standard",
                  status="trial", starts=date(2025, 3, 1), ends=date(2025, 4, 1),
                  contacts=(("tess@trialco.example", "Tess", True),))
    login_for("tess@trialco.example")
    signed_in(client, "tess@trialco.example")
    assert "Trial account: Support Standard terms apply." in client.get(reverse("portal:tickets")).content.decode()
    response = client.post(
        reverse("portal:new_ticket"),
        {"subject": "Question", "severity": "high", "description": "How do I export?"},
        follow=True,
    )
    html = response.content.decode()
    # 1 business day on 12x5 from Tuesday 10:00 -> Wednesday 10:00.
    assert "First response by Wed 12 Mar 2025, 10:00 America/Sao_Paulo." in html
    assert "Support Standard terms apply" in html


def test_an_expired_account_is_told_why_there_is_no_sla_and_whom_to_contact(client):
    manager = make_agent("maria@desk.example", name="Maria Costa")
    account = make_customer(slug="old", name="Oldco", domains=("oldco.example",), plan="gold",
                            starts=date(2021, 1, 1), ends=date(2024, 1, 1),
                            contacts=(("otto@oldco.example", "Otto", True),))
    account_actions.update_account(account=account, account_manager=manager)
    login_for("otto@oldco.example")
    signed_in(client, "otto@oldco.example")
    listing = client.get(reverse("portal:tickets")).content.decode()
    assert "subscription has expired" in listing and "maria@desk.example" in listing
    response = client.post(
        reverse("portal:new_ticket"),
        {"subject": "Help", "severity": "high", "description": "Down"},
        follow=True,
    )
    html = response.content.decode()
    assert "Ticket #1 is open." in html
    assert "no guaranteed first-response time" in html and "maria@desk.example" in html


def test_a_removed_contacts_session_ends_at_the_next_request(client, acme):
    signed_in(client, "bruno@acme.example")
    assert client.get(reverse("portal:tickets")).status_code == 200
    account_actions.update_contact(contact=contact("bruno@acme.example"), is_active=False)
    response = client.get(reverse("portal:tickets"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_portal_pages_send_outsiders_away(client, acme):
    ticket = open_portal_ticket("ana@acme.example")
    for url in (reverse("portal:tickets"), reverse("portal:new_ticket"),
                reverse("portal:ticket", args=[ticket.number])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert client.post(reverse("portal:reply", args=[ticket.number]), {"body": "x"}).status_code == 302


def test_staff_are_sent_from_the_portal_to_the_console(client, acme):
    make_agent()
    signed_in(client, "sam@desk.example")
    assert client.get(reverse("portal:tickets"))["Location"] == reverse("console:queue")


def test_the_ticket_list_needs_the_same_queries_for_any_page_size(client, acme, django_assert_max_num_queries):
    for n in range(30):
        open_portal_ticket("ana@acme.example", subject=f"Problem {n}", severity="low")
    signed_in(client, "ana@acme.example")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:tickets"))
    assert response.content.decode().count('class="subject"') == 30
