from django.db import migrations


def create_counter(apps, schema_editor):
    TicketSequence = apps.get_model("tickets", "TicketSequence")
    TicketSequence.objects.get_or_create(id=1, defaults={"last": 0})


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_counter, migrations.RunPython.noop)]
