"""Customers assign their own points of contact: the actions of accounts.contacts."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction

from supportdesk.accounts import actions, contacts
from supportdesk.accounts.models import Account, AccountEvent, Contact, InvitationException
from supportdesk.accounts.testing import PASSWORD, contact, login_for, make_agent, make_customer
from supportdesk.intake.service import Action, InboundRequest, receive
from supportdesk.outbound.models import OutboundMail
from supportdesk.policy import default_policy_path

pytestmark = pytest.mark.django_db

TUESDAY_10 = datetime(2025, 3, 11, 13, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_time():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


@pytest.fixture
def capped(settings, tmp_path):
    """The default policy with Support Plus capped at 3 points of contact."""
    text = default_policy_path().read_text(encoding="utf-8")
    assert "[plans.plus]\n" in text
    policy = tmp_path / "capped.toml"
    policy.write_text(text.replace("[plans.plus]\n", "[plans.plus]\nmax_points_of_contact = 3\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)
    return policy


@pytest.fixture
def people():
    """Acme (Support Plus): Olga the owner, Ana a point of contact, Bruno a plain contact;
    Maria its account manager. Globex: Gil, its owner. Sue a supervisor, Sam a specialist."""
    maria = make_agent("maria@desk.example", name="Maria Costa")
    sue = make_agent("sue@desk.example", role="supervisor", name="Sue")
    acme = make_customer(
        plan="plus",
        contacts=(
            ("olga@acme.example", "Olga Dias", False),
            ("ana@acme.example", "Ana Lima", True),
            ("bruno@acme.example", "Bruno Reis", False),
        ),
    )
    actions.update_account(account=acme, account_manager=maria)
    make_customer(slug="globex", name="Globex", domains=("globex.example",),
                  contacts=(("gil@globex.example", "Gil", False),))
    for email in ("olga@acme.example", "gil@globex.example"):
        contacts.set_account_owner(actor=sue, contact=contact(email), owner=True)
    return {
        "acme": acme,
        "owner": login_for("olga@acme.example"),
        "point_of_contact": login_for("ana@acme.example"),
        "contact": login_for("bruno@acme.example"),
        "other_owner": login_for("gil@globex.example"),
        "specialist": make_agent("sam@desk.example", name="Sam"),
        "supervisor": sue,
        "manager": maria,
    }


def events(kind=None):
    rows = AccountEvent.objects.filter(account__slug="acme").order_by("id")
    return list(rows.filter(kind=kind) if kind else rows)


def manager_mail():
    return list(OutboundMail.objects.filter(recipient="maria@desk.example").order_by("id"))


def test_an_owner_designates_a_point_of_contact_and_the_account_manager_is_told(people):
    bruno = contacts.designate_point_of_contact(actor=people["owner"], contact=contact("bruno@acme.example"))
    assert bruno.is_point_of_contact and contact("bruno@acme.example").is_point_of_contact
    [event] = events(AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED)
    assert event.actor == people["owner"] and event.actor_name == "Olga Dias <olga@acme.example>"
    assert event.actor_role == "owner" and event.at == TUESDAY_10
    assert event.subject == "Bruno Reis <bruno@acme.example>"
    assert event.before["point_of_contact"] is False and event.after["point_of_contact"] is True
    [mail] = manager_mail()
    assert mail.subject == "Acme: points of contact changed"
    assert "Olga Dias <olga@acme.example> made Bruno Reis <bruno@acme.example> a point of contact." in mail.text
    assert "- Ana Lima <ana@acme.example>\n- Bruno Reis <bruno@acme.example>" in mail.text
    assert "/console/accounts/acme/team/" in mail.text


def test_going_over_the_plans_cap_is_refused_naming_the_cap_and_the_plan(people, capped):
    actions.add_contact(account=people["acme"], email="carla@acme.example", name="Carla")
    actions.add_contact(account=people["acme"], email="davi@acme.example", name="Davi")
    for email in ("bruno@acme.example", "carla@acme.example"):  # Ana + 2 = 3
        contacts.designate_point_of_contact(actor=people["owner"], contact=contact(email))
    with pytest.raises(ValidationError) as refused:
        contacts.designate_point_of_contact(actor=people["owner"], contact=contact("davi@acme.example"))
    assert refused.value.messages == [
        "Support Plus allows at most 3 points of contact, and Acme has 3 already: revoke one first."
    ]
    assert not contact("davi@acme.example").is_point_of_contact
    assert len(events(AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED)) == 2
    assert len(manager_mail()) == 2
    # Inviting straight into the role counts too; a revoked slot can be used again.
    with pytest.raises(ValidationError, match="at most 3"):
        contacts.invite_contact(actor=people["owner"], account=people["acme"],
                                email="eva@acme.example", point_of_contact=True)
    assert not Contact.objects.filter(email="eva@acme.example").exists()  # all or nothing
    contacts.revoke_point_of_contact(actor=people["owner"], contact=contact("ana@acme.example"))
    contacts.designate_point_of_contact(actor=people["supervisor"], contact=contact("davi@acme.example"))
    assert contact("davi@acme.example").is_point_of_contact


def test_the_default_policy_sets_no_cap(people):
    for index in range(8):
        added = actions.add_contact(account=people["acme"], email=f"p{index}@acme.example")
        contacts.designate_point_of_contact(actor=people["owner"], contact=added)
    assert Contact.objects.filter(account=people["acme"], is_point_of_contact=True).count() == 9


def test_a_trial_is_capped_by_the_plan_whose_terms_it_gets(settings, tmp_path):
    text = default_policy_path().read_text(encoding="utf-8")
    policy = tmp_path / "standard-capped.toml"
    policy.write_text(text.replace("[plans.standard]\n", "[plans.standard]\nmax_points_of_contact = 1\n"))
    settings.SUPPORTDESK_POLICY_FILE = str(policy)
    sue = make_agent("sue@desk.example", role="supervisor")
    trial = make_customer(plan="plus", status="trial", starts=date(2025, 3, 1),
                          contacts=(("ana@acme.example", "Ana", True), ("bo@acme.example", "Bo", False)))
    with pytest.raises(ValidationError, match="Support Standard allows at most 1 points of contact"):
        contacts.designate_point_of_contact(actor=sue, contact=contact("bo@acme.example"))
    assert trial.contacts.filter(is_point_of_contact=True).count() == 1


def test_a_revoked_point_of_contact_may_read_but_no_longer_open_tickets(people):
    contacts.revoke_point_of_contact(actor=people["owner"], contact=contact("ana@acme.example"))
    result = receive(InboundRequest(channel="portal", subject="Down", body_text="x",
                                    contact=contact("ana@acme.example"), requested_severity="high"))
    assert result.action == Action.REFUSED
    assert result.refusal == (
        "Only Acme's points of contact can open tickets, and the account has none yet: "
        "ask your account owners (Olga Dias <olga@acme.example>) to name one."
    )
    assert contact("ana@acme.example").is_active and people["point_of_contact"].is_active
    [event] = events(AccountEvent.Kind.POINT_OF_CONTACT_REVOKED)
    assert (event.before["point_of_contact"], event.after["point_of_contact"]) == (True, False)
    assert "revoked Ana Lima <ana@acme.example> as a point of contact" in manager_mail()[0].text


def test_an_owner_invites_at_a_registered_domain_and_the_invitee_gets_a_link(people):
    carla = contacts.invite_contact(actor=people["owner"], account=people["acme"],
                                    email="Carla@ACME.example", name="Carla Nunes")
    assert carla.email == "carla@acme.example" and carla.account == people["acme"]
    assert not carla.is_point_of_contact and not carla.user.has_usable_password()
    [mail] = OutboundMail.objects.filter(kind="invitation", recipient="carla@acme.example")
    assert "Olga Dias invited you to the supportdesk portal for Acme." in mail.text
    assert "/invitation/" in mail.text
    [event] = events(AccountEvent.Kind.CONTACT_INVITED)
    assert event.after["allowed_by"] == "registered_domain" and event.after["via"] == "acme.example"
    assert manager_mail() == []  # not a change to points of contact
    login_for("carla@acme.example")  # she chose a password
    with pytest.raises(ValidationError, match="already a contact of Acme"):
        contacts.invite_contact(actor=people["owner"], account=people["acme"], email="carla@acme.example")


def test_inviting_someone_who_never_signed_up_sends_the_invitation_again(people):
    contacts.invite_contact(actor=people["owner"], account=people["acme"], email="carla@acme.example")
    contacts.invite_contact(actor=people["owner"], account=people["acme"], email="carla@acme.example")
    assert OutboundMail.objects.filter(kind="invitation", recipient="carla@acme.example").count() == 2
    assert len(events(AccountEvent.Kind.INVITATION_RESENT)) == 1


def test_an_owner_cannot_invite_outside_the_registered_domains(people):
    for address in ("eve@gmail.com", "eve@acme.example.evil.example", "eve@mail.acme.example"):
        with pytest.raises(ValidationError) as refused:
            contacts.invite_contact(actor=people["owner"], account=people["acme"], email=address)
        assert refused.value.messages == [
            f"{address} is not at a registered domain of Acme (acme.example). "
            "Ask the support team to allow an exception for it."
        ]
    assert not Contact.objects.filter(email__startswith="eve@").exists()
    with pytest.raises(PermissionDenied):  # the per-invite override is the supervisors'
        contacts.invite_contact(actor=people["owner"], account=people["acme"],
                                email="eve@gmail.com", outside_registered_domains=True)
    assert events(AccountEvent.Kind.CONTACT_INVITED) == []


def test_subdomains_count_when_the_account_allows_them(people):
    actions.update_account(account=people["acme"], allow_subdomains=True)
    invited = contacts.invite_contact(actor=people["owner"], account=people["acme"], email="eve@br.acme.example")
    assert invited.is_active


def test_a_supervisors_exception_lets_owners_invite_there(people):
    sue, olga, acme = people["supervisor"], people["owner"], people["acme"]
    contacts.allow_invitation_exception(actor=sue, account=acme, value="Partner.example")
    contacts.allow_invitation_exception(actor=sue, account=acme, value="lia@gmail.com")
    assert contacts.invite_contact(actor=olga, account=acme, email="pat@partner.example").is_active
    assert contacts.invite_contact(actor=olga, account=acme, email="lia@gmail.com").is_active
    with pytest.raises(ValidationError, match="not at a registered domain"):
        contacts.invite_contact(actor=olga, account=acme, email="someone.else@gmail.com")
    invited = {e.subject: e.after for e in events(AccountEvent.Kind.CONTACT_INVITED)}
    assert invited["pat@partner.example"]["allowed_by"] == "exception"
    assert invited["pat@partner.example"]["via"] == "partner.example"
    assert invited["lia@gmail.com"]["via"] == "lia@gmail.com"
    contacts.withdraw_invitation_exception(actor=sue, account=acme, value="partner.example")
    with pytest.raises(ValidationError):
        contacts.invite_contact(actor=olga, account=acme, email="quinn@partner.example")
    assert contact("pat@partner.example").is_active  # already invited: stays
    assert [e.subject for e in events(AccountEvent.Kind.EXCEPTION_ALLOWED)] == ["partner.example", "lia@gmail.com"]
    assert [e.subject for e in events(AccountEvent.Kind.EXCEPTION_WITHDRAWN)] == ["partner.example"]


def test_exceptions_refuse_shared_and_other_customers_domains(people):
    sue, acme = people["supervisor"], people["acme"]
    for value, why in (("gmail.com", "shared by many people"), ("com.br", "shared by many people"),
                       ("acme.example", "registered domain of the account already"),
                       ("globex.example", "registered on account Globex"), ("not a domain", "neither")):
        with pytest.raises(ValidationError, match=why):
            contacts.allow_invitation_exception(actor=sue, account=acme, value=value)
    with pytest.raises(PermissionDenied):
        contacts.allow_invitation_exception(actor=people["owner"], account=acme, value="partner.example")
    assert not InvitationException.objects.exists()


def test_a_supervisor_may_invite_one_address_outside_the_domains(people):
    with pytest.raises(ValidationError, match="tick “outside the registered domains”"):
        contacts.invite_contact(actor=people["supervisor"], account=people["acme"], email="eve@gmail.com")
    eve = contacts.invite_contact(actor=people["supervisor"], account=people["acme"],
                                  email="eve@gmail.com", outside_registered_domains=True)
    [event] = events(AccountEvent.Kind.CONTACT_INVITED)
    assert event.contact == eve and event.actor_role == "supervisor"
    assert event.after["allowed_by"] == "supervisor_override" and event.after["via"] == "Sue <sue@desk.example>"


def test_an_owner_learns_nothing_about_another_customers_contact(people):
    actions.add_domain(account=people["acme"], domain="acme-group.example")
    actions.update_contact(contact=contact("gil@globex.example"), email="gil@acme-group.example")
    with pytest.raises(ValidationError) as refused:
        contacts.invite_contact(actor=people["owner"], account=people["acme"], email="gil@acme-group.example")
    assert "Globex" not in str(refused.value) and "in use" in str(refused.value)
    with pytest.raises(ValidationError, match="already a contact of account Globex"):
        contacts.invite_contact(actor=people["supervisor"], account=people["acme"], email="gil@acme-group.example")


def test_removing_a_contact_ends_their_sign_in_and_clears_their_roles(people):
    ana = contacts.remove_contact(actor=people["owner"], contact=contact("ana@acme.example"))
    assert not ana.is_active and not ana.is_point_of_contact
    people["point_of_contact"].refresh_from_db()
    assert not people["point_of_contact"].is_active  # the login is off too
    [event] = events(AccountEvent.Kind.CONTACT_REMOVED)
    assert event.before == {"active": True, "point_of_contact": True, "owner": False}
    assert event.after == {"active": False, "point_of_contact": False, "owner": False}
    assert "removed Ana Lima <ana@acme.example>" in manager_mail()[0].text
    contacts.remove_contact(actor=people["owner"], contact=contact("bruno@acme.example"))
    assert len(manager_mail()) == 1  # Bruno was no point of contact


def test_only_a_supervisor_removes_an_owner(people):
    actions.add_contact(account=people["acme"], email="otto@acme.example", name="Otto")
    contacts.set_account_owner(actor=people["supervisor"], contact=contact("otto@acme.example"), owner=True)
    for who in ("otto@acme.example", "olga@acme.example"):  # another owner, or herself
        with pytest.raises(ValidationError, match="Only a supervisor can remove an account owner"):
            contacts.remove_contact(actor=people["owner"], contact=contact(who))
    otto = contacts.remove_contact(actor=people["supervisor"], contact=contact("otto@acme.example"))
    assert not otto.is_active and not otto.is_account_owner


def test_a_removed_contact_comes_back_without_roles_or_their_old_password(people):
    contacts.remove_contact(actor=people["owner"], contact=contact("ana@acme.example"))
    ana = contacts.invite_contact(actor=people["owner"], account=people["acme"], email="ana@acme.example")
    assert ana.is_active and not ana.is_point_of_contact and ana.pk == people["point_of_contact"].contact.pk
    ana.user.refresh_from_db()
    assert ana.user.is_active and not ana.user.check_password(PASSWORD)
    [event] = events(AccountEvent.Kind.CONTACT_INVITED)
    assert event.before["active"] is False and event.after["active"] is True


def test_only_supervisors_set_and_unset_owners(people):
    for persona in ("owner", "point_of_contact", "contact", "other_owner", "specialist"):
        with pytest.raises(PermissionDenied):
            contacts.set_account_owner(actor=people[persona], contact=contact("bruno@acme.example"), owner=True)
    contacts.set_account_owner(actor=people["supervisor"], contact=contact("bruno@acme.example"), owner=True)
    contacts.set_account_owner(actor=people["supervisor"], contact=contact("olga@acme.example"), owner=False)
    assert [(e.kind, e.subject) for e in events()][-2:] == [
        ("owner_set", "Bruno Reis <bruno@acme.example>"), ("owner_unset", "Olga Dias <olga@acme.example>"),
    ]
    # Olga's role is read afresh: the user object she signed in with no longer lets her act.
    with pytest.raises(PermissionDenied):
        contacts.designate_point_of_contact(actor=people["owner"], contact=contact("bruno@acme.example"))


def every_action(people, actor):
    acme = people["acme"]
    return {
        "designate": lambda: contacts.designate_point_of_contact(actor=actor, contact=contact("bruno@acme.example")),
        "revoke": lambda: contacts.revoke_point_of_contact(actor=actor, contact=contact("ana@acme.example")),
        "remove": lambda: contacts.remove_contact(actor=actor, contact=contact("bruno@acme.example")),
        "invite": lambda: contacts.invite_contact(actor=actor, account=acme, email="new@acme.example"),
        "add": lambda: contacts.add_contact(actor=actor, account=acme, email="new@acme.example"),
        "owner": lambda: contacts.set_account_owner(actor=actor, contact=contact("bruno@acme.example"), owner=True),
        "unowner": lambda: contacts.set_account_owner(actor=actor, contact=contact("olga@acme.example"), owner=False),
        "allow": lambda: contacts.allow_invitation_exception(actor=actor, account=acme, value="x.example"),
        "withdraw": lambda: contacts.withdraw_invitation_exception(actor=actor, account=acme, value="x.example"),
    }


@pytest.mark.parametrize("persona", ["other_owner", "point_of_contact", "contact", "specialist", "anonymous"])
def test_nobody_but_owners_and_supervisors_changes_the_team(people, persona):
    """Another account's owner, Acme's own non-owners, a specialist and an anonymous
    visitor: every action is refused and nothing changes."""
    actor = AnonymousUser() if persona == "anonymous" else people[persona]
    before = list(Contact.objects.order_by("pk").values())
    count = AccountEvent.objects.count()
    for name, attempt in every_action(people, actor).items():
        with pytest.raises(PermissionDenied):
            attempt()
            pytest.fail(f"{persona} could {name}")
    assert list(Contact.objects.order_by("pk").values()) == before
    assert AccountEvent.objects.count() == count and not InvitationException.objects.exists()
    assert manager_mail() == [] and not OutboundMail.objects.filter(kind="invitation").exists()


def test_an_owner_does_the_owners_part_and_a_supervisor_everything(people):
    owner_may = {"designate", "revoke", "remove", "invite"}
    for name, attempt in every_action(people, people["owner"]).items():
        if name in owner_may:
            attempt()
        else:
            with pytest.raises(PermissionDenied):
                attempt()
    assert {e.kind for e in events() if e.actor == people["owner"]} == {
        "point_of_contact_designated", "point_of_contact_revoked", "contact_removed", "contact_invited",
    }


def test_a_supervisor_adds_a_contact_with_the_same_rules(people, capped):
    sue = people["supervisor"]
    added = contacts.add_contact(actor=sue, account=people["acme"], email="hotline@gmail.com",
                                 name="Caller", point_of_contact=True, invite=True)
    assert added.is_point_of_contact and added.user is not None
    assert [e.kind for e in events()][-2:] == ["contact_added", "point_of_contact_designated"]
    assert OutboundMail.objects.filter(kind="invitation", recipient="hotline@gmail.com").exists()


def test_account_events_are_append_only(people):
    contacts.revoke_point_of_contact(actor=people["owner"], contact=contact("ana@acme.example"))
    event = events()[-1]
    event.subject = "someone else"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()
    assert events()[-1].subject == "Ana Lima <ana@acme.example>"


def test_no_account_manager_means_no_mail_but_the_event_is_kept(people):
    actions.update_account(account=people["acme"], clear_managers=True)
    contacts.designate_point_of_contact(actor=people["owner"], contact=contact("bruno@acme.example"))
    assert not OutboundMail.objects.filter(kind="notification").exists()
    assert len(events(AccountEvent.Kind.POINT_OF_CONTACT_DESIGNATED)) == 1


def _wait_until_another_transaction_waits_for_ours() -> None:
    # pg_locks is a live view: a lock not granted is the other invitation waiting on the
    # address this transaction has just written and not yet committed.
    with connection.cursor() as cursor:
        for _ in range(1_000_000):
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            if cursor.fetchone()[0]:
                return
    raise AssertionError("the second invitation never waited for the first")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite takes the write lock at BEGIN: two invitations never overlap")
def test_one_address_invited_to_two_accounts_at_once_goes_to_the_first_and_the_second_is_told(people):
    sue, acme, globex = people["supervisor"], people["acme"], Account.objects.get(slug="globex")
    written, failures = threading.Event(), []

    def invite_to_acme_and_commit_once_the_other_waits() -> None:
        try:
            with transaction.atomic():
                contacts.invite_contact(actor=sue, account=acme, email="eve@gmail.com",
                                        outside_registered_domains=True)
                written.set()
                _wait_until_another_transaction_waits_for_ours()
        except BaseException as error:  # reported in the main thread
            failures.append(error)
        finally:
            written.set()
            connections.close_all()

    first = threading.Thread(target=invite_to_acme_and_commit_once_the_other_waits)
    first.start()
    written.wait()
    with pytest.raises(ValidationError, match=r"eve@gmail.com is already a contact of account Acme \(acme\)"):
        contacts.invite_contact(actor=sue, account=globex, email="eve@gmail.com",
                                outside_registered_domains=True)
    first.join()
    assert failures == []
    assert Contact.objects.get(email="eve@gmail.com").account == acme
    assert [e.contact.email for e in events(AccountEvent.Kind.CONTACT_INVITED)] == ["eve@gmail.com"]
