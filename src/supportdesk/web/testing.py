"""Browser-test harness: Playwright driving Debian's Chromium against pytest-django's
`live_server`.

Playwright cannot download its own browsers here, so it launches /usr/bin/chromium
(installed by .ci/setup-services). Tests using these fixtures are marked `browser`;
run only them with `pytest -m browser`, or skip them with `-m "not browser"`;
`SUPPORTDESK_SCREENSHOTS=1 pytest -m browser` refreshes docs/screenshots/.
Import the fixtures into a test package's conftest.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SUPPORTDESK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: run .ci/setup-services (apt-get install chromium)")
    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by
    # the test itself (setting up data) are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a laptop-sized window, in English, with
    the team's time zone, and failing on any CSP violation or script error."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 860},
        locale="en-US",
        timezone_id="America/Sao_Paulo",
        base_url=live_server.url,
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    # A refused CSP rule or a script error shows as a console error; failed loads are
    # checked on the response instead (a 400 for a wrong password is expected).
    page.on(
        "console",
        lambda message: problems.append(f"console {message.type}: {message.text}")
        if message.type == "error" and not message.text.startswith("Failed to load resource")
        else None,
    )
    page.on(
        "response",
        lambda response: problems.append(f"{response.status} for {response.url}")
        if response.status >= 500 or (response.status == 404 and "/static/" in response.url)
        else None,
    )
    page.set_default_timeout(15_000)
    # expect() retries its assertion until it holds; a loaded CI machine needs the same patience.
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    yield page
    context.close()
    assert not problems, problems


def sign_in(page: Any, email: str, password: str) -> None:
    page.goto("/signin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    # Wait for the answer to the form, not the load state of the page it was sent from.
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def screenshot(page: Any, name: str) -> None:
    """Take a full-page screenshot. With SUPPORTDESK_SCREENSHOTS=1 it is saved as
    docs/screenshots/<name>.png (kept in the repository for the README); otherwise it goes
    to a temporary directory, so ordinary test runs do not rewrite tracked files."""
    if os.environ.get("SUPPORTDESK_SCREENSHOTS") == "1":
        target = SCREENSHOT_DIR
    else:
        target = Path(tempfile.gettempdir()) / "supportdesk-screenshots"
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
