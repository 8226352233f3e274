"""Who may open back-office pages: staff only, and only with two-factor authentication set up.

Every back-office view is wrapped in ``staff_required``::

    from kabinet.backoffice.access import staff_required

    @staff_required
    def payments_registry(request): ...

- not logged in: redirected to the back-office login (``/backoffice/login/?next=...``);
- a subscriber (not ``is_staff``): 403 with a clear message, the view never runs;
- staff without a TOTP authenticator: sent to set it up (allauth's ``mfa_activate_totp``) first.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kabinet.identity.security_selectors import user_has_totp

View = Callable[..., HttpResponse]


def staff_refusal(request: HttpRequest) -> HttpResponse:
    return render(request, "backoffice/forbidden.html", status=403)


def staff_required(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('backoffice:login')}?{urlencode({'next': request.get_full_path()})}")
        if not user.is_staff or not user.is_active:
            return staff_refusal(request)
        if not user_has_totp(user=user):  # type: ignore[arg-type]
            messages.warning(
                request,
                _(
                    "Для работы в бэк-офисе включите двухфакторную аутентификацию: отсканируйте QR-код "
                    "приложением-аутентификатором и введите шестизначный код. Затем вернитесь в бэк-офис."
                ),
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
