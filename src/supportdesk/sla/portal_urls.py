"""Portal URL of the SLA statement: /portal/sla/ and /portal/sla/<YYYY-MM>/."""

from django.urls import path

from supportdesk.sla import portal_views

app_name = "sla_portal"

urlpatterns = [
    path("", portal_views.statement, name="statement"),
    path("<str:period>/", portal_views.statement, name="statement_period"),
]
