"""From a stored raw mail to a ticket: threading, the intake service, the acknowledgement.

`process_mail` runs once per stored row. The ticket change, the acknowledgement row and
the row's outcome commit in ONE transaction, claimed with a conditional UPDATE on the
row's status, so a mail is never processed twice, even by two processes at once, and a
crash in between leaves the row `stored` to be processed again.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction

from supportdesk import clock
from supportdesk.intake.email import automatic
from supportdesk.intake.email.mime import ParsedMail, parse_mail
from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.threading import find_thread
from supportdesk.intake.service import (
    Identification,
    InboundAttachment,
    InboundRequest,
    IntakeResult,
    identify_sender_by_email,
    receive,
)
from supportdesk.tickets import actions
from supportdesk.tickets.models import Channel, Queue, Status, Ticket

if TYPE_CHECKING:
    from supportdesk.outbound.services import Acknowledgement

logger = logging.getLogger(__name__)

Action = InboundMail.Action


class _AlreadyClaimed(Exception):
    """Raised inside the processing transaction to roll it back: the row was taken."""


@dataclass
class Outcome:
    """What became of one inbound mail: the `ingest-email` JSON line."""

    inbound_id: int
    message_id: str
    action: str
    ticket: int | None = None
    account: str | None = None
    queue: str | None = None
    severity: str | None = None
    first_response_due: str | None = None
    reasons: list[str] = field(default_factory=list)
    acknowledged: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id or None,
            "action": self.action,
            "ticket": self.ticket,
            "account": self.account,
            "queue": self.queue,
            "severity": self.severity,
            "first_response_due": self.first_response_due,
            "reasons": self.reasons,
            "acknowledged": self.acknowledged,
            "inbound_id": self.inbound_id,
        }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(clock.now().tzinfo).isoformat().replace("+00:00", "Z")


def _canonical_id(message_id: str) -> str | None:
    return f"<{message_id.lower()}>" if message_id else None


def own_addresses() -> tuple[str, ...]:
    return _own_addresses(settings.SUPPORTDESK_SUPPORT_ADDRESS, settings.DEFAULT_FROM_EMAIL)


@functools.cache
def _own_addresses(*configured: str) -> tuple[str, ...]:
    from email.utils import parseaddr

    return tuple(sorted({parseaddr(a)[1].lower() for a in configured if a}))


ParseArgs = tuple[bytes, str, tuple[str, ...], str | None]


def parse_args(row: InboundMail) -> ParseArgs:
    """Everything parsing a stored mail needs, as plain values (picklable)."""
    envelope = row.envelope_sender if row.route in ("smtp", "lmtp") else None
    return (bytes(row.raw), settings.SUPPORTDESK_MTA_AUTHSERV_ID, own_addresses(), envelope)


def parse_from_args(args: ParseArgs) -> ParsedMail:
    """The parsed mail, its HTML already cleaned by the ticket core's sanitiser after
    the channel's (the bulk path runs this in its parse helper process, which has CPU
    to spare): the core stores such HTML as it is (`actions.SanitisedHtml`)."""
    raw, authserv_id, own, envelope = args
    parsed = parse_mail(raw, authserv_id=authserv_id, own_addresses=own, envelope_sender=envelope)
    parsed.html = actions.sanitise_html(parsed.html)
    return parsed


def parse_stored(row: InboundMail) -> ParsedMail:
    return parse_from_args(parse_args(row))


def _is_our_own(parsed: ParsedMail) -> bool:
    from supportdesk.outbound.headers import is_our_own_mail

    if not parsed.control_headers or not parsed.message_id:
        return False
    return is_our_own_mail([("Message-ID", f"<{parsed.message_id}>"), *parsed.control_headers])


def _authenticated(parsed: ParsedMail, identify: Callable[[], Identification]) -> bool | None:
    """What the intake service is told: None = domain alone decides (no authserv-id set,
    or the domain claims no customer), True = DMARC vouches, False = a customer domain
    claimed without our MTA's DMARC pass."""
    status = parsed.authentication.status
    if status == "not_configured":
        return None
    if parsed.authentication.passed:
        return True
    return False if identify().identified else None


def _content(parsed: ParsedMail) -> tuple[str, list[InboundAttachment]]:
    """The message text and the attachments to store. An attachment over the size limit
    is replaced by a note in the text (the raw mail in the inbound store keeps it)."""
    from supportdesk.tickets.attachments import clean_original_name, is_too_large

    text = parsed.text
    kept: list[InboundAttachment] = []
    for a in parsed.attachments:
        attachment = InboundAttachment(filename=a.filename, content=a.data, content_type=a.content_type)
        if is_too_large(attachment):
            text += (
                f"\n\n[Attachment {clean_original_name(a.filename)} ({len(a.data):,} bytes) is over "
                "the size limit and was not stored; the original mail keeps it.]"
            )
        else:
            kept.append(attachment)
    return text, kept


