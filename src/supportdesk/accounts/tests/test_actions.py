from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError

from supportdesk.accounts import actions
from supportdesk.accounts.models import AccountDomain, Subscription
from supportdesk.accounts.selectors import effective_subscription
from supportdesk.accounts.testing import make_agent, make_customer

pytestmark = pytest.mark.django_db


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- domains ---------------------------------------------------------------------------


def test_it_stores_domains_lower_cased_and_in_idna_form():
    account = make_customer(domains=["Acme.Example.", "Bücher.example"], contacts=())
    assert sorted(account.domains.values_list("domain", flat=True)) == [
        "acme.example",
        "xn--bcher-kva.example",
    ]


def test_it_refuses_a_free_mail_domain():
    account = make_customer(contacts=())
    with pytest.raises(ValidationError, match="gmail.com is a free-mail domain"):
        actions.add_domain(account=account, domain="gmail.com")


def test_it_refuses_a_public_suffix():
    account = make_customer(contacts=())
    with pytest.raises(ValidationError, match="com.br is a public suffix"):
        actions.add_domain(account=account, domain="com.br")


def test_it_refuses_a_domain_already_on_another_account():
    make_customer(contacts=())
    other = make_customer(slug="other", name="Other", domains=[], plan=None, contacts=())
    with pytest.raises(ValidationError, match=r"acme.example is already registered on account Acme \(acme\)"):
        actions.add_domain(account=other, domain="ACME.example")
    assert AccountDomain.objects.get(domain="acme.example").account.slug == "acme"


def test_it_accepts_a_domain_already_on_the_same_account():
    account = make_customer(contacts=())
    actions.add_domain(account=account, domain="acme.example")
    assert account.domains.count() == 1


def test_it_refuses_something_that_is_not_a_domain():
    account = make_customer(contacts=())
    with pytest.raises(ValidationError, match="is not a domain name"):
        actions.add_domain(account=account, domain="ana@acme.example")


# --- contacts --------------------------------------------------------------------------


def test_it_stores_phones_in_e164_reading_brazilian_numbers_without_country_code():
    account = make_customer(contacts=())
    one = actions.add_contact(account=account, email="a@acme.example", phone="(11) 91234-5678")
    two = actions.add_contact(account=account, email="b@acme.example", phone="+1 650 253 0000")
    assert (one.phone, two.phone) == ("+5511912345678", "+16502530000")


def test_it_refuses_an_invalid_phone_number():
    account = make_customer(contacts=())
    with pytest.raises(ValidationError, match="is not a valid phone number"):
        actions.add_contact(account=account, email="a@acme.example", phone="12345")


def test_it_refuses_an_email_that_is_already_a_contact_elsewhere():
    make_customer()
    other = make_customer(slug="other", name="Other", domains=["other.example"], contacts=())
    with pytest.raises(ValidationError, match="already a contact of account Acme"):
        actions.add_contact(account=other, email="ANA@acme.example")


def test_a_contact_login_uses_the_contact_email_and_the_contact_role():
    account = make_customer(contacts=())
    contact = actions.add_contact(account=account, email="Ana@Acme.example", name="Ana")
    user = actions.give_contact_login(contact=contact, password="pw-123456789")
    assert (user.email, user.role, user.is_staff, user.is_agent) == (
        "ana@acme.example",
        "contact",
        False,
        False,
    )
    assert user.contact == contact


def test_deactivating_a_contact_deactivates_their_login():
    account = make_customer(contacts=())
    contact = actions.add_contact(account=account, email="ana@acme.example")
    user = actions.give_contact_login(contact=contact, password="pw-123456789")
    actions.update_contact(contact=contact, is_active=False)
    user.refresh_from_db()
    assert user.is_active is False


