"""Reads of inbound mail for the team: the console's *Inbound mail* list and one mail.

Only specialists and supervisors see inbound mail (`inbound_mail_visible_to`); anyone
else gets nothing, and a refused mail looks like a missing one (Http404).

A list page is a fixed number of queries: one COUNT for the pager, the page's ids, the
rows of those ids (with their tickets), two COUNTs for the tabs. The ids come
first because on SQLite a row's raw bytes are stored before its other columns, so
reading `status` or `action` of a row walks its whole message: the filters are answered
from indexes (status and received time: the model's; action: the console's migration)
and only the page's rows are read. Newest first is by id, the order of arrival, which
the primary key gives without another index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import BinaryField, Case, Q, QuerySet, Value, When
from django.db.models.functions import Substr
from django.http import Http404

from supportdesk.accounts.models import User
from supportdesk.intake.email.headers import header_text
from supportdesk.intake.email.models import InboundMail

PAGE_SIZE = 50
# A mail still `stored` after this long is not being processed by anyone (the listener
# and the worker pick mail up within seconds): it needs a person.
STALE_AFTER = timedelta(minutes=5)

SHOWS = ("all", "attention", "failed", "review", "ignored", "duplicate")

# The first bytes of a mail, enough for its headers in all but pathological mail.
LIST_HEAD_BYTES = 8 * 1024
DETAIL_HEAD_BYTES = 64 * 1024

# The headers a specialist needs to judge a mail, in the order they read them.
HEADERS = (
    "From", "Sender", "Reply-To", "To", "Cc", "Subject", "Date", "Message-ID",
    "In-Reply-To", "References", "Return-Path", "Auto-Submitted", "Precedence", "List-Id",
    "Authentication-Results",
)
MAX_SHOWN_HEADER_CHARS = 1000

Status = InboundMail.Status
Action = InboundMail.Action


def _is_agent(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_agent)


def inbound_mail_visible_to(user: User | AnonymousUser) -> QuerySet[InboundMail]:
    """Every inbound mail for the team, none for anyone else (customers never see the
    mailbox: a mail may be someone else's, or an impersonation of them)."""
    if _is_agent(user):
        return InboundMail.objects.all()
    return InboundMail.objects.none()


def is_stale(mail: InboundMail, *, now: datetime) -> bool:
    return mail.status == Status.STORED and mail.received_at <= now - STALE_AFTER


def may_process_again(mail: InboundMail, *, now: datetime) -> bool:
    """Failed mail, or mail left stored longer than processing ever takes."""
    return mail.status == Status.FAILED or is_stale(mail, now=now)


def show_filter(show: str, *, now: datetime) -> Q:
    """Which inbound mail a tab of the list holds."""
    if show == "all":
        return Q()
    if show == "attention":
        return (
            Q(status=Status.FAILED)
            | Q(status=Status.STORED, received_at__lte=now - STALE_AFTER)
            | Q(action=Action.REVIEW)
        )
    if show == "failed":
        return Q(status=Status.FAILED)
    if show in (Action.REVIEW, Action.IGNORED, Action.DUPLICATE):
        return Q(action=show)
    raise ValueError(show)


@dataclass(frozen=True)
class MailRow:
    mail: InboundMail
    sender: str
    subject: str
    # `stored`, `failed`, or the action of a processed mail (`created`, `review`, ...).
    state: str
    stale: bool


@dataclass
class MailPage:
    show: str
    page: Page[Any]
    rows: list[MailRow]


def _head(value: Any) -> bytes:
    return bytes(value) if value is not None else b""


def _headers_of(head: bytes) -> Message:
    # Only what precedes the first empty line is parsed: a body is never read here.
    return BytesHeaderParser(policy=compat32).parsebytes(head)


def _state(mail: InboundMail) -> str:
    if mail.status == Status.PROCESSED:
        return mail.action or Status.PROCESSED
    return mail.status


def _row(mail: InboundMail, *, now: datetime) -> MailRow:
    sender, subject = mail.sender, mail.subject
    head = _head(getattr(mail, "head", None))
    if head:  # not processed (or not parsed) yet: what the mail's own headers say
        headers = _headers_of(head)
        if not sender:
            written = header_text(headers.get("From", ""))
            sender = (parseaddr(written)[1] or written)[:300]
        subject = subject or header_text(headers.get("Subject", ""))[:300]
    return MailRow(mail=mail, sender=sender or (mail.envelope_sender or ""), subject=subject,
                   state=_state(mail), stale=is_stale(mail, now=now))


def mail_page(user: User | AnonymousUser, *, show: str, page: Any, now: datetime) -> MailPage:
    """One page of inbound mail, newest first."""
    ids = (
        inbound_mail_visible_to(user)
        .filter(show_filter(show, now=now))
        .order_by("-id")
        .values_list("id", flat=True)
    )
    current = Paginator(ids, PAGE_SIZE).get_page(page)
    wanted = list(current.object_list)
    mails = {
        mail.pk: mail
        for mail in inbound_mail_visible_to(user).filter(pk__in=wanted)
        .select_related("ticket")
        .only(
            "id", "received_at", "route", "envelope_sender", "status", "sender", "subject",
            "action", "reasons", "error", "duplicate_of", "ticket__number", "ticket__subject",
        )
        # Rows not read yet have no sender or subject of their own: their headers do.
        .annotate(head=Case(
            When(sender="", then=Substr("raw", 1, LIST_HEAD_BYTES)),
            default=Value(None), output_field=BinaryField(),
        ))
    } if wanted else {}
    rows = [_row(mails[pk], now=now) for pk in wanted if pk in mails]
    return MailPage(show=show, page=current, rows=rows)


def mail_counts(user: User | AnonymousUser, *, now: datetime) -> dict[str, int]:
    """How many mails need attention and how many failed: two COUNTs answered from the
    indexes alone (one query counting both would read each matching row for its
    status). The other tabs are not counted: they grow with the mailbox."""
    visible = inbound_mail_visible_to(user)
    return {
        "attention": visible.filter(show_filter("attention", now=now)).count(),
        "failed": visible.filter(show_filter("failed", now=now)).count(),
    }


# --- one mail --------------------------------------------------------------------------


@dataclass(frozen=True)
class MailDetail:
    mail: InboundMail
    headers: list[tuple[str, str]]
    # How many Received headers: how many hops the mail took (each is a line of trace).
    hops: int
    state: str
    stale: bool
    may_process_again: bool


def get_inbound_mail_for_agent(user: User | AnonymousUser, *, mail_id: int) -> InboundMail:
    """One mail without its raw bytes (a mail may be 25 MiB), with the first of them."""
    try:
        return (
            inbound_mail_visible_to(user)
            .select_related("ticket")
            .defer("raw")
            .annotate(head=Substr("raw", 1, DETAIL_HEAD_BYTES, output_field=BinaryField()))
            .get(pk=mail_id)
        )
    except (InboundMail.DoesNotExist, ValueError, TypeError):
        raise Http404("no such inbound mail") from None


def mail_detail(user: User | AnonymousUser, *, mail_id: int, now: datetime) -> MailDetail:
    mail = get_inbound_mail_for_agent(user, mail_id=mail_id)
    parsed = _headers_of(_head(getattr(mail, "head", None)))
    headers: list[tuple[str, str]] = []
    for name in HEADERS:
        for value in parsed.get_all(name) or ():
            text = header_text(value)
            if len(text) > MAX_SHOWN_HEADER_CHARS:
                text = text[:MAX_SHOWN_HEADER_CHARS] + "…"
            headers.append((name, text))
    return MailDetail(
        mail=mail,
        headers=headers,
        hops=len(parsed.get_all("Received") or ()),
        state=_state(mail),
        stale=is_stale(mail, now=now),
        may_process_again=may_process_again(mail, now=now),
    )


def original_of(user: User | AnonymousUser, *, mail_id: int) -> bytes:
    """The raw bytes exactly as received (for the download)."""
    raw = inbound_mail_visible_to(user).filter(pk=mail_id).values_list("raw", flat=True).first()
    if raw is None:
        raise Http404("no such inbound mail")
    return bytes(raw)