def _outcome_of(row: InboundMail, parsed_id: str, action: str, result: IntakeResult | None,
                ticket: Ticket | None, reasons: list[str]) -> Outcome:
    if result is not None:
        return Outcome(
            inbound_id=row.pk,
            message_id=parsed_id,
            action=action,
            ticket=result.ticket.number if result.ticket else None,
            account=result.account.slug if result.account else None,
            queue=result.queue,
            severity=result.severity,
            first_response_due=_iso(result.first_response_due),
            reasons=reasons,
        )
    return Outcome(
        inbound_id=row.pk,
        message_id=parsed_id,
        action=action,
        ticket=ticket.number if ticket else None,
        account=ticket.account.slug if ticket and ticket.account_id else None,
        queue=ticket.queue if ticket else None,
        severity=ticket.severity if ticket else None,
        first_response_due=_iso(ticket.first_response_due) if ticket else None,
        reasons=reasons,
    )


_CLAIM_FIELDS = ("action", "ticket_id", "reasons", "message_id", "sender", "subject", "error")


@functools.cache
def _claim_sql(vendor: str) -> str:
    json_param = "%s::jsonb" if vendor == "postgresql" else "%s"
    table = connection.ops.quote_name(InboundMail._meta.db_table)
    assignments = ", ".join(
        f"{connection.ops.quote_name(name)} = {json_param if name == 'reasons' else '%s'}"
        for name in _CLAIM_FIELDS
    )
    return (
        f"UPDATE {table} SET status = %s, processed_at = %s, {assignments} "
        "WHERE id = %s AND status = %s"
    )


def _claim(row: InboundMail, now: datetime, **fields: Any) -> bool:
    """Mark the row processed with its outcome, only if nobody did yet (inside the
    caller's transaction). One plain UPDATE: this runs once per mail on the hot path."""
    return _claim_many([(row, fields)], now)


def _claim_many(claims: list[tuple[InboundMail, dict[str, Any]]], now: datetime) -> bool:
    """`_claim` for many rows with one `executemany`: True when every row was claimed
    (else the caller rolls back)."""
    at = connection.ops.adapt_datetimefield_value(now)
    batch = [
        [InboundMail.Status.PROCESSED, at, *_claim_params(fields), row.pk, InboundMail.Status.STORED]
        for row, fields in claims
    ]
    with connection.cursor() as cursor:
        if len(batch) == 1:
            cursor.execute(_claim_sql(connection.vendor), batch[0])
        else:
            cursor.executemany(_claim_sql(connection.vendor), batch)
        return cursor.rowcount == len(batch)


def _claim_params(fields: dict[str, Any]) -> list[Any]:
    fields = dict(fields)
    if "ticket" in fields:
        ticket = fields.pop("ticket")
        fields["ticket_id"] = ticket.pk if ticket is not None else None
    values = {
        "action": "", "ticket_id": None, "reasons": [], "message_id": "", "sender": "",
        "subject": "", "error": "", **fields,
    }
    return [
        json.dumps(values[name]) if name == "reasons" else values[name] for name in _CLAIM_FIELDS
    ]


def _already_done(row: InboundMail) -> Outcome:
    row.refresh_from_db()
    ticket = Ticket.objects.select_related("account").filter(pk=row.ticket_id).first()
    return _outcome_of(row, row.message_id, row.action or Action.DUPLICATE, None, ticket,
                       [*row.reasons, "already processed"])


def process_mail(
    row: InboundMail, *, now: datetime | None = None, parsed: ParsedMail | None = None
) -> Outcome:
    """Process one stored mail (idempotent: a processed row reports its outcome).

    `parsed` may come from elsewhere (the bulk path parses in another process); it must
    be `parse_from_args(parse_args(row))`.
    """
    now = now or clock.now()
    if row.status != InboundMail.Status.STORED:
        return _already_done(row)
    try:
        return _process(row, now, parsed)
    except Exception as exc:  # never lose the mail: file it for review with the error
        logger.exception("processing inbound mail %s failed", row.pk)
        return _file_unprocessable(row, now, exc)