def test_only_supervisors_are_staff_for_the_admin():
    specialist = make_agent("sam@desk.example")
    supervisor = make_agent("sue@desk.example", role="supervisor")
    assert (specialist.is_staff, supervisor.is_staff) == (False, True)
    assert supervisor.has_perm("accounts.change_account")
    assert not specialist.has_perm("accounts.change_account")


def test_an_account_manager_must_be_on_the_team():
    account = make_customer()
    contact_user = actions.give_contact_login(
        contact=account.contacts.get(), password="pw-123456789"
    )
    with pytest.raises(ValidationError, match="is not a specialist or supervisor"):
        actions.update_account(account=account, account_manager=contact_user)


# --- subscriptions ---------------------------------------------------------------------


def test_it_refuses_a_new_subscription_to_a_legacy_plan_after_its_last_sale_date():
    account = make_customer(plan=None, contacts=())
    with pytest.raises(ValidationError) as raised:
        actions.record_subscription(
            account=account, plan="gold", status="active", starts=date(2022, 7, 1)
        )
    assert raised.value.message_dict == {
        "plan": ["Gold is a legacy plan, not sold since 2022-07-01"]
    }


def test_it_accepts_a_legacy_plan_sold_before_its_last_sale_date():
    account = make_customer(plan=None, contacts=())
    actions.record_subscription(account=account, plan="gold", status="active", starts=date(2022, 6, 30))
    assert account.subscriptions.count() == 1


def test_it_allows_renewing_a_legacy_subscription():
    account = make_customer(plan="gold", starts=date(2021, 3, 1), ends=date(2023, 3, 1), contacts=())
    actions.record_subscription(
        account=account, plan="gold", status="active", starts=date(2023, 3, 1), ends=date(2025, 3, 1)
    )
    assert effective_subscription(account, at=at("2024-01-10T12:00")).plan == "gold"


def test_it_refuses_an_unknown_plan_naming_the_valid_ones():
    account = make_customer(plan=None, contacts=())
    with pytest.raises(ValidationError, match="'platinum' is not a plan of the active policy"):
        actions.record_subscription(account=account, plan="platinum", status="active", starts=date(2025, 1, 1))


def test_the_latest_recorded_subscription_covering_an_instant_wins_and_history_is_kept():
    account = make_customer(plan="plus", starts=date(2025, 1, 1), ends=date(2027, 1, 1), contacts=())
    actions.record_subscription(
        account=account, plan="plus", status="suspended", starts=date(2025, 6, 1), ends=date(2027, 1, 1)
    )
    before = effective_subscription(account, at=at("2025-05-31T12:00"))
    after = effective_subscription(account, at=at("2025-06-02T12:00"))
    assert (before.plan, before.status) == ("plus", "active")
    assert (after.plan, after.status) == ("plus", "suspended")
    assert account.subscriptions.count() == 2


def test_an_account_without_a_subscription_is_treated_as_expired():
    account = make_customer(plan=None, contacts=())
    effective = effective_subscription(account, at=at("2025-06-02T12:00"))
    assert (effective.plan, effective.status) == (None, Subscription.Status.EXPIRED)
    assert "no subscription" in effective.reasons[0]


def test_an_ended_subscription_is_treated_as_expired_on_its_plan():
    account = make_customer(plan="plus", starts=date(2024, 1, 1), ends=date(2025, 1, 1), contacts=())
    effective = effective_subscription(account, at=at("2025-03-01T12:00"))
    assert (effective.plan, effective.status) == ("plus", "expired")
    assert "ended 2025-01-01" in effective.reasons[0]


def test_contract_dates_are_days_in_sao_paulo():
    account = make_customer(plan="plus", starts=date(2025, 1, 1), ends=date(2026, 1, 1), contacts=())
    # 2026-01-01 01:00 UTC is still 2025-12-31 in São Paulo: the subscription is in force.
    assert effective_subscription(account, at=at("2026-01-01T01:00")).status == "active"
    assert effective_subscription(account, at=at("2026-01-01T03:00")).status == "expired"
