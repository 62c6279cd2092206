"""The one intake service: every channel turns its input into an `InboundRequest` and
calls `receive`.

`receive` identifies the account and the contact, applies the policy (who may open a
ticket, which queue, which severity, which SLA) and opens the ticket through
`tickets.actions`. The channels only add what is theirs: the portal passes the
signed-in contact, the email channel passes the sender and what authentication said
(and threads replies before calling this), the hotline passes the caller's number.

Identification is exposed on its own (`identify_sender_by_email`,
`identify_caller_by_phone`) so a channel can ask "who is this?" without opening
anything, e.g. to decide whether a reply may be threaded into a ticket.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from supportdesk import clock
from supportdesk.accounts.models import Account, AccountDomain, Contact, User, normalise_email
from supportdesk.accounts.selectors import account_owners, points_of_contact
from supportdesk.accounts.validation import (
    domain_and_parents,
    is_free_mail,
    normalise_domain,
    normalise_phone,
)
from supportdesk.core import rows
from supportdesk.sla.metrics import observe_intake_latency
from supportdesk.tickets import actions, decisions, notify
from supportdesk.tickets.attachments import NewAttachment, clean_original_name, is_too_large
from supportdesk.tickets.models import Channel, Queue, Severity, Ticket

# The channel-specific file type is the ticket core's.
InboundAttachment = NewAttachment

# `Choices.values` builds a new list on every access; these are checked per request.
_CHANNELS = frozenset(Channel.values)
_SEVERITIES = frozenset(Severity.values)


class Action:
    """What `receive` did with a request."""

    CREATED = "created"  # a new ticket was opened
    APPENDED = "appended"  # added to an existing ticket (the email channel's threading)
    REFUSED = "refused"  # not allowed through this channel; nothing was opened


@dataclass
class InboundRequest:
    """One request as a channel received it, before anyone decided anything about it."""

    channel: str  # portal, email or hotline
    subject: str
    body_text: str = ""
    body_html: str = ""
    sender_email: str = ""
    sender_phone: str = ""
    sender_name: str = ""
    # Portal: the signed-in contact. Hotline: the account the specialist says is calling.
    contact: Contact | None = None
    claimed_account: Account | None = None
    requested_severity: str | None = None
    attachments: list[NewAttachment] = field(default_factory=list)
    received_at: datetime | None = None  # when the channel got it (default: now)
    # Email: True when SPF/DKIM/DMARC vouch for the sender's domain, False when they
    # contradict it, None when unknown. False files the request for review without
    # trusting the claimed account.
    authenticated: bool | None = None
    # Anything the channel thinks a human should look at first (files it for review).
    review_reasons: list[str] = field(default_factory=list)
    message_id: str | None = None
    source_ref: str | None = None
    logged_by: User | None = None  # hotline: the specialist who took the call


@dataclass(frozen=True)
class Identification:
    """Who a sender is: the account and contact (each possibly None), and why."""

    account: Account | None
    contact: Contact | None
    reasons: tuple[str, ...]
    free_mail: bool = False

    @property
    def identified(self) -> bool:
        return self.account is not None


@dataclass(frozen=True)
class IntakeResult:
    action: str  # Action.CREATED / APPENDED / REFUSED
    ticket: Ticket | None
    account: Account | None
    contact: Contact | None
    queue: str | None
    severity: str | None
    first_response_due: datetime | None
    reasons: tuple[str, ...]
    # Set when refused: the message to show the requester.
    refusal: str = ""
    # The channels the account's plan includes (for "use the portal" advice).
    plan_channels: tuple[str, ...] = ()
    channel_allowed: bool = True


# --- identification --------------------------------------------------------------------


_REGISTRATIONS_SQL = (
    "SELECT d.domain, {account}, {contact} FROM {domains} d "
    "JOIN {accounts} a ON a.id = d.account_id "
    "LEFT JOIN {contacts} c ON c.account_id = a.id AND c.email IN ({addresses}) AND c.is_active = %s "
    "WHERE d.domain IN ({candidates})"
)

Registrations = dict[str, tuple[Account, Contact | None]]
_looked_up = threading.local()


def _fetch_registrations(candidates: Sequence[str], addresses: Sequence[str]) -> dict[str, Registrations]:
    """For each address: each candidate domain registered on an account, with the account
    and the account's active contact with that address if there is one. One query for
    any number of addresses."""
    sql = _REGISTRATIONS_SQL.format(
        account=rows.columns(Account, alias="a"), contact=rows.columns(Contact, alias="c"),
        domains=rows.table(AccountDomain), accounts=rows.table(Account), contacts=rows.table(Contact),
        addresses=", ".join(["%s"] * len(addresses)), candidates=", ".join(["%s"] * len(candidates)),
    )
    account_width = rows.width(Account)
    accounts: dict[str, Account] = {}
    contacts: dict[tuple[str, str], Contact] = {}  # (domain, address) -> contact
    for row in rows.fetch(sql, [*addresses, True, *candidates]):
        domain = row[0]
        account = accounts.get(domain) or rows.build(Account, row[1 : 1 + account_width])
        accounts[domain] = account
        contact_values = row[1 + account_width :]
        if contact_values[0] is not None:
            contact = rows.build(Contact, contact_values)
            contact.account = account
            contacts[(domain, contact.email)] = contact
    return {
        address: {
            domain: (account, contacts.get((domain, address))) for domain, account in accounts.items()
        }
        for address in addresses
    }


def _registrations(candidates: list[str], address: str) -> Registrations:
    """`_fetch_registrations` for one address, unless `senders_looked_up` has it."""
    remembered = getattr(_looked_up, "registrations", None)
    if remembered is not None and address in remembered:
        return {d: found for d, found in remembered[address].items() if d in candidates}
    return _fetch_registrations(candidates, [address])[address]


@contextmanager
def senders_looked_up(addresses: Sequence[str]) -> Iterator[set[int]]:
    """Inside, `identify_sender_by_email` answers for these sender addresses from one
    query made on entry (a batch's senders, in `receive_many`) instead of one query
    each: the same answers, as of the start of the block. Nothing is kept after it.
    Gives the ids of the accounts the senders could be identified with."""
    parsed = [p for p in map(_sender_domain, addresses) if not isinstance(p, Identification)]
    previous = getattr(_looked_up, "registrations", None)
    remembered: dict[str, Registrations] = {}
    if parsed:
        candidates = sorted({c for _, _, domain_candidates in parsed for c in domain_candidates})
        found = _fetch_registrations(candidates, sorted({address for address, _, _ in parsed}))
        for address, _, domain_candidates in parsed:
            remembered[address] = {
                d: hit for d, hit in found[address].items() if d in domain_candidates
            }
    _looked_up.registrations = remembered
    try:
        yield {
            account.pk
            for registrations in remembered.values()
            for account, _ in registrations.values()
        }
    finally:
        _looked_up.registrations = previous


def _sender_domain(address: str) -> tuple[str, str, list[str]] | Identification:
    """The normalised address, its domain and the domains that could identify it (the
    domain and its parents but the top level), or the Identification that ends it
    (not an address, not a domain, free mail)."""
    address = normalise_email(address)
    local, at, raw_domain = address.rpartition("@")
    if not at or not local:
        return Identification(None, None, (f"sender {address!r} is not an email address",))
    try:
        domain = normalise_domain(raw_domain)
    except ValueError:
        return Identification(None, None, (f"sender domain {raw_domain!r} is not a domain",))
    if is_free_mail(domain):
        return Identification(
            None,
            None,
            (f"{domain} is a free-mail domain: the sender is not identified as a customer",),
            free_mail=True,
        )
    return f"{local}@{domain}", domain, domain_and_parents(domain)[:-1]  # never the bare TLD


def identify_sender_by_email(address: str) -> Identification:
    """The account whose registered domain the address is at, and the contact, if any.

    Only the exact registered domain counts, or a subdomain of it when the account
    allows subdomains (the most specific registration wins). A free-mail domain never
    identifies anyone, whoever registered the address as a contact.
    """
    parsed = _sender_domain(address)
    if isinstance(parsed, Identification):
        return parsed
    address, domain, candidates = parsed
    registrations = _registrations(candidates, address)
    for candidate in candidates:
        if candidate not in registrations:
            continue
        account, contact = registrations[candidate]
        if candidate != domain and not account.allow_subdomains:
            continue
        how = (
            f"{domain} is registered on account {account.name}"
            if candidate == domain
            else f"{domain} is a subdomain of {candidate}, registered on account "
            f"{account.name} (which allows subdomains)"
        )
        who = f"; sender is contact {contact.email}" if contact else "; sender is not a registered contact"
        return Identification(account, contact, (how + who,))
    return Identification(
        None, None, (f"{domain} is not registered on any account: sender not identified",)
    )


def identify_caller_by_phone(phone: str, *, account: Account | None = None) -> Identification:
    """The contact whose phone (E.164) matches, optionally among one account's contacts."""
    try:
        number = normalise_phone(phone)
    except ValueError:
        return Identification(None, None, (f"caller number {phone!r} is not a valid phone number",))
    remembered = getattr(_looked_up, "callers", None)
    if account is None and remembered is not None and number in remembered:
        matches = remembered[number]
    else:
        matches = _fetch_callers({number}, account=account)[number]
    if len(matches) == 1:
        contact = matches[0]
        return Identification(
            contact.account,
            contact,
            (f"caller {number} is contact {contact.email} of account {contact.account.name}",),
        )
    if len(matches) > 1:
        return Identification(
            None,
            None,
            (f"caller {number} is a contact of several accounts: not identified",),
        )
    where = f" of account {account.name}" if account is not None else ""
    return Identification(None, None, (f"caller {number} is not a contact{where}",))


_CALLERS_SQL = (
    "SELECT {contact}, {account} FROM {contacts} c JOIN {accounts} a ON a.id = c.account_id "
    "WHERE c.phone IN ({numbers}) AND c.is_active = %s{of_account} ORDER BY c.id"
)


def _fetch_callers(numbers: set[str], *, account: Account | None = None) -> dict[str, list[Contact]]:
    """For each E.164 number, the active contacts with it (of `account` only, if given),
    each with its account: one query for any number of numbers."""
    found: dict[str, list[Contact]] = {number: [] for number in numbers}
    if not numbers:
        return found
    sql = _CALLERS_SQL.format(
        contact=rows.columns(Contact, alias="c"), account=rows.columns(Account, alias="a"),
        contacts=rows.table(Contact), accounts=rows.table(Account),
        numbers=", ".join(["%s"] * len(numbers)),
        of_account=" AND c.account_id = %s" if account is not None else "",
    )
    params: list[Any] = [*sorted(numbers), True]
    if account is not None:
        params.append(account.pk)
    contact_width = rows.width(Contact)
    for row in rows.fetch(sql, params):
        contact = rows.build(Contact, row[:contact_width])
        contact.account = rows.build(Account, row[contact_width:])
        found[contact.phone].append(contact)
    return found


@contextmanager
def callers_looked_up(phones: Sequence[str]) -> Iterator[set[int]]:
    """`senders_looked_up` for a batch's callers: inside, `identify_caller_by_phone`
    (without an account) answers for these numbers from one query made on entry. Gives
    the ids of the callers' accounts."""
    numbers: set[str] = set()
    for phone in phones:
        try:
            numbers.add(normalise_phone(phone))
        except ValueError:
            continue  # answered without a query
    previous = getattr(_looked_up, "callers", None)
    remembered = _fetch_callers(numbers)
    _looked_up.callers = remembered
    try:
        yield {contact.account_id for found in remembered.values() for contact in found}
    finally:
        _looked_up.callers = previous


def identify_portal_contact(contact: Contact | None) -> Identification:
    if contact is None or not contact.is_active:
        return Identification(None, None, ("no active contact is signed in",))
    return Identification(
        contact.account,
        contact,
        (f"signed in as contact {contact.email} of account {contact.account.name}",),
    )


def _identify(request: InboundRequest) -> Identification:
    if request.channel == Channel.PORTAL:
        return identify_portal_contact(request.contact)
    if request.channel == Channel.HOTLINE:
        if request.sender_phone:
            found = identify_caller_by_phone(request.sender_phone)
            if found.identified or request.claimed_account is None:
                return found
            # The number is unknown but the specialist knows the caller's company.
            return Identification(
                request.claimed_account,
                None,
                (
                    *found.reasons,
                    f"the specialist who took the call filed it under {request.claimed_account.name}",
                ),
            )
        if request.claimed_account is not None:
            return Identification(
                request.claimed_account,
                None,
                (f"the specialist who took the call filed it under {request.claimed_account.name}",),
            )
        return Identification(None, None, ("the caller gave no number",))
    if request.sender_email:
        return identify_sender_by_email(request.sender_email)
    return Identification(None, None, ("no single sender address to identify the customer by",))


# --- receiving -------------------------------------------------------------------------


def _portal_refusal(identification: Identification) -> str | None:
    contact = identification.contact
    if contact is None:
        return "Only a signed-in point of contact of a customer account can open a ticket."
    if contact.is_point_of_contact:
        return None
    names = [f"{c.name} <{c.email}>" if c.name else c.email for c in points_of_contact(contact.account)]
    # The owners decide who the points of contact are (issue 7), so they are named too.
    owners = [
        f"{c.name} <{c.email}>" if c.name else c.email
        for c in account_owners(contact.account)
        if not c.is_point_of_contact
    ]
    if not names:
        ask = (
            f"ask your account owners ({', '.join(owners)}) to name one."
            if owners
            else "ask your account manager to name one."
        )
        return (
            f"Only {contact.account.name}'s points of contact can open tickets, and the account "
            f"has none yet: {ask}"
        )
    also = f" Your account owners ({', '.join(owners)}) decide who they are." if owners else ""
    return (
        f"Only {contact.account.name}'s points of contact can open tickets. "
        f"Please ask {', '.join(names)}.{also}"
    )


def _plan_channels(plan: str) -> tuple[str, ...]:
    if not plan:
        return ()
    from supportdesk.core.policy_source import active_policy

    try:
        return tuple(str(getattr(c, "value", c)) for c in active_policy().plan(plan).channels)
    except Exception:  # an old ticket's plan may be gone from a newer policy
        return ()


def receive(request: InboundRequest, *, now: datetime | None = None) -> IntakeResult:
    """Identify, decide and open: the whole intake of one request."""
    started = time.perf_counter()  # for the intake-latency metric only (sla.metrics)
    now = now or clock.now()
    decided = _decide(request, now)
    if isinstance(decided, IntakeResult):
        return decided
    ticket = actions.open_ticket(**decided)
    return _created(request, decided, ticket, now=now, started=started)


def _decide(request: InboundRequest, now: datetime) -> IntakeResult | dict[str, Any]:
    """Everything `receive` decides before writing: a refusal, or `open_ticket`'s
    arguments."""
    if request.channel not in _CHANNELS:
        raise ValidationError({"channel": f"{request.channel!r} is not a channel"})
    if request.requested_severity is not None and request.requested_severity not in _SEVERITIES:
        raise ValidationError({"severity": f"{request.requested_severity!r} is not a severity"})
    identification = _identify(request)
    reasons = list(identification.reasons)

    if request.channel == Channel.PORTAL:
        refusal = _portal_refusal(identification)
        if refusal is not None:
            return IntakeResult(
                action=Action.REFUSED,
                ticket=None,
                account=identification.account,
                contact=identification.contact,
                queue=None,
                severity=None,
                first_response_due=None,
                reasons=(*reasons, "only points of contact may open tickets in the portal"),
                refusal=refusal,
            )

    account, contact = identification.account, identification.contact
    if request.authenticated is False and account is not None:
        # A sender who fails authentication is not trusted with the account they claim.
        reasons.append(
            f"the message failed sender authentication: not filed under {account.name} "
            "until someone checks it"
        )
        account, contact = None, None
    if request.review_reasons or request.authenticated is False:
        queue = Queue.REVIEW
        reasons.extend(request.review_reasons)
    elif account is None:
        queue = Queue.UNIDENTIFIED
    else:
        queue = Queue.CUSTOMER

    attachments = list(request.attachments)
    if request.channel == Channel.PORTAL:
        # The portal form refuses big files up front; here that is a programming error.
        from supportdesk.tickets.attachments import check_attachments

        check_attachments(attachments)
    else:
        # Nothing a customer sends is lost: the raw message keeps the file; the ticket
        # says it was not stored.
        for dropped in [a for a in attachments if is_too_large(a)]:
            attachments.remove(dropped)
            reasons.append(
                f"attachment {clean_original_name(dropped.filename)} ({len(dropped.content):,} "
                "bytes) is over the size limit and was not stored"
            )

    return dict(
        channel=request.channel,
        queue=queue,
        subject=request.subject,
        body_text=request.body_text,
        body_html=request.body_html,
        account=account,
        requester=contact,
        requester_email=normalise_email(request.sender_email) if request.sender_email else (
            contact.email if contact else ""
        ),
        requester_phone=request.sender_phone,
        requester_name=request.sender_name or (contact.name if contact else ""),
        requested_severity=request.requested_severity,
        attachments=attachments,
        opened_at=request.received_at or now,
        actor=request.logged_by,
        message_id=request.message_id,
        source_ref=request.source_ref,
        reasons=reasons,
        now=now,
    )


def _created(
    request: InboundRequest,
    decided: dict[str, Any],
    ticket: Ticket,
    *,
    now: datetime,
    started: float,
) -> IntakeResult:
    waited = (now - request.received_at).total_seconds() if request.received_at else 0.0
    observe_intake_latency(request.channel, waited + time.perf_counter() - started)
    return IntakeResult(
        action=Action.CREATED,
        ticket=ticket,
        account=decided["account"],
        contact=decided["requester"],
        queue=decided["queue"],
        severity=ticket.severity,
        first_response_due=ticket.first_response_due,
        reasons=tuple(ticket.sla_reasons),
        plan_channels=_plan_channels(ticket.sla_plan),
        channel_allowed=ticket.sla_channel_allowed,
    )


def receive_many(
    requests: Sequence[InboundRequest], *, now: datetime | None = None
) -> list[IntakeResult | Exception]:
    """The whole intake of many requests with one commit (group commit for bulk callers).

    Every request is identified and decided on its own first (a request that fails
    there, or is refused, takes no number and costs the others nothing; its place in
    the result holds the exception). Then the batch is written set-wise
    (`tickets.actions.open_tickets`: the numbers in one UPDATE, tickets, messages and
    events each in multi-row INSERTs), numbered in the order of `requests`. Attachment
    files are written while deciding, before any row (writing a file can fail, and then
    only that request fails, before it takes a number); their rows go in with the
    batch. Should the set-wise write fail at the database, it is all
    rolled back and the batch goes through `receive` one request at a time, each in
    its own savepoint, so one bad request never loses the others.

    Under `synchronous=FULL` a commit waits for the disk, and one commit for the batch
    instead of one per ticket is most of the saving. The after-commit hooks (e.g.
    on-call pages) of the tickets that committed run together afterwards, in one
    transaction of their own (`tickets.notify.grouped`). Requests with their own
    `received_at` keep it; `now` (read once, default the clock) is the batch's
    processing time.
    """
    now = now or clock.now()
    senders = [r.sender_email for r in requests if r.sender_email and r.channel == Channel.EMAIL]
    callers = [r.sender_phone for r in requests if r.sender_phone and r.channel == Channel.HOTLINE]
    # Everyone the batch could be filed under, for reading their subscriptions at once.
    named = {r.claimed_account.pk for r in requests if r.claimed_account is not None}
    named |= {r.contact.account_id for r in requests if r.contact is not None}
    with transaction.atomic(), notify.grouped(), senders_looked_up(senders) as by_sender, \
            callers_looked_up(callers) as by_caller, \
            decisions.subscriptions_remembered(of=named | by_sender | by_caller):
        try:
            with transaction.atomic():
                return _receive_set_wise(requests, now)
        except Exception:
            # The set-wise write failed (the requests' own problems are caught before
            # it): all of it was rolled back (numbers, rows, hooks), so one at a time.
            pass
        results: list[IntakeResult | Exception] = []
        for request in requests:
            try:
                with transaction.atomic():
                    results.append(receive(request, now=now))
            except Exception as error:  # one bad request never loses the batch
                results.append(error)
        return results


def _receive_set_wise(
    requests: Sequence[InboundRequest], now: datetime
) -> list[IntakeResult | Exception]:
    """`receive_many`'s fast path (inside its transaction): decide each, write the batch.
    A database error propagates (the caller rolls everything back); any other error
    is the failing request's alone."""
    # Per request: its result already (refused, failed), or what to write.
    outcomes: list[IntakeResult | Exception | _Decided] = []
    for request in requests:
        started = time.perf_counter()
        try:
            decided = _decide(request, now)
            if isinstance(decided, IntakeResult):
                outcomes.append(decided)
            else:
                opening = actions.prepare_opening(**decided)
                actions.write_attachment_files(opening)
                outcomes.append(_Decided(request, decided, opening, started))
        except DatabaseError:
            raise
        except Exception as error:  # the request's own problem: the others go on
            outcomes.append(error)
    pending = [outcome for outcome in outcomes if isinstance(outcome, _Decided)]
    tickets = actions.open_tickets([decided.opening for decided in pending])
    for decided, ticket in zip(pending, tickets, strict=True):
        decided.ticket = ticket
    results: list[IntakeResult | Exception] = []
    for outcome in outcomes:
        if not isinstance(outcome, _Decided):
            results.append(outcome)
        else:
            assert outcome.ticket is not None
            results.append(
                _created(outcome.request, outcome.decided, outcome.ticket, now=now,
                         started=outcome.started)
            )
    return results


@dataclass
class _Decided:
    request: InboundRequest
    decided: dict[str, Any]  # open_ticket's arguments
    opening: actions.Opening  # prepared for the set-wise write
    started: float
    ticket: Ticket | None = None
