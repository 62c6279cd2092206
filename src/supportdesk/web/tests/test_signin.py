from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from supportdesk.accounts.models import User
from supportdesk.outbound.queue import deliver_due
from supportdesk.web import throttle

pytestmark = pytest.mark.django_db


@pytest.fixture
def specialist():
    return User.objects.create_user("ana@vendor.example", "a-long-secret-1", name="Ana Souza")


def sign_in(client, email, password):
    return client.post(reverse("web:signin"), {"email": email, "password": password})


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:signin")


def test_it_signs_a_specialist_in_and_sends_them_to_the_console(client, specialist):
    response = sign_in(client, "Ana@Vendor.example", "a-long-secret-1")
    assert response.status_code == 302
    assert client.get("/")["Location"] == reverse("console:queue")


def test_it_gives_the_same_answer_for_unknown_addresses_and_wrong_passwords(client, specialist):
    wrong_password = sign_in(client, "ana@vendor.example", "nope")
    unknown = sign_in(client, "nobody@vendor.example", "nope")
    assert wrong_password.status_code == unknown.status_code == 400
    assert wrong_password.context["error"] == unknown.context["error"]


def test_it_throttles_guessing_even_for_addresses_that_do_not_exist(client, specialist):
    for _ in range(throttle.MAX_FAILURES_PER_EMAIL):
        sign_in(client, "ana@vendor.example", "guess")
        sign_in(client, "ghost@vendor.example", "guess")
    known = sign_in(client, "ana@vendor.example", "a-long-secret-1")
    unknown = sign_in(client, "ghost@vendor.example", "whatever")
    assert known.status_code == unknown.status_code == 400
    assert "Too many" in known.context["error"]
    assert known.context["error"] == unknown.context["error"]
    assert "_auth_user_id" not in client.session


def test_it_refuses_deactivated_people_like_wrong_passwords(client, specialist):
    specialist.is_active = False
    specialist.save()
    response = sign_in(client, "ana@vendor.example", "a-long-secret-1")
    assert response.status_code == 400


def test_sign_out_needs_a_post(client, specialist):
    client.force_login(specialist)
    assert client.get(reverse("web:signout")).status_code == 405
    client.post(reverse("web:signout"))
    assert client.get("/")["Location"] == reverse("web:signin")


def test_it_mails_a_reset_link_only_to_existing_people_but_says_the_same(
    client, specialist, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("web:password_reset"), {"email": "ana@vendor.example"})
        unknown = client.post(reverse("web:password_reset"), {"email": "ghost@vendor.example"})
    assert known["Location"] == unknown["Location"] == reverse("web:password_reset_done")
    deliver_due(early=True)  # what the worker does
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@vendor.example"]
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.context["validlink"]
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-pass-9", "new_password2": "brand-new-pass-9"},
    )
    assert done.status_code == 302
    assert sign_in(client, "ana@vendor.example", "brand-new-pass-9").status_code == 302
