"""Builders for email intake tests: raw mails and one-call ingestion through the real path."""

from __future__ import annotations

from supportdesk.intake.email.process import Outcome, process_mail
from supportdesk.intake.email.store import RawMail, store_mail

_counter = iter(range(1, 10**9))


def make_mail(
    *,
    sender: str = "Ana <ana@acme.example>",
    subject: str = "Export is broken",
    body: str = "Hello, the export is broken since this morning.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra: str = "",
    to: str = "support@supportdesk.localhost",
) -> bytes:
    message_id = message_id or f"<m{next(_counter)}@client.example>"
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Message-ID: {message_id}",
        "Date: Mon, 30 Nov 2026 12:00:00 -0300",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if in_reply_to:
        lines.append(f"In-Reply-To: {in_reply_to}")
    if references:
        lines.append(f"References: {references}")
    if extra:
        lines.extend(extra.strip("\n").split("\n"))
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def ingest(raw: bytes, *, route: str = "pipe", envelope_sender: str | None = None) -> Outcome:
    row = store_mail(RawMail(raw=raw, route=route, envelope_sender=envelope_sender))
    return process_mail(row)
