"""An index on tickets' opening time, for the SLA reports.

Every report counts the tickets opened in a period (a month of a million-ticket desk is
a few percent of the table); without it each report query reads the whole table. It
belongs to the reports' read pattern, so the SLA app owns it (raw SQL, like the
console's queue indexes: Django's model state of `tickets.Ticket` is untouched).
"""

from django.db import migrations

NAME = "sla_tickets_by_opening"


def create(apps, schema_editor):
    schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON tickets_ticket (opened_at)")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("tickets", "0002_ticket_sequence_row")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
