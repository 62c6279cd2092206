"""URLs for the django-helpdesk peer: the acknowledgement mails link to the ticket."""

from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
