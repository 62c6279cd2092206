from django.http import HttpResponse


def ticket_list(request):  # placeholder, replaced in the portal step
    return HttpResponse("portal")


new_ticket = ticket_detail = reply = attachment = ticket_list
