"""`supportdesk init`: create or migrate the database, make sure a supervisor exists, and
load and check the active policy. Safe to run again: it only does what is missing."""

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
            "--supervisor-name",
            default=os.environ.get("SUPPORTDESK_SUPERVISOR_NAME", "Supervisor"),
            help="their name (or SUPPORTDESK_SUPERVISOR_NAME)",
        )
        parser.add_argument(
            "--supervisor-password",
            default=os.environ.get("SUPPORTDESK_SUPERVISOR_PASSWORD", ""),
            help="their password (or SUPPORTDESK_SUPERVISOR_PASSWORD)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        email, password = options["supervisor_email"], options["supervisor_password"]
        if bool(email) != bool(password):
            raise CommandError("give both --supervisor-email and --supervisor-password, or neither")
        self._check_policy()
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        pending = MigrationExecutor(connection).migration_plan(
            MigrationExecutor(connection).loader.graph.leaf_nodes()
        )
        call_command("migrate", interactive=False, verbosity=0)
        where = connection.settings_dict["NAME"]
        self.stderr.write(
            f"database {connection.vendor} {where}: "
            + (f"{len(pending)} migrations applied" if pending else "already up to date")
        )
        if email:
            from django.core.exceptions import ValidationError

            from supportdesk.core.setup import ensure_supervisor

            try:
                created = ensure_supervisor(
                    email=email, password=password, name=options["supervisor_name"]
                )
            except ValidationError as exc:
                raise CommandError(f"supervisor: {'; '.join(exc.messages)}") from None
            self.stderr.write(f"supervisor {email}: {'created' if created else 'already exists'}")

    def _check_policy(self) -> None:
        from supportdesk.core.policy_source import (
            active_policy,
            active_policy_path,
            reset_active_policy,
        )
        from supportdesk.policy import PolicyError

        reset_active_policy()
        try:
            policy = active_policy()
        except PolicyError as exc:
            raise CommandError(
                "the active policy has problems:\n" + "\n".join(exc.problems)
            ) from None
        except OSError as exc:
            raise CommandError(f"cannot read the policy file: {exc}") from None
        self.stderr.write(
            f"policy {policy.version} from {active_policy_path()}: "
            f"{len(policy.plans)} plans, {len(policy.calendars)} calendars"
        )
