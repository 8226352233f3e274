from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Apply the language remembered for a logged-in user before LocaleMiddleware decides.

    Runs before AuthenticationMiddleware, so it reads the user lazily through the session only when
    no explicit language cookie is present.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            lang = request.session.get("kabinet_language") if hasattr(request, "session") else None
            if lang:
                translation.activate(lang)
                request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = lang
        return self.get_response(request)
