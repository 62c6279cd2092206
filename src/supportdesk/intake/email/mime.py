"""Raw mail bytes to a `ParsedMail`: pure Python, no database, bounded work.

The fast `compat32` policy parses; we then walk the part tree ourselves, iteratively,
with caps on the number of parts, the nesting depth and the header size. A mail past a
cap is still parsed as far as the caps allow and carries `problems`, which send it to
the review queue; no mail can make a worker spin or swell.
"""

from __future__ import annotations

import email.parser
import re
from dataclasses import dataclass, field
from email import policy as email_policy
from email.errors import MissingHeaderBodySeparatorDefect
from email.message import Message

from supportdesk.intake.email import automatic as automatic_mod
from supportdesk.intake.email.authentication import Authentication, authenticate
from supportdesk.intake.email.digest import split_message
from supportdesk.intake.email.headers import decode_text, header_text, message_ids, to_text
from supportdesk.intake.email.sanitise import html_to_text, sanitise_html
from supportdesk.intake.email.senders import Sender, sender_from_headers

MAX_PARTS = 500
MAX_DEPTH = 24
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADERS = 1000
MAX_TEXT_CHARS = 2_000_000  # a body beyond this is cut (the raw mail keeps all of it)
# Our own control headers: never trusted when they arrive from outside.
CONTROL_HEADER_PREFIX = "x-supportdesk-"

_PARSER = email.parser.BytesParser(policy=email_policy.compat32)
_BOUNDARY_LINE = re.compile(rb"\n--")


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    inline: bool = False


