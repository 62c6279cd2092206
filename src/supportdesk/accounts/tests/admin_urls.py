"""Only the Django admin: admin tests don't depend on the rest of the site's URLs."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
