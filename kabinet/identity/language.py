"""The language switcher, remembered per user (``POST /language/``).

Django's own ``/i18n/setlang/`` only sets a cookie. This view also keeps the choice in the session and,
for a logged-in subscriber, in ``User.language``, so the cabinet comes up in that language on any device
after login (``kabinet.identity.middleware.UserLanguageMiddleware`` applies it).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kabinet.identity.models import User

SESSION_KEY = "kabinet_language"


def language_codes() -> set[str]:
    return {code for code, _name in settings.LANGUAGES}


def user_language_set(*, user: User, language: str) -> None:
    """Remember a subscriber's interface language (one of settings.LANGUAGES)."""
    if language not in language_codes():
        raise ValueError(f"unknown language {language!r}")
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def _safe_next(request: HttpRequest) -> str:
    for candidate in (request.POST.get("next"), request.headers.get("referer")):
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
    return "/"


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in language_codes():
        return HttpResponseBadRequest("Неизвестный язык", content_type="text/plain; charset=utf-8")
    response = HttpResponseRedirect(_safe_next(request))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    request.session[SESSION_KEY] = language
    user = request.user
    if user.is_authenticated and isinstance(user, User):
        user_language_set(user=user, language=language)
    translation.activate(language)
    return response
