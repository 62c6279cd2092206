from datetime import date

import pytest

from supportdesk.accounts.models import Account, Subscription
from supportdesk.accounts.testing import PASSWORD, login_for, make_agent, make_customer

pytestmark = [pytest.mark.django_db, pytest.mark.urls("supportdesk.accounts.tests.admin_urls")]


def account_form(*, name="Initech", slug="initech", domain="initech.example", plan="plus",
                 starts="2025-01-01", contact_email="pat@initech.example"):
    return {
        "name": name,
        "slug": slug,
        "account_manager": "",
        "technical_account_manager": "",
        "domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "0",
        "domains-MIN_NUM_FORMS": "0", "domains-MAX_NUM_FORMS": "1000",
        "domains-0-domain": domain,
        "contacts-TOTAL_FORMS": "1", "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0", "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-name": "Pat", "contacts-0-email": contact_email,
        "contacts-0-phone": "(11) 91234-5678", "contacts-0-is_point_of_contact": "on",
        "contacts-0-is_active": "on",
        "subscriptions-TOTAL_FORMS": "1", "subscriptions-INITIAL_FORMS": "0",
        "subscriptions-MIN_NUM_FORMS": "0", "subscriptions-MAX_NUM_FORMS": "1000",
        "subscriptions-0-plan": plan, "subscriptions-0-status": "active",
        "subscriptions-0-starts": starts, "subscriptions-0-ends": "", "subscriptions-0-note": "",
    }


@pytest.fixture
def supervisor_client(client):
    make_agent("sue@desk.example", role="supervisor")
    assert client.login(username="sue@desk.example", password=PASSWORD)
    return client


def test_a_supervisor_creates_an_account_with_domain_contact_and_subscription(supervisor_client):
    response = supervisor_client.post("/admin/accounts/account/add/", account_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    account = Account.objects.get(slug="initech")
    assert list(account.domains.values_list("domain", flat=True)) == ["initech.example"]
    assert account.contacts.get().phone == "+5511912345678"
    subscription = account.subscriptions.get()
    assert (subscription.plan, subscription.recorded_by.email) == ("plus", "sue@desk.example")


def test_the_admin_refuses_a_free_mail_domain(supervisor_client):
    response = supervisor_client.post("/admin/accounts/account/add/", account_form(domain="gmail.com"))
    assert response.status_code == 200
    assert "gmail.com is a free-mail domain" in response.content.decode()
    assert not Account.objects.exists()


def test_the_admin_refuses_to_sell_a_legacy_plan(supervisor_client):
    response = supervisor_client.post(
        "/admin/accounts/account/add/", account_form(plan="gold", starts="2024-01-01")
    )
    assert "Gold is a legacy plan, not sold since 2022-07-01" in response.content.decode()
    assert not Account.objects.exists()


def test_the_admin_allows_renewing_a_legacy_plan(supervisor_client):
    acme = make_customer(plan="gold", starts=date(2021, 3, 1), ends=date(2023, 3, 1), contacts=())
    data = account_form(name="Acme", slug="acme", domain="acme.example", plan="gold", starts="2023-03-01")
    data.update({"domains-TOTAL_FORMS": "1", "domains-INITIAL_FORMS": "1",
                 "domains-0-id": str(acme.domains.get().pk), "domains-0-account": str(acme.pk),
                 "contacts-TOTAL_FORMS": "0"})
    existing = acme.subscriptions.get()
    data.update({"subscriptions-TOTAL_FORMS": "2", "subscriptions-INITIAL_FORMS": "1",
                 "subscriptions-0-id": str(existing.pk), "subscriptions-0-account": str(acme.pk)})
    for key in ("plan", "status", "starts", "ends", "note"):
        data[f"subscriptions-1-{key}"] = data.pop(f"subscriptions-0-{key}")
    response = supervisor_client.post(f"/admin/accounts/account/{acme.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(acme.subscriptions.order_by("id").values_list("starts", flat=True)) == [
        date(2021, 3, 1),
        date(2023, 3, 1),
    ]
    assert Subscription.objects.get(pk=existing.pk).ends == date(2023, 3, 1)  # history untouched


def test_specialists_and_contacts_cannot_use_the_admin(client):
    make_customer()
    make_agent()
    for email in ("sam@desk.example", "ana@acme.example"):
        if email.endswith("acme.example"):
            login_for(email)
        client.logout()
        assert client.login(username=email, password=PASSWORD)
        response = client.get("/admin/accounts/account/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_account_events_are_listed_read_only_and_roles_are_not_edited_here(supervisor_client):
    from supportdesk.accounts import contacts
    from supportdesk.accounts.models import User
    from supportdesk.accounts.testing import contact

    make_customer(contacts=(("ana@acme.example", "Ana", False),))
    contacts.designate_point_of_contact(actor=User.objects.get(email="sue@desk.example"),
                                        contact=contact("ana@acme.example"))
    listing = supervisor_client.get("/admin/accounts/accountevent/")
    assert listing.status_code == 200 and "Ana &lt;ana@acme.example&gt;" in listing.content.decode()
    assert supervisor_client.get("/admin/accounts/accountevent/add/").status_code == 403
    page = supervisor_client.get(f"/admin/accounts/account/{contact('ana@acme.example').account_id}/change/")
    assert 'name="contacts-0-is_point_of_contact"' not in page.content.decode()
