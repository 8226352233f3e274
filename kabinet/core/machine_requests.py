"""Machine-to-machine requests (an acquirer's notifications, the sandbox acquirer's API) skip the
browser's middleware.

They carry no cookies and no language, answer JSON, and are exempt from CSRF: sessions, CSRF, locale,
authentication, messages, htmx and allauth's middleware only cost them time (about a fifth of a
sandbox API call's CPU). ``settings.MACHINE_PATH_PREFIXES`` names them; everything else goes through
the full ``settings.MIDDLEWARE`` as before. Django's test client always uses the full stack, so each
view must also work there (they do: they read nothing the browser middleware adds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.module_loading import import_string


class OperatorLanguageMiddleware:
    """Machine requests run in the operator's language (settings.LANGUAGE_CODE). A server thread keeps
    the language the last browser request activated; texts a notification stores (a cancellation
    reason) must not depend on which thread it lands on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with translation.override(settings.LANGUAGE_CODE):
            return self.get_response(request)


class MachineRequestsHandler(WSGIHandler):
    """Django's WSGI handler with ``settings.MACHINE_MIDDLEWARE`` (plain callable middleware) only."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Callable[..., Any]] = []
        self._template_response_middleware: list[Callable[..., Any]] = []
        self._exception_middleware: list[Callable[..., Any]] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for middleware_path in reversed(settings.MACHINE_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(middleware_path)(handler))
        self._middleware_chain = handler


class MachineRequestsDispatch:
    """The project's WSGI application: machine paths to the lean handler, the rest to the full one."""

    def __init__(self, full: WSGIHandler, lean: WSGIHandler, prefixes: Iterable[str]) -> None:
        self.full = full
        self.lean = lean
        self.prefixes = tuple(prefixes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        handler = self.lean if environ.get("PATH_INFO", "").startswith(self.prefixes) else self.full
        return handler(environ, start_response)
