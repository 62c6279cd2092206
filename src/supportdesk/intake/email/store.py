"""Durable storage of raw inbound mail: the first thing every path does.

`store_mail` commits the raw bytes (and the content digest that makes a second delivery
of the same mail a duplicate) in its own transaction and returns the row. Only then
does a path answer `250`, mark an IMAP message seen, or print its JSON line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from supportdesk import clock
from supportdesk.core import rows
from supportdesk.intake.email.digest import content_digest
from supportdesk.intake.email.models import InboundMail


@dataclass(frozen=True)
class RawMail:
    """One mail as a path received it."""

    raw: bytes
    route: str
    envelope_sender: str | None = None
    envelope_recipients: tuple[str, ...] = ()
    origin: str = ""


def _values(mail: RawMail, *, received_at: datetime) -> dict[str, Any]:
    digest = content_digest(mail.raw)
    return {
        "raw": mail.raw,
        "size": len(mail.raw),
        "sha256": hashlib.sha256(mail.raw).hexdigest(),
        "digest": digest,
        "first_digest": digest,
        "received_at": received_at,
        "route": mail.route,
        "envelope_sender": mail.envelope_sender,
        "envelope_recipients": list(mail.envelope_recipients),
        "origin": mail.origin[:500],
    }


def _row_of(values: dict[str, Any]) -> InboundMail:
    """The model instance of a row written from `values` (no query, no `__init__`)."""
    return rows.instance(InboundMail, values)


def _insert(row: InboundMail) -> InboundMail:
    """Insert as the first delivery of its content, else as a duplicate of that one."""
    try:
        with transaction.atomic():
            row.save(force_insert=True)
        return row
    except IntegrityError:
        first = InboundMail.objects.filter(first_digest=row.digest).only("pk").first()
        row.pk = None
        row.first_digest = None
        row.duplicate_of = first
        row.save(force_insert=True)
        return row


def store_mail(mail: RawMail, *, now: datetime | None = None) -> InboundMail:
    """Store one raw mail durably (committed on return, unless inside an outer atomic)."""
    now = now or clock.now()
    row = _row_of(_values(mail, received_at=now))
    with transaction.atomic():
        return _insert(row)


def store_mails(mails: Sequence[RawMail], *, now: datetime | None = None) -> list[InboundMail]:
    """Store a batch in one transaction (the bulk path, the listener's group commit): one
    commit for many mails.

    Duplicates inside the batch and of earlier mail are recognised as in `store_mail`.
    The rows go in as prepared multi-row INSERTs (`core.rows`): through the ORM's
    `bulk_create` the SQL building cost more CPU than storing, and the SMTP listener
    answers each `250` only after this returns.
    """
    now = now or clock.now()
    values = [_values(m, received_at=now) for m in mails]
    with transaction.atomic():
        fresh: list[dict[str, Any]] = []
        later: list[dict[str, Any]] = []
        seen: set[str] = set()
        for row in values:
            if row["digest"] in seen:  # the same content twice in this batch
                row["first_digest"] = None
                later.append(row)
            else:
                seen.add(row["digest"])
                fresh.append(row)
        try:
            # The unique first_digest refuses content stored before: rare, so it is
            # cheaper to try the whole batch than to look every digest up first.
            with transaction.atomic():
                written = rows.insert_many(InboundMail, fresh, returning=("first_digest", "id"))
            pk_of = dict(written)
            for row in fresh:
                row["id"] = pk_of[row["digest"]]
        except IntegrityError:
            for row in fresh:
                stored = _insert(_row_of(row))
                row["id"], row["first_digest"] = stored.pk, stored.first_digest
                row["duplicate_of_id"] = stored.duplicate_of_id
        first_pk = {row["digest"]: row.get("duplicate_of_id") or row["id"] for row in fresh}
        for row in later:
            row["duplicate_of_id"] = first_pk.get(row["digest"])
            row["id"] = rows.insert_values(InboundMail, row)
    return [_row_of(row) for row in values]


def pending(limit: int = 500) -> Iterable[InboundMail]:
    """Stored mail not yet processed (after a crash, or queued by the SMTP listener)."""
    return InboundMail.objects.filter(status=InboundMail.Status.STORED).order_by("id")[:limit]
