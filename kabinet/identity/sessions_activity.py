"""Session activity for the "active sessions" list, without a write on every request.

allauth's UserSessionsMiddleware updates the UserSession row (a SELECT, a second user SELECT and an
UPDATE) on every authenticated request. Here the row is refreshed at most every
``USERSESSIONS_ACTIVITY_INTERVAL_S`` seconds, or at once when the client's IP or browser changes;
the row itself is created at login by allauth's own login hook.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from allauth.usersessions import app_settings
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.http import HttpRequest, HttpResponse

SESSION_KEY = "_kabinet_activity"


class ThrottledUserSessionsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            app_settings.TRACK_ACTIVITY
            and hasattr(request, "session")
            and request.session.session_key
            and hasattr(request, "user")
            and request.user.is_authenticated
        ):
            client = request.META.get("REMOTE_ADDR", "") + "|" + request.META.get("HTTP_USER_AGENT", "")
            fingerprint = hashlib.sha256(client.encode()).hexdigest()[:16]
            seen = request.session.get(SESSION_KEY) or [0, ""]
            interval = getattr(settings, "USERSESSIONS_ACTIVITY_INTERVAL_S", 300)
            now = int(time.time())
            if now - int(seen[0]) >= interval or seen[1] != fingerprint:
                UserSession.objects.create_from_request(request)
                request.session[SESSION_KEY] = [now, fingerprint]
        return self.get_response(request)
