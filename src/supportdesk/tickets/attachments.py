"""Attachments: stored under generated names in MEDIA_ROOT, the sender's name kept as data."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile

from supportdesk.tickets.models import Attachment, Message


@dataclass(frozen=True)
class NewAttachment:
    """A file as a channel received it."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


def clean_original_name(filename: str) -> str:
    """The last path component, without control characters, at most 255 characters."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return name[-255:] or "attachment"


def max_attachment_bytes() -> int:
    return int(settings.SUPPORTDESK_MAX_ATTACHMENT_BYTES)


def is_too_large(attachment: NewAttachment) -> bool:
    return len(attachment.content) > max_attachment_bytes()


def check_attachments(attachments: list[NewAttachment] | tuple[NewAttachment, ...]) -> None:
    """Refuse any file over SUPPORTDESK_MAX_ATTACHMENT_BYTES, naming it."""
    limit = max_attachment_bytes()
    for attachment in attachments:
        if len(attachment.content) > limit:
            raise ValidationError(
                {
                    "attachments": f"{clean_original_name(attachment.filename)} is "
                    f"{len(attachment.content):,} bytes; the limit is {limit:,} bytes"
                }
            )


def store_attachments(
    message: Message, attachments: list[NewAttachment] | tuple[NewAttachment, ...]
) -> list[Attachment]:
    """Write the files and their rows (call inside the action's transaction)."""
    check_attachments(attachments)
    stored = []
    for new in attachments:
        original = clean_original_name(new.filename)
        row = Attachment(
            message=message,
            original_name=original,
            content_type=(new.content_type or "application/octet-stream")[:200],
            size=len(new.content),
            sha256=hashlib.sha256(new.content).hexdigest(),
        )
        # upload_to generates the stored name; `original` only lends its extension.
        row.file.save(original, ContentFile(new.content), save=False)
        row.save()
        stored.append(row)
    return stored
