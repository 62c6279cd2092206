"""`supportdesk fetch-mail`: poll the IMAP mailbox once (the worker runs the same task)."""

from __future__ import annotations

import json
import ssl
import time

from django.core.management.base import BaseCommand, CommandError
from imap_tools.errors import MailboxLoginError

from supportdesk.intake.email.bulk import process_stored
from supportdesk.intake.email.imap import MailboxNotConfigured, fetch_mail


class Command(BaseCommand):
    help = "Fetch unseen mail from the configured IMAP mailbox (TLS); one JSON line per message."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--limit", type=int, default=500, help="at most this many messages")
        parser.add_argument(
            "--watch", type=float, default=0, metavar="SECONDS",
            help="keep polling every SECONDS (also processes stored mail left unprocessed)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        def report(outcome):  # type: ignore[no-untyped-def]
            self.stdout.write(json.dumps(outcome.as_json(), ensure_ascii=False))

        try:
            while True:
                fetch_mail(limit=options["limit"], on_outcome=report)
                if not options["watch"]:
                    break
                process_stored(on_outcome=report)
                time.sleep(options["watch"])
        except KeyboardInterrupt:
            return
        except MailboxNotConfigured as exc:
            raise CommandError(f"the IMAP mailbox is not configured: {exc}") from None
        except MailboxLoginError:
            raise CommandError("the IMAP server refused the login: check SUPPORTDESK_IMAP_USER "
                               "and the password") from None
        except (ssl.SSLError, OSError) as exc:
            raise CommandError(f"cannot reach the IMAP server over TLS: {exc}") from None
