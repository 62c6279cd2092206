from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "supportdesk.outbound"
    label = "outbound"
    verbose_name = "Outgoing mail"
