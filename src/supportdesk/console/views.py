from django.http import HttpResponse


def queue(request):  # placeholder, replaced in the console step
    return HttpResponse("console")


policy = log_call = accounts = specialists = queue
