"""What supportdesk sends: acknowledgements, specialists' replies, notifications.

Each function renders its mail in the recipient's language and hands it to
`queue.enqueue_mail` (many at once: `enqueue_mails`), inside the caller's transaction.
Nothing here talks to a mail server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from supportdesk import clock
from supportdesk.outbound import selectors
from supportdesk.outbound.acknowledgement import acknowledgement_context, acknowledgement_text
from supportdesk.outbound.formatting import language_for_many, language_or_default
from supportdesk.outbound.headers import (
    AUTO_GENERATED,
    AUTO_REPLIED,
    bare_address,
    is_noreply_address,
    is_our_address,
    parse_message_ids,
)
from supportdesk.outbound.models import OutboundMail
from supportdesk.outbound.queue import NewMail, enqueue_mail, enqueue_mails
from supportdesk.outbound.tags import tagged_subject

logger = logging.getLogger(__name__)

# Asks Exchange/Outlook not to answer our automatic mail with out-of-office notes or
# auto-replies (delivery reports still come back).
SUPPRESS_AUTO_RESPONSES = "OOF, AutoReply"

ACK_WINDOW = timedelta(days=1)

# Mail for one person's login (not about a ticket): see `send_notification`.
PERSONAL_KINDS = (OutboundMail.Kind.PASSWORD_RESET, OutboundMail.Kind.INVITATION)


class Refusal:
    """Why an automatic mail was not queued (values of `acknowledgement_refusal`)."""

    NO_ADDRESS = "no_address"
    NOREPLY_ADDRESS = "noreply_address"
    OUR_OWN_ADDRESS = "our_own_address"
    DAILY_LIMIT = "daily_acknowledgement_limit"


def automatic_mail_refusal(to: str) -> str | None:
    """Why no automatic mail may go to this address at all, or None."""
    if not bare_address(to):
        return Refusal.NO_ADDRESS
    if is_our_address(to):
        return Refusal.OUR_OWN_ADDRESS
    if is_noreply_address(to):
        return Refusal.NOREPLY_ADDRESS
    return None


def acknowledgement_refusal(to: str, *, now: datetime | None = None) -> str | None:
    """Why `send_acknowledgement` would not acknowledge to this address now, or None.

    No-reply and mail-system addresses and our own address never get one; an address
    gets at most SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY in any 24 hours.
    """
    return acknowledgement_refusals([to], now=now)[0]


def acknowledgement_refusals(addresses: Sequence[str], *, now: datetime | None = None) -> list[str | None]:
    """`acknowledgement_refusal` of each address, as if each were acknowledged in turn
    (an address that appears more often than its daily allowance left is refused from
    there on). One query for all of them, whatever their number."""
    now = now or clock.now()
    refusals = [automatic_mail_refusal(to) for to in addresses]
    limit: int = settings.SUPPORTDESK_ACK_LIMIT_PER_SENDER_PER_DAY
    wanted = {bare_address(to) for to, refusal in zip(addresses, refusals, strict=True) if refusal is None}
    sent = selectors.acknowledgements_sent_to(wanted, since=now - ACK_WINDOW) if limit > 0 else {}
    for index, (to, refusal) in enumerate(zip(addresses, refusals, strict=True)):
        if refusal is not None:
            continue
        recipient = bare_address(to)
        count = sent.get(recipient, 0)
        if count >= limit:
            refusals[index] = Refusal.DAILY_LIMIT
        else:
            sent[recipient] = count + 1
    return refusals


def _threading(in_reply_to: str | None, references: Iterable[str]) -> dict[str, str]:
    parent = parse_message_ids(in_reply_to)[:1]
    chain: list[str] = []
    for value in [*references, *parent]:
        for mid in parse_message_ids(value):
            if mid not in chain:
                chain.append(mid)
    if parent and chain and chain[-1] != parent[0]:
        chain.remove(parent[0])
        chain.append(parent[0])
    if len(chain) > 20:
        chain = [chain[0], *chain[-19:]]
    headers = {}
    if parent:
        headers["In-Reply-To"] = parent[0]
    if chain:
        headers["References"] = " ".join(chain)
    return headers


def _render(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """(text, html) of `<template>.txt` and, when it exists, `<template>.html`."""
    text = render_to_string(f"{template}.txt", dict(context)).strip() + "\n"
    try:
        html = render_to_string(f"{template}.html", dict(context))
    except TemplateDoesNotExist:
        html = ""
    return text, html


def send_acknowledgement(
    ticket: Any,
    *,
    to: str,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    language: str | None = None,
    now: datetime | None = None,
) -> OutboundMail | None:
    """Queue the acknowledgement of a new ticket to `to`; None when refused.

    It states the ticket number, the severity and the first-response promise in the
    coverage calendar's zone ("Mon 30 Nov, 15:00 BRT"), or why there is none, and
    tells customers with an active subscription that the portal is preferred. The
    caller decides whether the message deserves one at all (automatic mail,
    unauthenticated senders); this refuses no-reply addresses, our own address and a
    sender over the daily limit (see `acknowledgement_refusal`) and logs why.
    Call it inside the transaction that opened the ticket.
    """
    acknowledgement = Acknowledgement(
        ticket, to=to, in_reply_to=in_reply_to, references=references, language=language
    )
    return send_acknowledgements([acknowledgement], now=now)[0]


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledgement to queue: `send_acknowledgement`'s arguments."""

    ticket: Any
    to: str
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    language: str | None = None


