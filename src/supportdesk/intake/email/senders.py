"""Who wrote a mail: the one address in From, or a reason why there is none.

Two parsers read the From header (the lenient `getaddresses` and the RFC 5322 parser
of `email.headerregistry`); when they disagree the header is ambiguous. That closes
the parser-differential tricks (quoted local parts holding an "@", comments, nested
angle brackets) that make one library see alice@customer.com and another
mallory@attacker.net.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy as email_policy
from email.utils import getaddresses

from supportdesk.intake.email.headers import decode_words

# A From header longer than this is not a person's address; reading it costs time.
MAX_FROM_HEADER_CHARS = 2048

_ADDRESS_IN_TEXT = re.compile(r"[^\s<>\"'@(),;:]+@[^\s<>\"'@(),;:]+\.[^\s<>\"'@(),;:]+")
_NOREPLY_LOCAL = re.compile(
    r"^(no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|mailer[-_.]daemon|postmaster|"
    r"bounces?|noreply[-_.+].*|.*[-_.+]noreply|notifications?[-_.]?noreply)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sender:
    """The sender of a mail. `address` is None when the From header is ambiguous."""

    address: str | None
    name: str
    domain: str
    ambiguous_reason: str = ""

    @property
    def is_noreply(self) -> bool:
        if not self.address:
            return False
        local = self.address.rsplit("@", 1)[0]
        return bool(_NOREPLY_LOCAL.match(local))


def _ambiguous(reason: str, name: str = "") -> Sender:
    return Sender(address=None, name=name, domain="", ambiguous_reason=reason)


def _strict_addresses(value: str) -> list[tuple[str, str]] | None:
    """The addresses the RFC 5322 parser sees, or None when it cannot read the header."""
    try:
        header = email_policy.default.header_factory("From", value)
        return [(a.display_name, a.addr_spec) for a in header.addresses]  # type: ignore[attr-defined]
    except Exception:  # the strict parser raises a zoo of errors on broken input
        return None


def normalise_domain(domain: str) -> str:
    """Lower-cased IDNA (punycode) form, as account domains are stored."""
    domain = domain.strip().rstrip(".").lower()
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


# The common, unambiguous shapes: `Plain Name <a@b.c>` or `a@b.c`, with no quotes,
# comments, commas, backslashes, encoded words or second "@" anywhere. Such a header
# reads the same in every parser, so the two full parsers are skipped for it.
_SIMPLE_FROM = re.compile(
    r"^\s*(?:(?P<name>[^\"<>(),;:\\@=?\[\]]*?)\s*<(?P<addr1>[^<>\"\s(),;:\\@\[\]]+@[^<>\"\s(),;:\\@\[\]]+)>"
    r"|(?P<addr2>[^<>\"\s(),;:\\@\[\]]+@[^<>\"\s(),;:\\@\[\]]+))\s*$"
)


def _simple_sender(value: str) -> Sender | None:
    match = _SIMPLE_FROM.match(value)
    if match is None:
        return None
    address = (match.group("addr1") or match.group("addr2")).lower()
    local, _, domain = address.rpartition("@")
    if not local or not domain:
        return None
    name = (match.group("name") or "").strip()
    return Sender(address=address, name=name, domain=normalise_domain(domain))


def sender_from_headers(from_values: list[str]) -> Sender:
    """The one sender named by the From header(s), decided strictly."""
    if not from_values:
        return _ambiguous("the mail has no From header")
    if len(from_values) > 1:
        return _ambiguous(f"the mail has {len(from_values)} From headers")
    value = from_values[0].replace("\x00", "")
    if len(value) > MAX_FROM_HEADER_CHARS:
        return _ambiguous("the From header is too long to be one address")
    simple = _simple_sender(value)
    if simple is not None:
        return simple
    entries = [(n, a) for n, a in getaddresses([value]) if n or a]
    with_at = [(n, a) for n, a in entries if "@" in a]
    if len(with_at) != 1:
        count = len(with_at)
        return _ambiguous(
            "the From header names no address" if count == 0 else f"the From header names {count} addresses"
        )
    raw_name, address = with_at[0]
    name = decode_words(raw_name).strip()
    strict_entries = _strict_addresses(value) or []
    strict = [(n, a) for n, a in strict_entries if "@" in a]
    # When the RFC 5322 parser finds an address, it must be the same one, alone.
    if strict and (len(strict) != 1 or strict[0][1].lower() != address.lower()):
        return _ambiguous("the From header reads differently to different mail parsers")
    if len(entries) > 1 and len(strict_entries) != 1:
        return _ambiguous(f"the From header names {len(entries)} mailboxes")
    if strict and strict[0][0].strip():
        # The strict reading drops comments and keeps encoded words whole; it is
        # preferred unless it left undecodable 8-bit bytes in the name.
        strict_name = strict[0][0].strip()
        if not any("\udc80" <= ch <= "\udcff" for ch in strict_name):
            name = strict_name
    address = address.strip()
    local, _, domain = address.rpartition("@")
    if not local or not domain or "@" in local.strip('"') or " " in address:
        return _ambiguous("the From address is malformed")
    for candidate in _ADDRESS_IN_TEXT.findall(name):
        if candidate.lower().strip(".") != address.lower():
            return _ambiguous(
                "the From display name contains a different address", name=name
            )
    return Sender(address=address.lower(), name=name, domain=normalise_domain(domain))
