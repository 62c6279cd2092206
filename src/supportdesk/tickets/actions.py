"""The one write path for tickets.

Every action: one transaction, the ticket row locked (`select_for_update`), the change
written, an `Event` recorded, notifications scheduled for after the commit. Each reads
the time once (`now`, injectable) and uses that instant throughout. Views, API
handlers, channels and commands never save a ticket themselves.

Actions that change a ticket return the updated ticket; message actions return the
message (whose `.ticket` is the updated ticket). The instance passed in is not updated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from supportdesk import clock
from supportdesk.accounts.models import Account, Contact, User
from supportdesk.core import rows
from supportdesk.tickets import notify
from supportdesk.tickets.attachments import NewAttachment, store_attachments, write_files
from supportdesk.tickets.decisions import decide_ticket_sla, ticket_snapshot
from supportdesk.tickets.models import (
    Attachment,
    Event,
    Message,
    Queue,
    Severity,
    Status,
    Ticket,
    TicketSequence,
)

SUBJECT_MAX = Ticket._meta.get_field("subject").max_length or 300
# `Choices.values` builds a new list on every access; these are checked per ticket.
_QUEUES = frozenset(Queue.values)
_SEVERITIES = frozenset(Severity.values)


# --- helpers ---------------------------------------------------------------------------


# `cid:` stays allowed: it names a part of the same mail (the email channel drops any
# that does not) and a browser loads nothing from it by itself.
_URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


class SanitisedHtml(str):
    """HTML as `sanitise_html` returned it: the actions store it without cleaning it again.

    Only `sanitise_html` makes these. A channel may sanitise ahead of time (the email
    channel does, in its parse helper process, with the CPU the writing process lacks)
    and hand the result on as it is. Any change to the string (slicing, concatenation,
    formatting) gives a plain `str`, which is cleaned as usual: nothing unmarked is
    trusted."""

    __slots__ = ()


def sanitise_html(html: str) -> SanitisedHtml | str:
    """HTML safe to show to a specialist: nh3's allow-list, links made rel=noopener.
    Returns a `SanitisedHtml` (which comes back from here unchanged, as a plain `str`)."""
    if type(html) is SanitisedHtml:
        return str(html)
    return SanitisedHtml(nh3.clean(html, url_schemes=_URL_SCHEMES)) if html else ""


def _next_number() -> int:
    """Take the next ticket number (the counter row stays locked until commit)."""
    table = connection.ops.quote_name(TicketSequence._meta.db_table)
    sql = f"UPDATE {table} SET last = last + 1 WHERE id = 1 RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        if row is None:
            # The counter row is missing (a flushed test database): restart it after
            # the highest number in use, then take a number as usual.
            _restart_counter()
            cursor.execute(sql)
            row = cursor.fetchone()
    return int(row[0])


def _next_numbers(count: int) -> int:
    """Take `count` consecutive ticket numbers in one UPDATE; returns the first."""
    table = connection.ops.quote_name(TicketSequence._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE id = 1 RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [count])
        row = cursor.fetchone()
        if row is None:
            _restart_counter()  # as _next_number does
            cursor.execute(sql, [count])
            row = cursor.fetchone()
    return int(row[0]) - count + 1


def _restart_counter() -> None:
    highest = Ticket.objects.order_by("-number").values_list("number", flat=True).first()
    TicketSequence.objects.get_or_create(id=1, defaults={"last": highest or 0})


def _insert_opening_postgresql(
    ticket: dict[str, Any], message: dict[str, Any], event: dict[str, Any]
) -> tuple[int, int, int]:
    """Number, ticket, first message and opening event in ONE statement (PostgreSQL):
    one round trip instead of four. Returns (ticket id, number, message id)."""
    sequence = connection.ops.quote_name(TicketSequence._meta.db_table)
    parts = {
        "ticket": rows.insert_select(
            Ticket, ticket, source="number", expressions={"number": ("last", [])},
            returning="id, number",
        ),
        "message": rows.insert_select(
            Message, message, source="ticket", expressions={"ticket_id": ("id", [])},
            returning="id",
        ),
        "event": rows.insert_select(
            Event, event, source="ticket",
            expressions={
                "ticket_id": ("id", []),
                # The event's facts with the number just taken.
                "after": ("jsonb_set(%s::jsonb, '{number}', to_jsonb(number))",
                          [json.dumps(event["after"])]),
            },
        ),
    }
    sql = (
        f"WITH number AS (UPDATE {sequence} SET last = last + 1 WHERE id = 1 RETURNING last), "
        + ", ".join(f"{name} AS ({part[0]})" for name, part in parts.items())
        + " SELECT ticket.id, ticket.number, message.id FROM ticket, message"
    )
    params = [param for part in parts.values() for param in part[1]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            # No counter row (a flushed test database), so nothing was inserted:
            # restart it as _next_number does, then open as usual.
            _restart_counter()
            cursor.execute(sql, params)
            row = cursor.fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _record(
    ticket: Ticket,
    kind: str,
    *,
    at: datetime,
    actor: User | None,
    actor_label: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    # A prepared INSERT, no model instance: nothing reads the event back here.
    rows.insert_values(
        Event,
        {
            "ticket_id": ticket.pk,
            "actor_id": actor.pk if actor is not None else None,
            "actor_label": actor_label,
            "at": at,
            "kind": kind,
            "before": before,
            "after": after,
            "reason": reason,
        },
    )


def _schedule(
    ticket: Ticket,
    kind: str,
    *,
    at: datetime,
    actor: User | None,
    message: Message | None = None,
    **details: Any,
) -> None:
    notify.schedule(
        notify.TicketChange(
            kind=kind,
            ticket_id=ticket.pk,
            number=ticket.number,
            at=at,
            actor_id=actor.pk if actor is not None else None,
            message_id=message.pk if message is not None else None,
            details=details,
        )
    )


def _check_agent(user: User | None, *, field: str) -> None:
    if user is None or not user.is_active or not user.is_agent:
        who = user.email if user is not None else "nobody"
        raise ValidationError({field: f"{who} is not an active specialist or supervisor"})


def _check_severity(severity: str) -> str:
    if severity not in _SEVERITIES:
        raise ValidationError(
            {"severity": f"{severity!r} is not a severity ({', '.join(Severity.values)})"}
        )
    return severity


def _add_message(
    ticket: Ticket,
    *,
    kind: str,
    at: datetime,
    body_text: str,
    body_html: str,
    author_user: User | None = None,
    author_contact: Contact | None = None,
    author_email: str = "",
    author_name: str = "",
    attachments: Sequence[NewAttachment] = (),
    message_id: str | None = None,
    source_ref: str | None = None,
) -> Message:
    values = _message_values(
        ticket_id=ticket.pk,
        kind=kind,
        at=at,
        body_text=body_text,
        body_html=body_html,
        author_user=author_user,
        author_contact=author_contact,
        author_email=author_email,
        author_name=author_name,
        message_id=message_id,
        source_ref=source_ref,
    )
    values["id"] = rows.insert_values(Message, values)
    return _message_written(values, ticket, author_user, author_contact, attachments)


def _message_values(
    *,
    ticket_id: int | None,
    kind: str,
    at: datetime,
    body_text: str,
    body_html: str,
    author_user: User | None,
    author_contact: Contact | None,
    author_email: str,
    author_name: str,
    message_id: str | None,
    source_ref: str | None,
) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "kind": kind,
        "author_user_id": author_user.pk if author_user is not None else None,
        "author_contact_id": author_contact.pk if author_contact is not None else None,
        "author_email": author_email,
        "author_name": author_name,
        "body_text": body_text,
        "body_html": str(sanitise_html(body_html)),  # stored and kept as a plain str
        "created_at": at,
        "message_id": message_id,
        "source_ref": source_ref,
    }


def _message_written(
    values: dict[str, Any],
    ticket: Ticket,
    author_user: User | None,
    author_contact: Contact | None,
    attachments: Sequence[NewAttachment],
) -> Message:
    """The instance of a message row just inserted, with its attachments stored."""
    message = rows.instance(Message, values)
    rows.remember(message, "ticket", ticket)
    rows.remember(message, "author_user", author_user)
    rows.remember(message, "author_contact", author_contact)
    if attachments:
        store_attachments(message, tuple(attachments))
    return message


# --- opening ---------------------------------------------------------------------------


@dataclass
class Opening:
    """A ticket decided but not yet written (`prepare_opening`): its row, its first
    message's and its opening event's values, and what the instances are built from."""

    values: dict[str, Any]
    message_values: dict[str, Any]
    event_values: dict[str, Any]
    account: Account | None
    requester: Contact | None
    actor: User | None
    attachments: tuple[NewAttachment, ...]
    queue: str
    channel: str
    now: datetime
    # The attachments' files once written (`write_attachment_files`): their rows' values.
    written_files: tuple[dict[str, Any], ...] = ()


def write_attachment_files(opening: Opening) -> None:
    """Write the opening's attachment files now, before any row (writing a file is what
    can fail; then the caller drops this opening before it takes a number), so that
    `open_tickets` only inserts their rows, with the others' in one INSERT."""
    if opening.attachments:
        opening.written_files = tuple(write_files(opening.attachments))
        opening.attachments = ()


