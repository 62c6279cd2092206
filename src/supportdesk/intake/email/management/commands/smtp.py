"""`supportdesk smtp --port N`: the SMTP (or, with --lmtp, LMTP) listener on its own."""

from __future__ import annotations

import sys
import threading

from django.core.management.base import BaseCommand, CommandError

from supportdesk.intake.email.smtp import start_listener


class Command(BaseCommand):
    help = "Accept mail by SMTP or LMTP; every message is stored before it is acknowledged."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on")
        parser.add_argument("--lmtp", action="store_true", help="speak LMTP instead of SMTP")
        parser.add_argument(
            "--store-only", action="store_true",
            help="only store mail; the worker's process_pending_mail task makes the tickets",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            listener = start_listener(
                host=options["host"], port=options["port"], lmtp=options["lmtp"],
                process=not options["store_only"],
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']} ({exc}); choose another --port"
            ) from None
        kind = "LMTP" if options["lmtp"] else "SMTP"
        print(f"mail intake ({kind}) on {options['host']}:{options['port']}", file=sys.stderr, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            listener.stop()
