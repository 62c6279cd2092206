"""Multiple-file upload field shared by the portal and the console forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from supportdesk.tickets.attachments import NewAttachment


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Zero or more files, each within SUPPORTDESK_MAX_ATTACHMENT_BYTES."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", _("Attachments"))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        limit = int(settings.SUPPORTDESK_MAX_ATTACHMENT_BYTES)
        cleaned = []
        for upload in files:
            upload = super().clean(upload, initial)
            if upload is None:
                continue
            if upload.size > limit:
                raise forms.ValidationError(
                    _("%(name)s is too large: the limit is %(mb).0f MB per file.")
                    % {"name": upload.name, "mb": limit / 1024 / 1024}
                )
            cleaned.append(upload)
        return cleaned


def to_new_attachments(uploads: list[Any]) -> list[NewAttachment]:
    return [
        NewAttachment(
            filename=upload.name,
            content=upload.read(),
            content_type=upload.content_type or "application/octet-stream",
        )
        for upload in uploads
    ]
