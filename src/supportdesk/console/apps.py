from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The agent console: pages for specialists and supervisors."""

    name = "supportdesk.console"
    label = "console"
    verbose_name = "agent console"
