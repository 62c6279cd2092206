"""`supportdesk init`: create or migrate the database and make sure a supervisor exists."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create or migrate the database, create a supervisor, and check the active policy."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--supervisor-email",
            default=os.environ.get("SUPPORTDESK_SUPERVISOR_EMAIL", ""),
            help="supervisor to create if missing (or SUPPORTDESK_SUPERVISOR_EMAIL)",
        )
        parser.add_argument(
            "--supervisor-password",
            default=os.environ.get("SUPPORTDESK_SUPERVISOR_PASSWORD", ""),
            help="their password (or SUPPORTDESK_SUPERVISOR_PASSWORD)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        call_command("migrate", interactive=False, verbosity=0)
        self.stderr.write("database is up to date")
        email, password = options["supervisor_email"], options["supervisor_password"]
        if bool(email) != bool(password):
            raise CommandError("give both --supervisor-email and --supervisor-password, or neither")
        if email:
            from supportdesk.core.setup import ensure_supervisor

            created = ensure_supervisor(email=email, password=password)
            self.stderr.write(f"supervisor {email} {'created' if created else 'already exists'}")
