"""The console's Inbound mail pages: every mail visible to the team, the original as a
download, and "Process again" for mail that failed."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.accounts.testing import PASSWORD, login_for, make_agent, make_customer
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.store import RawMail, store_mail
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.tickets.models import Message, Ticket

pytestmark = pytest.mark.django_db

TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
# Not a mail at all: no header, no body, bytes that are not text.
GARBAGE = b"\x00\xff\xfe garbage \x80\x81 that is not a mail\r\n\x1b[31m<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def acme():
    return make_customer(contacts=(("ana@acme.example", "Ana Lima", True),))


@pytest.fixture
def sam():
    return make_agent("sam@desk.example", name="Sam Souza")


def signed_in(client, email):
    client.post(reverse("web:signin"), {"email": email, "password": PASSWORD})
    return client


def failed_mail(raw: bytes, error: str = "OperationalError: database is locked") -> InboundMail:
    """A stored mail in the state a database failure leaves it (`process_mail` could not
    even file it for review): set directly, since failing the database on purpose would
    fail the test's own queries too."""
    row = store_mail(RawMail(raw=raw, route="smtp", envelope_sender="ana@acme.example"))
    InboundMail.objects.filter(pk=row.pk).update(status=InboundMail.Status.FAILED, error=error)
    return row


def text_of(response) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()))


def test_the_team_sees_every_inbound_mail_newest_first_with_what_became_of_it(client, acme, sam):
    created = ingest(make_mail(subject="Export is broken"))
    ingest(make_mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail Returned",
                     extra="Return-Path: <>"))
    failed = failed_mail(make_mail(subject="Invoice question"))
    page = signed_in(client, sam.email).get(reverse("console:mail_list"))
    assert page.status_code == 200
    text = text_of(page)
    # newest first: the failed one arrived last
    assert text.index("Invoice question") < text.index("Undelivered Mail") < text.index("Export is broken")
    assert f"#{created.ticket}" in text and "Ticket opened" in text
    assert "Ignored" in text and "automatic mail (bounce)" in text
    # the failed mail was never read: its sender and subject come from its own headers
    assert "Failed" in text and "OperationalError: database is locked" in text
    assert "ana@acme.example" in text
    assert "Tue 11 Mar 2025, 10:00 America/Sao_Paulo" in text  # the viewer's zone, named
    markup = page.content.decode()
    assert reverse("console:mail", args=[failed.pk]) in markup
    assert reverse("console:ticket", args=[created.ticket]) in markup


def test_the_tabs_sort_mail_by_what_needs_a_person(client, acme, sam, frozen_time):
    waiting = store_mail(RawMail(raw=make_mail(subject="Left stored"), route="smtp"))
    fresh_time = TUESDAY_10 + timedelta(minutes=10)
    frozen_time.move_to(fresh_time)
    fresh = store_mail(RawMail(raw=make_mail(subject="Just arrived"), route="smtp"))
    failed = failed_mail(make_mail(subject="Broken on the way"))
    review = ingest(make_mail(sender='"ana@acme.example" <eve@evil.example>', subject="Spoof"))
    first = ingest(make_mail(sender="bob@gmail.com", subject="Twice", message_id="<twice@x>"))
    twice = ingest(make_mail(sender="bob@gmail.com", subject="Twice", message_id="<twice@x>"))
    bounce = ingest(make_mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail",
                              extra="Return-Path: <>"))
    assert (review.action, twice.action, bounce.action) == ("review", "duplicate", "ignored")
    signed_in(client, sam.email)

    def listed(show):
        response = client.get(reverse("console:mail_list"), {"show": show})
        return {row.mail.pk for row in response.context["result"].rows}

    assert listed("all") == {waiting.pk, fresh.pk, failed.pk, review.inbound_id, first.inbound_id,
                             twice.inbound_id, bounce.inbound_id}
    assert listed("attention") == {waiting.pk, failed.pk, review.inbound_id}
    assert listed("failed") == {failed.pk}
    assert listed("review") == {review.inbound_id}
    assert listed("ignored") == {bounce.inbound_id}
    assert listed("duplicate") == {twice.inbound_id}
    page = client.get(reverse("console:mail_list"), {"show": "attention"})
    assert page.context["counts"] == {"attention": 3, "failed": 1}
    assert "not processed yet" in text_of(page)  # the one left stored for 10 minutes


