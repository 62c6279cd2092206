"""Partial indexes over OPEN tickets in the console's queue order.

The console lists open tickets (a fifth of the table on a mature desk) by
"awaiting first response first, then due time, then opening time". These indexes match
that ORDER BY exactly, so a queue page is an ordered index scan with a LIMIT instead of
a sort of every open ticket, and the tab counts are an index-only scan. They belong to
the console's read pattern, so the console owns them (raw SQL: Django's model state of
`tickets.Ticket` is untouched). SQLite sorts NULLs first on ascending columns already,
so its variant has no NULLS FIRST (which its CREATE INDEX does not accept).
"""

from django.db import migrations

OPEN = "status IN ('new', 'open', 'pending')"
INDEXES = {
    "console_open_by_due": "first_responded_at{nulls}, first_response_due, opened_at, number",
    "console_open_queue_by_due": "queue, first_responded_at{nulls}, first_response_due, opened_at, number",
    "console_open_assignee": "assignee_id, queue",
}


def create(apps, schema_editor):
    nulls = " NULLS FIRST" if schema_editor.connection.vendor == "postgresql" else ""
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON tickets_ticket ({columns.format(nulls=nulls)}) WHERE {OPEN}"
        )


def drop(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_ticket_sequence_row")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
