"""Profile and cabinet security pages: the profile, the data download, switching the cabinet off.

Two-factor, passkeys, social links and sessions are allauth's pages (mfa, socialaccount,
usersessions) with our templates; the profile links to them.
"""

from __future__ import annotations

import json

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers import registry
from allauth.usersessions.models import UserSession
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kabinet.core.exceptions import DomainError
from kabinet.identity.deactivation import (
    REASON_SELF,
    deactivation_code_send,
    deactivation_confirm,
    deactivation_confirm_method,
    user_deactivate,
    user_sessions_end,
)
from kabinet.identity.exporters import user_data_export
from kabinet.identity.models import User


def _client_ip(request: HttpRequest) -> str | None:
    try:
        return get_account_adapter(request).get_client_ip(request)
    except Exception:
        return request.META.get("REMOTE_ADDR")


def _provider_name(provider_id: str) -> str:
    provider_class = registry.get_class(provider_id)
    return str(provider_class.name) if provider_class else provider_id


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    authenticators = Authenticator.objects.filter(user=user)
    context = {
        "profile_user": user,
        "customer": user.customer,
        "totp_active": authenticators.filter(type=Authenticator.Type.TOTP).exists(),
        "passkey_count": authenticators.filter(type=Authenticator.Type.WEBAUTHN).count(),
        "social_networks": [
            _provider_name(a.provider) for a in SocialAccount.objects.filter(user=user).order_by("provider")
        ],
        "session_count": UserSession.objects.filter(user=user).count(),
        "has_password": user.has_usable_password(),
    }
    return render(request, "identity/profile.html", context)


@login_required
def data_export(request: HttpRequest) -> HttpResponse:
    data = user_data_export(user=request.user)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="letai-kabinet-data-{stamp}.json"'
    return response


class DeactivateForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Пароль"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label=gettext_lazy("Код из SMS"),
        required=False,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("Я понимаю, что войти в личный кабинет больше не получится"), required=True
    )


@login_required
def deactivate(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    method = deactivation_confirm_method(user=user)
    form = DeactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            deactivation_confirm(
                user=user, password=form.cleaned_data["password"], code=form.cleaned_data["code"]
            )
            user_deactivate(user=user, actor=user, reason=REASON_SELF, ip=_client_ip(request))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            logout(request)
            return redirect("identity:deactivated")
    return render(request, "identity/deactivate.html", {"form": form, "method": method})


@login_required
@require_POST
def deactivate_code(request: HttpRequest) -> HttpResponse:
    try:
        deactivation_code_send(user=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Код отправлен по SMS на ваш номер."))
    return redirect("identity:deactivate")


def deactivated(request: HttpRequest) -> HttpResponse:
    return render(request, "identity/deactivated.html")


@login_required
@require_POST
def sessions_end_all(request: HttpRequest) -> HttpResponse:
    """Sign out everywhere: every session of the user ends, this one included."""
    user_sessions_end(user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.success(request, _("Вы вышли из личного кабинета на всех устройствах."))
    return redirect("account_login")
