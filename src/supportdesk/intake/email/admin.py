"""Inbound mail in the Django admin (supervisors): read-only, so the evidence stays as it came."""

from __future__ import annotations

from django.contrib import admin

from supportdesk.intake.email.models import InboundMail


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "received_at", "route", "sender", "subject", "status", "action", "ticket")
    list_filter = ("status", "action", "route")
    search_fields = ("sender", "subject", "message_id", "digest")
    readonly_fields = [f.name for f in InboundMail._meta.fields if f.name != "raw"]
    exclude = ("raw",)
    list_select_related = ("ticket",)

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # mail arrives by mail

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # what arrived is evidence: never edited

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
