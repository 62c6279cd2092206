from __future__ import annotations

import pytest
from playwright.sync_api import expect

from supportdesk.accounts.models import User
from supportdesk.web.testing import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_specialist_signs_in_and_out_in_the_browser(page):
    User.objects.create_user("ana@vendor.example", "a-long-secret-1", name="Ana Souza")
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in to supportdesk")).to_be_visible()
    screenshot(page, "sign-in")
    sign_in(page, "ana@vendor.example", "wrong")
    expect(page.get_by_role("alert")).to_be_visible()
    sign_in(page, "ana@vendor.example", "a-long-secret-1")
    assert "/console/" in page.url
    page.get_by_role("button", name="Sign out").click()
    assert "/signin/" in page.url


def test_the_language_switch_works_without_inline_script(page):
    page.goto("/signin/")
    with page.expect_navigation():
        page.get_by_label("Language").select_option("pt-br")
    assert page.locator("html").get_attribute("lang") == "pt-br"
    expect(page.get_by_role("heading", name="Entrar no supportdesk")).to_be_visible()
