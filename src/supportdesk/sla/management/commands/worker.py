"""`supportdesk worker`: background tasks (django-tasks-db) and the periodic SLA sweep."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from supportdesk.sla.worker import Worker, new_worker_id


class Command(BaseCommand):
    help = (
        "Run background tasks (mail, webhooks) and the SLA sweep (warnings, breaches, "
        "on-call escalation). Start as many as you like on PostgreSQL."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue-name", default="*",
                            help="task queues to run, comma-separated ('*' = all: default, mail, sla)")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds to wait when no task is ready (default 1)")
        parser.add_argument("--sweep-every", type=float, default=None,
                            help="seconds between SLA sweeps (default SUPPORTDESK_SLA_SWEEP_SECONDS)")
        parser.add_argument("--once", action="store_true",
                            help="sweep once, run every ready task, print a JSON summary, exit")
        parser.add_argument("--worker-id", default=None, help="unique id of this worker (default: generated)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0:
            raise CommandError("--interval must be zero or more seconds")
        if options["sweep_every"] is not None and options["sweep_every"] <= 0:
            raise CommandError("--sweep-every must be more than zero seconds")
        if not logging.getLogger("supportdesk").handlers and options["verbosity"] >= 1 and not options["once"]:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            for name in ("supportdesk", "django_tasks_db", "django_tasks"):
                logger = logging.getLogger(name)
                logger.addHandler(handler)
                logger.setLevel(logging.INFO)
        worker = Worker(
            queue_names=[name.strip() for name in options["queue_name"].split(",") if name.strip()],
            interval=options["interval"],
            sweep_every=options["sweep_every"],
            worker_id=options["worker_id"] or new_worker_id(),
            once=options["once"],
        )
        if options["once"]:
            worker.run()
            summary = asdict(worker.summaries[-1]) if worker.summaries else {}
            self.stdout.write(json.dumps({**summary, "tasks_run": worker.tasks_run, "worker_id": worker.worker_id}))
            return
        self.stderr.write(
            f"supportdesk worker {worker.worker_id}: tasks of {options['queue_name']}, "
            f"SLA sweep every {worker.sweep_every:g} s (database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})"
        )
        worker.configure_signals()
        worker.run()
