"""Customers assign their own points of contact, end to end in a real browser: the owner
invites, the invitee chooses a password, the owner designates them, the new point of
contact opens a ticket; once revoked, their next click is refused."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from supportdesk.accounts import actions as account_actions
from supportdesk.accounts import contacts
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.outbound.models import OutboundMail
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "carla-chooses-a-long-one"


@pytest.fixture
def acme():
    manager = make_agent("maria@desk.example", name="Maria Costa")
    supervisor = make_agent("sue@desk.example", role="supervisor", name="Sue Souza")
    account = make_customer(
        name="Acme Payments",
        plan="gold",
        contacts=(("olga@acme.example", "Olga Dias", False), ("ana@acme.example", "Ana Lima", True),
                  ("bruno@acme.example", "Bruno Reis", False)),
    )
    account_actions.update_account(account=account, account_manager=manager)
    contacts.set_account_owner(actor=supervisor, contact=contact("olga@acme.example"), owner=True)
    for email in ("olga@acme.example", "ana@acme.example", "bruno@acme.example"):
        login_for(email)
    return account


def invitation_path(address: str) -> str:
    mail = OutboundMail.objects.filter(kind="invitation", recipient=address).latest("id")
    return re.search(r"https?://[^/\s]+(/invitation/\S+/)", mail.text).group(1)


def test_an_owner_invites_designates_and_revokes_a_point_of_contact(page, chromium, live_server, acme):
    # Olga, the owner, invites Carla from her team page.
    sign_in(page, "olga@acme.example", PASSWORD)
    page.get_by_role("link", name="Your team").click()
    expect(page.get_by_role("heading", name="Your team at Acme Payments")).to_be_visible()
    page.get_by_label("Email").fill("carla@acme.example")
    page.get_by_label("Name").fill("Carla Nunes")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status").first).to_contain_text("carla@acme.example was invited.")

    # Carla, in her own browser, follows the link, chooses a password and signs in.
    carla_context = chromium.new_context(
        viewport={"width": 1280, "height": 860}, locale="en-US",
        timezone_id="America/Sao_Paulo", base_url=live_server.url,
    )
    carla = carla_context.new_page()
    carla.set_default_timeout(15_000)
    errors: list[str] = []
    carla.on("pageerror", lambda error: errors.append(str(error)))
    carla.goto(invitation_path("carla@acme.example"))
    expect(carla.get_by_role("heading", name="Welcome: choose your password")).to_be_visible()
    carla.get_by_label("New password").fill(NEW_PASSWORD)
    carla.get_by_label("The same password again").fill(NEW_PASSWORD)
    carla.get_by_role("button", name="Save the password").click()
    carla.wait_for_load_state()
    sign_in(carla, "carla@acme.example", NEW_PASSWORD)
    expect(carla.get_by_role("heading", name="Tickets of Acme Payments")).to_be_visible()
    carla.get_by_role("link", name="Open a ticket").first.click()
    expect(carla.get_by_role("alert")).to_contain_text("Only Acme Payments's points of contact can open tickets.")

    # Olga makes her a point of contact.
    page.reload()
    expect(page.get_by_role("cell", name="signed up").first).to_be_visible()
    page.get_by_role("button", name="Make Carla Nunes a point of contact").click()
    expect(page.get_by_role("status").first).to_contain_text("Carla Nunes is now a point of contact.")
    expect(page.get_by_text("Olga Dias <olga@acme.example> made Carla Nunes <carla@acme.example> a point of contact.")).to_be_visible()
    screenshot(page, "portal-team")

    # Carla opens a ticket.
    carla.get_by_role("link", name="Open a ticket").first.click()
    carla.get_by_label("Subject").fill("Refunds stuck in pending")
    carla.locator("#id_severity_medium").check()
    carla.get_by_label("What happened?").fill("Since Monday refunds stay pending.")
    carla.get_by_role("button", name="Open the ticket").click()
    expect(carla.get_by_role("status").first).to_contain_text(re.compile(r"Ticket #\d+ is open\."))

    # Olga revokes her; Carla's next click is refused, and she is told whom to ask.
    page.get_by_role("button", name="Revoke Carla Nunes as a point of contact").click()
    expect(page.get_by_role("status").first).to_contain_text("Carla Nunes is no longer a point of contact.")
    carla.get_by_role("link", name="Open a ticket").first.click()
    alert = carla.get_by_role("alert")
    expect(alert).to_contain_text("Only Acme Payments's points of contact can open tickets.")
    expect(alert).to_contain_text("Ana Lima")
    expect(alert).to_contain_text("Olga Dias")
    expect(carla.get_by_label("Subject")).to_have_count(0)
    carla.get_by_role("link", name="Tickets").first.click()
    expect(carla.get_by_role("link", name="Refunds stuck in pending")).to_be_visible()  # still reads

    # Removed: her session ends at her next click.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Carla Nunes").click()
    expect(page.get_by_role("status").first).to_contain_text("Carla Nunes was removed.")
    carla.get_by_role("link", name="Tickets").first.click()
    expect(carla.get_by_role("button", name="Sign in")).to_be_visible()
    carla_context.close()
    assert not errors, errors
