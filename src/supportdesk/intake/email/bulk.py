"""The bulk path: many raw mails stored in batches, then processed batch by batch.

A batch of raw mails commits in one transaction (one fsync for many). Then the batch is
processed in one transaction too: the mails that only open a new ticket are decided
first and their tickets written set-wise (`intake.service.receive_many`), any other mail
goes through `process_mail` in its own savepoint, so one bad mail never rolls back
another; a commit costs a disk flush, and one flush per batch instead
of one per mail is what makes the bulk path fast. Outcomes are reported only after the
batch committed. Should the batch transaction fail as a whole, its mails are still
stored and are processed again one by one.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from django.db import transaction

from supportdesk import clock
from supportdesk.intake.email import helper_process
from supportdesk.intake.email.mime import ParsedMail
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.process import (
    NewTicketMail,
    Outcome,
    open_new_tickets,
    parse_args,
    plan_new_ticket,
    process_mail,
)
from supportdesk.intake.email.store import RawMail, store_mails
from supportdesk.outbound.queue import batched_delivery
from supportdesk.tickets import decisions, notify

logger = logging.getLogger(__name__)

BATCH = 200
# The first batch is small: nothing can be processed before it is parsed (in the helper
# process), so a short first batch starts the pipeline sooner.
FIRST_BATCH = 25
PARSE_TIMEOUT_SECONDS = 120


def maildir_files(directory: Path) -> list[Path]:
    """The messages of a maildir (new/ and cur/), or of a plain directory of files."""
    folders = [directory / "new", directory / "cur"]
    if not any(f.is_dir() for f in folders):
        folders = [directory]
    files: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            files += sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return files


def _batches(mails: Iterable[RawMail], size: int) -> Iterator[list[RawMail]]:
    batch: list[RawMail] = []
    limit = min(size, FIRST_BATCH)
    for mail in mails:
        batch.append(mail)
        if len(batch) >= limit:
            yield batch
            batch = []
            limit = size
    if batch:
        yield batch


def process_batch(
    rows: list[InboundMail], parsed: list[ParsedMail] | None, on_outcome: Callable[[Outcome], None]
) -> None:
    """Process stored rows (parsed, when `parsed` is given) in one transaction; should it
    fail as a whole, one by one."""
    try:
        # One delivery task for the batch's acknowledgements, written in this transaction;
        # the tickets' after-commit hooks run together, subscriptions looked up once (as
        # `intake.service.receive_many` does).
        with transaction.atomic(), batched_delivery(), notify.grouped(), \
                decisions.subscriptions_remembered():
            outcomes = _process_rows(rows, parsed)
    except Exception:
        for row in rows:
            row.refresh_from_db()
        outcomes = [process_mail(row) for row in rows]
    for outcome in outcomes:
        on_outcome(outcome)


def _process_rows(rows: list[InboundMail], parsed: list[ParsedMail] | None) -> list[Outcome]:
    """Inside the batch's transaction: mails that only open a new ticket are decided
    first and written together (`open_new_tickets`: numbers in one UPDATE, multi-row
    INSERTs); any other mail (a reply, a duplicate, a bounce, attachments) goes through
    `process_mail` in its place, after the new tickets before it are written, so
    threading, duplicates and numbering see what they would one by one. Should a
    set-wise write fail, its mails are processed one by one (each in its savepoint)."""
    now = clock.now()
    outcomes: list[Outcome | None] = [None] * len(rows)
    pending: list[tuple[int, NewTicketMail]] = []

    def flush() -> None:
        if not pending:
            return
        try:
            with transaction.atomic():
                done = open_new_tickets([m for _, m in pending], now)
        except Exception:
            done = [process_mail(m.row, parsed=m.parsed) for _, m in pending]
        for (i, _), outcome in zip(pending, done, strict=True):
            outcomes[i] = outcome
        pending.clear()

    for i, row in enumerate(rows):
        mail = parsed[i] if parsed else None
        planned = plan_new_ticket(row, mail)
        if planned is not None:
            pending.append((i, planned))
            continue
        flush()
        outcomes[i] = process_mail(row, parsed=mail)
    flush()
    return [o for o in outcomes if o is not None]


def ingest_many(
    mails: Iterable[RawMail],
    *,
    on_outcome: Callable[[Outcome], None],
    batch_size: int = BATCH,
    parallel: bool | None = None,
) -> int:
    """Store and process every mail; returns how many were stored."""
    stored = 0

    def stored_batches() -> Iterator[list[InboundMail]]:
        nonlocal stored
        for batch in _batches(mails, batch_size):
            rows = store_mails(batch)  # committed before anything else happens to them
            stored += len(rows)
            yield rows

    _pipeline(stored_batches(), on_outcome=on_outcome, parallel=parallel)
    return stored


def process_stored(
    *, on_outcome: Callable[[Outcome], None], batch_size: int = BATCH, parallel: bool | None = None
) -> int:
    """Process every stored, unprocessed mail (the SMTP listener's backlog, a crash's
    leftovers), in batches as the bulk path does; returns how many."""
    done = 0

    def pending_batches() -> Iterator[list[InboundMail]]:
        nonlocal done
        last_id = 0
        limit = min(batch_size, FIRST_BATCH)
        while True:
            rows = list(
                InboundMail.objects.filter(status=InboundMail.Status.STORED, id__gt=last_id)
                .order_by("id")[:limit]
            )
            limit = batch_size
            if not rows:
                return
            last_id = rows[-1].pk
            done += len(rows)
            yield rows

    _pipeline(pending_batches(), on_outcome=on_outcome, parallel=parallel)
    return done


class ParseHelper:
    """A helper process that parses batches of stored mail beside the database work.

    Parsing is pure Python and needs no database, so on a machine with more than one
    CPU it runs in another process while this one writes the previous batch. `fork`
    starts at once but is only safe in a single-threaded process; a process running
    other threads (the SMTP listener, the web server) uses `spawn`, which imports
    Django in the helper once. Whatever goes wrong in the helper, the batch is parsed
    here instead (`parsed` returns None).
    """

    def __init__(self, *, start_method: str = "fork") -> None:
        self._pool: ProcessPoolExecutor | None = None
        try:
            context = multiprocessing.get_context(start_method)
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=context,
                initializer=helper_process.start if start_method != "fork" else None,
            )
        except (OSError, ValueError):
            self._pool = None

    def submit(self, rows: list[InboundMail]) -> Future[list[ParsedMail]] | None:
        if self._pool is None:
            return None
        try:
            return self._pool.submit(helper_process.parse_all, [parse_args(r) for r in rows])
        except Exception:  # a broken pool: parse here from now on
            self._pool = None
            return None

    @staticmethod
    def parsed(future: Future[list[ParsedMail]] | None) -> list[ParsedMail] | None:
        """The parsed batch, or None (then each mail is parsed here) if the helper failed."""
        if future is None:
            return None
        try:
            return future.result(timeout=PARSE_TIMEOUT_SECONDS)
        except Exception:  # includes a timeout: parse here rather than wait on a stuck helper
            logger.warning("the parse helper failed; parsing here instead", exc_info=True)
            future.cancel()
            return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _pipeline(
    batches: Iterator[list[InboundMail]],
    *,
    on_outcome: Callable[[Outcome], None],
    parallel: bool | None,
) -> None:
    """Process batches of stored rows, each in one transaction.

    With `parallel` (default: when the machine has more than one CPU), the next batch
    is parsed in a helper process while this one is processed.
    """
    if parallel is None:
        # Forking a process that runs other threads (the web server, the SMTP listener)
        # could copy a lock some thread holds; only a single-threaded process forks.
        parallel = (os.cpu_count() or 1) > 1 and threading.active_count() == 1
    helper = ParseHelper() if parallel else None
    previous: tuple[list[InboundMail], Future[list[ParsedMail]] | None] | None = None
    try:
        for rows in batches:
            future = helper.submit(rows) if helper else None
            if previous is not None:
                process_batch(previous[0], ParseHelper.parsed(previous[1]), on_outcome)
            previous = (rows, future)
        if previous is not None:
            process_batch(previous[0], ParseHelper.parsed(previous[1]), on_outcome)
    finally:
        if helper is not None:
            helper.close()
