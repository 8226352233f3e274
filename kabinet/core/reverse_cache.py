"""URL reversing for hot pages, memoised per process.

``django.urls.reverse`` costs 50-100 µs here (thread-local lookups of the language, urlconf and script
prefix on every call); the dashboard needs several links per personal account on every view. URLs do not
depend on the language in this project (no ``i18n_patterns``), so a name reverses to the same path for a
given script prefix: reverse it once, and for routes with one integer argument substitute the id into a
path reversed with a sentinel.
"""

from __future__ import annotations

from functools import cache

from django.urls import NoReverseMatch, get_script_prefix, reverse

# An id no route will ever be given; its digits must not occur elsewhere in a reversed path.
_SENTINEL = 987654321987


@cache
def _reversed(name: str, prefix: str, with_id: bool) -> str:
    try:
        return reverse(name, args=[_SENTINEL]) if with_id else reverse(name)
    except NoReverseMatch:
        return ""


def reverse_memo(name: str) -> str:
    """``reverse(name)`` for a route without arguments; "" when there is no such route."""
    return _reversed(name, get_script_prefix(), False)


def reverse_with_id(name: str, object_id: int) -> str:
    """``reverse(name, args=[object_id])`` for a route with one integer argument."""
    path = _reversed(name, get_script_prefix(), True)
    if not path:
        raise NoReverseMatch(f"Reverse for {name!r} with one argument not found.")
    return path.replace(str(_SENTINEL), str(int(object_id)))
