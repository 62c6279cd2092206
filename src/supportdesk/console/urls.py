from django.urls import path

from supportdesk.console import views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("policy/", views.policy, name="policy"),
    path("hotline/", views.log_call, name="log_call"),
    path("accounts/", views.accounts, name="accounts"),
    path("specialists/", views.specialists, name="specialists"),
]