def test_an_unparseable_mail_is_listed_and_its_original_downloads_byte_identical(client, acme, sam):
    outcome = ingest(GARBAGE)
    assert outcome.action == "review"  # a person gets to see it
    signed_in(client, sam.email)
    listed = text_of(client.get(reverse("console:mail_list")))
    assert f"#{outcome.ticket}" in listed and "Filed for review" in listed
    detail = client.get(reverse("console:mail", args=[outcome.inbound_id]))
    assert "Download the original (.eml)" in text_of(detail)
    assert "<script>alert(1)</script>" not in detail.content.decode()
    download = client.get(reverse("console:mail_original", args=[outcome.inbound_id]))
    assert download.status_code == 200
    assert download.content == GARBAGE
    assert download["Content-Type"] == "message/rfc822"
    assert download["Content-Disposition"] == f'attachment; filename="inbound-mail-{outcome.inbound_id}.eml"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_the_detail_page_shows_the_headers_that_matter_and_the_outcome(client, acme, sam):
    outcome = ingest(make_mail(subject="Export is broken", extra=(
        "Received: from mx1.example by mx.desk.example\n"
        "Reply-To: Ana <ana.lima@acme.example>\n"
        "X-Spam-Score: 0.1"
    )))
    text = text_of(signed_in(client, sam.email).get(reverse("console:mail", args=[outcome.inbound_id])))
    for expected in ("From Ana <ana@acme.example>", "Subject Export is broken",
                     "Reply-To Ana <ana.lima@acme.example>", "Message-ID <",
                     "1 Received header", "Ticket opened", f"#{outcome.ticket} Export is broken",
                     "acme.example is registered on account Acme"):
        assert expected in text, expected
    assert "X-Spam-Score" not in text
    assert "Process again" not in text  # processed: nothing to redo


def test_process_again_turns_a_failed_mail_into_one_ticket_however_often_it_is_pressed(client, acme, sam):
    failed = failed_mail(make_mail(subject="Invoice question"))
    signed_in(client, sam.email)
    detail = client.get(reverse("console:mail", args=[failed.pk]))
    assert "Process again" in text_of(detail) and "OperationalError" in text_of(detail)
    url = reverse("console:mail_process_again", args=[failed.pk])
    first = client.post(url, follow=True)
    ticket = Ticket.objects.get()
    assert f"Processed again. Outcome: Ticket opened, ticket #{ticket.number}." in text_of(first)
    second = client.post(url, follow=True)
    assert "This mail had already been processed." in text_of(second)
    assert Ticket.objects.count() == 1
    failed.refresh_from_db()
    assert (failed.status, failed.action, failed.ticket_id, failed.error) == ("processed", "created", ticket.pk, "")
    # who did it, in the ticket's trail (an internal note: the customer never sees it)
    note = Message.objects.get(ticket=ticket, kind=Message.Kind.NOTE)
    assert note.author_user == sam
    assert f"Inbound mail {failed.pk} was processed again by Sam Souza" in note.body_text
    assert "database is locked" in note.body_text


def test_process_again_is_offered_for_mail_left_stored_too_long_only(client, acme, sam, frozen_time):
    stored = store_mail(RawMail(raw=make_mail(subject="Waiting"), route="smtp"))
    signed_in(client, sam.email)
    assert "Process again" not in text_of(client.get(reverse("console:mail", args=[stored.pk])))
    frozen_time.move_to(TUESDAY_10 + timedelta(minutes=30))
    page = text_of(client.get(reverse("console:mail", args=[stored.pk])))
    assert "This mail has waited to be processed since Tue 11 Mar 2025, 10:00" in page
    client.post(reverse("console:mail_process_again", args=[stored.pk]))
    stored.refresh_from_db()
    assert stored.status == "processed" and stored.action == "created"


