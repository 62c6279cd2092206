from django.urls import path

from supportdesk.console import admin_views, mail_views, team_views, views

app_name = "console"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("tickets/<int:number>/", views.ticket, name="ticket"),
    path("tickets/<int:number>/reply/", views.reply, name="reply"),
    path("tickets/<int:number>/note/", views.note, name="note"),
    path("tickets/<int:number>/severity/", views.severity, name="severity"),
    path("tickets/<int:number>/assign/", views.assign, name="assign"),
    path("tickets/<int:number>/status/", views.status, name="status"),
    path("tickets/<int:number>/move/", views.move, name="move"),
    path("hotline/", views.log_call, name="log_call"),
    path("policy/", views.policy, name="policy"),
    path("mail/", mail_views.mail_list, name="mail_list"),
    path("mail/<int:mail_id>/", mail_views.mail_detail, name="mail"),
    path("mail/<int:mail_id>/original.eml", mail_views.mail_original, name="mail_original"),
    path("mail/<int:mail_id>/process-again/", mail_views.mail_process_again, name="mail_process_again"),
    path("accounts/", admin_views.accounts, name="accounts"),
    path("accounts/new/", admin_views.account_new, name="account_new"),
    path("accounts/<slug:slug>/", admin_views.account_detail, name="account"),
    path("accounts/<slug:slug>/domains/", admin_views.domain_add, name="domain_add"),
    path("accounts/<slug:slug>/domains/remove/", admin_views.domain_remove, name="domain_remove"),
    path("accounts/<slug:slug>/contacts/", admin_views.contact_add, name="contact_add"),
    path("accounts/<slug:slug>/contacts/<int:contact_id>/", admin_views.contact_edit, name="contact_edit"),
    path("accounts/<slug:slug>/subscriptions/", admin_views.subscription_add, name="subscription_add"),
    path("accounts/<slug:slug>/manager/", admin_views.account_edit, name="account_edit"),
    path("accounts/<slug:slug>/team/", team_views.team_page, name="team"),
    path("specialists/", admin_views.specialists, name="specialists"),
]