def _process(row: InboundMail, now: datetime, parsed: ParsedMail | None) -> Outcome:
    if row.duplicate_of_id is not None:
        return _duplicate(row, now)
    parsed = parsed if parsed is not None else parse_stored(row)
    meta = {
        "message_id": parsed.message_id[:998],
        "sender": (parsed.sender.address or "")[:254],
        "subject": parsed.subject[:300],
    }
    reasons: list[str] = []
    kind = parsed.automatic
    if not kind.kind and _is_our_own(parsed):
        kind = automatic.Automatic(automatic.LOOP, ("our own mail came back (verified loop header)",))
    if kind.kind:
        reasons.append(f"automatic mail ({kind.kind}): " + "; ".join(kind.reasons))
    if parsed.ignored_headers:
        reasons.append("ignored control headers from outside: " + ", ".join(parsed.ignored_headers))

    if kind.kind in (automatic.BOUNCE, automatic.FEEDBACK_REPORT,
                     automatic.DISPOSITION_NOTIFICATION, automatic.LOOP):
        return _ignore(row, now, meta, parsed, reasons)

    @functools.cache
    def identify() -> Identification:  # asked only when a decision needs it
        if not parsed.sender.address:
            return Identification(None, None, ())
        return identify_sender_by_email(parsed.sender.address)

    authenticated = _authenticated(parsed, identify)
    if authenticated is False:
        reasons.append(f"sender not authenticated: {parsed.authentication.reason}")

    try:
        return _decide(row, now, meta, parsed, kind, identify, authenticated, reasons)
    except _AlreadyClaimed:  # another process got there first: its outcome stands
        return _already_done(row)


def _decide(row: InboundMail, now: datetime, meta: dict[str, str], parsed: ParsedMail,
            kind: automatic.Automatic, identify: Callable[[], Identification],
            authenticated: bool | None, reasons: list[str]) -> Outcome:
    """Thread, append or open, and claim the row: all in one transaction."""
    with transaction.atomic():
        thread = find_thread(parsed, identify=identify, authenticated=authenticated)
        reasons.extend(thread.reasons)
        auto_reply = kind.kind == automatic.AUTO_REPLY
        if thread.ticket is not None and auto_reply and thread.ticket.status == Status.SOLVED:
            # An out-of-office answer to "your ticket is solved" must not reopen it.
            reasons.append("auto-reply to a solved ticket: not appended, the ticket stays solved")
        elif thread.ticket is not None and not thread.closed:
            return _append(row, now, meta, parsed, thread.ticket, reasons)
        if auto_reply:
            if not _claim(row, now, action=Action.IGNORED, reasons=reasons, **meta):
                raise _AlreadyClaimed
            return _outcome_of(row, parsed.message_id, Action.IGNORED, None, None, reasons)
        return _create(row, now, meta, parsed, authenticated, thread, reasons)


def _ignore(row: InboundMail, now: datetime, meta: dict[str, str], parsed: ParsedMail,
            reasons: list[str]) -> Outcome:
    with transaction.atomic():
        if not _claim(row, now, action=Action.IGNORED, reasons=reasons, **meta):
            return _already_done(row)
    return _outcome_of(row, parsed.message_id, Action.IGNORED, None, None, reasons)


def _append(row: InboundMail, now: datetime, meta: dict[str, str], parsed: ParsedMail,
            ticket: Ticket, reasons: list[str]) -> Outcome:
    if not _claim(row, now, action=Action.APPENDED, ticket=ticket, reasons=reasons, **meta):
        raise _AlreadyClaimed
    text, attachments = _content(parsed)
    actions.add_customer_message(
        ticket=ticket,
        body_text=text,
        body_html=parsed.html,
        author_contact=None,
        author_email=parsed.sender.address or "",
        author_name=parsed.sender.name[:200],
        attachments=attachments,
        message_id=_canonical_id(parsed.message_id),
        source_ref=f"inbound-mail:{row.pk}",
        now=now,
    )
    ticket.refresh_from_db()
    return _outcome_of(row, parsed.message_id, Action.APPENDED, None, ticket, reasons)


def _create(row: InboundMail, now: datetime, meta: dict[str, str], parsed: ParsedMail,
            authenticated: bool | None, thread: Any,
            reasons: list[str]) -> Outcome:
    result = receive(_request(row, parsed, authenticated), now=now)
    note = None
    if thread.closed and result.ticket is not None and thread.ticket is not None:
        note = f"follow-up to closed ticket #{thread.ticket.number}"
    return _created_outcome(row, now, meta, parsed, authenticated, result, reasons, note)


