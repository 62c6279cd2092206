"""Supervisors' team page: what owners can do, for any account, plus owners and exceptions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts import actions, contacts
from supportdesk.accounts.models import AccountEvent, Contact, InvitationException
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.outbound.models import OutboundMail
from supportdesk.policy import default_policy_path

pytestmark = pytest.mark.django_db

TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


@pytest.fixture
def acme():
    make_agent("maria@desk.example", name="Maria Costa")
    make_agent("sue@desk.example", role="supervisor", name="Sue")
    make_agent("sam@desk.example", name="Sam")
    account = make_customer(
        plan="plus",
        contacts=(("olga@acme.example", "Olga Dias", False), ("ana@acme.example", "Ana Lima", True),
                  ("bruno@acme.example", "Bruno Reis", False)),
    )
    actions.update_account(account=account, account_manager=make_agent("mo@desk.example", name="Mo"))
    for email in ("olga@acme.example", "ana@acme.example", "bruno@acme.example"):
        login_for(email)
    return account


def signed_in(client, email):
    client.post(reverse("web:signin"), {"email": email, "password": PASSWORD})
    return client


def url():
    return reverse("console:team", args=["acme"])


def test_a_supervisor_sets_owners_and_does_what_owners_do(client, acme):
    signed_in(client, "sue@desk.example")
    page = client.get(url())
    assert page.status_code == 200 and "Team of Acme" in page.content.decode()
    client.post(url(), {"do": "owner_set", "contact": contact("olga@acme.example").pk})
    assert contact("olga@acme.example").is_account_owner
    client.post(url(), {"do": "designate", "contact": contact("bruno@acme.example").pk})
    client.post(url(), {"do": "revoke", "contact": contact("ana@acme.example").pk})
    client.post(url(), {"do": "remove", "contact": contact("olga@acme.example").pk})  # a supervisor may
    assert not contact("olga@acme.example").is_active
    assert contact("bruno@acme.example").is_point_of_contact and not contact("ana@acme.example").is_point_of_contact
    kinds = list(AccountEvent.objects.filter(account=acme).order_by("id").values_list("kind", "actor_role"))
    assert kinds == [("owner_set", "supervisor"), ("point_of_contact_designated", "supervisor"),
                     ("point_of_contact_revoked", "supervisor"), ("contact_removed", "supervisor")]
    html = client.get(url()).content.decode()
    assert "Sue &lt;sue@desk.example&gt; made Olga Dias &lt;olga@acme.example&gt; an account owner." in html
    assert "support team" in html


def test_a_supervisor_allows_an_exception_and_invites_outside_the_domains(client, acme):
    signed_in(client, "sue@desk.example")
    allowed = client.post(url(), {"do": "allow_exception", "value": "Partner.example"}, follow=True)
    assert "Owners may now invite at partner.example." in allowed.content.decode()
    assert InvitationException.objects.filter(account=acme, value="partner.example").exists()
    refused = client.post(url(), {"do": "allow_exception", "value": "gmail.com"})
    assert refused.status_code == 400 and "allow single addresses there instead" in refused.content.decode()
    plain = client.post(url(), {"do": "invite", "email": "eve@gmail.com"})
    assert plain.status_code == 400 and "tick “outside the registered domains”" in plain.content.decode()
    client.post(url(), {"do": "invite", "email": "eve@gmail.com", "outside_registered_domains": "on"})
    assert contact("eve@gmail.com").account == acme
    client.post(url(), {"do": "withdraw_exception", "value": "partner.example"})
    assert not InvitationException.objects.exists()
    html = client.get(url()).content.decode()
    assert "allowed by: — → outside the registered domains, by Sue &lt;sue@desk.example&gt;" in html
    assert "withdrew the invitation exception for partner.example" in html


def test_the_console_contact_form_goes_through_the_same_rules(client, acme, settings, tmp_path):
    policy = tmp_path / "capped.toml"
    policy.write_text(default_policy_path().read_text(encoding="utf-8").replace(
        "[plans.plus]\n", "[plans.plus]\nmax_points_of_contact = 1\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)
    signed_in(client, "sue@desk.example")
    bruno = contact("bruno@acme.example")
    edit = reverse("console:contact_edit", args=["acme", bruno.pk])
    over = client.post(edit, {"name": "Bruno Reis", "phone": "", "is_point_of_contact": "on", "is_active": "on"})
    assert over.status_code == 400 and "Support Plus allows at most 1 points of contact" in over.content.decode()
    assert not contact("bruno@acme.example").is_point_of_contact
    client.post(edit, {"name": "Bruno Reis", "phone": ""})  # not active: removed
    assert not contact("bruno@acme.example").is_active
    client.post(edit, {"name": "Bruno Reis", "phone": "", "is_active": "on"})  # back, with a new invitation
    assert contact("bruno@acme.example").is_active
    added = client.post(reverse("console:contact_add", args=["acme"]),
                        {"email": "carl@acme.example", "name": "Carl", "phone": "", "is_point_of_contact": "on"})
    assert added.status_code == 400 and not Contact.objects.filter(email="carl@acme.example").exists()
    kinds = list(AccountEvent.objects.filter(account=acme).order_by("id").values_list("kind", flat=True))
    assert kinds == ["contact_removed", "contact_invited"]
    assert OutboundMail.objects.filter(kind="invitation", recipient="bruno@acme.example").exists()


def test_customers_and_specialists_cannot_use_the_console_team_page(client, acme):
    owner = login_for("olga@acme.example")
    contacts.set_account_owner(actor=make_agent("sv@desk.example", role="supervisor"),
                               contact=owner.contact, owner=True)
    before = (list(Contact.objects.order_by("pk").values()), AccountEvent.objects.count())
    for email in ("olga@acme.example", "ana@acme.example", "bruno@acme.example"):
        signed_in(client, email)
        assert client.get(url())["Location"] == reverse("portal:tickets"), email
        for do in ("designate", "revoke", "remove", "owner_set", "owner_unset", "invite", "allow_exception"):
            response = client.post(url(), {"do": do, "contact": contact("bruno@acme.example").pk,
                                           "email": "x@acme.example", "value": "x.example"})
            assert response.status_code == 404, (email, do)
        client.post(reverse("web:signout"))
    signed_in(client, "sam@desk.example")
    assert client.get(url()).status_code == 404
    assert client.post(url(), {"do": "designate", "contact": contact("bruno@acme.example").pk}).status_code == 404
    assert before == (list(Contact.objects.order_by("pk").values()), AccountEvent.objects.count())


def test_a_contact_of_another_account_is_not_found_on_this_accounts_page(client, acme):
    make_customer(slug="globex", name="Globex", domains=("globex.example",),
                  contacts=(("gil@globex.example", "Gil", False),))
    signed_in(client, "sue@desk.example")
    response = client.post(url(), {"do": "designate", "contact": contact("gil@globex.example").pk})
    assert response.status_code == 404
    assert not contact("gil@globex.example").is_point_of_contact
