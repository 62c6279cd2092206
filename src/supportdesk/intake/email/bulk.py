"""The bulk path: many raw mails stored in batches, then processed one by one.

A batch of raw mails commits in one transaction (one fsync for many). Then the batch is
processed in one transaction too, each mail inside its own savepoint, so one bad mail
never rolls back another; a commit costs a disk flush, and one flush per batch instead
of one per mail is what makes the bulk path fast. Outcomes are reported only after the
batch committed. Should the batch transaction fail as a whole, its mails are still
stored and are processed again one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.db import transaction

from supportdesk.intake.email.process import Outcome, process_mail
from supportdesk.intake.email.store import RawMail, store_mails

BATCH = 200


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
    for mail in mails:
        batch.append(mail)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def ingest_many(
    mails: Iterable[RawMail],
    *,
    on_outcome: Callable[[Outcome], None],
    batch_size: int = BATCH,
) -> int:
    """Store and process every mail; returns how many were stored."""
    stored = 0
    for batch in _batches(mails, batch_size):
        rows = store_mails(batch)
        stored += len(rows)
        try:
            with transaction.atomic():
                outcomes = [process_mail(row) for row in rows]
        except Exception:
            for row in rows:
                row.refresh_from_db()
            outcomes = [process_mail(row) for row in rows]
        for outcome in outcomes:
            on_outcome(outcome)
    return stored
