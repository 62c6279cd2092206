"""Console URLs of the SLA runtime: /console/sla/... and /console/reports/..."""

from django.urls import path

from supportdesk.sla import views

app_name = "sla"

urlpatterns = [
    path("sla/notifications/", views.notifications, name="notifications"),
    path("sla/notifications/live/", views.notifications_live, name="notifications_live"),
    path("sla/notifications/count/", views.notifications_count, name="notifications_count"),
    path("sla/notifications/read/", views.notifications_read, name="notifications_read"),
    path("sla/pages/<int:page_id>/", views.page, name="page"),
    path("sla/pages/<int:page_id>/ack/", views.acknowledge, name="acknowledge"),
    path("sla/oncall/", views.on_call, name="oncall"),
    path("reports/", views.compliance, name="compliance"),
    path("reports/breaches/", views.breaches, name="breaches"),
    path("reports/statements/", views.statements, name="statements"),
    path("reports/statements/<slug:slug>/<str:period>/", views.statement, name="statement"),
]
