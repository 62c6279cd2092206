"""The ticket tag in subjects: ``[#1234] original subject``.

The tag is how a reply finds its ticket when the mail client dropped In-Reply-To and
References. It is only a hint: intake appends by tag only for a sender who may write
to that ticket (docs/outbound.md, "Subject tag").
"""

from __future__ import annotations

import re

# "[#" + the ticket number in decimal (no leading zeros, no separators) + "]".
TAG_FORMAT = "[#{number}]"
TAG_PATTERN = re.compile(r"\[#([1-9][0-9]{0,17})\]")

# Reply/forward prefixes mail clients put in front (English, Portuguese, German, ...).
_REPLY_PREFIX = re.compile(r"^\s*((re|res|aw|sv|fw|fwd|enc|wg|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)


def ticket_tag(number: int) -> str:
    """The tag for a ticket number: ``ticket_tag(1234) == "[#1234]"``."""
    if number < 1:
        raise ValueError(f"ticket numbers start at 1, not {number}")
    return TAG_FORMAT.format(number=number)


def find_ticket_tag(subject: str | None) -> int | None:
    """The ticket number of the first tag in a subject, or None.

    ``find_ticket_tag("RE: AW: [#1234] Printer on fire") == 1234``.
    """
    if not subject:
        return None
    match = TAG_PATTERN.search(subject)
    return int(match.group(1)) if match else None


def strip_reply_prefixes(subject: str) -> str:
    """``"Re: Fwd: Printer"`` -> ``"Printer"``."""
    return _REPLY_PREFIX.sub("", subject).strip()


def tagged_subject(number: int, subject: str, *, reply: bool = False) -> str:
    """The subject we send for a ticket: ``[#1234] Printer on fire`` (``Re: `` first for a reply).

    Reply prefixes of the customer's subject are dropped, and the tag is not repeated
    when the subject already carries it.
    """
    tag = ticket_tag(number)
    base = strip_reply_prefixes(" ".join(subject.split()))
    if find_ticket_tag(base) == number:
        base = " ".join(
            TAG_PATTERN.sub(lambda m: "" if int(m.group(1)) == number else m.group(0), base).split()
        )
    tagged = f"{tag} {base}".rstrip()
    return f"Re: {tagged}" if reply else tagged