def test_the_mail_list_needs_the_same_queries_for_any_page_size(client, acme, sam):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, sam.email)

    def queries(show):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("console:mail_list"), {"show": show})
        return len(captured), len(response.context["result"].rows)

    ingest(make_mail(subject="Only one"))
    few = {show: queries(show) for show in ("all", "attention")}
    for n in range(30):
        ingest(make_mail(subject=f"Problem {n}"))
    for n in range(15):
        failed_mail(make_mail(subject=f"Lost {n}"))
    ingest(GARBAGE)
    many = {show: queries(show) for show in ("all", "attention")}
    assert few == {"all": (few["all"][0], 1), "attention": (few["attention"][0], 0)}
    assert many == {"all": (few["all"][0], 47), "attention": (few["all"][0], 16)}
    # session, user, the pager's COUNT, the page's ids, their rows, the two tab counts
    assert few["all"][0] <= 7


def test_fifty_mails_to_a_page(client, acme, sam):
    for n in range(52):
        store_mail(RawMail(raw=make_mail(subject=f"Mail {n}"), route="smtp"))
    signed_in(client, sam.email)
    first = client.get(reverse("console:mail_list"))
    assert len(first.context["result"].rows) == 50
    assert "Mail 51" in text_of(first) and "Mail 1 " not in text_of(first)
    second = client.get(reverse("console:mail_list"), {"show": "all", "page": 2})
    assert [row.subject for row in second.context["result"].rows] == ["Mail 1", "Mail 0"]


def test_customers_and_strangers_never_see_inbound_mail(client, acme, sam):
    outcome = ingest(make_mail())
    failed = failed_mail(make_mail(subject="Other"))
    login_for("ana@acme.example")
    get_urls = [reverse("console:mail_list"), reverse("console:mail", args=[outcome.inbound_id]),
                reverse("console:mail_original", args=[outcome.inbound_id])]
    post_url = reverse("console:mail_process_again", args=[failed.pk])
    for url in get_urls:  # anonymous: to sign-in
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/signin/"), url
    assert client.post(post_url)["Location"].startswith("/signin/")
    signed_in(client, "ana@acme.example")  # a customer: never the console
    for url in get_urls:
        assert client.get(url)["Location"] == reverse("portal:tickets"), url
    assert client.post(post_url).status_code == 404
    failed.refresh_from_db()
    assert failed.status == "failed" and Ticket.objects.count() == 1
    client.post(reverse("web:signout"))
    signed_in(client, sam.email)
    assert client.get(reverse("console:mail", args=[999999])).status_code == 404
    assert client.get(reverse("console:mail_original", args=[999999])).status_code == 404
    assert client.get(reverse("console:mail_process_again", args=[failed.pk])).status_code == 405


def test_supervisors_and_specialists_find_it_in_the_navigation(client, sam):
    boss = make_agent("boss@desk.example", role=User.Role.SUPERVISOR, name="Bia")
    for person in (sam, boss):
        markup = signed_in(client, person.email).get(reverse("console:queue")).content.decode()
        assert f'href="{reverse("console:mail_list")}"' in markup
        client.post(reverse("web:signout"))


def test_the_mail_pages_are_translated(client, acme, sam):
    failed = failed_mail(make_mail(subject="Invoice question"))
    signed_in(client, sam.email)
    listed = text_of(client.get(reverse("console:mail_list"), HTTP_ACCEPT_LANGUAGE="pt-BR"))
    for expected in ("E-mails recebidos", "Precisam de atenção", "Duplicados", "Falhou", "Recebido"):
        assert expected in listed, expected
    detail = text_of(client.get(reverse("console:mail", args=[failed.pk]), HTTP_ACCEPT_LANGUAGE="pt-BR"))
    for expected in ("Processar de novo", "Baixar o original (.eml)", "Cabeçalhos"):
        assert expected in detail, expected
