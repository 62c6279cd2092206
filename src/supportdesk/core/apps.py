from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "supportdesk.core"
    label = "core"
    verbose_name = "supportdesk"

    def ready(self) -> None:
        # connects the reset of the cached active policy to setting changes (tests)
        from supportdesk.core import policy_source  # noqa: F401
