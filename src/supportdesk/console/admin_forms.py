"""Forms of the supervisors' pages (accounts, contacts, subscriptions, specialists)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

STATUS_CHOICES = [
    ("active", _("active")), ("trial", _("trial")), ("expired", _("expired")), ("suspended", _("suspended")),
]


class AccountForm(forms.Form):
    slug = forms.SlugField(label=_("Short name (in URLs)"), max_length=64)
    name = forms.CharField(label=_("Company name"), max_length=200)
    domains = forms.CharField(
        label=_("Email domains"), required=False,
        help_text=_("Separated by spaces or commas, e.g. acme.com acme.com.br"),
    )


class AccountManagersForm(forms.Form):
    account_manager = forms.ChoiceField(label=_("Account manager"), required=False)
    technical_account_manager = forms.ChoiceField(label=_("Technical account manager"), required=False)

    def __init__(self, *args: Any, staff: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(str(u.pk), u.get_full_name()) for u in staff]
        self.fields["account_manager"].choices = choices
        self.fields["technical_account_manager"].choices = choices


class DomainForm(forms.Form):
    domain = forms.CharField(label=_("Domain"), max_length=253)


class ContactForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    phone = forms.CharField(label=_("Phone (E.164)"), required=False, max_length=32)
    is_point_of_contact = forms.BooleanField(label=_("Point of contact (may open tickets)"), required=False)
    invite = forms.BooleanField(label=_("Send a portal invitation by email"), required=False, initial=True)


class ContactEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    phone = forms.CharField(label=_("Phone (E.164)"), required=False, max_length=32)
    is_point_of_contact = forms.BooleanField(label=_("Point of contact"), required=False)
    is_active = forms.BooleanField(label=_("Active (may sign in)"), required=False)
    invite = forms.BooleanField(label=_("Send a portal invitation by email"), required=False)


class SubscriptionForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"))
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES)
    starts = forms.DateField(label=_("Starts"), widget=forms.DateInput(attrs={"type": "date"}))
    ends = forms.DateField(label=_("Ends (exclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, plans: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [
            (p.id, f"{p.name} ({p.family})") for p in plans
        ]


class SpecialistForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ChoiceField(
        label=_("Role"), choices=[("specialist", _("specialist")), ("supervisor", _("supervisor"))]
    )


class TeamInviteForm(forms.Form):
    """The supervisors' invitation: the owners' one, plus the per-invite domain override."""

    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(label=_("Name"), required=False, max_length=200)
    point_of_contact = forms.BooleanField(label=_("Point of contact (may open tickets)"), required=False)
    outside_registered_domains = forms.BooleanField(
        label=_("Outside the registered domains (this invitation only)"), required=False
    )


class InvitationExceptionForm(forms.Form):
    value = forms.CharField(
        label=_("Address or domain"), max_length=254,
        help_text=_("e.g. partner.example, or lia@gmail.com for one person at a free-mail provider"),
    )
