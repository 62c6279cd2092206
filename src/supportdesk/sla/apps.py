from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "supportdesk.sla"
    label = "sla"
    verbose_name = "SLA runtime"

    def ready(self) -> None:
        from supportdesk.sla import checks  # noqa: F401  (registers the system checks)
