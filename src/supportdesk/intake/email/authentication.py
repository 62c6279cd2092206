"""Did the sender's domain vouch for this mail? (RFC 8601 Authentication-Results, DMARC.)

Only our own MTA's verdict counts. Anyone can write an Authentication-Results header
into a mail, so we read exactly one: the topmost header carrying the authserv-id the
deployment named (`SUPPORTDESK_MTA_AUTHSERV_ID`). Our MTA prepends its header above
everything that came from outside, so the topmost one with our id is the one it wrote.
The mail is authenticated when that header says `dmarc=pass` for the From domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import authres

from supportdesk.intake.email.headers import to_text, unfold

NOT_CONFIGURED = "not_configured"  # no authserv-id named: the domain alone identifies
PASS = "pass"
FAIL = "fail"


@dataclass(frozen=True)
class Authentication:
    status: str
    reason: str

    @property
    def passed(self) -> bool:
        return self.status == PASS


def _authserv_id(value: str) -> str:
    """The authserv-id of a header value, read leniently (the part before `;`)."""
    head = value.split(";", 1)[0].strip()
    return head.split()[0].lower() if head else ""


def authenticate(
    values: Sequence[str], *, from_domain: str, authserv_id: str
) -> Authentication:
    """The verdict of our MTA on the From domain, from the A-R header values top-down."""
    if not authserv_id:
        return Authentication(NOT_CONFIGURED, "no MTA authserv-id is configured")
    ours = authserv_id.strip().lower()
    for raw in values:
        value = unfold(to_text(raw)).strip()
        if _authserv_id(value) != ours:
            continue
        # The topmost header with our id decides, whatever it says.
        try:
            header = authres.AuthenticationResultsHeader.parse(f"Authentication-Results: {value}")
        except Exception:  # authres raises its own SyntaxError and others on junk
            return Authentication(FAIL, "our MTA's Authentication-Results header is unreadable")
        for result in header.results:
            if str(result.method).lower() != "dmarc":
                continue
            verdict = str(result.result).lower()
            header_from = ""
            for prop in result.properties:
                if str(prop.type).lower() == "header" and str(prop.name).lower() == "from":
                    header_from = str(prop.value).strip().lower().rstrip(".")
            if verdict != "pass":
                return Authentication(FAIL, f"dmarc={verdict} for {header_from or 'the sender'}")
            if header_from != from_domain:
                return Authentication(
                    FAIL, f"dmarc passed for {header_from or 'no domain'}, not for {from_domain}"
                )
            return Authentication(PASS, f"dmarc=pass for {from_domain}")
        return Authentication(FAIL, "our MTA recorded no DMARC result")
    return Authentication(FAIL, f"no Authentication-Results header from {authserv_id}")