def open_ticket(**fields: Any) -> Ticket:
    """Open a ticket with its first customer message and its frozen SLA decision.

    The SLA is decided by the policy for `sla_account` (default: `account`) with its
    effective plan and status at `opened_at` (default: now); `reasons` (how the request
    was identified and routed) are recorded before the policy's own reasons.
    Takes `prepare_opening`'s keyword arguments (one signature, kept there).
    Channels call this through `supportdesk.intake.service.receive`, not directly.
    """
    opening = prepare_opening(**fields)
    values, message_values, event_values = (
        opening.values, opening.message_values, opening.event_values
    )
    with transaction.atomic():
        # The hot path: prepared INSERTs (supportdesk.core.rows), model instances built
        # from the values written, without the ORM's per-row work.
        if connection.vendor == "postgresql":
            values["id"], values["number"], message_values["id"] = _insert_opening_postgresql(
                values, message_values, event_values
            )
        else:
            values["number"] = _next_number()
            values["id"] = rows.insert_values(Ticket, values)
            message_values["ticket_id"] = values["id"]
            message_values["id"] = rows.insert_values(Message, message_values)
            event_values["ticket_id"] = values["id"]
            event_values["after"]["number"] = values["number"]
            rows.insert_values(Event, event_values)
        ticket = _opened(opening)
    return ticket


