"""A specialist's day in a real browser: answering within the SLA, changing a severity,
logging a hotline call; plus screenshots of the console's main pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from supportdesk.accounts.models import User
from supportdesk.accounts.testing import PASSWORD, contact, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets.models import Ticket
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk():
    sam = make_agent("sam@desk.example", name="Sam Souza")
    make_customer(name="Acme Payments", plan="gold",
                  contacts=(("ana@acme.example", "Ana Lima", True),),
                  phones={"ana@acme.example": "+55 11 91234-5678"})
    make_customer(slug="orbit", name="Orbit Logistics", domains=("orbit.example",), plan="standard",
                  starts=date(2024, 1, 1), contacts=(("olga@orbit.example", "Olga Ferreira", True),))
    make_customer(slug="nimbus", name="Nimbus Health", domains=("nimbus.example",), plan="mission-critical",
                  starts=date(2024, 6, 1), contacts=(("nina@nimbus.example", "Nina Prado", True),))
    for email, subject, severity in (
        ("ana@acme.example", "Checkout returns error 502", "high"),
        ("olga@orbit.example", "How do I add a second warehouse?", "low"),
        ("nina@nimbus.example", "Reports take 40 s to load", "medium"),
        ("ana@acme.example", "Invoice PDF shows the wrong VAT number", "low"),
    ):
        receive(InboundRequest(channel="portal", subject=subject, body_text=f"{subject}. Details inside.",
                               contact=contact(email), requested_severity=severity))
    receive(InboundRequest(channel="email", subject="Cannot log in", body_text="Help please",
                           sender_email="someone@gmail.com", sender_name="Someone"))
    return sam


def test_a_specialist_answers_within_the_sla(page, desk):
    sign_in(page, "sam@desk.example", PASSWORD)
    expect(page.get_by_role("heading", name="Queues")).to_be_visible()
    screenshot(page, "console-queue")
    page.get_by_label("Text").fill("warehouse")  # live search through htmx, no reload
    expect(page.locator("#queue-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="How do I add a second warehouse?")).to_be_visible()
    assert "text=warehouse" in page.url
    page.get_by_label("Text").fill("")
    expect(page.locator("#queue-table tbody tr")).to_have_count(4)
    page.get_by_role("link", name="Checkout returns error 502").click()
    expect(page.get_by_text("Gold, active, High via portal: 30 min on 24x7")).to_be_visible()
    page.get_by_label("Internal note").fill("Gateway team paged.")
    page.get_by_role("button", name="Add the note").click()
    page.get_by_label("Reply to the customer").fill("We see it too and are rolling back the gateway.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("First response recorded: within the SLA.")).to_be_visible()
    screenshot(page, "console-ticket")
    ticket = Ticket.objects.get(subject="Checkout returns error 502")
    assert ticket.first_response_met is True


def test_a_specialist_changes_a_severity_with_a_reason(page, desk):
    ticket = Ticket.objects.get(subject="Reports take 40 s to load")
    before = ticket.first_response_due
    sign_in(page, "sam@desk.example", PASSWORD)
    page.goto(f"/console/tickets/{ticket.number}/")
    page.locator("#id_severity").select_option("high")
    page.locator("#id_reason").fill("All clinics are blocked")
    page.get_by_role("button", name="Change severity").click()
    expect(page.get_by_text(re.compile("First response now due by"))).to_be_visible()
    expect(page.get_by_text("All clinics are blocked")).to_be_visible()
    ticket.refresh_from_db()
    assert ticket.severity == "high" and ticket.first_response_due < before


def test_a_specialist_logs_a_hotline_call(page, desk):
    sign_in(page, "sam@desk.example", PASSWORD)
    page.get_by_role("link", name="Log a call").first.click()
    page.get_by_label("Caller's number").fill("+55 11 91234-5678")
    page.get_by_label("Caller's name").fill("Ana Lima")
    page.get_by_label("Subject").fill("Payments down for all stores")
    page.get_by_label("Your notes of the call").fill("Ana reports a total outage since 10:05; no workaround.")
    page.get_by_role("button", name="Record the call").click()
    expect(page.get_by_text(re.compile(r"Call recorded as ticket #\d+: High, first response due by"))).to_be_visible()
    screenshot(page, "console-hotline")
    page.get_by_label("Caller's number").fill("+55 21 99999-0000")
    page.get_by_label("Your notes of the call").fill("Caller would not give a company name.")
    page.get_by_role("button", name="Record the call").click()
    expect(page.get_by_text("is not the phone number of any contact")).to_be_visible()


def test_supervisor_pages_look_right(page, desk):
    make_agent("bia@desk.example", role=User.Role.SUPERVISOR, name="Bia Nunes")
    sign_in(page, "bia@desk.example", PASSWORD)
    page.get_by_role("link", name="Policy").click()
    expect(page.get_by_role("cell", name="Mission Critical")).to_be_visible()
    high = page.get_by_role("columnheader", name="High", exact=True).bounding_box()
    assert high["x"] + high["width"] <= 1280  # the matrix fits a laptop screen, not scrolled off
    screenshot(page, "console-policy")
    page.get_by_role("link", name="Accounts").click()
    screenshot(page, "console-accounts")
    page.get_by_role("link", name="Acme Payments").click()
    screenshot(page, "console-account")
