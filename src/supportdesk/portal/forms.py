from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from supportdesk.web.severities import severity_guide
from supportdesk.web.uploads import AttachmentsField


class NewTicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=300)
    severity = forms.ChoiceField(
        label=_("Severity"),
        choices=[(g.value, g.label) for g in severity_guide()],
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("What happened?"),
        widget=forms.Textarea,
        max_length=100_000,
        help_text=_("What you did, what you expected, what happened instead; error messages."),
    )
    attachments = AttachmentsField()


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea, max_length=100_000)
    attachments = AttachmentsField()


class InviteForm(forms.Form):
    """An owner (or a supervisor) invites a contact to the account's team."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    point_of_contact = forms.BooleanField(
        label=_("Point of contact (may open tickets)"), required=False
    )