def prepare_opening(
    *,
    channel: str,
    queue: str,
    subject: str,
    body_text: str = "",
    body_html: str = "",
    account: Account | None = None,
    requester: Contact | None = None,
    requester_email: str = "",
    requester_phone: str = "",
    requester_name: str = "",
    requested_severity: str | None = None,
    attachments: Sequence[NewAttachment] = (),
    opened_at: datetime | None = None,
    actor: User | None = None,
    actor_label: str = "",
    message_id: str | None = None,
    source_ref: str | None = None,
    reasons: Sequence[str] = (),
    sla_account: Account | None = None,
    now: datetime | None = None,
) -> Opening:
    """Everything `open_ticket` decides (checks, SLA decision, the rows' values) without
    writing anything: `open_ticket` writes one, `open_tickets` many at once."""
    now = now or clock.now()
    opened_at = opened_at or now
    if queue not in _QUEUES:
        raise ValidationError({"queue": f"{queue!r} is not a queue"})
    if requested_severity is not None:
        _check_severity(requested_severity)
    sla = decide_ticket_sla(
        account=sla_account if sla_account is not None else account,
        severity=requested_severity,
        channel=channel,
        opened_at=opened_at,
    )
    subject = " ".join((subject or "").split())[:SUBJECT_MAX] or "(no subject)"
    values: dict[str, Any] = {
        "account_id": account.pk if account is not None else None,
        "requester_id": requester.pk if requester is not None else None,
        "requester_email": requester_email,
        "requester_phone": requester_phone,
        "requester_name": requester_name,
        "queue": queue,
        "channel": channel,
        "status": Status.NEW.value,
        "subject": subject,
        "opened_at": opened_at,
        "updated_at": now,
        "assignee_id": None,
        **sla.values(opened_at=opened_at),
        "sla_reasons": [*reasons, *sla.sla_reasons],
    }
    message_values = _message_values(
        ticket_id=None,  # known once the ticket is inserted
        kind=Message.Kind.CUSTOMER,
        at=opened_at,
        body_text=body_text,
        body_html=body_html,
        author_user=actor,
        author_contact=requester,
        author_email=requester_email,
        author_name=requester_name,
        message_id=message_id,
        source_ref=source_ref,
    )
    event_values = {
        "ticket_id": None,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": actor_label or f"{channel} intake",
        "at": now,
        "kind": "opened",
        "before": None,
        "after": {
            "number": None,  # known once the number is taken
            "queue": queue,
            "channel": channel,
            "account": account.slug if account is not None else None,
            "requested_severity": requested_severity,
            **sla.snapshot(),
            "sla_reasons": values["sla_reasons"],
        },
        "reason": "",
    }
    return Opening(
        values=values,
        message_values=message_values,
        event_values=event_values,
        account=account,
        requester=requester,
        actor=actor,
        attachments=tuple(attachments),
        queue=queue,
        channel=channel,
        now=now,
    )


