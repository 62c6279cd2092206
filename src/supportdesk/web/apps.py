from django.apps import AppConfig


class WebConfig(AppConfig):
    """Shared layout, static files and the cross-cutting web pieces (sign-in, CSP, zones)."""

    name = "supportdesk.web"
    label = "web"
    verbose_name = "web"