def _request(row: InboundMail, parsed: ParsedMail, authenticated: bool | None) -> InboundRequest:
    from supportdesk.outbound.tags import TAG_PATTERN

    review_reasons = list(parsed.problems)
    text, attachments = _content(parsed)
    return InboundRequest(
        channel=Channel.EMAIL,
        # A tag of another ticket is dropped: this ticket has its own.
        subject=" ".join(TAG_PATTERN.sub("", parsed.subject).split()),
        body_text=text,
        body_html=parsed.html,
        sender_email=parsed.sender.address or "",
        sender_name=parsed.sender.name[:200],
        attachments=attachments,
        received_at=row.received_at,
        authenticated=authenticated,
        review_reasons=review_reasons,
        message_id=_canonical_id(parsed.message_id),
        source_ref=f"inbound-mail:{row.pk}",
    )


def _created_outcome(row: InboundMail, now: datetime, meta: dict[str, str], parsed: ParsedMail,
                     authenticated: bool | None, result: IntakeResult, reasons: list[str],
                     note: str | None) -> Outcome:
    """A ticket was opened for the mail: claim the row, acknowledge (in the caller's
    transaction)."""
    ticket = result.ticket
    action = Action.REVIEW if result.queue == Queue.REVIEW else Action.CREATED
    all_reasons = [*reasons, *result.reasons]
    if note is not None and ticket is not None:
        all_reasons.append(note)
        actions.add_system_message(ticket=ticket, body_text=f"This is a {note}.", now=now)
    if not _claim(row, now, action=action, ticket=ticket, reasons=all_reasons, **meta):
        raise _AlreadyClaimed
    outcome = _outcome_of(row, parsed.message_id, action, result, None, all_reasons)
    outcome.acknowledged = _acknowledge(parsed, result, authenticated, now)
    return outcome


def _may_acknowledge(parsed: ParsedMail, result: IntakeResult, authenticated: bool | None) -> bool:
    """No acknowledgement to machines, to noreply senders, to mail filed for review
    (unauthenticated or ambiguous: an acknowledgement would quote it to a stranger)."""
    return (
        parsed.automatic.acknowledge
        and bool(parsed.sender.address)
        and authenticated is not False
        and result.queue != Queue.REVIEW
    )


@dataclass
class NewTicketMail:
    """A stored mail decided (no writes) to open a new ticket: no reply to anything,
    no ticket tag, not automatic, not a duplicate (`plan_new_ticket`)."""

    row: InboundMail
    parsed: ParsedMail
    meta: dict[str, str]
    reasons: list[str]
    authenticated: bool | None
    request: InboundRequest


def plan_new_ticket(row: InboundMail, parsed: ParsedMail | None) -> NewTicketMail | None:
    """The bulk path's fast case, decided without writing, or None when the mail needs
    `process_mail` (threading, attachments, automatic mail, duplicates, anything odd).
    Same decisions as `process_mail` makes for such a mail."""
    from supportdesk.outbound.tags import find_ticket_tag

    if row.status != InboundMail.Status.STORED or row.duplicate_of_id is not None:
        return None
    try:
        parsed = parsed if parsed is not None else parse_stored(row)
    except Exception:
        return None
    if (parsed.automatic.kind or parsed.references or parsed.in_reply_to
            or find_ticket_tag(parsed.subject) is not None or _is_our_own(parsed)):
        return None
    meta = {
        "message_id": parsed.message_id[:998],
        "sender": (parsed.sender.address or "")[:254],
        "subject": parsed.subject[:300],
    }
    reasons: list[str] = []
    if parsed.ignored_headers:
        reasons.append("ignored control headers from outside: " + ", ".join(parsed.ignored_headers))

    @functools.cache
    def identify() -> Identification:
        if not parsed.sender.address:
            return Identification(None, None, ())
        return identify_sender_by_email(parsed.sender.address)

    authenticated = _authenticated(parsed, identify)
    if authenticated is False:
        reasons.append(f"sender not authenticated: {parsed.authentication.reason}")
    # No In-Reply-To/References and no subject tag: threading finds nothing (find_thread).
    return NewTicketMail(row, parsed, meta, reasons, authenticated,
                         _request(row, parsed, authenticated))


