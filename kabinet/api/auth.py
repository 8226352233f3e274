"""Authentication of /api/v1 operations, shared by every router.

``SUBSCRIBER_AUTH`` accepts either an allauth headless session token (header ``X-Session-Token``,
obtained from ``POST /_allauth/app/v1/auth/login``; the mobile app) or the browser's Django session
(CSRF-checked for unsafe methods). Either way the logged-in ``User`` is in ``request.auth``; a
deactivated user's token or session no longer authenticates (auth backends refuse inactive users)::

    from kabinet.api.auth import SUBSCRIBER_AUTH, request_user

    router = Router(tags=["billing"], auth=SUBSCRIBER_AUTH)

    @router.get("/accounts")
    def accounts(request):
        return billing_selectors.accounts_for_user(user=request_user(request))
"""

from __future__ import annotations

from typing import Any

from allauth.headless.contrib.ninja.security import x_session_token_auth
from django.http import HttpRequest
from ninja.security import SessionAuth

from kabinet.identity.models import User


class ActiveSessionAuth(SessionAuth):
    """Django session auth that returns the user (not a flag) and only for active users."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return user
        return None


session_auth = ActiveSessionAuth()

SUBSCRIBER_AUTH: list[Any] = [x_session_token_auth, session_auth]


def request_user(request: HttpRequest) -> User:
    """The authenticated user of an operation protected by SUBSCRIBER_AUTH."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user
