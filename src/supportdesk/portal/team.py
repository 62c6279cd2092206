"""The owners' "Your team" page: the account's contacts, invitations, points of contact,
removals and the history of those changes. Thin: one action of `accounts.contacts` per
POST, then a redirect.

`handle_team_post` is shared with the console's team page, which posts the same
`do=…` buttons (plus the supervisors' own: owners and invitation exceptions).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supportdesk import clock
from supportdesk.accounts import contacts
from supportdesk.accounts.access import get_team_contact, owned_account
from supportdesk.accounts.models import Account
from supportdesk.accounts.selectors import team
from supportdesk.portal.forms import InviteForm
from supportdesk.portal.views import contact_required

CONTACT_CHANGES: dict[str, tuple[Callable[..., Any], Any]] = {
    # do=…: (action, message on success)
    "designate": (contacts.designate_point_of_contact, gettext_lazy("%(who)s is now a point of contact.")),
    "revoke": (contacts.revoke_point_of_contact, gettext_lazy("%(who)s is no longer a point of contact.")),
    "remove": (contacts.remove_contact, gettext_lazy("%(who)s was removed.")),
}


def _errors(error: ValidationError) -> str:
    return "; ".join(error.messages)


def handle_team_post(
    request: HttpRequest, account: Account, invite_form: forms.Form, **extra: Callable[..., Any]
) -> forms.Form | None:
    """Apply the button that was pressed; returns the invitation form when it has errors
    to show, else None (the caller redirects). `extra` maps more `do` values to handlers
    (the console's)."""
    do = request.POST.get("do", "")
    actor = request.user
    if do == "invite":
        if not invite_form.is_valid():
            return invite_form
        data = invite_form.cleaned_data
        try:
            contact = contacts.invite_contact(
                actor=actor,  # type: ignore[arg-type]
                account=account,
                email=data["email"],
                name=data["name"],
                point_of_contact=data["point_of_contact"],
                outside_registered_domains=data.get("outside_registered_domains", False),
            )
        except ValidationError as error:
            invite_form.add_error(None, _errors(error))
            return invite_form
        messages.success(request, _("%(email)s was invited.") % {"email": contact.email})
        return None
    if do in CONTACT_CHANGES:
        action, done = CONTACT_CHANGES[do]
        contact = get_team_contact(actor, account=account, contact_id=request.POST.get("contact", ""))
        try:
            action(actor=actor, contact=contact)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, str(done) % {"who": contact.name or contact.email})
        return None
    if do in extra:
        extra[do](request, account)
        return None
    messages.error(request, _("Nothing was changed."))
    return None


@contact_required
def team_page(request: HttpRequest) -> HttpResponse:
    account = owned_account(request.user)  # owners only: anyone else gets a 404
    form = InviteForm(request.POST if request.POST.get("do") == "invite" else None)
    if request.method == "POST":
        errors = handle_team_post(request, account, form)
        if errors is None:
            return redirect("portal:team")
    return render(
        request,
        "portal/team.html",
        {
            "nav": "team",
            "contact": request.contact,  # type: ignore[attr-defined]
            "team": team(account, at=clock.now()),
            "form": form,
        },
        status=400 if form.errors else 200,
    )
