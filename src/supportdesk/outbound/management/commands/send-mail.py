"""`supportdesk send-mail`: deliver queued outgoing mail once, from the queue table.

For operators: after fixing a mail relay, from cron when no worker runs, or to see
what is stuck. `--retry-failed` gives mail that failed for good (a 5xx answer, or too
many attempts) another chance once the cause is fixed. Prints one JSON line with the counts; exits 1 when some mail could not
be sent (details on stderr), so cron reports a broken relay.
"""

from __future__ import annotations

import json
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from supportdesk import clock
from supportdesk.outbound import queue
from supportdesk.outbound.models import OutboundMail


class Command(BaseCommand):
    help = "Deliver queued outgoing mail that is due (with --flush: all queued mail, now)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--flush",
            action="store_true",
            help="also send mail waiting for a retry, and mail left 'sending' by a dead worker",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="first put mail that failed for good back in the queue (all, or the --mail ids)",
        )
        parser.add_argument(
            "--mail",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="with --retry-failed: only this outgoing mail (repeatable)",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=queue.FLUSH_BATCH,
            help="send at most this many (default %(default)s)",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        if options["mail"] and not options["retry_failed"]:
            raise CommandError("--mail only goes with --retry-failed")
        now = clock.now()
        outcomes: Counter[str] = Counter()
        if options["retry_failed"]:
            outcomes["requeued"] = queue.requeue_failed(options["mail"], now=now)
        if options["flush"]:
            outcomes["reclaimed"] = queue.reclaim_stale(now=now)
        outcomes.update(queue.deliver_due(now=now, early=options["flush"], limit=options["limit"]))
        summary = {key: outcomes.get(key, 0) for key in ("sent", "retry", "failed", "skipped")}
        if options["flush"]:
            summary["reclaimed"] = outcomes["reclaimed"]
        if options["retry_failed"]:
            summary["requeued"] = outcomes["requeued"]
        summary["still_queued"] = OutboundMail.objects.filter(
            status=OutboundMail.Status.QUEUED
        ).count()
        self.stdout.write(json.dumps(summary))
        if summary["retry"] or summary["failed"]:
            failed = OutboundMail.objects.filter(
                status__in=(OutboundMail.Status.QUEUED, OutboundMail.Status.FAILED),
                last_error__gt="",
                claimed_at=now,
            )
            for mail in failed:
                self.stderr.write(
                    f"mail {mail.pk} to {mail.recipient} ({mail.status}): {mail.last_error}"
                )
            raise CommandError(
                f"{summary['retry'] + summary['failed']} mail(s) could not be sent; "
                "check the relay (SUPPORTDESK_SMTP_RELAY_HOST/PORT) and run again"
            )
