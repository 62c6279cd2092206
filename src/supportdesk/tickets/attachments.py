"""Attachments: stored under generated names in MEDIA_ROOT, the sender's name kept as data."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import FileField

from supportdesk.core import rows
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


def write_files(attachments: list[NewAttachment] | tuple[NewAttachment, ...]) -> list[dict[str, Any]]:
    """Check the sizes, write the files under generated names, and return the values of
    their `Attachment` rows (all but the message), to be inserted with the message.

    Files are written first, before any row: writing a file is what can fail (disk
    full, storage down), and then the request fails before it takes a ticket number.
    """
    check_attachments(attachments)
    field = Attachment._meta.get_field("file")
    assert isinstance(field, FileField)
    written = []
    for new in attachments:
        original = clean_original_name(new.filename)
        # upload_to generates the stored name; `original` only lends its extension.
        name = field.storage.save(
            field.generate_filename(None, original), ContentFile(new.content), max_length=field.max_length
        )
        written.append({
            "file": name,
            "original_name": original,
            "content_type": (new.content_type or "application/octet-stream")[:200],
            "size": len(new.content),
            "sha256": hashlib.sha256(new.content).hexdigest(),
        })
    return written


def insert_rows(message_id: int, written: Sequence[dict[str, Any]]) -> None:
    """The `Attachment` rows of files `write_files` wrote, for one message (one INSERT)."""
    if written:
        rows.insert_many(Attachment, [{**values, "message_id": message_id} for values in written])


def store_attachments(
    message: Message, attachments: list[NewAttachment] | tuple[NewAttachment, ...]
) -> None:
    """Write the files and their rows (call inside the action's transaction)."""
    insert_rows(message.pk, write_files(attachments))
