"""The point of contact's whole path, and the refusals, in a real browser."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from supportdesk.accounts import actions as account_actions
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.intake.service import InboundRequest, receive
from supportdesk.tickets import actions
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme():
    manager = make_agent("maria@desk.example", name="Maria Costa")
    account = make_customer(
        name="Acme Payments",
        plan="gold",
        contacts=(("ana@acme.example", "Ana Lima", True), ("bruno@acme.example", "Bruno Reis", False)),
    )
    account_actions.update_account(account=account, account_manager=manager)
    login_for("ana@acme.example")
    login_for("bruno@acme.example")
    return account


def test_a_point_of_contact_opens_a_ticket_follows_it_and_replies(page, acme, tmp_path):
    sam = make_agent("sam@desk.example", name="Sam Souza")
    earlier = receive(InboundRequest(channel="portal", subject="Export to CSV drops accents",
                                     body_text="Names like São Paulo lose the ã.",
                                     contact=contact("bruno@acme.example") if False else contact("ana@acme.example"),
                                     requested_severity="low")).ticket
    actions.add_public_reply(ticket=earlier, author=sam, body_text="Fixed in 4.2.1; please update.", status="solved")
    sign_in(page, "ana@acme.example", PASSWORD)
    expect(page.get_by_role("heading", name="Tickets of Acme Payments")).to_be_visible()
    page.get_by_role("link", name="Open a ticket").first.click()
    expect(page.get_by_text("business operations stopped")).to_be_visible()  # SPEC §3 guide
    page.get_by_label("Subject").fill("Checkout returns error 502")
    page.locator("#id_severity_high").check()
    page.get_by_label("What happened?").fill("Since 09:12 every payment fails with 502. No workaround.")
    log = tmp_path / "gateway.log"
    log.write_text("502 Bad Gateway upstream=payments-api\n")
    page.get_by_label("Attachments").set_input_files(str(log))
    screenshot(page, "portal-new-ticket")
    page.get_by_role("button", name="Open the ticket").click()
    promise = page.get_by_role("status").first
    expect(promise).to_contain_text(re.compile(r"Ticket #\d+ is open\. First response by .+ America/Sao_Paulo\."))
    expect(page.get_by_role("link", name=re.compile("gateway.log"))).to_be_visible()
    screenshot(page, "portal-ticket")
    page.get_by_label("Your reply").fill("It also happens on the mobile app.")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("It also happens on the mobile app.")).to_be_visible()
    page.get_by_role("link", name="Tickets").first.click()
    expect(page.get_by_role("link", name="Checkout returns error 502")).to_be_visible()
    screenshot(page, "portal-tickets")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    screenshot(page, "portal-tickets-phone")


def test_a_contact_who_is_not_a_point_of_contact_is_told_whom_to_ask(page, acme):
    sign_in(page, "bruno@acme.example", PASSWORD)
    page.get_by_role("link", name="Open a ticket").first.click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Only Acme Payments's points of contact can open tickets.")
    expect(alert).to_contain_text("ana@acme.example")
    expect(page.get_by_label("Subject")).to_have_count(0)
    screenshot(page, "portal-not-point-of-contact")


def test_a_customer_trying_another_accounts_ticket_url_gets_not_found(page, acme):
    make_customer(slug="globex", name="Globex", domains=("globex.example",),
                  contacts=(("gina@globex.example", "Gina", True),))
    theirs = receive(InboundRequest(channel="portal", subject="Globex secret", body_text="x",
                                    contact=contact("gina@globex.example"), requested_severity="low")).ticket
    sign_in(page, "ana@acme.example", PASSWORD)
    response = page.goto(f"/portal/tickets/{theirs.number}/")
    assert response.status == 404
    assert "Globex secret" not in page.content()


def test_an_expired_account_sees_why_there_is_no_sla(page):
    make_customer(slug="oldco", name="Oldco", domains=("oldco.example",), plan="silver",
                  starts=date(2020, 1, 1), ends=date(2023, 1, 1),
                  contacts=(("otto@oldco.example", "Otto", True),))
    login_for("otto@oldco.example")
    sign_in(page, "otto@oldco.example", PASSWORD)
    expect(page.get_by_text("subscription has expired")).to_be_visible()
