from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from supportdesk.web.present import AGENT_STATUS_LABELS
from supportdesk.web.severities import severity_guide
from supportdesk.web.uploads import AttachmentsField

SEVERITY_CHOICES = [(g.value, g.label) for g in severity_guide()]


class QueueFilterForm(forms.Form):
    account = forms.CharField(label=_("Account"), required=False, max_length=200)
    requester = forms.CharField(label=_("Requester"), required=False, max_length=254)
    number = forms.IntegerField(label=_("Number"), required=False, min_value=1)
    text = forms.CharField(label=_("Text"), required=False, max_length=200)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply to the customer"), widget=forms.Textarea, max_length=100_000)
    attachments = AttachmentsField()
    status = forms.ChoiceField(
        label=_("Then set the status to"),
        required=False,
        choices=[("", _("Open (default)")), ("pending", _("Pending: waiting for the customer")), ("solved", _("Solved"))],
    )


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea, max_length=100_000)
    attachments = AttachmentsField()


class SeverityForm(forms.Form):
    severity = forms.ChoiceField(label=_("Severity"), choices=SEVERITY_CHOICES)
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)

    def __init__(self, *args: Any, specialists: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("Nobody"))] + [
            (str(user.pk), user.get_full_name()) for user in specialists
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(value, label) for value, label in AGENT_STATUS_LABELS.items() if value != "new"],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class MoveForm(forms.Form):
    account = forms.ChoiceField(label=_("Account"))
    requester = forms.EmailField(
        label=_("Requester (a contact of that account)"), required=False,
        help_text=_("Empty: the ticket's sender, if they are a contact of that account."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)

    def __init__(self, *args: Any, accounts: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", "—")] + [(a.slug, a.name) for a in accounts]


class LogCallForm(forms.Form):
    phone = forms.CharField(
        label=_("Caller's number"), max_length=32,
        help_text=_("International form, e.g. +55 11 91234-5678 (Brazilian numbers may omit +55)."),
    )
    caller_name = forms.CharField(label=_("Caller's name"), required=False, max_length=200)
    subject = forms.CharField(label=_("Subject"), required=False, max_length=300)
    notes = forms.CharField(label=_("Your notes of the call"), widget=forms.Textarea, max_length=100_000)
