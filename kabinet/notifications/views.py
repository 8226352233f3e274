from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from kabinet.notifications.selectors import outbox_list


def dev_outbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEV_OUTBOX:
        raise Http404
    return render(request, "notifications/outbox.html", {"messages_list": outbox_list(last=200)})
