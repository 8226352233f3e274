"""Russian first: the browser's Accept-Language does not pick the interface language.

The operator's subscribers read Russian; many browsers and phones in the region are set to English.
The interface is Russian until a person chooses Tatar or English with the switcher (a cookie, and
for a logged-in subscriber ``User.language``, see kabinet.identity.middleware).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


class RussianFirstMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
