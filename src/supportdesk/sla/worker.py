"""The background worker: django-tasks' database worker plus the periodic SLA sweep.

One loop, used by `supportdesk worker` and embedded in `supportdesk serve` (a thread):
every SUPPORTDESK_SLA_SWEEP_SECONDS it sweeps (SLA warnings and breaches, on-call
escalations, lost webhooks and mail); in between it runs ready tasks of the
django-tasks-db queues (mail delivery, webhooks, ...), claimed the way django-tasks-db
claims them (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, an exclusive
transaction on SQLite), so any number of workers can run side by side.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import OperationalError, close_old_connections
from django.db.models import F
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker as DbWorker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from supportdesk import clock
from supportdesk.sla import metrics, oncall, webhooks
from supportdesk.sla.models import WorkerBeat
from supportdesk.sla.sweep import sweep

logger = logging.getLogger(__name__)

MAIL_FLUSH_EVERY = timedelta(minutes=2)


@dataclass
class SweepSummary:
    at: str
    claimed: int
    warnings: int
    breaches: int
    postponed: int
    escalated: int
    webhooks_flushed: int
    lag_seconds: float


def run_sweep(*, worker_id: str = "", now: datetime | None = None, flush_mail: bool = False) -> SweepSummary:
    """One sweep: SLA moments, on-call escalations, lost webhooks (and mail when asked)."""
    now = now or clock.now()
    result = sweep(now=now)
    escalated = oncall.escalate_due(now=now)
    flushed = webhooks.flush(now=now)
    metrics.flush_intake_latency()  # intake running in this process (e.g. mail tasks)
    if flush_mail:
        from supportdesk.outbound import queue

        queue.flush(now=now)
    lag = result.lag(now).total_seconds()
    if worker_id:
        _beat(worker_id, now=now, lag=lag, handled=result.claimed + escalated)
    return SweepSummary(
        at=now.isoformat(), claimed=result.claimed, warnings=result.warnings,
        breaches=result.breaches, postponed=result.postponed, escalated=escalated,
        webhooks_flushed=flushed, lag_seconds=lag,
    )


def _beat(worker_id: str, *, now: datetime, lag: float, handled: int) -> None:
    updated = WorkerBeat.objects.filter(worker_id=worker_id).update(
        last_sweep_at=now, last_lag_seconds=lag, handled_total=F("handled_total") + handled
    )
    if not updated:
        WorkerBeat.objects.create(
            worker_id=worker_id, hostname=socket.gethostname()[:255], pid=os.getpid(),
            started_at=now, last_sweep_at=now, last_lag_seconds=lag, handled_total=handled,
        )


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


class Worker(DbWorker):
    """django-tasks-db's worker with the SLA sweep woven into its loop."""

    def __init__(
        self,
        *,
        queue_names: list[str] | None = None,
        interval: float = 1.0,
        sweep_every: float | None = None,
        worker_id: str | None = None,
        stop: threading.Event | None = None,
        once: bool = False,
        backend_name: str = "default",
    ) -> None:
        super().__init__(
            queue_names=queue_names or ["*"],
            interval=interval,
            batch=once,
            backend_name=backend_name,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id or new_worker_id(),
            excluded_queue_names=[],
        )
        self.sweep_every = float(sweep_every or settings.SUPPORTDESK_SLA_SWEEP_SECONDS)
        self.stop = stop or threading.Event()
        self.once = once
        self.summaries: list[SweepSummary] = []
        self.tasks_run = 0

    def run(self) -> None:
        logger.info("worker %s: tasks of %s, SLA sweep every %ss", self.worker_id,
                    ",".join(self.queue_names), self.sweep_every)
        next_sweep = 0.0
        next_mail_flush = time.monotonic() + MAIL_FLUSH_EVERY.total_seconds()
        next_mailbox_poll = 0.0
        while self.running and not self.stop.is_set():
            close_old_connections()
            if settings.SUPPORTDESK_IMAP_HOST and time.monotonic() >= next_mailbox_poll:
                self._poll_mailbox()
                next_mailbox_poll = time.monotonic() + settings.SUPPORTDESK_IMAP_POLL_SECONDS
            if time.monotonic() >= next_sweep:
                flush_mail = time.monotonic() >= next_mail_flush
                if flush_mail:
                    next_mail_flush = time.monotonic() + MAIL_FLUSH_EVERY.total_seconds()
                self._sweep(flush_mail=flush_mail)
                next_sweep = time.monotonic() + self.sweep_every
            task_result = self._claim_task()
            if task_result is not None:
                self.run_task(task_result)
                self.tasks_run += 1
                continue
            if self.once:
                return
            close_old_connections()
            self.stop.wait(max(0.0, min(self.interval, next_sweep - time.monotonic())))

    def _poll_mailbox(self) -> None:
        """Queue a fetch of the IMAP mailbox; any worker may run it.

        With several workers two fetches can overlap: a message then fetched twice is
        stored twice and recognised as a duplicate, so it still becomes one ticket.
        """
        from supportdesk.intake.email.tasks import fetch_mail_task

        try:
            fetch_mail_task.enqueue()
        except Exception:  # polling must never take the worker down
            logger.exception("could not queue the IMAP fetch; retrying at the next poll")

    def _sweep(self, *, flush_mail: bool) -> None:
        try:
            summary = run_sweep(worker_id=self.worker_id, flush_mail=flush_mail)
        except OperationalError as exc:
            if not is_locked_database_exception(exc):
                logger.exception("SLA sweep failed; retrying at the next sweep")
            return
        except Exception:  # a sweep must never take the worker down
            logger.exception("SLA sweep failed; retrying at the next sweep")
            return
        self.summaries.append(summary)
        del self.summaries[:-10]
        if summary.claimed or summary.escalated:
            logger.info("worker %s sweep: %s", self.worker_id, asdict(summary))

    def _claim_task(self) -> Any:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(self.worker_id)
                return task_result
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise


def start_embedded(*, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
    """The worker in a daemon thread (for `supportdesk serve`); set the event to stop it."""
    stop = threading.Event()
    worker = Worker(interval=interval, stop=stop)

    def loop() -> None:
        while not stop.is_set():
            try:
                worker.run()
            except Exception:
                logger.exception("embedded worker crashed; restarting in 5 s")
                stop.wait(5)
        close_old_connections()

    thread = threading.Thread(target=loop, name="supportdesk-worker", daemon=True)
    thread.start()
    return thread, stop
