import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from supportdesk.accounts import access
from supportdesk.accounts.testing import login_for, make_agent, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    """owner: a point of contact of Acme; teammate: another Acme contact; outsider: a
    contact of another customer."""
    make_customer(contacts=[("ana@acme.example", "Ana", True), ("bob@acme.example", "Bob", False)])
    make_customer(
        slug="globex", name="Globex", domains=["globex.example"],
        contacts=[("gil@globex.example", "Gil", True)],
    )
    return {
        "owner": login_for("ana@acme.example"),
        "teammate": login_for("bob@acme.example"),
        "outsider": login_for("gil@globex.example"),
        "specialist": make_agent(),
    }


def test_a_contact_and_their_teammate_see_their_own_account(people):
    for persona in ("owner", "teammate"):
        assert access.get_account_for_user(people[persona], slug="acme").slug == "acme"


def test_an_outsider_cannot_see_another_customers_account(people):
    with pytest.raises(Http404):
        access.get_account_for_user(people["outsider"], slug="acme")
    assert list(access.accounts_visible_to(people["outsider"]).values_list("slug", flat=True)) == [
        "globex"
    ]


def test_an_anonymous_visitor_sees_no_account(people):
    with pytest.raises(Http404):
        access.get_account_for_user(AnonymousUser(), slug="acme")


def test_a_specialist_sees_every_account(people):
    assert access.accounts_visible_to(people["specialist"]).count() == 2


def test_an_outsider_cannot_see_another_customers_contact(people):
    bob = people["teammate"].contact
    assert access.get_contact_for_user(people["owner"], contact_id=bob.pk) == bob
    with pytest.raises(Http404):
        access.get_contact_for_user(people["outsider"], contact_id=bob.pk)
    assert list(access.contacts_visible_to(people["outsider"]).values_list("email", flat=True)) == [
        "gil@globex.example"
    ]
    assert access.contact_of(people["outsider"]).account.slug == "globex"
    assert not access.contacts_visible_to(AnonymousUser()).exists()


def test_only_supervisors_get_an_account_for_managing_it(people):
    supervisor = make_agent("sue@desk.example", role="supervisor")
    assert access.get_account_for_supervisor(supervisor, slug="acme").slug == "acme"
    for persona in ("owner", "specialist", "outsider"):
        with pytest.raises(Http404):
            access.get_account_for_supervisor(people[persona], slug="acme")


def test_a_deactivated_contact_loses_sight_of_their_account(people):
    from supportdesk.accounts import actions

    actions.update_contact(contact=people["owner"].contact, is_active=False)
    people["owner"].refresh_from_db()
    with pytest.raises(Http404):
        access.get_account_for_user(people["owner"], slug="acme")


def test_only_owners_of_the_account_and_supervisors_manage_its_team(people):
    from supportdesk.accounts import contacts
    from supportdesk.accounts.models import Account

    supervisor = make_agent("sue@desk.example", role="supervisor")
    for who in (people["owner"], people["outsider"]):  # Ana owns Acme, Gil owns Globex
        contacts.set_account_owner(actor=supervisor, contact=who.contact, owner=True)
    acme = Account.objects.get(slug="acme")
    bob = people["teammate"].contact
    assert access.team_role(people["owner"], acme) == "owner"
    assert access.team_role(supervisor, acme) == "supervisor"
    assert access.owned_account(people["owner"]) == acme
    assert access.get_team_contact(people["owner"], account=acme, contact_id=bob.pk) == bob
    for persona in ("teammate", "outsider", "specialist"):
        assert access.team_role(people[persona], acme) is None, persona
        with pytest.raises(Http404):
            access.get_team_contact(people[persona], account=acme, contact_id=bob.pk)
    assert access.owned_account(people["outsider"]).slug == "globex"  # their own, never Acme
    for persona in ("teammate", "specialist"):
        with pytest.raises(Http404):
            access.owned_account(people[persona])
    assert access.team_role(AnonymousUser(), acme) is None
    with pytest.raises(Http404):
        access.owned_account(AnonymousUser())
    gil = people["outsider"].contact
    with pytest.raises(Http404):  # a contact of another account, even for a supervisor
        access.get_team_contact(supervisor, account=acme, contact_id=gil.pk)