def send_acknowledgements(
    acknowledgements: Sequence[Acknowledgement], *, now: datetime | None = None
) -> list[OutboundMail | None]:
    """`send_acknowledgement` for many new tickets at once (a bulk batch of mail): the
    same mails, refusals and log lines as one at a time in this order, the daily limit
    counted over earlier acknowledgements and those of this call alike, with one query
    for the limits of all recipients and one multi-row INSERT for all the mails.
    Returns the queued mail (or None when refused) of each, in order."""
    now = now or clock.now()
    refusals = acknowledgement_refusals([a.to for a in acknowledgements], now=now)
    allowed: list[Acknowledgement] = []
    for acknowledgement, refusal in zip(acknowledgements, refusals, strict=True):
        if refusal:
            logger.info(
                "no acknowledgement of #%s to %s: %s",
                acknowledgement.ticket.number, acknowledgement.to, refusal,
            )
        else:
            allowed.append(acknowledgement)
    queued = iter(enqueue_mails(_acknowledgement_mails(allowed, now), now=now))
    return [None if refusal else next(queued) for refusal in refusals]


def _acknowledgement_mails(
    acknowledgements: Sequence[Acknowledgement], now: datetime
) -> list[NewMail]:
    languages = [language_or_default(a.language) for a in acknowledgements]
    texts: dict[int, str] = {}
    for lang in dict.fromkeys(languages):  # the texts of each language together
        with language_for_many(lang):
            for index, acknowledgement in enumerate(acknowledgements):
                if languages[index] == lang:
                    context = acknowledgement_context(acknowledgement.ticket, now=now)
                    texts[index] = acknowledgement_text(context)
    mails: list[NewMail] = []
    for index, acknowledgement in enumerate(acknowledgements):
        ticket = acknowledgement.ticket
        headers = {
            **_threading(acknowledgement.in_reply_to, acknowledgement.references),
            "Auto-Submitted": AUTO_REPLIED,
            "X-Auto-Response-Suppress": SUPPRESS_AUTO_RESPONSES,
        }
        mails.append(
            NewMail(
                kind=OutboundMail.Kind.ACKNOWLEDGEMENT,
                to=[acknowledgement.to],
                subject=tagged_subject(ticket.number, ticket.subject),
                text=texts[index],
                headers=headers,
                ticket=ticket,
                language=languages[index],
            )
        )
    return mails


