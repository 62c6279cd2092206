"""The identity of a message's content, whatever route delivered it.

The same mail delivered by SMTP and fetched again from a mailbox differs in its trace
headers (Received, Return-Path, Delivered-To, DKIM/ARC/A-R stamps, spam scores) and
perhaps its line endings. So the key is a digest of the headers the *author's* client
wrote (a fixed list) plus the body, with line endings and folding normalised. The
Message-ID is part of it but never the key alone: a stranger re-using a customer's
Message-ID with other content gets another digest.
"""

from __future__ import annotations

import hashlib
import re

ORIGIN_HEADERS = (
    b"from",
    b"sender",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
)
_ORIGIN = frozenset(ORIGIN_HEADERS)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_SPACE = re.compile(rb"\s+")


def split_message(raw: bytes) -> tuple[bytes, bytes]:
    """Header block and body (the body may be empty)."""
    match = _HEADER_END.search(raw)
    if match is None:
        return raw, b""
    return raw[: match.start()], raw[match.end() :]


def content_digest(raw: bytes) -> str:
    header_block, body = split_message(raw)
    h = hashlib.sha256()
    fields: list[bytes] = []
    for line in header_block.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if fields:
                fields[-1] += b" " + line.strip()
            continue
        fields.append(line)
    for field in fields:
        name, sep, value = field.partition(b":")
        if sep and name.strip().lower() in _ORIGIN:
            h.update(name.strip().lower() + b":" + _SPACE.sub(b" ", value.strip()) + b"\n")
    h.update(b"\n")
    h.update(body.replace(b"\r\n", b"\n").rstrip(b"\n\r \t"))
    return h.hexdigest()