def open_new_tickets(mails: list[NewTicketMail], now: datetime) -> list[Outcome]:
    """Open the tickets of planned mails set-wise (`intake.service.receive_many`), then
    claim each row and acknowledge, in the caller's transaction. Raises if any of it
    fails (the caller rolls back and processes the mails one by one)."""
    from supportdesk.intake.service import receive_many

    results = receive_many([m.request for m in mails], now=now)
    outcomes: list[Outcome] = []
    claims: list[tuple[InboundMail, dict[str, Any]]] = []
    for mail, result in zip(mails, results, strict=True):
        if isinstance(result, Exception):
            raise result
        action = Action.REVIEW if result.queue == Queue.REVIEW else Action.CREATED
        reasons = [*mail.reasons, *result.reasons]
        claims.append((mail.row, dict(action=action, ticket=result.ticket, reasons=reasons,
                                      **mail.meta)))
        outcomes.append(_outcome_of(mail.row, mail.parsed.message_id, action, result, None, reasons))
    if not _claim_many(claims, now):
        raise _AlreadyClaimed
    # The batch's acknowledgements together: one limit query, one INSERT (outbound).
    from supportdesk.outbound.services import send_acknowledgements

    acknowledging = [
        (outcome, _acknowledgement(mail.parsed, result))
        for mail, result, outcome in zip(mails, results, outcomes, strict=True)
        if not isinstance(result, Exception) and result.ticket is not None
        and _may_acknowledge(mail.parsed, result, mail.authenticated)
    ]
    sent = send_acknowledgements([a for _, a in acknowledging], now=now)
    for (outcome, _), queued in zip(acknowledging, sent, strict=True):
        outcome.acknowledged = queued is not None
    return outcomes


def _acknowledgement(parsed: ParsedMail, result: IntakeResult) -> Acknowledgement:
    from supportdesk.outbound.services import Acknowledgement

    return Acknowledgement(
        result.ticket,
        to=parsed.sender.address or "",
        in_reply_to=_canonical_id(parsed.message_id),
        references=[f"<{m}>" for m in parsed.references],
    )


def _acknowledge(parsed: ParsedMail, result: IntakeResult, authenticated: bool | None,
                 now: datetime) -> bool:
    if result.ticket is None or not _may_acknowledge(parsed, result, authenticated):
        return False
    from supportdesk.outbound.services import send_acknowledgement

    acknowledgement = _acknowledgement(parsed, result)
    sent = send_acknowledgement(
        acknowledgement.ticket,
        to=acknowledgement.to,
        in_reply_to=acknowledgement.in_reply_to,
        references=acknowledgement.references,
        now=now,
    )
    return sent is not None


def _duplicate(row: InboundMail, now: datetime) -> Outcome:
    first = InboundMail.objects.filter(pk=row.duplicate_of_id).first()
    if first is not None and first.status == InboundMail.Status.STORED:
        process_mail(first, now=now)  # the first delivery decides; then this follows it
        first.refresh_from_db()
    ticket = (
        Ticket.objects.select_related("account").filter(pk=first.ticket_id).first()
        if first is not None and first.ticket_id else None
    )
    reasons = [f"same content as inbound mail {row.duplicate_of_id}, delivered before"]
    meta = {"message_id": first.message_id if first else "", "sender": first.sender if first else "",
            "subject": first.subject if first else ""}
    with transaction.atomic():
        if not _claim(row, now, action=Action.DUPLICATE, ticket=ticket, reasons=reasons, **meta):
            return _already_done(row)
    return _outcome_of(row, meta["message_id"], Action.DUPLICATE, None, ticket, reasons)


def _file_unprocessable(row: InboundMail, now: datetime, exc: Exception) -> Outcome:
    """A mail we could not process still reaches a person: a review ticket with the error."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    reasons = [f"the mail could not be processed ({error}); the raw message is stored"]
    try:
        return _file_for_review(row, now, error, reasons)
    except _AlreadyClaimed:
        return _already_done(row)
    except Exception as second:  # the database itself is failing: leave the row visible
        logger.exception("filing inbound mail %s for review failed", row.pk)
        InboundMail.objects.filter(pk=row.pk).update(
            status=InboundMail.Status.FAILED, error=f"{error}; then {type(second).__name__}: {second}"
        )
        return Outcome(inbound_id=row.pk, message_id="", action=Action.REVIEW, reasons=reasons)


def _file_for_review(row: InboundMail, now: datetime, error: str, reasons: list[str]) -> Outcome:
    with transaction.atomic():
        result = receive(
            InboundRequest(
                channel=Channel.EMAIL,
                subject=f"Unprocessable inbound mail {row.pk}",
                body_text=reasons[0],
                review_reasons=reasons,
                received_at=row.received_at,
                source_ref=f"inbound-mail:{row.pk}",
            ),
            now=now,
        )
        if not _claim(row, now, action=Action.REVIEW, ticket=result.ticket, reasons=reasons,
                      error=error):
            raise _AlreadyClaimed
    return _outcome_of(row, "", Action.REVIEW, result, None, reasons)