def open_tickets(openings: Sequence[Opening]) -> list[Ticket]:
    """Write many prepared openings at once (group commit's bulk path): the numbers in
    one UPDATE, then all tickets, all first messages and all opening events each in as
    few multi-row INSERTs as the database allows. One transaction (a savepoint inside
    one): all are written or none. Returns the tickets in the order of `openings`,
    numbered in that order."""
    if not openings:
        return []
    with transaction.atomic():
        first = _next_numbers(len(openings))
        for offset, opening in enumerate(openings):
            opening.values["number"] = first + offset
        by_number = {
            number: ticket_id
            for ticket_id, number in rows.insert_many(
                Ticket, [o.values for o in openings], returning=("id", "number")
            )
        }
        for opening in openings:
            ticket_id = by_number[opening.values["number"]]
            opening.values["id"] = ticket_id
            opening.message_values["ticket_id"] = ticket_id
            opening.event_values["ticket_id"] = ticket_id
            opening.event_values["after"]["number"] = opening.values["number"]
        message_ids = {
            ticket_id: message_id
            for message_id, ticket_id in rows.insert_many(
                Message, [o.message_values for o in openings], returning=("id", "ticket_id")
            )
        }
        for opening in openings:
            opening.message_values["id"] = message_ids[opening.values["id"]]
        rows.insert_many(Event, [o.event_values for o in openings])
        rows.insert_many(Attachment, [
            {**values, "message_id": o.message_values["id"]} for o in openings for values in o.written_files
        ])
        return [_opened(opening) for opening in openings]


def _opened(opening: Opening) -> Ticket:
    """The instance of a ticket just written, its message's attachments stored and its
    hooks scheduled (inside the writing transaction)."""
    values, message_values = opening.values, opening.message_values
    message_values["ticket_id"] = values["id"]
    ticket = rows.instance(Ticket, values)
    rows.remember(ticket, "account", opening.account)
    rows.remember(ticket, "requester", opening.requester)
    rows.remember(ticket, "assignee", None)
    message = _message_written(
        message_values, ticket, opening.actor, opening.requester, opening.attachments
    )
    # The facts hooks usually need, so most can decide without reading the ticket.
    _schedule(
        ticket,
        "opened",
        at=opening.now,
        actor=opening.actor,
        message=message,
        severity=ticket.severity,
        queue=opening.queue,
        channel=opening.channel,
        account_id=ticket.account_id,
        first_response_due=ticket.first_response_due,
        sla_coverage=ticket.sla_coverage,
    )
    return ticket


# --- messages --------------------------------------------------------------------------


def add_customer_message(
    *,
    ticket: Ticket,
    body_text: str,
    body_html: str = "",
    author_contact: Contact | None = None,
    author_user: User | None = None,
    author_email: str = "",
    author_name: str = "",
    attachments: Sequence[NewAttachment] = (),
    message_id: str | None = None,
    source_ref: str | None = None,
    now: datetime | None = None,
) -> Message:
    """A message from the customer on an existing ticket.

    A ticket waiting for the customer (pending) or solved goes back to open; a closed
    ticket stays closed (the channel decides whether to open a new one instead).
    Customer messages never stop the SLA clock.
    """
    now = now or clock.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        message = _add_message(
            ticket,
            kind=Message.Kind.CUSTOMER,
            at=now,
            body_text=body_text,
            body_html=body_html,
            author_user=author_user,
            author_contact=author_contact,
            author_email=author_email,
            author_name=author_name,
            attachments=attachments,
            message_id=message_id,
            source_ref=source_ref,
        )
        before_status = ticket.status
        if ticket.status in (Status.PENDING, Status.SOLVED):
            ticket.status = Status.OPEN
        ticket.updated_at = now
        ticket.save(update_fields=["status", "updated_at"])
        _record(
            ticket,
            "customer_message",
            at=now,
            actor=author_user,
            actor_label=author_email or (author_contact.email if author_contact else ""),
            before={"status": before_status} if before_status != ticket.status else None,
            after={"message": message.pk, "status": ticket.status},
        )
        _schedule(ticket, "customer_message", at=now, actor=author_user, message=message)
    message.ticket = ticket
    return message


