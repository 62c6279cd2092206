"""Reads of the outgoing-mail table (threading lookups, sending limits)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connections, router
from django.db.models import QuerySet

from supportdesk.outbound.headers import bare_address, parse_message_ids
from supportdesk.outbound.models import OutboundMail


def ticket_for_message_ids(message_ids: Iterable[str]) -> int | None:
    """The ticket id a reply belongs to, from its In-Reply-To / References ids.

    Ids may be given raw (``"<a@b> <c@d>"``) or one by one. Mail we sent wins over
    messages we stored (a customer can choose their own Message-IDs, we choose ours);
    among several matches the last id given (the most recent in References) wins.
    Returns None when no id is known. Whether the sender may write to that ticket is
    the caller's question.
    """
    from supportdesk.tickets.models import Message

    wanted: list[str] = []
    for value in message_ids:
        for mid in parse_message_ids(value):
            if mid not in wanted:
                wanted.append(mid)
    if not wanted:
        return None
    sent = dict(
        OutboundMail.objects.filter(message_id__in=wanted, ticket__isnull=False).values_list(
            "message_id", "ticket_id"
        )
    )
    for mid in reversed(wanted):
        if mid in sent:
            return int(sent[mid])
    # tickets.Message keeps ids as the channel stored them; the email channel stores
    # them canonical (normalise_message_id), bare ones are matched too.
    variants = {v for mid in wanted for v in (mid, mid[1:-1])}
    stored: dict[str, int] = {}
    for mid, ticket_id in Message.objects.filter(message_id__in=variants).values_list(
        "message_id", "ticket_id"
    ):
        for canonical in parse_message_ids(mid or ""):
            stored.setdefault(canonical, ticket_id)
    for mid in reversed(wanted):
        if mid in stored:
            return int(stored[mid])
    return None


def is_message_id_ours(message_id: str) -> bool:
    """Whether we sent a mail with this Message-ID."""
    found = parse_message_ids(message_id)
    return bool(found) and OutboundMail.objects.filter(message_id=found[0]).exists()


def acknowledgements_sent(address: str, *, since: datetime) -> int:
    """How many acknowledgements were queued to this address since `since`."""
    return _acknowledgements(address, since=since).count()


def acknowledgements_sent_to(addresses: Iterable[str], *, since: datetime) -> dict[str, int]:
    """How many acknowledgements were queued to each of these bare addresses since
    `since` (an address with none is left out). One query on the
    `outbound_per_recipient` index (kind, recipient, created_at) for all of them: a bulk
    batch asks for all its senders at once. The SQL is written here rather than built
    by the ORM: it runs for every batch of new tickets from email."""
    wanted = sorted(set(addresses))
    if not wanted:
        return {}
    connection = connections[router.db_for_read(OutboundMail)]
    counts: dict[str, int] = {}
    # Within any database's limit on parameters per statement.
    for start in range(0, len(wanted), _ADDRESSES_PER_QUERY):
        chunk = wanted[start : start + _ADDRESSES_PER_QUERY]
        sql = (
            f"SELECT recipient, COUNT(*) FROM {connection.ops.quote_name(OutboundMail._meta.db_table)} "
            f"WHERE kind = %s AND recipient IN ({', '.join(['%s'] * len(chunk))}) "
            "AND created_at >= %s GROUP BY recipient"
        )
        params = [
            OutboundMail.Kind.ACKNOWLEDGEMENT.value,
            *chunk,
            connection.ops.adapt_datetimefield_value(since),
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            counts.update((recipient, int(count)) for recipient, count in cursor.fetchall())
    return counts


_ADDRESSES_PER_QUERY = 500


def _acknowledgements(address: str, *, since: datetime) -> QuerySet[OutboundMail]:
    return OutboundMail.objects.filter(
        kind=OutboundMail.Kind.ACKNOWLEDGEMENT,
        recipient=bare_address(address),
        created_at__gte=since,
    )


def thread_message_ids(ticket_id: int, *, limit: int = 20) -> list[str]:
    """The ticket's known Message-IDs, oldest first: what References should carry.

    The first id (the one that opened the thread) is always kept; beyond `limit` the
    middle is dropped, as RFC 5322 allows, so the header stays short.
    """
    from supportdesk.tickets.models import Message

    dated: list[tuple[datetime, int, int, str]] = []
    for created, pk, raw in Message.objects.filter(
        ticket_id=ticket_id, message_id__isnull=False
    ).values_list("created_at", "id", "message_id"):
        for mid in parse_message_ids(raw or "")[:1]:
            dated.append((created, 0, pk, mid))
    for created, pk, mid in OutboundMail.objects.filter(ticket_id=ticket_id).values_list(
        "created_at", "id", "message_id"
    ):
        dated.append((created, 1, pk, mid))
    ordered: list[str] = []
    for *_, mid in sorted(dated):
        if mid not in ordered:
            ordered.append(mid)
    if len(ordered) > limit:
        ordered = [ordered[0], *ordered[-(limit - 1) :]]
    return ordered


def latest_customer_message_id(ticket_id: int) -> str | None:
    """The Message-ID of the customer's latest mail on the ticket (what a reply answers)."""
    from supportdesk.tickets.models import Message

    raw = (
        Message.objects.filter(
            ticket_id=ticket_id, kind=Message.Kind.CUSTOMER, message_id__isnull=False
        )
        .exclude(message_id="")
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    found = parse_message_ids(raw or "")
    return found[0] if found else None


__all__ = [
    "acknowledgements_sent",
    "acknowledgements_sent_to",
    "is_message_id_ours",
    "latest_customer_message_id",
    "thread_message_ids",
    "ticket_for_message_ids",
]
