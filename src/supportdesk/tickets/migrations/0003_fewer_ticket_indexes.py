"""Fewer indexes on tickets, messages and events (issue 6: the SLA sweep's claims).

Every index of a table is written when a row is inserted, and on PostgreSQL whenever
an indexed column moves (the SLA worker moves `next_sla_at` on every claim, which
writes a new row version into every index). Dropped here, because another index starts
with the same column and serves every query and foreign-key check that used them:

- tickets_ticket.account_id   -> (account_id, status)
- tickets_ticket.assignee_id  -> (assignee_id, status)
- tickets_message.ticket_id   -> (ticket_id, created_at)
- tickets_event.ticket_id     -> (ticket_id, at)

and `next_sla_at` is indexed only where it is set (the worker only ever asks for
`next_sla_at <= now`, which implies it is set; most tickets are answered or closed).

The indexes are dropped with plain DROP INDEX rather than Django's AlterField: on
SQLite AlterField rebuilds the whole table, and the rebuild would also lose the raw
partial indexes other apps add to tickets_ticket (console, sla).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, column): single-column indexes that another index already starts with.
DROPPED = [
    ("ticket", "account_id"),
    ("ticket", "assignee_id"),
    ("ticket", "next_sla_at"),  # replaced by the partial index below
    ("message", "ticket_id"),
    ("event", "ticket_id"),
]
PARTIAL = "ticket_next_sla_at_set"


def _single_column_indexes(schema_editor, table, column):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"] and not info["unique"] and not info["primary_key"]
        and info["columns"] == [column] and name != PARTIAL
    ]


def drop_indexes(apps, schema_editor):
    for model_name, column in DROPPED:
        model = apps.get_model("tickets", model_name)
        for name in _single_column_indexes(schema_editor, model._meta.db_table, column):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


def restore_indexes(apps, schema_editor):
    for model_name, column in DROPPED:
        model = apps.get_model("tickets", model_name)
        if _single_column_indexes(schema_editor, model._meta.db_table, column):
            continue
        field = next(f for f in model._meta.concrete_fields if f.column == column)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_contacts_team'),
        ('tickets', '0002_ticket_sequence_row'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunPython(drop_indexes, restore_indexes, elidable=False),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='event',
                    name='ticket',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='tickets.ticket'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='ticket',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='tickets.ticket'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='account',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='tickets', to='accounts.account'),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='assignee',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_tickets', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='ticket',
                    name='next_sla_at',
                    field=models.DateTimeField(blank=True, null=True),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='ticket',
            index=models.Index(condition=models.Q(('next_sla_at__isnull', False)), fields=['next_sla_at'], name='ticket_next_sla_at_set'),
        ),
    ]
