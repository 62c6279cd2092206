from django.urls import path

from supportdesk.portal import team, views

app_name = "portal"

urlpatterns = [
    path("", views.ticket_list, name="tickets"),
    path("new/", views.new_ticket, name="new_ticket"),
    path("tickets/<int:number>/", views.ticket_detail, name="ticket"),
    path("tickets/<int:number>/reply/", views.reply, name="reply"),
    path("team/", team.team_page, name="team"),
]
