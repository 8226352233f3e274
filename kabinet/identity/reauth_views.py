"""Reauthentication by an SMS code for subscribers without a password (allauth asks for a password or a
second factor only). Listed among allauth's methods by ``AccountAdapter.get_reauthentication_methods``;
success records a reauthentication and resumes the suspended request (allauth's flow)."""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.reauthentication import resume_request
from allauth.account.utils import get_next_redirect_url
from allauth.core import ratelimit
from django import forms
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kabinet.core.exceptions import DomainError
from kabinet.core.phones import format_phone
from kabinet.identity.deactivation import user_sms_code_check, user_sms_code_send
from kabinet.identity.forms import AccessibleFormMixin
from kabinet.identity.models import User
from kabinet.identity.reauth import authentication_record_sms, sms_reauthentication_available

PURPOSE = "reauthenticate"


class ReauthCodeForm(AccessibleFormMixin, forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Код из SMS"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


@login_required
def reauthenticate_sms(request: HttpRequest) -> HttpResponseBase:
    user: User = request.user  # type: ignore[assignment]
    next_url = get_next_redirect_url(request, REDIRECT_FIELD_NAME) or ""
    if not sms_reauthentication_available(user):
        methods = get_adapter(request).get_reauthentication_methods(user)
        target = methods[0]["url"] if methods else "identity:profile"
        if methods and next_url:
            target = f"{target}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
        return redirect(target)
    action = request.POST.get("action") if request.method == "POST" else None
    form = ReauthCodeForm(request.POST if action == "verify" else None)
    if action == "send":
        try:
            user_sms_code_send(
                user=user, purpose=PURPOSE, text=_("Летай: код для подтверждения входа %(code)s.")
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Код отправлен по SMS на ваш номер."))
    elif action == "verify" and form.is_valid():
        if not ratelimit.consume(request, action="kabinet_phone_code_verify"):
            form.add_error("code", _("Слишком много запросов. Попробуйте через несколько минут."))
        else:
            try:
                user_sms_code_check(user=user, purpose=PURPOSE, code=form.cleaned_data["code"])
            except DomainError as exc:
                form.add_error("code", exc.message)
            else:
                authentication_record_sms(request, user)
                response = resume_request(request)
                return response or redirect("identity:profile")
    context = {"form": form, "phone": format_phone(user.phone or ""), "next_url": next_url}
    return render(request, "identity/reauthenticate_sms.html", context, status=400 if form.errors else 200)
