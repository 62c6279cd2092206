"""Django admin for supervisors: accounts with their domains, contacts and subscriptions,
and the team's users.

The forms run the same checks as `accounts.actions` (free-mail and public-suffix
domains, domains of other accounts, phone numbers, the legacy-plan rule), and
subscriptions are append-only here as everywhere: existing rows are shown read-only and
a change is recorded as a new row through `record_subscription`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from supportdesk.accounts import actions
from supportdesk.accounts.models import (
    Account,
    AccountDomain,
    AccountEvent,
    Contact,
    Subscription,
    User,
)
from supportdesk.accounts.validation import (
    check_contact_email,
    check_domain,
    check_phone,
    check_plan,
    check_plan_can_be_sold,
)


def _messages(exc: ValidationError) -> list[str]:
    """The messages of a check's {field: message} error, for the form field showing them."""
    return list(exc.messages)


class AccountDomainForm(forms.ModelForm):
    class Meta:
        model = AccountDomain
        fields = ["domain"]

    def clean_domain(self) -> str:
        parent = getattr(self, "parent_account", None)
        try:
            return check_domain(self.cleaned_data["domain"], account=parent)
        except ValidationError as exc:
            raise ValidationError(_messages(exc)) from None


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        # Roles and removal are changed on the console's team page (accounts.contacts), so
        # they are capped by the plan, recorded as account events and told to the manager.
        fields = ["name", "email", "phone"]

    def clean_email(self) -> str:
        try:
            return check_contact_email(
                self.cleaned_data["email"], contact=self.instance if self.instance.pk else None
            )
        except ValidationError as exc:
            raise ValidationError(_messages(exc)) from None

    def clean_phone(self) -> str:
        try:
            return check_phone(self.cleaned_data.get("phone") or "")
        except ValidationError as exc:
            raise ValidationError(_messages(exc)) from None


class SubscriptionForm(forms.ModelForm):
    class Meta:
        model = Subscription
        fields = ["plan", "status", "starts", "ends", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk:
            return data  # recorded rows are history: shown, never changed
        plan, starts, ends = data.get("plan"), data.get("starts"), data.get("ends")
        try:
            if plan:
                check_plan(plan)
            if plan and starts:
                account = getattr(self, "parent_account", None)
                check_plan_can_be_sold(account=account, plan_id=plan, starts=starts)
        except ValidationError as exc:
            raise ValidationError({"plan": _messages(exc)}) from None
        if starts and ends and ends <= starts:
            raise ValidationError({"ends": "must be after starts"})
        return data


class _ParentAwareFormSet(forms.BaseInlineFormSet):
    """Gives each form the account being edited, so checks can tell 'mine' from 'another's'."""

    def _construct_form(self, i: int, **kwargs: Any) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        form.parent_account = self.instance if self.instance.pk else None  # type: ignore[attr-defined]
        return form

    @property
    def empty_form(self) -> forms.Form:
        form = super().empty_form
        form.parent_account = self.instance if self.instance.pk else None  # type: ignore[attr-defined]
        return form


class AccountDomainInline(admin.TabularInline):
    model = AccountDomain
    form = AccountDomainForm
    formset = _ParentAwareFormSet
    extra = 1


class ContactInline(admin.StackedInline):
    model = Contact
    form = ContactForm
    formset = _ParentAwareFormSet
    extra = 0
    readonly_fields = ["user", "is_point_of_contact", "is_account_owner", "is_active"]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    form = SubscriptionForm
    formset = _ParentAwareFormSet
    extra = 1
    can_delete = False
    fields = ["plan", "status", "starts", "ends", "note", "recorded_at", "recorded_by"]
    readonly_fields = ["recorded_at", "recorded_by"]
    verbose_name = "subscription period"
    verbose_name_plural = (
        "subscription history (rows are never changed: record a new row to renew, "
        "suspend or correct; for any day the latest row covering it wins)"
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.readonly_fields)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Existing rows render read-only; new rows can still be added.
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "account_manager", "technical_account_manager"]
    search_fields = ["name", "slug", "domains__domain", "contacts__email"]
    prepopulated_fields = {"slug": ["name"]}
    fields = ["name", "slug", "account_manager", "technical_account_manager", "allow_subdomains"]
    inlines = [AccountDomainInline, ContactInline, SubscriptionInline]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name in ("account_manager", "technical_account_manager"):
            kwargs["queryset"] = User.objects.filter(
                role__in=[User.Role.SPECIALIST, User.Role.SUPERVISOR], is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Subscription:
            super().save_formset(request, form, formset, change)
            return
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for sub_form in formset.forms:
            if sub_form.instance.pk or not sub_form.has_changed():
                continue
            data = sub_form.cleaned_data
            if not data or data.get("DELETE"):
                continue
            recorded = actions.record_subscription(
                account=form.instance,
                plan=data["plan"],
                status=data["status"],
                starts=data["starts"],
                ends=data.get("ends"),
                note=data.get("note") or "",
                actor=request.user if isinstance(request.user, User) else None,
            )
            formset.new_objects.append(recorded)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    """All recorded subscription rows, read-only (add them on the account page)."""

    list_display = ["account", "plan", "status", "starts", "ends", "recorded_at", "recorded_by"]
    list_filter = ["plan", "status"]
    search_fields = ["account__name", "account__slug"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class UserCreationForm(forms.ModelForm):
    password1 = forms.CharField(label="Password", widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["email", "name", "role"]

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=False)
        user.email = user.email.strip().lower()
        user.set_password(self.cleaned_data["password1"])
        if commit:
            user.save()
        return user


class UserChangeForm(forms.ModelForm):
    password = ReadOnlyPasswordHashField(
        label="Password",
        help_text='Passwords are not stored in clear; change it with <a href="../password/">this form</a>.',
    )

    class Meta:
        model = User
        fields = ["email", "name", "role", "is_active", "password"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ["email", "name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    fieldsets = [(None, {"fields": ["email", "name", "role", "is_active", "password"]})]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "role", "password1"]})]
    filter_horizontal = []


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    """Who changed an account's owners, points of contact and invitations: read-only."""

    list_display = ["at", "account", "kind", "subject", "actor_name", "actor_role"]
    list_filter = ["kind", "actor_role"]
    search_fields = ["account__name", "account__slug", "subject", "actor_name"]
    readonly_fields = [f.name for f in AccountEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
