"""Supervisors' team page of any account: everything an owner can do in the portal
(`portal.team.handle_team_post`), plus setting owners, the per-invitation domain
override and the account's invitation exceptions. Thin views over `accounts.contacts`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from supportdesk import clock
from supportdesk.accounts import contacts
from supportdesk.accounts.access import get_account_for_supervisor, get_team_contact
from supportdesk.accounts.models import Account
from supportdesk.accounts.selectors import team
from supportdesk.console.admin_forms import InvitationExceptionForm, TeamInviteForm
from supportdesk.console.decorators import supervisor_required
from supportdesk.portal.team import handle_team_post


def _owner(request: HttpRequest, account: Account, *, owner: bool) -> None:
    contact = get_team_contact(request.user, account=account, contact_id=request.POST.get("contact", ""))
    try:
        contacts.set_account_owner(actor=request.user, contact=contact, owner=owner)  # type: ignore[arg-type]
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return
    who = contact.name or contact.email
    messages.success(
        request,
        (_("%(who)s is now an account owner.") if owner else _("%(who)s is no longer an account owner."))
        % {"who": who},
    )


def _withdraw(request: HttpRequest, account: Account) -> None:
    value = request.POST.get("value", "")
    contacts.withdraw_invitation_exception(actor=request.user, account=account, value=value)  # type: ignore[arg-type]
    messages.success(request, _("Invitations at %(value)s are no longer allowed.") % {"value": value})


@supervisor_required
def team_page(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    do = request.POST.get("do", "")
    form = TeamInviteForm(request.POST if do == "invite" else None)
    exception_form = InvitationExceptionForm(request.POST if do == "allow_exception" else None)
    if request.method == "POST":
        if do == "allow_exception":
            if exception_form.is_valid():
                try:
                    contacts.allow_invitation_exception(
                        actor=request.user,  # type: ignore[arg-type]
                        account=account,
                        value=exception_form.cleaned_data["value"],
                    )
                except ValidationError as error:
                    exception_form.add_error("value", "; ".join(error.messages))
                else:
                    messages.success(request, _("Owners may now invite at %(value)s.")
                                     % {"value": exception_form.cleaned_data["value"].strip().lower()})
                    return redirect("console:team", slug=account.slug)
        elif handle_team_post(
            request, account, form,
            owner_set=lambda r, a: _owner(r, a, owner=True),
            owner_unset=lambda r, a: _owner(r, a, owner=False),
            withdraw_exception=_withdraw,
        ) is None:
            return redirect("console:team", slug=account.slug)
    return render(
        request,
        "console/team.html",
        {
            "nav": "accounts",
            "team": team(account, at=clock.now()),
            "form": form,
            "exception_form": exception_form,
        },
        status=400 if form.errors or exception_form.errors else 200,
    )