def add_public_reply(
    *,
    ticket: Ticket,
    author: User,
    body_text: str,
    body_html: str = "",
    attachments: Sequence[NewAttachment] = (),
    status: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> Message:
    """A specialist's reply the customer sees.

    The first one records the first response and whether it met the SLA (replied at or
    before the due time; None when the ticket had no SLA). `status` sets the ticket's
    status with the reply (e.g. pending); by default a new ticket becomes open.
    """
    now = now or clock.now()
    _check_agent(author, field="author")
    if not body_text.strip() and not body_html.strip():
        raise ValidationError({"body_text": "a reply needs a text"})
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status == Status.CLOSED:
            raise ValidationError({"ticket": f"ticket #{ticket.number} is closed"})
        message = _add_message(
            ticket,
            kind=Message.Kind.REPLY,
            at=now,
            body_text=body_text,
            body_html=body_html,
            author_user=author,
            author_email=author.email,
            author_name=author.name,
            attachments=attachments,
            message_id=message_id,
        )
        before = {"status": ticket.status}
        after: dict[str, Any] = {"message": message.pk}
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
            due = ticket.first_response_due
            ticket.first_response_met = None if due is None else now <= due
            ticket.next_sla_at = None
            after["first_responded_at"] = now.isoformat()
            after["first_response_met"] = ticket.first_response_met
        new_status = status or (Status.OPEN if ticket.status == Status.NEW else ticket.status)
        if new_status == Status.NEW or new_status not in Status.values:
            raise ValidationError({"status": f"a reply cannot set status {new_status!r}"})
        ticket.status = new_status
        after["status"] = new_status
        ticket.updated_at = now
        ticket.save(
            update_fields=[
                "first_responded_at",
                "first_response_met",
                "next_sla_at",
                "status",
                "updated_at",
            ]
        )
        _record(ticket, "public_reply", at=now, actor=author, before=before, after=after)
        _schedule(ticket, "public_reply", at=now, actor=author, message=message)
    message.ticket = ticket
    return message


def add_internal_note(
    *,
    ticket: Ticket,
    author: User,
    body_text: str,
    body_html: str = "",
    attachments: Sequence[NewAttachment] = (),
    now: datetime | None = None,
) -> Message:
    """A note only the team sees; it does not count as a response."""
    now = now or clock.now()
    _check_agent(author, field="author")
    if not body_text.strip() and not body_html.strip():
        raise ValidationError({"body_text": "a note needs a text"})
    with transaction.atomic():
        ticket = _locked(ticket)
        message = _add_message(
            ticket,
            kind=Message.Kind.NOTE,
            at=now,
            body_text=body_text,
            body_html=body_html,
            author_user=author,
            author_email=author.email,
            author_name=author.name,
            attachments=attachments,
        )
        ticket.updated_at = now
        ticket.save(update_fields=["updated_at"])
        _record(ticket, "internal_note", at=now, actor=author, after={"message": message.pk})
        _schedule(ticket, "internal_note", at=now, actor=author, message=message)
    message.ticket = ticket
    return message


def add_system_message(
    *, ticket: Ticket, body_text: str, message_id: str | None = None, now: datetime | None = None
) -> Message:
    """A message written by the product (e.g. the acknowledgement that was sent)."""
    now = now or clock.now()
    with transaction.atomic():
        ticket = _locked(ticket)
        message = _add_message(
            ticket,
            kind=Message.Kind.SYSTEM,
            at=now,
            body_text=body_text,
            body_html="",
            message_id=message_id,
        )
        _record(ticket, "system_message", at=now, actor=None, actor_label="supportdesk",
                after={"message": message.pk})
    message.ticket = ticket
    return message


# --- changes ---------------------------------------------------------------------------


def change_severity(
    *,
    ticket: Ticket,
    severity: str,
    reason: str,
    actor: User,
    now: datetime | None = None,
) -> Ticket:
    """Change the severity; a reason is required and recorded.

    Before the first response the SLA is decided again as of the opening time (so the
    due time is what it would have been had the ticket been opened with this severity).
    After the first response only the severity changes: the SLA it was held to stays.
    """
    now = now or clock.now()
    _check_agent(actor, field="actor")
    _check_severity(severity)
    if not reason.strip():
        raise ValidationError({"reason": "say why the severity changes"})
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.severity == severity:
            return ticket
        before = ticket_snapshot(ticket)
        if ticket.first_responded_at is None:
            sla = decide_ticket_sla(
                account=ticket.account,
                severity=severity,
                channel=ticket.channel,
                opened_at=ticket.opened_at,
                severity_set_by_specialist=True,
            )
            sla.apply_to(ticket)
        ticket.severity = severity
        ticket.updated_at = now
        ticket.save()
        _record(
            ticket,
            "severity_changed",
            at=now,
            actor=actor,
            before=before,
            after=ticket_snapshot(ticket),
            reason=reason.strip(),
        )
        _schedule(ticket, "severity_changed", at=now, actor=actor)
    return ticket


def assign(
    *, ticket: Ticket, assignee: User | None, actor: User, now: datetime | None = None
) -> Ticket:
    """Give the ticket to a specialist (or take it back with None)."""
    now = now or clock.now()
    _check_agent(actor, field="actor")
    if assignee is not None:
        _check_agent(assignee, field="assignee")
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.assignee_id == (assignee.pk if assignee else None):
            return ticket
        before = {"assignee": ticket.assignee.email if ticket.assignee else None}
        ticket.assignee = assignee
        ticket.updated_at = now
        ticket.save(update_fields=["assignee", "updated_at"])
        _record(
            ticket,
            "assigned",
            at=now,
            actor=actor,
            before=before,
            after={"assignee": assignee.email if assignee else None},
        )
        _schedule(ticket, "assigned", at=now, actor=actor)
    return ticket


def change_status(
    *, ticket: Ticket, status: str, actor: User, reason: str = "", now: datetime | None = None
) -> Ticket:
    """Move the ticket to open, pending, solved or closed. Closed is final."""
    now = now or clock.now()
    _check_agent(actor, field="actor")
    if status not in Status.values or status == Status.NEW:
        allowed = ", ".join(s for s in Status.values if s != Status.NEW)
        raise ValidationError({"status": f"{status!r} is not a status a ticket can move to ({allowed})"})
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status == status:
            return ticket
        if ticket.status == Status.CLOSED:
            raise ValidationError({"status": f"ticket #{ticket.number} is closed"})
        before = {"status": ticket.status}
        ticket.status = status
        ticket.updated_at = now
        ticket.save(update_fields=["status", "updated_at"])
        _record(
            ticket,
            "status_changed",
            at=now,
            actor=actor,
            before=before,
            after={"status": status},
            reason=reason.strip(),
        )
        _schedule(ticket, "status_changed", at=now, actor=actor)
    return ticket


def move_to_account(
    *,
    ticket: Ticket,
    account: Account,
    actor: User,
    requester: Contact | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Ticket:
    """File an unidentified or review ticket under a customer account.

    The SLA is decided again as of the opening time with the account's plan and status
    then; a first response already given is measured against the new due time.
    """
    now = now or clock.now()
    _check_agent(actor, field="actor")
    if requester is not None and requester.account_id != account.pk:
        raise ValidationError({"requester": f"{requester.email} is not a contact of {account.name}"})
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.queue not in (Queue.UNIDENTIFIED, Queue.REVIEW):
            raise ValidationError(
                {"ticket": f"ticket #{ticket.number} is already in the customer queue"}
            )
        if requester is None and ticket.requester_email:
            requester = Contact.objects.filter(
                account=account, email=ticket.requester_email.lower(), is_active=True
            ).first()
        before = {
            "queue": ticket.queue,
            "account": ticket.account.slug if ticket.account else None,
            **ticket_snapshot(ticket),
        }
        sla = decide_ticket_sla(
            account=account,
            severity=ticket.severity,
            channel=ticket.channel,
            opened_at=ticket.opened_at,
        )
        ticket.account = account
        ticket.requester = requester
        ticket.queue = Queue.CUSTOMER
        sla.apply_to(ticket)
        if ticket.first_responded_at is not None:
            due = ticket.first_response_due
            ticket.first_response_met = None if due is None else ticket.first_responded_at <= due
        ticket.updated_at = now
        ticket.save()
        _record(
            ticket,
            "moved_to_account",
            at=now,
            actor=actor,
            before=before,
            after={
                "queue": ticket.queue,
                "account": account.slug,
                "requester": requester.email if requester else None,
                **ticket_snapshot(ticket),
                "sla_reasons": ticket.sla_reasons,
            },
            reason=reason.strip(),
        )
        _schedule(ticket, "moved_to_account", at=now, actor=actor)
    return ticket
