"""Health findings of the email channel, shown by `supportdesk doctor`."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

OK, WARNING, ERROR = "ok", "warning", "error"


@dataclass(frozen=True)
class Finding:
    level: str
    message: str


SPOOFING_WARNING = (
    "SUPPORTDESK_MTA_AUTHSERV_ID is not set: a mail's From domain alone identifies the "
    "customer, and anyone can write any From address. Set it to the authserv-id your MTA "
    "writes in Authentication-Results (with DMARC checking on) so that only mail whose "
    "DMARC passed for the From domain is filed under a customer account (docs/email.md)."
)


def email_findings() -> list[Finding]:
    from supportdesk.intake.email.models import InboundMail

    findings: list[Finding] = []
    authserv_id = settings.SUPPORTDESK_MTA_AUTHSERV_ID
    if authserv_id:
        findings.append(Finding(OK, f"sender authentication: only Authentication-Results of {authserv_id} count"))
    else:
        findings.append(Finding(WARNING, SPOOFING_WARNING))
    if settings.SUPPORTDESK_IMAP_HOST:
        if not (settings.SUPPORTDESK_IMAP_PASSWORD or settings.SUPPORTDESK_IMAP_PASSWORD_FILE):
            findings.append(Finding(ERROR, "SUPPORTDESK_IMAP_HOST is set but no IMAP password is configured"))
        else:
            findings.append(Finding(OK, f"IMAP mailbox {settings.SUPPORTDESK_IMAP_USER}@{settings.SUPPORTDESK_IMAP_HOST}"))
    stored = InboundMail.objects.filter(status=InboundMail.Status.STORED).count()
    if stored:
        findings.append(Finding(WARNING, f"{stored} inbound mail(s) stored but not processed yet"))
    failed = InboundMail.objects.filter(status=InboundMail.Status.FAILED).count()
    if failed:
        findings.append(Finding(ERROR, f"{failed} inbound mail(s) could not be processed (see the console)"))
    return findings
