"""A specialist finds a mail that failed in a real browser and processes it again."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from supportdesk.accounts.testing import PASSWORD, make_agent, make_customer
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.store import RawMail, store_mail
from supportdesk.intake.email.tests.helpers import ingest, make_mail
from supportdesk.tickets.models import Ticket
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def mailbox():
    make_agent("sam@desk.example", name="Sam Souza")
    make_customer(name="Acme Payments", contacts=(("ana@acme.example", "Ana Lima", True),))
    ingest(make_mail(subject="Checkout returns error 502"))
    ingest(make_mail(sender="MAILER-DAEMON@mx.example", subject="Undelivered Mail Returned to Sender",
                     extra="Return-Path: <>"))
    ingest(b"\x00\xff not a mail <script>alert(1)</script>")
    row = store_mail(RawMail(raw=make_mail(subject="Invoice PDF shows the wrong VAT number"), route="smtp"))
    # the state a database failure leaves a mail in (process_mail could not even file it)
    InboundMail.objects.filter(pk=row.pk).update(
        status=InboundMail.Status.FAILED, error="OperationalError: database is locked"
    )
    return row


def test_a_specialist_processes_a_failed_mail_again(page, mailbox):
    sign_in(page, "sam@desk.example", PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbound mail").click()
    expect(page.get_by_role("heading", name="Inbound mail")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_text("OperationalError: database is locked")).to_be_visible()
    screenshot(page, "console-inbound-mail")
    page.get_by_role("link", name=re.compile("Needs attention")).click()
    expect(page.locator("tbody tr")).to_have_count(2)  # the failed one and the unreadable one (review)
    page.get_by_role("link", name="Invoice PDF shows the wrong VAT number").click()
    expect(page.get_by_role("link", name="Download the original (.eml)")).to_be_visible()
    page.get_by_role("button", name="Process again").click()
    expect(page.get_by_text(re.compile(r"Processed again\. Outcome: Ticket opened, ticket #\d+\."))).to_be_visible()
    expect(page.get_by_role("button", name="Process again")).to_have_count(0)
    ticket = Ticket.objects.get(subject="Invoice PDF shows the wrong VAT number")
    expect(page.get_by_role("link", name=f"#{ticket.number} Invoice PDF shows the wrong VAT number")).to_be_visible()
