from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The Desk Portal: pages for customers' contacts."""

    name = "supportdesk.portal"
    label = "portal"
    verbose_name = "Desk Portal"
