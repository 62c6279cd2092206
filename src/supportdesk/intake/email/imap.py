"""IMAP polling over TLS (imap-tools).

For each unseen message: fetch the raw bytes without setting \\Seen (BODY.PEEK), store
and process it (the ticket commits), and only then mark it seen or move it. A crash in
between leaves the message unseen; the next poll fetches it again and the content
digest makes it a `duplicate`, never a second ticket.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from imap_tools import AND, MailBox, MailMessageFlags

from supportdesk.intake.email.models import InboundMail
from supportdesk.intake.email.process import Outcome, process_mail
from supportdesk.intake.email.store import RawMail, store_mail

logger = logging.getLogger(__name__)


class MailboxNotConfigured(Exception):
    pass


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    move_to: str = ""
    ca_file: str = ""

    @classmethod
    def from_settings(cls) -> MailboxConfig:
        password = settings.SUPPORTDESK_IMAP_PASSWORD
        if settings.SUPPORTDESK_IMAP_PASSWORD_FILE:
            password = Path(settings.SUPPORTDESK_IMAP_PASSWORD_FILE).read_text().strip()
        missing = [
            name
            for name, value in (
                ("SUPPORTDESK_IMAP_HOST", settings.SUPPORTDESK_IMAP_HOST),
                ("SUPPORTDESK_IMAP_USER", settings.SUPPORTDESK_IMAP_USER),
                ("SUPPORTDESK_IMAP_PASSWORD or SUPPORTDESK_IMAP_PASSWORD_FILE", password),
            )
            if not value
        ]
        if missing:
            raise MailboxNotConfigured("set " + ", ".join(missing))
        return cls(
            host=settings.SUPPORTDESK_IMAP_HOST,
            port=settings.SUPPORTDESK_IMAP_PORT,
            user=settings.SUPPORTDESK_IMAP_USER,
            password=password,
            folder=settings.SUPPORTDESK_IMAP_FOLDER,
            move_to=settings.SUPPORTDESK_IMAP_MOVE_TO,
            ca_file=settings.SUPPORTDESK_IMAP_CA_FILE,
        )

    def ssl_context(self) -> ssl.SSLContext:
        # Certificates are always verified; a private CA is named, never switched off.
        return ssl.create_default_context(cafile=self.ca_file or None)


def _raw(mailbox: MailBox, uid: str) -> bytes:
    status, data = mailbox.client.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        raise RuntimeError(f"IMAP FETCH of UID {uid} failed: {status}")
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            return bytes(item[1])
    raise RuntimeError(f"IMAP FETCH of UID {uid} returned no message")


def fetch_mail(
    config: MailboxConfig | None = None,
    *,
    limit: int = 500,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Fetch, store and process unseen messages; mark each seen only once committed."""
    config = config or MailboxConfig.from_settings()
    outcomes: list[Outcome] = []
    with MailBox(config.host, config.port, ssl_context=config.ssl_context()).login(
        config.user, config.password, initial_folder=config.folder
    ) as mailbox:
        uids = list(mailbox.uids(AND(seen=False)))[:limit]
        for uid in uids:
            raw = _raw(mailbox, uid)
            row = store_mail(
                RawMail(
                    raw=raw,
                    route=InboundMail.Route.IMAP,
                    origin=f"imap://{config.user}@{config.host}:{config.port}/{config.folder};UID={uid}",
                )
            )
            outcome = process_mail(row)  # committed on return
            if config.move_to:
                mailbox.move(uid, config.move_to)
            else:
                mailbox.flag(uid, MailMessageFlags.SEEN, True)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return outcomes
