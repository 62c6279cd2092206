"""`supportdesk export accounts`: every account as the JSON `import accounts` reads."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from supportdesk.accounts.transfer import export_accounts


class Command(BaseCommand):
    help = "Write every customer account (domains, contacts, latest subscription) as JSON to stdout."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("what", choices=["accounts"], help="what to export")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        self.stdout.write(json.dumps(export_accounts(), indent=2, ensure_ascii=False))
