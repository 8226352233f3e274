from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language_info

from kabinet.core.reverse_cache import reverse_memo

# Links of the page shell (header and footer), reversed once per process: every page renders them.
_SHELL_ROUTES = {
    "home": "portal:home",
    "dashboard": "portal:dashboard",
    "profile": "identity:profile",
    "login": "account_login",
    "logout": "account_logout",
    "signup": "account_signup",
    "language_set": "identity:language_set",
    "dev_outbox": "notifications:dev_outbox",
}


@cache
def _languages() -> tuple[tuple[str, str], ...]:
    """(code, name in that language) for the switcher."""
    return tuple((code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES)


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "OPERATOR": settings.OPERATOR,
        "DEV_OUTBOX": settings.DEV_OUTBOX,
        "SHELL_URLS": {key: reverse_memo(name) for key, name in _SHELL_ROUTES.items()},
        "SHELL_LANGUAGES": _languages(),
    }
