"""The SLA reports in a real browser: the console's compliance report and an account's
monthly statement in the portal, with a month of demo-like tickets; plus their screenshots."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from playwright.sync_api import expect

from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.sla.tests.shared import brt
from supportdesk.tickets import actions
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTH = "2026-10"


def opened(email: str, subject: str, severity: str, at, *, answer_after: timedelta | None, by=None):
    """A portal ticket opened at `at`, answered `answer_after` later (or never)."""
    with time_machine.travel(at, tick=False):
        ticket = receive(InboundRequest(channel="portal", subject=subject, body_text=f"{subject}.",
                                        contact=contact(email), requested_severity=severity), now=at).ticket
    if answer_after is not None:
        with time_machine.travel(at + answer_after, tick=False):
            actions.add_public_reply(ticket=ticket, author=by, body_text="We are on it.", now=at + answer_after)
    return ticket


@pytest.fixture
def october():
    """A month of tickets for three customers, met and missed on their own clocks."""
    sam = make_agent("sam@desk.example", name="Sam Souza")
    make_customer(name="Acme Payments", plan="gold",
                  contacts=(("ana@acme.example", "Ana Lima", True),))
    make_customer(slug="orbit", name="Orbit Logistics", domains=("orbit.example",), plan="standard",
                  starts=date(2025, 1, 1), contacts=(("olga@orbit.example", "Olga Ferreira", True),))
    make_customer(slug="nimbus", name="Nimbus Health", domains=("nimbus.example",), plan="mission-critical",
                  starts=date(2025, 1, 1), contacts=(("nina@nimbus.example", "Nina Prado", True),))
    for email, subject, severity, at, after in (
        ("ana@acme.example", "Checkout returns error 502", "high", brt(6, 9, month=10), timedelta(minutes=12)),
        ("ana@acme.example", "Refund webhook fires twice", "medium", brt(8, 14, month=10), timedelta(hours=2)),
        ("ana@acme.example", "Card payments declined in Chile", "high", brt(14, 22, month=10),
         timedelta(minutes=48)),
        ("ana@acme.example", "Invoice PDF shows the wrong VAT number", "low", brt(20, 10, month=10),
         timedelta(hours=5)),
        ("ana@acme.example", "Settlement report is missing a day", "medium", brt(27, 16, month=10), None),
        ("olga@orbit.example", "How do I add a second warehouse?", "low", brt(9, 11, month=10),
         timedelta(hours=3)),
        ("olga@orbit.example", "Label printer stopped working", "high", brt(16, 18, month=10),
         timedelta(hours=16)),
        ("nina@nimbus.example", "Reports take 40 s to load", "medium", brt(21, 8, month=10),
         timedelta(minutes=50)),
        ("nina@nimbus.example", "Clinic cannot sign in", "high", brt(29, 3, month=10), timedelta(minutes=9)),
    ):
        opened(email, subject, severity, at, answer_after=after, by=sam)
    login_for("ana@acme.example")
    return sam


def test_a_specialist_reads_the_months_compliance_report(page, october):
    sign_in(page, "sam@desk.example", PASSWORD)
    page.get_by_role("link", name="Reports").first.click()  # the navigation leads there
    page.wait_for_url("**/console/reports/**")
    page.goto(f"/console/reports/?period={MONTH}")
    expect(page.get_by_role("heading", name=f"SLA compliance, {MONTH}")).to_be_visible()
    main = page.locator("main")
    for words in ("9 tickets", "By plan", "Gold", "Support Standard", "Acme Payments", "Orbit Logistics", "Nimbus Health",
                  "Breaches"):
        expect(main).to_contain_text(words)
    expect(page.locator("main svg").first).to_be_visible()  # the server-rendered charts
    screenshot(page, "console-reports")


def test_a_contact_reads_the_accounts_monthly_sla_statement(page, october):
    sign_in(page, "ana@acme.example", PASSWORD)
    page.goto(f"/portal/sla/{MONTH}/")
    expect(page.get_by_role("heading", name=f"SLA statement: Acme Payments, {MONTH}")).to_be_visible()
    main = page.locator("main")
    for words in ("Checkout returns error 502", "Card payments declined in Chile",
                  "Settlement report is missing a day", "met", "missed"):
        expect(main).to_contain_text(words)
    expect(main).not_to_contain_text("Label printer")  # another account's ticket
    screenshot(page, "portal-sla-statement")
