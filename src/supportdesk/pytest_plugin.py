"""Test-session setup, loaded with `-p supportdesk.pytest_plugin` (see pyproject).

A `-p` plugin is imported before pytest-django reads the Django settings, which a
root conftest.py is not: only from here do the environment defaults below reach
settings, so tests never touch the developer's ./var or send real mail.
"""

from __future__ import annotations

import os
import tempfile

import pytest

if "SUPPORTDESK_DATA_DIR" not in os.environ:
    _data_dir = tempfile.mkdtemp(prefix="supportdesk-test-")
    # The static-files middleware expects the collected-static folder to exist.
    os.makedirs(os.path.join(_data_dir, "static"))
    os.environ["SUPPORTDESK_DATA_DIR"] = _data_dir
os.environ.setdefault("SUPPORTDESK_EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

_DATABASE_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def _uses_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") is not None:
        return True
    return bool(_DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With SUPPORTDESK_TEST_DATABASE_ONLY=1 keep only tests that touch the database.

    The suite runs twice (SQLite, then PostgreSQL); pure tests need to run only once.
    """
    if os.environ.get("SUPPORTDESK_TEST_DATABASE_ONLY") != "1":
        return
    keep = [item for item in items if _uses_database(item)]
    deselected = [item for item in items if not _uses_database(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = keep


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the metrics exit hook: by now the test database it would write to is gone."""
    import atexit
    import sys

    metrics = sys.modules.get("supportdesk.sla.metrics")
    if metrics is not None:
        atexit.unregister(metrics.flush_at_exit)
