"""Admin for supervisors: the on-call rota (members, overrides) and queue watchers;
read-only views of recorded SLA notices, pages and webhook deliveries."""

from __future__ import annotations

from django.contrib import admin

from supportdesk.sla.models import (
    Notice,
    Page,
    QueueSpecialist,
    Rota,
    RotaMember,
    RotaOverride,
    WebhookDelivery,
)


class RotaMemberInline(admin.TabularInline):
    model = RotaMember
    extra = 1
    ordering = ["position"]


class RotaOverrideInline(admin.TabularInline):
    model = RotaOverride
    extra = 0
    fk_name = "rota"
    fields = ["user", "starts_at", "ends_at", "note"]


@admin.register(Rota)
class RotaAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "handoff_weekday", "handoff_time", "starts_on", "is_active"]
    inlines = [RotaMemberInline, RotaOverrideInline]


@admin.register(QueueSpecialist)
class QueueSpecialistAdmin(admin.ModelAdmin):
    list_display = ["queue", "user"]
    list_filter = ["queue"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Notice)
class NoticeAdmin(ReadOnly):
    list_display = ["ticket", "kind", "at", "due", "noticed_at", "severity", "target", "notified"]
    list_filter = ["kind", "notified"]
    date_hierarchy = "at"


@admin.register(Page)
class PageAdmin(ReadOnly):
    list_display = ["ticket", "created_at", "level", "outcome", "acknowledged_by", "acknowledged_at"]
    list_filter = ["outcome"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = ["pk", "url", "status", "attempts", "response_status", "delivered_at", "last_error"]
    list_filter = ["status"]
