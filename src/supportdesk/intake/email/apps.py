from django.apps import AppConfig


class EmailIntakeConfig(AppConfig):
    name = "supportdesk.intake.email"
    label = "email_intake"
    verbose_name = "email intake"
    default_auto_field = "django.db.models.BigAutoField"
