"""Supervisors' pages: accounts, domains, contacts, subscriptions, specialists.

Every write goes through `accounts.actions` (which enforce the rules, e.g. the
legacy-plan rule of SPEC §1); accounts are fetched with `get_account_for_supervisor`.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supportdesk import clock
from supportdesk.accounts import actions, contacts
from supportdesk.accounts.access import get_account_for_supervisor, get_contact_for_user
from supportdesk.accounts.models import User
from supportdesk.console import admin_selectors
from supportdesk.console.admin_forms import (
    AccountForm,
    AccountManagersForm,
    ContactEditForm,
    ContactForm,
    DomainForm,
    SpecialistForm,
    SubscriptionForm,
)
from supportdesk.console.decorators import supervisor_required
from supportdesk.web.invitations import send_invitation
from supportdesk.web.present import active_policy


def _errors(error: ValidationError) -> str:
    return "; ".join(error.messages)


@supervisor_required
def accounts(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    page = admin_selectors.account_page(search=search, page=request.GET.get("page"), now=clock.now())
    return render(
        request,
        "console/accounts.html",
        {"nav": "accounts", "page": page, "search": search, "query": f"q={search}" if search else "",
         "form": AccountForm()},
    )


@supervisor_required
def account_new(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        domains = [d for d in re.split(r"[\s,;]+", form.cleaned_data["domains"]) if d]
        try:
            account = actions.create_account(
                slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], domains=domains
            )
        except ValidationError as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(request, _("Account %(name)s created.") % {"name": account.name})
            return redirect("console:account", slug=account.slug)
    return render(request, "console/account_new.html", {"nav": "accounts", "form": form},
                  status=400 if form.errors else 200)


def _account_page(request: HttpRequest, account: Any, status: int = 200, **forms: Any) -> HttpResponse:
    detail = admin_selectors.account_detail(account, now=clock.now())
    policy = active_policy()
    staff = admin_selectors.staff()
    return render(
        request,
        "console/account.html",
        {
            "nav": "accounts",
            "account": account,
            "detail": detail,
            "domain_form": forms.get("domain_form") or DomainForm(),
            "contact_form": forms.get("contact_form") or ContactForm(),
            "subscription_form": forms.get("subscription_form")
            or SubscriptionForm(plans=list(policy.plans.values()), initial={"starts": clock.now().date()}),
            "managers_form": AccountManagersForm(
                staff=staff,
                initial={
                    "account_manager": str(account.account_manager_id or ""),
                    "technical_account_manager": str(account.technical_account_manager_id or ""),
                },
            ),
        },
        status=status,
    )


@supervisor_required
def account_detail(request: HttpRequest, slug: str) -> HttpResponse:
    return _account_page(request, get_account_for_supervisor(request.user, slug=slug))


@require_POST
@supervisor_required
def account_edit(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    form = AccountManagersForm(request.POST, staff=admin_selectors.staff())
    if form.is_valid():
        ids = {k: form.cleaned_data[k] for k in ("account_manager", "technical_account_manager")}
        people = {k: User.objects.filter(pk=v).first() if v else None for k, v in ids.items()}
        try:
            actions.update_account(account=account, clear_managers=True, **people)
        except ValidationError as error:
            messages.error(request, _errors(error))
        else:
            messages.success(request, _("Account managers saved."))
    return redirect("console:account", slug=account.slug)


@require_POST
@supervisor_required
def domain_add(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            actions.add_domain(account=account, domain=form.cleaned_data["domain"])
        except ValidationError as error:
            form.add_error("domain", _errors(error))
        else:
            messages.success(request, _("Domain added."))
            return redirect("console:account", slug=account.slug)
    return _account_page(request, account, status=400, domain_form=form)


@require_POST
@supervisor_required
def domain_remove(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    actions.remove_domain(account=account, domain=request.POST.get("domain", ""))
    messages.success(request, _("Domain removed."))
    return redirect("console:account", slug=account.slug)


def _invite(request: HttpRequest, contact: Any) -> None:
    user = actions.give_contact_login(contact=contact, password=None)
    send_invitation(user, invited_by=request.user, account_name=contact.account.name)  # type: ignore[arg-type]


@require_POST
@supervisor_required
def contact_add(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    form = ContactForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            # Through accounts.contacts: the cap, the account's audit events, the manager's mail.
            contact = contacts.add_contact(
                actor=request.user, account=account, email=data["email"],  # type: ignore[arg-type]
                name=data["name"], phone=data["phone"],
                point_of_contact=data["is_point_of_contact"], invite=data["invite"],
            )
        except ValidationError as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(
                request,
                _("Contact %(email)s added%(invited)s.")
                % {"email": contact.email, "invited": _(" and invited") if data["invite"] else ""},
            )
            return redirect("console:account", slug=account.slug)
    return _account_page(request, account, status=400, contact_form=form)


def _change_roles(request: HttpRequest, contact: Any, data: dict[str, Any]) -> None:
    """Points of contact, removal and return go through accounts.contacts (cap, audit
    events, the account manager's mail); a returning contact gets a new invitation."""
    actor = request.user
    if contact.is_active and not data["is_active"]:
        contacts.remove_contact(actor=actor, contact=contact)  # type: ignore[arg-type]
        return
    if not contact.is_active and data["is_active"]:
        contact = contacts.invite_contact(
            actor=actor, account=contact.account, email=contact.email,  # type: ignore[arg-type]
            outside_registered_domains=True,
        )
    if data["is_point_of_contact"] and not contact.is_point_of_contact:
        contacts.designate_point_of_contact(actor=actor, contact=contact)  # type: ignore[arg-type]
    elif not data["is_point_of_contact"] and contact.is_point_of_contact:
        contacts.revoke_point_of_contact(actor=actor, contact=contact)  # type: ignore[arg-type]


@supervisor_required
def contact_edit(request: HttpRequest, slug: str, contact_id: int) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    contact = get_contact_for_user(request.user, contact_id=contact_id)
    if contact.account_id != account.pk:
        from django.http import Http404

        raise Http404("no such contact")
    form = ContactEditForm(
        request.POST or None,
        initial={"name": contact.name, "phone": contact.phone,
                 "is_point_of_contact": contact.is_point_of_contact, "is_active": contact.is_active},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                actions.update_contact(contact=contact, name=data["name"], phone=data["phone"])
                _change_roles(request, contact, data)
                if data["invite"] and data["is_active"] and contact.is_active:
                    _invite(request, contact)
        except ValidationError as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(request, _("Contact %(email)s saved.") % {"email": contact.email})
            return redirect("console:account", slug=account.slug)
    return render(request, "console/contact_edit.html",
                  {"nav": "accounts", "account": account, "contact": contact, "form": form},
                  status=400 if form.errors else 200)


@require_POST
@supervisor_required
def subscription_add(request: HttpRequest, slug: str) -> HttpResponse:
    account = get_account_for_supervisor(request.user, slug=slug)
    form = SubscriptionForm(request.POST, plans=list(active_policy().plans.values()))
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.record_subscription(
                account=account, plan=data["plan"], status=data["status"], starts=data["starts"],
                ends=data["ends"], actor=request.user, note=data["note"],  # type: ignore[arg-type]
            )
        except ValidationError as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(request, _("Subscription recorded."))
            return redirect("console:account", slug=account.slug)
    return _account_page(request, account, status=400, subscription_form=form)


@supervisor_required
def specialists(request: HttpRequest) -> HttpResponse:
    form = SpecialistForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                user = actions.create_user(
                    email=data["email"], name=data["name"], role=data["role"], password=None
                )
                send_invitation(user, invited_by=request.user)  # type: ignore[arg-type]
        except ValidationError as error:
            form.add_error(None, _errors(error))
        else:
            messages.success(request, _("%(email)s added and invited.") % {"email": user.email})
            return redirect("console:specialists")
    return render(
        request,
        "console/specialists.html",
        {"nav": "specialists", "people": admin_selectors.staff_with_load(), "form": form},
        status=400 if form.errors else 200,
    )
