"""`supportdesk requeue-mail [ID ...] [--failed]`: process failed inbound mail again."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.requeue import NoSuchMail, requeue_mail


class Command(BaseCommand):
    help = (
        "Process inbound mail again: failed mail (set back to stored, only from failed) "
        "and mail left stored. Prints one JSON line per mail, as ingest-email does; "
        "exits non-zero when a mail is unknown or fails again."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("ids", nargs="*", type=int, metavar="ID", help="inbound mail ids")
        parser.add_argument("--failed", action="store_true", help="every failed inbound mail")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        ids: list[int] = list(dict.fromkeys(options["ids"]))
        if options["failed"]:
            failed = InboundMail.objects.filter(status=InboundMail.Status.FAILED)
            ids += [pk for pk in failed.order_by("id").values_list("id", flat=True) if pk not in ids]
        elif not ids:
            raise CommandError("name the inbound mails to process again (ID ...) or use --failed")
        progress = sys.stderr.isatty()
        if not ids:
            if progress:
                sys.stderr.write("no failed inbound mail\n")
            return
        problems = 0
        for done, mail_id in enumerate(ids, start=1):
            try:
                result = requeue_mail(mail_id=mail_id, via="requeue-mail")
            except NoSuchMail:
                problems += 1
                self.stderr.write(f"requeue-mail: no inbound mail {mail_id}")
                continue
            self.stdout.write(json.dumps(result.outcome.as_json(), ensure_ascii=False))
            if result.failed_again:
                problems += 1
                self.stderr.write(f"requeue-mail: inbound mail {mail_id} failed again: {result.error}")
            if progress:
                sys.stderr.write(f"\rrequeued {done}/{len(ids)}")
                sys.stderr.flush()
        if progress:
            sys.stderr.write("\n")
        if problems:
            raise CommandError(f"{problems} of {len(ids)} inbound mails were not processed")
