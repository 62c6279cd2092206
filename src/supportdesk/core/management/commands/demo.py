"""`supportdesk demo`: load the demo data set (idempotent) and print the demo logins."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from supportdesk import clock


class Command(BaseCommand):
    help = (
        "Load demo data: a dozen customer accounts on all eight plans and every status, "
        "contacts, a small team and a few hundred tickets over the last four weeks. "
        "Running it again changes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--now",
            help="the instant the demo history ends (ISO 8601, default: now), e.g. 2025-11-03T15:00Z",
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed of the data set")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        from supportdesk.core import demo

        now = clock.now()
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"].replace("Z", "+00:00"))
            except ValueError:
                raise CommandError(f"--now {options['now']!r} is not an ISO 8601 instant") from None
            if now.tzinfo is None:
                raise CommandError("--now needs a time zone, e.g. 2025-11-03T15:00Z")
            now = now.astimezone(UTC)
        tty = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if tty and (done % 10 == 0 or done == total):
                sys.stderr.write(f"\rdemo tickets {done}/{total}")
                if done == total:
                    sys.stderr.write("\n")
                sys.stderr.flush()

        report = demo.load_demo(now=now, seed=options["seed"], progress=progress)
        self.stderr.write(f"demo accounts: {report.accounts}")
        self.stderr.write(
            f"demo tickets: {report.tickets_created} created, {report.tickets_existing} already there"
        )
        self.stdout.write("demo logins (email / password):")
        self.stdout.write(f"  supervisor        {demo.SUPERVISOR[0]} / {demo.SUPERVISOR[2]}")
        email, _, password = demo.SPECIALISTS[0]
        self.stdout.write(f"  specialist        {email} / {password}")
        self.stdout.write(
            f"  point of contact  {demo.DEMO_POINT_OF_CONTACT} / {demo.CUSTOMER_PASSWORD}"
        )
        self.stdout.write(
            f"  other contact     {demo.DEMO_OTHER_CONTACT} / {demo.CUSTOMER_PASSWORD}"
            " (may read, not open)"
        )
        self.stdout.write(
            f"  account owner     {demo.DEMO_ACCOUNT_OWNER} / {demo.CUSTOMER_PASSWORD}"
            " (manages the team: /portal/team/)"
        )
