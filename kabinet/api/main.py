"""The business JSON API /api/v1/. One router module per domain; one error format for every endpoint."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from kabinet.core.exceptions import DomainError

api = NinjaAPI(
    title="Kabinet API",
    version="1",
    description="Subscriber API of the Kabinet personal cabinet. Authenticate with an allauth headless "
    "session token (header X-Session-Token) from /_allauth/app/v1/auth/login, or a browser session.",
    urls_namespace="api",
)


def error_body(code: str, message: str, *, field: str | None = None, details: object = None) -> dict:
    body: dict = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    if details is not None:
        body["error"]["details"] = details
    return body


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, error_body(exc.code, exc.message, field=exc.field), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(
        request, error_body("validation_error", "Проверьте данные запроса.", details=exc.errors), status=422
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, error_body("unauthorized", "Войдите в личный кабинет."), status=401)


@api.get("/health", tags=["meta"])
def health(request: HttpRequest) -> dict:
    return {"status": "ok"}


from kabinet.api import me  # noqa: E402

api.add_router("/me", me.router)

from kabinet.api import accounts  # noqa: E402

api.add_router("/accounts", accounts.router)

from kabinet.api import payments  # noqa: E402

api.add_router("/payments", payments.router)

from kabinet.api import portal  # noqa: E402

api.add_router("/cabinet", portal.router)

from kabinet.api import bonus  # noqa: E402

api.add_router("/bonus", bonus.router)

from kabinet.api import profile  # noqa: E402

api.add_router("/profile", profile.router)
