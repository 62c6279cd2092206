"""The headers our outgoing mail carries, and how to recognise them when they come back.

- ``Message-ID``: generated here, recorded on the queue row, so a reply's In-Reply-To /
  References find the ticket (`outbound.selectors.ticket_for_message_ids`).
- ``Auto-Submitted`` (RFC 3834): ``auto-replied`` on acknowledgements, ``auto-generated``
  on notifications, absent on a specialist's reply (a human wrote it).
- ``X-Supportdesk-Loop``: ``<instance id>; <signature>`` where the signature is an HMAC
  of the Message-ID under SECRET_KEY. A copy of it pasted into someone else's mail does
  not verify (their Message-ID differs), so outsiders cannot make us treat their mail
  as our own.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Mapping
from email.message import Message
from email.utils import parseaddr

from django.conf import settings

LOOP_HEADER = "X-Supportdesk-Loop"
AUTO_REPLIED = "auto-replied"
AUTO_GENERATED = "auto-generated"

_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")

# Local parts that never read their mail: no-reply senders and mail-system daemons.
# An optional "-anything" / "+anything" / "_anything" / ".anything" tail is allowed
# (noreply-abc@, bounce+123@).
_NOREPLY_LOCAL = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|mailer[-_.]?daemon|postmaster"
    r"|bounces?|auto[-_.]?reply|autoresponder)([-+_.].*)?$",
    re.IGNORECASE,
)


# A plain dot-atom address ("ana.silva+x@mail.acme.io"): what nearly every recipient is.
# For these `parseaddr` returns the address itself, so it is skipped (it costs ~0.1 ms).
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z"
)


def instance_id() -> str:
    """This installation's id: the setting, or a stable one derived from SECRET_KEY."""
    return _instance_id(settings.SUPPORTDESK_INSTANCE_ID, settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _instance_id(configured: str, secret_key: str) -> str:
    if configured:
        return configured.strip()
    digest = hashlib.sha256(f"supportdesk-instance:{secret_key}".encode()).hexdigest()
    return digest[:16]


def mail_domain() -> str:
    """The domain of our support address; our Message-IDs end with it."""
    return _mail_domain(settings.SUPPORTDESK_SUPPORT_ADDRESS)


@functools.lru_cache(maxsize=8)
def _mail_domain(support_address: str) -> str:
    _, address = parseaddr(support_address)
    return address.rpartition("@")[2].lower() or "supportdesk.localhost"


def make_message_id() -> str:
    """A new, globally unique Message-ID in canonical form (angle brackets, lower case)."""
    return f"<sd.{uuid.uuid4().hex}@{mail_domain()}>"


def normalise_message_id(value: str) -> str | None:
    """``" <ABC@x> "`` -> ``"<abc@x>"``; None when there is no id in it.

    Compared case-insensitively: our own ids are lower case, and a client that changed
    the case of one would otherwise lose the thread.
    """
    found = parse_message_ids(value)
    return found[0] if found else None


def parse_message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in an In-Reply-To / References value, canonical, in order, no repeats."""
    if not value:
        return []
    seen: dict[str, None] = {}
    for raw in _MESSAGE_ID.findall(value):
        seen.setdefault(f"<{raw.lower()}>", None)
    if not seen and value.strip() and " " not in value.strip():
        # Some clients send a bare id without brackets.
        seen[f"<{value.strip().strip('<>').lower()}>"] = None
    return list(seen)


def _signature(message_id: str) -> str:
    key = settings.SECRET_KEY.encode()
    payload = f"supportdesk-loop:{instance_id()}:{message_id.lower()}".encode()
    return hmac.digest(key, payload, "sha256").hex()[:32]


def loop_header_value(message_id: str) -> str:
    """The X-Supportdesk-Loop value for a mail with this Message-ID."""
    return f"{instance_id()}; {_signature(message_id)}"


def _values(
    headers: Message | Mapping[str, str] | Iterable[tuple[str, str]], name: str
) -> list[str]:
    if isinstance(headers, Message):
        return [str(v) for v in headers.get_all(name, [])]
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [str(v) for k, v in items if k.lower() == name.lower()]


def is_our_own_mail(headers: Message | Mapping[str, str] | Iterable[tuple[str, str]]) -> bool:
    """True when these headers are those of a mail this installation sent.

    Pass the top-level headers of an incoming message, or the returned headers inside
    a bounce (message/rfc822 or text/rfc822-headers part). A loop header from another
    installation, or one copied onto a different Message-ID, does not count.
    """
    message_ids = [mid for v in _values(headers, "Message-ID") for mid in parse_message_ids(v)]
    if not message_ids:
        return False
    ours = instance_id()
    for value in _values(headers, LOOP_HEADER):
        instance, _, signature = (part.strip() for part in value.partition(";"))
        if instance != ours or not signature:
            continue
        if any(hmac.compare_digest(signature, _signature(mid)) for mid in message_ids):
            return True
    return False


def bare_address(address: str) -> str:
    """``"Ana <ANA@Acme.io>"`` -> ``"ana@acme.io"`` ("" when there is no address)."""
    if _PLAIN_ADDRESS.match(address):
        return address.lower()
    _, addr = parseaddr(address)
    return addr.strip().lower() if "@" in addr else ""


def is_noreply_address(address: str) -> bool:
    """noreply@, no-reply@, do-not-reply@, mailer-daemon@, postmaster@, bounce@ and kin.

    Also true for something that is not an address at all: mail cannot go there either.
    """
    addr = bare_address(address)
    if not addr:
        return True
    local = addr.rpartition("@")[0]
    return bool(_NOREPLY_LOCAL.match(local))


def is_our_address(address: str) -> bool:
    """Our own support or sender address: never send it an automatic reply."""
    addr = bare_address(address)
    return bool(addr) and addr in _our_addresses(
        settings.SUPPORTDESK_SUPPORT_ADDRESS, settings.DEFAULT_FROM_EMAIL
    )


@functools.lru_cache(maxsize=8)
def _our_addresses(*configured: str) -> frozenset[str]:
    return frozenset(bare_address(value) for value in configured)
