from django.urls import path

from supportdesk.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.signin, name="signin"),
    path("signout/", views.signout, name="signout"),
    path("preferences/", views.preferences, name="preferences"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("invitation/<uidb64>/<token>/", views.invitation, name="invitation"),
    path("attachments/<int:attachment_id>/<str:name>", views.attachment, name="attachment"),
    path("password/done/", views.password_reset_complete, name="password_reset_complete"),
]
