"""Fixtures shared by every package's tests.

Environment defaults and the database-only selection live in
`supportdesk.pytest_plugin`, which pytest loads before Django reads its settings.
"""

# Browser-test fixtures (`chromium`, `page`): Playwright + Debian Chromium, see web/testing.py.
pytest_plugins = ["supportdesk.web.testing"]
