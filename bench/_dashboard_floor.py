"""The WSGI application served by the dashboard benchmark (``bench/dashboard.py``).

It is the project (``config.wsgi``) with two extra endpoints, so everything runs in the same server
process, with the same threads and the same database:

- ``/bench-floor/``: the *floor* the issue defines, "a bare view that runs the same SQL statements
  through psycopg and returns the rows as JSON, with no ORM and no template". It is a plain Django view
  (no decorators) behind the project's own middleware, so the session, the authentication middleware's
  user query and the rest of the request cycle cost it what they cost the dashboard; then, on a
  persistent per-thread psycopg connection, it replays the statements the dashboard *view* ran for that
  session (captured by the benchmark beforehand; the statements the middleware already ran are left
  out) and returns their rows as JSON.
- ``/bench-floor-raw/``: the same replay with no Django at all (a bare WSGI callable that also replays
  the middleware's user query): what the database and the server alone can do, reported for reference.

Environment: ``DATABASE_URL`` (the bench database) and ``BENCH_FLOOR_SQL`` (the JSON file of captured
statements, ``{"view": {session_key: [sql, ...]}, "all": {session_key: [sql, ...]}}``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from config.wsgi import application as django_application

RAW_PREFIX = "/bench-floor-raw/"
_local = threading.local()
_statements: dict[str, dict[str, list[str]]] = {}
_lock = threading.Lock()


def _connection() -> Any:
    import psycopg

    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        _local.conn = conn
    return conn


def _statements_for(session_key: str, which: str) -> list[str] | None:
    if not _statements:
        with _lock:
            if not _statements and os.path.exists(os.environ.get("BENCH_FLOOR_SQL", "")):
                with open(os.environ["BENCH_FLOOR_SQL"], encoding="utf-8") as fh:
                    _statements.update(json.load(fh))
    return _statements.get(which, {}).get(session_key)


def _replay(statements: list[str]) -> bytes:
    results = []
    with _connection().cursor() as cursor:
        for sql in statements:
            cursor.execute(sql.encode())
            results.append(cursor.fetchall() if cursor.description is not None else cursor.rowcount)
    return json.dumps({"statements": len(statements), "results": results}, default=str).encode()


def floor_view(request: HttpRequest) -> HttpResponse:
    """The floor. ``?replay=0`` runs no statements: the benchmark uses it once to see which statements
    the middleware runs by itself."""
    if request.GET.get("replay") == "0":
        return HttpResponse(_replay([]), content_type="application/json")
    statements = _statements_for(request.COOKIES.get(settings.SESSION_COOKIE_NAME, ""), "view")
    if statements is None:
        return HttpResponse(b"unknown session", status=403, content_type="text/plain")
    return HttpResponse(_replay(statements), content_type="application/json")


# Served as ROOT_URLCONF by this application: the project's URLs plus the floor.
urlpatterns = [path("bench-floor/", floor_view), path("", include("config.urls"))]
settings.ROOT_URLCONF = __name__


def raw_floor(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    cookie: SimpleCookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    morsel = cookie.get("sessionid")
    statements = _statements_for(morsel.value, "all") if morsel is not None else None
    if statements is None:
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"unknown session"]
    body = _replay(statements)
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(RAW_PREFIX):
        return raw_floor(environ, start_response)
    return django_application(environ, start_response)
