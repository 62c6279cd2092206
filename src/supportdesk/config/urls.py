from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from supportdesk.sla.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("metrics", metrics_view, name="metrics"),
    path("portal/sla/", include("supportdesk.sla.portal_urls")),
    path("portal/", include("supportdesk.portal.urls")),
    path("console/", include("supportdesk.sla.urls")),
    path("console/", include("supportdesk.console.urls")),
    path("", include("supportdesk.web.urls")),
]
