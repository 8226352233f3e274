"""Recent authentication before sensitive changes (phone, email, social links, password set, 2FA).

A session counts as fresh for ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds (10 minutes) after its
last authentication: the login itself (every login path ends in ``AccountAdapter.login``, which
records one) or a reauthentication (allauth's password / 2FA pages, the app's
``/_allauth/app/v1/auth/reauthenticate``, or our SMS code page for subscribers without a password).
The times are allauth's authentication records in the session, so one rule serves the pages, the
app's session tokens and allauth's own guarded views (through ``AccountAdapter``).

A stale page request is suspended with allauth's machinery (a POST is kept in the session and
replayed after the reauthentication); a stale API request is refused with ``ReauthenticationRequired``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.internal.flows.login import (
    _AUTHENTICATION_METHODS_USER_SESSION_KEY,
    AUTHENTICATION_METHODS_SESSION_KEY,
    record_authentication,
)
from allauth.account.internal.flows.reauthentication import suspend_request
from allauth.account.internal.userkit import user_id_to_str
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from kabinet.core.exceptions import DomainError
from kabinet.identity.models import User

METHOD_LOGIN = "login"  # recorded by AccountAdapter.login at the end of every login path
METHOD_SMS = "sms_code"  # our SMS reauthentication (subscribers without a password)


class ReauthenticationRequired(DomainError):
    code = "reauthentication_required"
    status = 403


def last_authenticated_at(*, session: SessionBase | None, user: Any) -> float | None:
    """When ``user`` last logged in or reauthenticated in this session (Unix time), if recorded."""
    if session is None or user is None or not user.is_authenticated:
        return None
    if session.get(_AUTHENTICATION_METHODS_USER_SESSION_KEY) != user_id_to_str(user):
        return None
    records = session.get(AUTHENTICATION_METHODS_SESSION_KEY)
    if not isinstance(records, list):
        return None
    times = [r["at"] for r in records if isinstance(r, dict) and isinstance(r.get("at"), int | float)]
    return max(times, default=None)


def recently_authenticated(*, session: SessionBase | None, user: Any) -> bool:
    at = last_authenticated_at(session=session, user=user)
    return at is not None and time.time() - at < settings.ACCOUNT_REAUTHENTICATION_TIMEOUT


def authentication_record_login(request: HttpRequest, user: User) -> None:
    """Note the moment a login completed (any path: password, code, social, SMS, signup)."""
    record_authentication(request, user, method=METHOD_LOGIN)


def authentication_record_sms(request: HttpRequest, user: User) -> None:
    record_authentication(request, user, method=METHOD_SMS, reauthenticated=True)


def sms_reauthentication_available(user: Any) -> bool:
    """Subscribers without a password (e.g. registered by USSD) confirm with a code to their phone."""
    return bool(
        user.is_authenticated and not user.has_usable_password() and user.phone and user.phone_verified
    )


def recent_authentication_check(*, session: SessionBase | None, user: User) -> None:
    """For the API: refuse a stale session with one Russian message (the app then reauthenticates)."""
    if not recently_authenticated(session=session, user=user):
        raise ReauthenticationRequired(
            _("Для этого действия подтвердите, что это вы: введите пароль ещё раз или войдите заново.")
        )


def recent_authentication_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Page decorator: a stale session goes to the first reauthentication method and comes back.

    Put it under ``login_required``. A subscriber with no way to reauthenticate (no password, phone
    or second factor) is let through, as allauth does for its own pages.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if user.is_authenticated and not recently_authenticated(session=request.session, user=user):
            methods = get_adapter(request).get_reauthentication_methods(user)
            if methods:
                return suspend_request(request, methods[0]["url"])
        return view(request, *args, **kwargs)

    return wrapper
