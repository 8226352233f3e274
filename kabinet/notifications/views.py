from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.notifications.selectors import outbox_list
from kabinet.notifications.services import notification_preferences_get, notification_preferences_update


def dev_outbox(request: HttpRequest) -> HttpResponse:
    if not settings.DEV_OUTBOX:
        raise Http404
    return render(request, "notifications/outbox.html", {"messages_list": outbox_list(last=200)})


class NotificationPreferencesForm(forms.Form):
    news_opt_in = forms.BooleanField(
        label=gettext_lazy("Новости и сообщения о технических работах"), required=False
    )
    offers_opt_in = forms.BooleanField(label=gettext_lazy("Специальные предложения и акции"), required=False)
    channel_email = forms.BooleanField(label=gettext_lazy("Электронная почта"), required=False)
    channel_sms = forms.BooleanField(label=gettext_lazy("SMS"), required=False)
    channel_push = forms.BooleanField(label=gettext_lazy("Push-уведомления в приложении"), required=False)

    TOPICS = ("news_opt_in", "offers_opt_in")
    CHANNELS = ("channel_email", "channel_sms", "channel_push")


@login_required
def notification_preferences(request: HttpRequest) -> HttpResponse:
    """/profile/notifications/: news and offers opt-in, delivery channels."""
    prefs = notification_preferences_get(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, initial=prefs.as_dict())
    if request.method == "POST" and form.is_valid():
        notification_preferences_update(user=request.user, **form.cleaned_data)
        messages.success(request, _("Настройки уведомлений сохранены."))
        return redirect("notifications:preferences")
    context = {
        "form": form,
        "topics": [form[name] for name in form.TOPICS],
        "channels": [form[name] for name in form.CHANNELS],
    }
    return render(request, "notifications/preferences.html", context)
