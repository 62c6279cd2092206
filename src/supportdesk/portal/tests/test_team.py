"""The owners' "Your team" page, and who may use it (every role)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from supportdesk.accounts import actions, contacts
from supportdesk.accounts.models import AccountEvent, Contact
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.outbound.models import OutboundMail
from supportdesk.policy import default_policy_path

pytestmark = pytest.mark.django_db

TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)
PERSONAS = ("owner", "point_of_contact", "contact", "other_owner", "specialist", "supervisor", "anonymous")
EMAILS = {
    "owner": "olga@acme.example",
    "point_of_contact": "ana@acme.example",
    "contact": "bruno@acme.example",
    "other_owner": "gil@globex.example",
    "specialist": "sam@desk.example",
    "supervisor": "sue@desk.example",
}


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


@pytest.fixture
def acme():
    maria = make_agent("maria@desk.example", name="Maria Costa")
    sue = make_agent("sue@desk.example", role="supervisor", name="Sue")
    make_agent("sam@desk.example", name="Sam")
    account = make_customer(
        plan="plus",
        contacts=(("olga@acme.example", "Olga Dias", False), ("ana@acme.example", "Ana Lima", True),
                  ("bruno@acme.example", "Bruno Reis", False)),
    )
    actions.update_account(account=account, account_manager=maria)
    make_customer(slug="globex", name="Globex", domains=("globex.example",),
                  contacts=(("gil@globex.example", "Gil", False), ("gina@globex.example", "Gina", True)))
    for email in ("olga@acme.example", "gil@globex.example"):
        contacts.set_account_owner(actor=sue, contact=contact(email), owner=True)
    for email in ("olga@acme.example", "ana@acme.example", "bruno@acme.example", "gil@globex.example"):
        login_for(email)
    return account


def signed_in(client, persona):
    if persona != "anonymous":
        client.post(reverse("web:signin"), {"email": EMAILS[persona], "password": PASSWORD})
    return client


def acme_state():
    return (
        list(Contact.objects.filter(account__slug="acme").order_by("pk").values()),
        AccountEvent.objects.filter(account__slug="acme").count(),
    )


def test_an_owner_sees_the_team_the_cap_and_the_history(client, acme):
    page = signed_in(client, "owner").get(reverse("portal:team"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Your team at Acme" in html
    for email in ("olga@acme.example", "ana@acme.example", "bruno@acme.example"):
        assert email in html
    assert "gil@globex.example" not in html
    assert "Points of contact: 1 (Support Plus sets no limit)." in html
    assert "Addresses at acme.example" in html
    assert "Sue &lt;sue@desk.example&gt; made Olga Dias &lt;olga@acme.example&gt; an account owner." in html
    assert 'href="/portal/team/"' in html  # the nav link, for owners only


def test_the_nav_shows_your_team_only_to_owners(client, acme):
    html = signed_in(client, "point_of_contact").get(reverse("portal:tickets")).content.decode()
    assert 'href="/portal/team/"' not in html


def test_an_owner_invites_designates_revokes_and_removes_from_the_page(client, acme):
    signed_in(client, "owner")
    url = reverse("portal:team")
    done = client.post(url, {"do": "invite", "email": "carla@acme.example", "name": "Carla",
                             "point_of_contact": "on"}, follow=True)
    assert "carla@acme.example was invited." in done.content.decode()
    carla = contact("carla@acme.example")
    assert carla.is_point_of_contact and carla.user is not None
    assert OutboundMail.objects.filter(kind="invitation", recipient="carla@acme.example").exists()
    client.post(url, {"do": "revoke", "contact": carla.pk})
    assert not contact("carla@acme.example").is_point_of_contact
    client.post(url, {"do": "designate", "contact": contact("bruno@acme.example").pk})
    assert contact("bruno@acme.example").is_point_of_contact
    removed = client.post(url, {"do": "remove", "contact": carla.pk}, follow=True)
    assert "Carla was removed." in removed.content.decode()
    assert not contact("carla@acme.example").is_active
    html = client.get(url).content.decode()
    assert "Olga Dias &lt;olga@acme.example&gt; removed Carla &lt;carla@acme.example&gt;." in html
    assert "active: yes → no" in html  # the before and after of the removal
    # Carla designated, revoked, Bruno designated; Carla's removal changed no point of contact.
    assert OutboundMail.objects.filter(recipient="maria@desk.example").count() == 3


def test_refusals_are_shown_on_the_page(client, acme, settings, tmp_path):
    policy = tmp_path / "capped.toml"
    policy.write_text(default_policy_path().read_text(encoding="utf-8").replace(
        "[plans.plus]\n", "[plans.plus]\nmax_points_of_contact = 1\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)
    signed_in(client, "owner")
    url = reverse("portal:team")
    capped = client.post(url, {"do": "designate", "contact": contact("bruno@acme.example").pk}, follow=True)
    assert "Support Plus allows at most 1 points of contact" in capped.content.decode()
    assert "Points of contact: 1 of at most 1 (Support Plus)." in capped.content.decode()
    outside = client.post(url, {"do": "invite", "email": "eve@gmail.com"})
    assert outside.status_code == 400
    assert "eve@gmail.com is not at a registered domain of Acme" in outside.content.decode()
    owner = client.post(url, {"do": "remove", "contact": contact("olga@acme.example").pk}, follow=True)
    assert "Only a supervisor can remove an account owner" in owner.content.decode()
    assert contact("olga@acme.example").is_active


def test_a_removed_contacts_session_ends_at_their_next_request(client, acme):
    from django.test import Client

    bruno = signed_in(Client(), "contact")
    assert bruno.get(reverse("portal:tickets")).status_code == 200
    signed_in(client, "owner").post(reverse("portal:team"), {"do": "remove", "contact": contact("bruno@acme.example").pk})
    gone = bruno.get(reverse("portal:tickets"))
    assert gone.status_code == 302 and gone["Location"].startswith("/signin/")
    assert bruno.post(reverse("web:signin"), {"email": EMAILS["contact"], "password": PASSWORD}).status_code == 400


def test_a_revoked_point_of_contact_keeps_reading_but_cannot_open_a_ticket_in_the_same_session(client, acme):
    from django.test import Client

    ana = signed_in(Client(), "point_of_contact")
    assert ana.get(reverse("portal:new_ticket")).status_code == 200
    signed_in(client, "owner").post(reverse("portal:team"), {"do": "revoke", "contact": contact("ana@acme.example").pk})
    refused = ana.get(reverse("portal:new_ticket"))
    assert refused.status_code == 403
    assert "Olga Dias" in refused.content.decode()  # the owner is named
    posted = ana.post(reverse("portal:new_ticket"), {"subject": "x", "severity": "high", "description": "x"})
    assert posted.status_code == 403
    assert ana.get(reverse("portal:tickets")).status_code == 200  # still reads


def test_a_non_point_of_contact_is_told_the_points_of_contact_and_the_owners(client, acme):
    page = signed_in(client, "contact").get(reverse("portal:new_ticket"))
    html = page.content.decode()
    assert page.status_code == 403
    assert "Ana Lima" in html and "(point of contact)" in html
    assert "Olga Dias" in html and "account owner: decides who the points of contact are" in html


# --- every role -----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["point_of_contact", "contact"])
def test_acme_contacts_who_are_not_owners_get_not_found(client, acme, persona):
    signed_in(client, persona)
    before = acme_state()
    assert client.get(reverse("portal:team")).status_code == 404
    for do in ("invite", "designate", "revoke", "remove"):
        response = client.post(reverse("portal:team"), {
            "do": do, "contact": contact("bruno@acme.example").pk, "email": "new@acme.example"})
        assert response.status_code == 404, do
    assert acme_state() == before


def test_another_accounts_owner_can_do_nothing_to_this_account(client, acme):
    signed_in(client, "other_owner")
    before = acme_state()
    own = client.get(reverse("portal:team")).content.decode()
    assert "Your team at Globex" in own and "acme.example" not in own
    for who in ("olga@acme.example", "ana@acme.example", "bruno@acme.example"):
        for do in ("designate", "revoke", "remove", "owner_set", "owner_unset"):
            response = client.post(reverse("portal:team"), {"do": do, "contact": contact(who).pk})
            assert response.status_code in (302, 404), (do, who)
    # An invitation from Gil goes to Globex, and only at Globex's domains.
    refused = client.post(reverse("portal:team"), {"do": "invite", "email": "new@acme.example"})
    assert refused.status_code == 400 and "not at a registered domain of Globex" in refused.content.decode()
    for url in (reverse("console:team", args=["acme"]), reverse("console:account", args=["acme"])):
        assert client.get(url)["Location"] == reverse("portal:tickets")
        assert client.post(url, {"do": "designate", "contact": contact("bruno@acme.example").pk}).status_code == 404
    assert acme_state() == before
    assert not Contact.objects.filter(email="new@acme.example").exists()


@pytest.mark.parametrize("persona", ["specialist", "supervisor"])
def test_the_team_are_sent_to_the_console_from_the_portal_page(client, acme, persona):
    signed_in(client, persona)
    before = acme_state()
    assert client.get(reverse("portal:team"))["Location"] == reverse("console:queue")
    response = client.post(reverse("portal:team"), {"do": "remove", "contact": contact("bruno@acme.example").pk})
    assert response["Location"] == reverse("console:queue")
    assert acme_state() == before


def test_anonymous_visitors_are_sent_to_sign_in(client, acme):
    before = acme_state()
    for url in (reverse("portal:team"), reverse("console:team", args=["acme"])):
        assert client.get(url)["Location"].startswith("/signin/")
        assert client.post(url, {"do": "remove", "contact": contact("bruno@acme.example").pk})["Location"].startswith("/signin/")
    assert acme_state() == before


def test_the_team_page_needs_the_same_queries_for_any_number_of_contacts(client, acme, django_assert_max_num_queries):
    signed_in(client, "owner")
    client.get(reverse("portal:team"))
    for index in range(30):
        contacts.invite_contact(actor=contact("olga@acme.example").user, account=acme, email=f"p{index}@acme.example")
    with django_assert_max_num_queries(16):
        assert client.get(reverse("portal:team")).status_code == 200


def test_the_team_page_and_its_refusals_speak_brazilian_portuguese(client, acme, settings, tmp_path):
    policy = tmp_path / "capped.toml"
    policy.write_text(default_policy_path().read_text(encoding="utf-8").replace(
        "[plans.plus]\n", "[plans.plus]\nmax_points_of_contact = 1\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)
    signed_in(client, "owner")
    client.post(reverse("set_language"), {"language": "pt-br", "next": "/portal/team/"})
    html = client.get(reverse("portal:team")).content.decode()
    assert "Sua equipe na Acme" in html and "Tornar ponto de contato" in html
    assert "Sue &lt;sue@desk.example&gt; tornou Olga Dias &lt;olga@acme.example&gt; responsável pela conta." in html
    refused = client.post(reverse("portal:team"), {"do": "designate", "contact": contact("bruno@acme.example").pk},
                          follow=True).content.decode()
    assert "Support Plus permite no máximo 1 pontos de contato, e Acme já tem 1: revogue um antes." in refused
