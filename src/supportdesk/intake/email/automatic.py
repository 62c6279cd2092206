"""Is a mail written by a machine? (RFC 3834, RFC 3464, RFC 5965, RFC 8098, loops.)

The answer decides two things:
- `opens_ticket`: delivery reports, feedback reports, read receipts and our own mail
  coming back never open a ticket (they are stored and ignored);
- `acknowledge`: nothing automatic, bulk, list or noreply ever gets an acknowledgement,
  so two robots cannot answer each other forever.
Auto-replies (out of office) are appended to the ticket they answer, silently, and
open nothing when they answer nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BOUNCE = "bounce"
FEEDBACK_REPORT = "feedback_report"
DISPOSITION_NOTIFICATION = "disposition_notification"
LOOP = "loop"
AUTO_REPLY = "auto_reply"
AUTO_GENERATED = "auto_generated"
BULK = "bulk"
NOREPLY = "noreply"

# Kinds that never become a ticket of their own.
_NO_TICKET = {BOUNCE, FEEDBACK_REPORT, DISPOSITION_NOTIFICATION, LOOP, AUTO_REPLY}

_REPORT_TYPES = {
    "delivery-status": BOUNCE,
    "feedback-report": FEEDBACK_REPORT,
    "disposition-notification": DISPOSITION_NOTIFICATION,
}
_REPORT_PARTS = {
    "message/delivery-status": BOUNCE,
    "message/global-delivery-status": BOUNCE,
    "message/feedback-report": FEEDBACK_REPORT,
    "message/disposition-notification": DISPOSITION_NOTIFICATION,
    "message/global-disposition-notification": DISPOSITION_NOTIFICATION,
}
_DAEMON_LOCAL = re.compile(
    r"^(mailer[-_.]?daemon|postmaster|mail[-_.]?delivery[-_.]?(system|subsystem)?|"
    r"mdaemon|bounces?|bounce[-_.+].*|.*[-_.+]bounces?|double-bounce|smtp[-_.]?gateway|"
    r"mail[-_.]?admin|mailadmin|mail[-_.]?daemon|ndr|"
    r"mailman-bounces?)$",
    re.IGNORECASE,
)
# Addresses only mail systems write from (RFC 5321 postmaster, MAILER-DAEMON).
_MAIL_SYSTEM_LOCAL = re.compile(
    r"^(mailer[-_.]?daemon|mail[-_.]?daemon|double-bounce|mdaemon|postmaster|post_master)$",
    re.IGNORECASE,
)
_DAEMON_NAME = re.compile(
    r"mail delivery (system|subsystem|service)|mailer[- ]daemon|postmaster|"
    r"microsoft outlook|internet mail delivery|mail administrator|delivery status|"
    r"mail ?(transfer|transport) (system|agent)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|deliver(y|ed)? (status|fail|failure|report|notification|problem|"
    r"incomplete|has failed|delayed|error)|delivery to the following|failure notice|"
    r"returned mail|returned to sender|mail delivery|could not be delivered|not delivered|"
    r"non[- ]?delivery|nondeliver|delivery failure|message (was )?not (sent|delivered)|"
    r"mail system error|warning: (could not|message)|permanent (error|failure)|"
    r"unable to deliver|rejected|bounced?|delivery notice|delayed mail|mail failure|"
    r"error sending message|mailbox (full|unavailable)|over quota|quota exceeded|"
    r"sending failed|mail could not|failed delivery|^failed:|^fw?d?:? ?failure|"
    r"nicht zustellbar|unzustellbar|non remis|no se puede entregar|n[aã]o entregue",
    re.IGNORECASE,
)
# "Automatic reply: <their subject>" (Exchange, many others): the prefix with its colon
# is a machine's; nobody titles their own mail that way.
_AUTO_REPLY_PREFIX = re.compile(
    r"^\s*(auto(matic)?[ _-]?(reply|response|antwort|answer|r[ée]ponse)|autoreply|"
    r"automatische antwort|r[ée]ponse automatique|respuesta autom[aá]tica|"
    r"resposta autom[aá]tica|risposta automatica|out of (the )?office( reply)?|"
    r"abwesenheitsnotiz)\s*:",
    re.IGNORECASE,
)
# Words a person also uses ("Vacation request app fails"): only with a machine signal.
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|abwesenheit|vacation|on vacation|away from|auto[ -]?reply)",
    re.IGNORECASE,
)
_FEEDBACK_SUBJECT = re.compile(
    r"(abuse|feedback|complaint|spam) report|complaint about message", re.IGNORECASE
)
# Hotmail/Outlook.com's junk-mail reports (JMRP): this exact subject, the message attached.
_JMRP_SUBJECT = re.compile(
    r"^\s*complaint about message from \d{1,3}(\.\d{1,3}){3}\s*$", re.IGNORECASE
)
# Mailing-list managers answer with "you are not a member" and loop alerts.
_LIST_MANAGER_LOCAL = re.compile(r"^(owner-.*|.*-owner|.*-request|.*-admin|post_master)$", re.IGNORECASE)
# What delivery reports say in their human-readable part (read in the first 16 KB).
_BOUNCE_BODY = re.compile(
    r"(?im)^\s*(final-recipient|original-recipient|diagnostic-code|reporting-mta|"
    r"action: *failed|status: *[45]\.\d)|undeliver|could not be delivered|"
    r"delivery (to the following|has failed|failed)|permanent (error|failure)|"
    r"requested action not taken|mailbox (is )?(full|unavailable)|user unknown|no such user|"
    r"not a member of this (mailing )?list|duplicated message-id|message could not be|"
    r"returned to sender|this is the mail system at|\"notificationtype\"\s*:\s*\"(bounce|complaint|delivery)\"|"
    r"\b5\d\d[ -][45]\.\d+\.\d+"
)


@dataclass(frozen=True)
class Automatic:
    """What kind of machine wrote the mail ("" for a person) and why we think so."""

    kind: str = ""
    reasons: tuple[str, ...] = ()

    @property
    def opens_ticket(self) -> bool:
        return self.kind not in _NO_TICKET

    @property
    def acknowledge(self) -> bool:
        return not self.kind

    @property
    def is_automatic(self) -> bool:
        return bool(self.kind)


def _is_noreply(address: str) -> bool:
    from supportdesk.intake.email.senders import Sender

    return Sender(address, "", "").is_noreply


def _first(headers: Mapping[str, Sequence[str]], name: str) -> str:
    values = headers.get(name)
    return values[0].strip() if values else ""


def classify(
    *,
    headers: Mapping[str, Sequence[str]],
    content_type: str,
    report_type: str,
    part_types: Iterable[str],
    sender_address: str | None,
    sender_name: str,
    from_text: str = "",
    subject: str,
    body_text: str = "",
    envelope_sender: str | None,
    own_addresses: Iterable[str],
) -> Automatic:
    """Decide whether a mail is automatic. `headers` maps lower-cased names to values.

    `envelope_sender` is the SMTP MAIL FROM when we received it by SMTP ("" for the
    null path `<>`), None when unknown (then the Return-Path header is read).
    """
    reasons: list[str] = []
    own = {a.lower() for a in own_addresses if a}
    local = (sender_address or "").rsplit("@", 1)[0]
    part_types = set(part_types)

    if sender_address and sender_address in own:
        return Automatic(LOOP, ("the mail comes from our own support address",))
    # X-Loop naming us only withholds the acknowledgement (below): a forwarding rule at
    # our own MTA (procmail and kin) stamps it on every customer mail it passes on.
    x_loop = any(address in value.lower() for value in headers.get("x-loop", ()) for address in own)

    if envelope_sender is None:
        return_path = _first(headers, "return-path")
        null_path = "return-path" in headers and return_path.replace(" ", "") in ("<>", "")
    else:
        null_path = envelope_sender.strip("<> ") == ""
    if null_path:
        reasons.append("null return path")

    if content_type == "multipart/report":
        kind = _REPORT_TYPES.get(report_type.lower(), BOUNCE)
        return Automatic(kind, (f"multipart/report; report-type={report_type or 'missing'}", *reasons))
    for part_type, kind in _REPORT_PARTS.items():
        if part_type in part_types:
            return Automatic(kind, (f"contains a {part_type} part", *reasons))
    if "x-failed-recipients" in headers:
        return Automatic(BOUNCE, ("X-Failed-Recipients header", *reasons))
    if "feedback-type" in headers or "x-hmxmroriginalrecipient" in headers:
        return Automatic(FEEDBACK_REPORT, ("Feedback-Type header", *reasons))

    daemon_sender = bool(_DAEMON_LOCAL.match(local)) or bool(
        _DAEMON_NAME.search(sender_name or from_text)
    )
    if not daemon_sender and not sender_address and re.search(r"(?i)mailer-daemon|postmaster", from_text):
        daemon_sender = True
    list_manager = bool(_LIST_MANAGER_LOCAL.match(local))
    noreply_sender = bool(sender_address) and _is_noreply(sender_address or "")
    bounce_subject = bool(_BOUNCE_SUBJECT.search(subject))
    auto_submitted = _first(headers, "auto-submitted").lower()
    # Returned headers are a machine's habit; an attached message is also a person's
    # (forwarding as attachment), so it counts only together with a machine signal.
    carries_headers = bool(part_types & {"text/rfc822-headers", "message/rfc822-headers"})
    carries_message = "message/rfc822" in part_types
    machine = null_path or auto_submitted not in ("", "no") or daemon_sender or carries_headers
    if _MAIL_SYSTEM_LOCAL.match(local):
        return Automatic(BOUNCE, ("sent by a mail system address", *reasons))
    if daemon_sender and (bounce_subject or null_path or carries_headers or carries_message or auto_submitted):
        return Automatic(BOUNCE, ("sent by a mail delivery system", *reasons))
    if bounce_subject and (null_path or carries_headers or daemon_sender or auto_submitted.startswith("auto-generated")):
        return Automatic(BOUNCE, ("delivery failure notice", *reasons))
    if _FEEDBACK_SUBJECT.search(subject) and (machine or (carries_message and noreply_sender)):
        return Automatic(FEEDBACK_REPORT, ("abuse/feedback report", *reasons))
    if carries_message and _JMRP_SUBJECT.match(subject):
        return Automatic(FEEDBACK_REPORT, ("abuse/feedback report", *reasons))
    # A person's subject or text alone never makes a bounce ("Payment rejected: user
    # unknown" is a support request); a machine's signal must come with it.
    if (
        machine or list_manager or noreply_sender or not sender_address
    ) and _BOUNCE_BODY.search(body_text[:16384]):
        return Automatic(BOUNCE, ("the text reads as a delivery failure report", *reasons))

    if auto_submitted.startswith("auto-replied"):
        return Automatic(AUTO_REPLY, (f"Auto-Submitted: {auto_submitted}", *reasons))
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder"):
        if name in headers and _first(headers, name).lower() not in ("no", "false", "0"):
            return Automatic(AUTO_REPLY, (f"{name} header", *reasons))
    precedence = _first(headers, "precedence").lower()
    suppressing = "x-auto-response-suppress" in headers or precedence in ("bulk", "junk", "auto_reply")
    if _AUTO_REPLY_PREFIX.match(subject) or "vacation" in _first(headers, "x-apple-action").lower():
        return Automatic(AUTO_REPLY, ("auto-reply subject", *reasons))
    if _AUTO_REPLY_SUBJECT.match(subject) and (machine or suppressing or noreply_sender):
        # "Out of office" alone is also a person's subject ("Vacation request app fails").
        return Automatic(AUTO_REPLY, ("auto-reply subject", *reasons))
    if (daemon_sender or noreply_sender) and null_path:
        return Automatic(BOUNCE, ("null return path from a mail system address", *reasons))

    if auto_submitted and auto_submitted != "no":
        return Automatic(AUTO_GENERATED, (f"Auto-Submitted: {auto_submitted}", *reasons))
    if "x-auto-response-suppress" in headers:
        return Automatic(AUTO_GENERATED, ("X-Auto-Response-Suppress header", *reasons))
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return Automatic(BULK, (f"Precedence: {precedence}", *reasons))
    if "list-id" in headers or "list-unsubscribe" in headers:
        return Automatic(BULK, ("mailing list mail (List-Id)", *reasons))
    if null_path:
        return Automatic(AUTO_GENERATED, tuple(reasons))
    if x_loop:
        return Automatic(AUTO_GENERATED, ("X-Loop names our support address",))
    if daemon_sender:
        return Automatic(NOREPLY, ("sent from a system address",))
    if noreply_sender:
        return Automatic(NOREPLY, ("noreply sender address",))
    return Automatic()
