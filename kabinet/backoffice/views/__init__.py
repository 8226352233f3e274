"""Back-office views: login/logout and the home page here; each domain adds its own module
(``views/identity.py``, ``views/billing.py``, ...) and its urls in ``kabinet/backoffice/urls.py``.

Every page except the login is wrapped in ``kabinet.backoffice.access.staff_required``.
"""

from __future__ import annotations

from allauth.account import app_settings as account_settings
from allauth.account.forms import LoginForm
from allauth.utils import get_form_class
from django.contrib.auth import logout as django_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kabinet.backoffice.access import staff_required


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/backoffice/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return reverse("backoffice:home")


def login(request: HttpRequest) -> HttpResponse:
    """Staff login, separate from the subscribers' one: subscribers are refused, staff then pass
    allauth's second-factor step (TOTP) when they have it, or are sent to set it up."""
    if request.user.is_authenticated and request.user.is_staff:
        return redirect(_safe_next(request))
    form_class = get_form_class(account_settings.FORMS, "login", LoginForm)
    form = form_class(request.POST or None, request=request)
    refusal = ""
    if request.method == "POST" and form.is_valid():
        user = form.user
        if user is None or not user.is_staff:
            # Correct credentials of a subscriber: not logged in here, told where to go.
            refusal = _("Вход в бэк-офис только для сотрудников оператора. Абоненты входят в личный кабинет.")
            form = form_class(None, request=request)
        else:
            return form.login(request, redirect_url=_safe_next(request))
    return render(
        request,
        "backoffice/login.html",
        {"form": form, "next": _safe_next(request), "refusal": refusal},
        status=403 if refusal else 200,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    django_logout(request)
    return redirect("backoffice:login")


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/home.html")
