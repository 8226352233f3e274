"""The subscriber's remembered language.

Order in ``settings.MIDDLEWARE``::

    SessionMiddleware -> LocaleMiddleware -> CommonMiddleware -> CsrfViewMiddleware
    -> AuthenticationMiddleware -> UserLanguageMiddleware -> ...

``LocaleMiddleware`` must sit between the session and common middleware, before the user is known, so it
picks the language from the cookie (or ``Accept-Language``). ``UserLanguageMiddleware`` runs right after
``AuthenticationMiddleware`` and corrects that choice:

- a logged-in subscriber with a remembered ``User.language`` gets that language, whatever the cookie
  says (the cookie may be left over from another person on a shared browser, or from before login);
  the switcher (``POST /language/``, ``kabinet.identity.language``) updates the cookie and
  ``User.language`` together, so they only disagree right after login, and the response then
  rewrites the cookie so the language stays after logout;
- a subscriber with no remembered language who used the switcher before logging in (the choice is in
  the session, which survives login) gets that choice remembered on the account;
- anyone else without a language cookie gets the language stored in the session by the switcher.

It activates the language and sets ``request.LANGUAGE_CODE``; ``LocaleMiddleware.process_response``
runs later on the way out and sends ``Content-Language`` for the language active then.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from kabinet.identity.language import SESSION_KEY, language_codes, user_language_set
from kabinet.identity.models import User


class UserLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        remembered = ""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            remembered = getattr(user, "language", "") or ""
            chosen = request.session.get(SESSION_KEY, "") if hasattr(request, "session") else ""
            if not remembered and chosen in language_codes() and isinstance(user, User):
                # Chosen with the switcher before logging in: from now on it is this subscriber's language.
                user_language_set(user=user, language=chosen)
                remembered = chosen
        if not remembered and not cookie and hasattr(request, "session"):
            remembered = request.session.get(SESSION_KEY, "") or ""
        if remembered not in language_codes():
            remembered = ""
        if remembered and remembered != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(remembered)
            request.LANGUAGE_CODE = remembered
        response = self.get_response(request)
        if remembered and cookie != remembered and user is not None and user.is_authenticated:
            # Keep the cookie in step with the subscriber's choice (unless the view just set it).
            if settings.LANGUAGE_COOKIE_NAME not in response.cookies:
                response.set_cookie(
                    settings.LANGUAGE_COOKIE_NAME,
                    remembered,
                    max_age=settings.LANGUAGE_COOKIE_AGE,
                    path=settings.LANGUAGE_COOKIE_PATH,
                    domain=settings.LANGUAGE_COOKIE_DOMAIN,
                    secure=settings.LANGUAGE_COOKIE_SECURE,
                    httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                    samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                )
        return response
