"""The embedded database's backend (supportdesk.core.sqlite3): Django's SQLite backend
with each distinct statement's placeholders converted once. The same statement run
again must bind its new values, and a literal percent sign must survive."""

import pytest
from django.db import connection

from supportdesk.accounts.models import Account
from supportdesk.accounts.testing import make_customer

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend only")
def test_a_repeated_statement_binds_its_new_values_and_keeps_literal_percent_signs():
    make_customer(slug="acme", name="Acme 100%")
    make_customer(slug="globex", name="Globex", domains=["globex.example"], contacts=[])
    sql = "SELECT slug, name LIKE '%%100%%' FROM accounts_account WHERE slug = %s"
    with connection.cursor() as cursor:
        assert type(cursor.cursor).__module__ == "supportdesk.core.sqlite3.base"
        answers = []
        for slug in ("acme", "globex", "acme"):
            cursor.execute(sql, [slug])
            answers.append(cursor.fetchone())
    assert answers == [("acme", 1), ("globex", 0), ("acme", 1)]
    assert Account.objects.filter(name__contains="%").count() == 1