@dataclass
class ParsedMail:
    sender: Sender
    subject: str
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    to: list[str]
    cc: list[str]
    text: str
    html: str
    attachments: list[ParsedAttachment]
    automatic: automatic_mod.Automatic
    authentication: Authentication
    # Why the mail needs a person's eye before anything else (caps hit, ambiguity...).
    problems: list[str] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)
    # Our control headers as received (name, value): only a verifying reader may use them.
    control_headers: list[tuple[str, str]] = field(default_factory=list)
    date: str = ""

    @property
    def thread_ids(self) -> list[str]:
        """Ids this mail answers: In-Reply-To first, then References newest first."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


def _header_map(
    msg: Message, charset: str | None
) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    headers: dict[str, list[str]] = {}
    ignored: list[tuple[str, str]] = []
    for name, value in msg._headers[:MAX_HEADERS]:  # type: ignore[attr-defined]
        key = name.strip().lower()
        if key.startswith(CONTROL_HEADER_PREFIX):
            ignored.append((name, to_text(value)[:1000]))
            continue
        headers.setdefault(key, []).append(to_text(value, charset))
    return headers, ignored


_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def _repair_headers(raw: bytes) -> bytes:
    """Headers broken by a stray line (a continuation without indent, a banner line
    above the headers) re-joined, so the real headers below it are not lost."""
    header_block, body = split_message(raw)
    lines = header_block.split(b"\n")
    real = [bool(_HEADER_LINE.match(line)) for line in lines]
    repaired: list[bytes] = []
    for index, line in enumerate(lines):
        if real[index] or line[:1] in (b" ", b"\t") or (index == 0 and line.startswith(b"From ")):
            repaired.append(line)
        elif any(real[index + 1 :]):
            if repaired:  # a continuation that lost its indent
                repaired.append(b" " + line.lstrip())
            # else: a banner above the first header, dropped for parsing
        else:
            return raw  # the headers end here: the parser's reading is right
    sep = b"\r\n\r\n" if header_block.endswith(b"\r") else b"\n\n"
    return b"\n".join(repaired) + sep + body


def _parse(raw: bytes) -> Message:
    msg = _PARSER.parsebytes(raw)
    if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects):
        repaired = _repair_headers(raw)
        if repaired is not raw:
            msg = _PARSER.parsebytes(repaired)
    return msg


def _decode_payload(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # broken base64/uuencode: keep what is there
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _charset(part: Message) -> str | None:
    try:
        charset = part.get_content_charset()
    except Exception:
        return None
    if charset in ("unknown-8bit", "x-unknown", "us-ascii", "ascii"):
        return "utf-8" if charset in ("us-ascii", "ascii") else None
    return charset


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return ""
    return header_text(name)


def _message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    try:
        if isinstance(inner, Message):
            return inner.as_bytes()
    except Exception:
        pass
    return _decode_payload(part)


@dataclass
class _Walk:
    text_parts: list[str] = field(default_factory=list)
    html_parts: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    part_types: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)
    parts: int = 0
    charset: str | None = None  # of the first text part: a hint for raw 8-bit headers


def _walk(root: Message) -> _Walk:
    """Body text, HTML and attachments, breadth-limited and depth-limited."""
    walk = _Walk()
    # (part, depth, inside an attached message) — iterative: no recursion limit to hit.
    stack: list[tuple[Message, int, bool]] = [(root, 0, False)]
    while stack:
        part, depth, attached = stack.pop()
        walk.parts += 1
        if walk.parts > MAX_PARTS:
            walk.problems.append(f"more than {MAX_PARTS} MIME parts; the rest was not read")
            break
        ctype = part.get_content_type()
        walk.part_types.add(ctype)
        if part.is_multipart():
            if depth >= MAX_DEPTH:
                walk.problems.append(f"MIME parts nested deeper than {MAX_DEPTH}")
                continue
            children = part.get_payload()
            if ctype == "message/rfc822" and depth > 0:
                data = _message_bytes(part)
                name = _filename(part) or "attached-message.eml"
                walk.attachments.append(ParsedAttachment(name, "message/rfc822", data))
                inner_attached = True
            else:
                inner_attached = attached
            if isinstance(children, list):
                stack.extend((child, depth + 1, inner_attached) for child in reversed(children)
                             if isinstance(child, Message))
            continue
        disposition = to_text(part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
        filename = _filename(part)
        content_id = to_text(part.get("Content-ID") or "").strip().strip("<>")
        is_body_candidate = not attached and disposition != "attachment" and not filename
        if ctype.startswith("multipart/") and is_body_candidate:
            ctype = "text/plain"  # a multipart without boundary: its payload is text
        if ctype.startswith("text/") and walk.charset is None:
            walk.charset = _charset(part)
        if ctype == "text/plain" and is_body_candidate:
            walk.text_parts.append(decode_text(_decode_payload(part), _charset(part)))
        elif ctype == "text/html" and is_body_candidate:
            walk.html_parts.append(decode_text(_decode_payload(part), _charset(part)))
        elif ctype in ("message/delivery-status", "message/disposition-notification",
                       "message/feedback-report", "text/rfc822-headers") and not filename:
            continue  # report parts: their meaning is captured in part_types
        elif not attached:
            data = _decode_payload(part)
            walk.attachments.append(
                ParsedAttachment(
                    filename=filename or _fallback_name(ctype, len(walk.attachments) + 1),
                    content_type=ctype,
                    data=data,
                    content_id=content_id,
                    inline=disposition == "inline" or bool(content_id and not filename),
                )
            )
    return walk


def _fallback_name(ctype: str, index: int) -> str:
    extension = {"text/plain": "txt", "text/html": "html", "message/rfc822": "eml",
                 "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif",
                 "application/pdf": "pdf"}.get(ctype, "bin")
    return f"attachment-{index}.{extension}"


def _pre_check(raw: bytes) -> list[str]:
    """Cheap scans that refuse to parse what would cost too much to parse."""
    header_block, _ = split_message(raw)
    problems = []
    if len(header_block) > MAX_HEADER_BYTES:
        problems.append(f"headers larger than {MAX_HEADER_BYTES // 1024} KiB")
    if len(_BOUNDARY_LINE.findall(raw, 0, len(raw))) > MAX_PARTS * 4:
        problems.append(f"more than {MAX_PARTS} MIME parts")
    return problems


def parse_mail(
    raw: bytes,
    *,
    authserv_id: str = "",
    own_addresses: tuple[str, ...] = (),
    envelope_sender: str | None = None,
) -> ParsedMail:
    """Parse one raw message. Never raises on malformed mail; problems are reported."""
    problems = _pre_check(raw)
    if problems:
        header_block, _ = split_message(raw)
        msg = email.parser.BytesHeaderParser(policy=email_policy.compat32).parsebytes(
            header_block[:MAX_HEADER_BYTES] + b"\n\n"
        )
        walk = _Walk(problems=[])
    else:
        msg = _parse(raw)
        walk = _walk(msg)
    problems += walk.problems
    headers, ignored = _header_map(msg, walk.charset)
    sender = sender_from_headers(headers.get("from", []))
    if not sender.address:
        problems.append(sender.ambiguous_reason)
    subject = header_text(headers["subject"][0]).replace("\x00", "") if "subject" in headers else ""
    msg_ids = message_ids(headers["message-id"][0]) if "message-id" in headers else []
    # NUL characters: no use in mail text, and PostgreSQL refuses them in text columns.
    text = "\n\n".join(t for t in walk.text_parts if t.strip())[:MAX_TEXT_CHARS].replace("\x00", "")
    raw_html = "\n".join(walk.html_parts)[:MAX_TEXT_CHARS].replace("\x00", "")
    content_ids = [a.content_id for a in walk.attachments if a.content_id]
    html = sanitise_html(raw_html, content_ids=content_ids) if raw_html else ""
    if not text.strip() and raw_html:
        text = html_to_text(raw_html)
    report_type = ""
    if msg.get_content_type() == "multipart/report":
        report_type = str(msg.get_param("report-type") or "")
    automatic = automatic_mod.classify(
        headers=headers,
        content_type=msg.get_content_type(),
        report_type=report_type,
        part_types=walk.part_types,
        sender_address=sender.address,
        sender_name=sender.name,
        from_text=header_text(headers["from"][0]) if "from" in headers else "",
        subject=subject,
        body_text=text,
        envelope_sender=envelope_sender,
        own_addresses=own_addresses,
    )
    auth = authenticate(
        headers.get("authentication-results", []),
        from_domain=sender.domain,
        authserv_id=authserv_id,
    )
    return ParsedMail(
        sender=sender,
        subject=subject,
        message_id=msg_ids[0] if msg_ids else "",
        in_reply_to=message_ids(headers["in-reply-to"][0]) if "in-reply-to" in headers else [],
        references=[m for v in headers.get("references", []) for m in message_ids(v)][:100],
        to=[header_text(v) for v in headers.get("to", [])],
        cc=[header_text(v) for v in headers.get("cc", [])],
        text=text,
        html=html,
        attachments=walk.attachments,
        automatic=automatic,
        authentication=auth,
        problems=problems,
        ignored_headers=[name for name, _ in ignored],
        control_headers=ignored,
        date=header_text(headers["date"][0]) if "date" in headers else "",
    )