def send_public_reply(
    message: Any, *, language: str | None = None, now: datetime | None = None
) -> OutboundMail | None:
    """Queue a specialist's public reply (a `tickets.Message` of kind reply) to the requester.

    Threaded under the customer's latest mail (In-Reply-To) with every Message-ID of
    the ticket in References; the subject carries the ticket tag. A human wrote it, so
    it carries no Auto-Submitted. Uses the reply's own `message_id` when it has one.
    Returns None when the ticket has no requester address to write to, or when this
    reply was already queued (so a hook that runs twice mails it once).
    """
    ticket = message.ticket
    if OutboundMail.objects.filter(ticket_message=message).exists():
        return None
    to = ticket.requester_email or (ticket.requester.email if ticket.requester_id else "")
    if automatic_mail_refusal(to) in (Refusal.NO_ADDRESS, Refusal.OUR_OWN_ADDRESS):
        logger.info("public reply on #%s not mailed: no address to write to", ticket.number)
        return None
    now = now or clock.now()
    lang = language_or_default(language or _ticket_language(ticket))
    author = message.author_user
    author_name = message.author_name or (author.get_full_name() if author else "")
    with translation.override(lang):
        context = {
            "ticket": ticket,
            "number": ticket.number,
            "body": message.body_text,
            "author_name": author_name,
            "portal_url": _portal_url(ticket),
        }
        text = render_to_string("outbound/reply.txt", context).strip() + "\n"
        html = (
            render_to_string("outbound/reply.html", {**context, "body_html": message.body_html})
            if message.body_html
            else ""
        )
    headers = _threading(
        selectors.latest_customer_message_id(ticket.pk),
        selectors.thread_message_ids(ticket.pk),
    )
    if message.message_id:
        headers["Message-ID"] = message.message_id
    _, support_address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    from_email = (
        formataddr((author_name, support_address)) if author_name else settings.DEFAULT_FROM_EMAIL
    )
    return enqueue_mail(
        kind=OutboundMail.Kind.REPLY,
        to=[to],
        subject=tagged_subject(ticket.number, ticket.subject, reply=True),
        text=text,
        html=html,
        headers=headers,
        ticket=ticket,
        ticket_message=message,
        language=lang,
        from_email=from_email,
        attachments=_attachments_of(message),
        now=now,
    )


def send_notification(
    to: str | Sequence[str],
    subject: str,
    template: str,
    context: Mapping[str, Any],
    *,
    ticket: Any = None,
    kind: str = OutboundMail.Kind.NOTIFICATION,
    language: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    now: datetime | None = None,
) -> OutboundMail | None:
    """Queue an automatic notification rendered from `<template>.txt` (and `.html` if any).

    For SLA warnings, password resets, invitations and the like: `Auto-Submitted:
    auto-generated`. `subject` is used as given (translate it before, or pass a lazy
    string; it is rendered in `language`), with the ticket tag in front when `ticket`
    is given. Recipients that may not receive automatic mail (no-reply and mail-system
    addresses, our own) are dropped, except that password resets and invitations only
    skip unusable addresses and our own. Returns None when no recipient is left.
    """
    recipients = [to] if isinstance(to, str) else list(to)
    if kind in PERSONAL_KINDS:
        # Asked for by (or addressed to) a person's own login: only unusable addresses
        # are refused, so a login at postmaster@ still gets its password reset.
        allowed = [a for a in recipients if bare_address(a) and not is_our_address(a)]
    else:
        allowed = [a for a in recipients if automatic_mail_refusal(a) is None]
    if not allowed:
        logger.info(
            "notification %r not sent: no recipient may receive it (%s)", template, recipients
        )
        return None
    lang = language_or_default(
        language or (_ticket_language(ticket) if ticket is not None else None)
    )
    with translation.override(lang):
        text, html = _render(template, {**context, "ticket": ticket})
        subject_text = str(subject)
    if ticket is not None:
        subject_text = tagged_subject(ticket.number, subject_text)
    headers = {
        **_threading(in_reply_to, references),
        "Auto-Submitted": AUTO_GENERATED,
        "X-Auto-Response-Suppress": SUPPRESS_AUTO_RESPONSES,
    }
    return enqueue_mail(
        kind=kind,
        to=allowed,
        subject=subject_text,
        text=text,
        html=html,
        headers=headers,
        ticket=ticket,
        language=lang,
        now=now,
    )


def _ticket_language(ticket: Any) -> str | None:
    """The language of the ticket's earlier mail to this requester, if any."""
    if ticket is None or ticket.pk is None:
        return None
    return (
        OutboundMail.objects.filter(ticket_id=ticket.pk)
        .exclude(language="")
        .order_by("-created_at", "-id")
        .values_list("language", flat=True)
        .first()
    )


def _portal_url(ticket: Any) -> str:
    return f"{settings.SITE_URL}/portal/"


def _attachments_of(message: Any) -> list[dict[str, str]]:
    return [
        {
            "file": attachment.file.name,
            "filename": attachment.original_name,
            "content_type": attachment.content_type,
        }
        for attachment in message.attachments.all()
    ]
