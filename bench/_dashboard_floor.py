"""The WSGI application served by the dashboard benchmark (``bench/dashboard.py``).

Requests under ``/bench-floor/`` go to the *floor*: for the logged-in session named by the ``sessionid``
cookie it runs, through psycopg on a persistent per-thread connection, the very SQL statements Django ran
for that session's dashboard (captured by the benchmark beforehand) and returns their rows as JSON: no ORM,
no template, no middleware. Everything else goes to Django (``config.wsgi.application``), so both run in
the same server process, with the same threads and the same database.

Environment: ``DATABASE_URL`` (the bench database) and ``BENCH_FLOOR_SQL`` (the JSON file of captured
statements, ``{session_key: [sql, ...]}``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any

from config.wsgi import application as django_application

PREFIX = "/bench-floor/"
_local = threading.local()
_statements: dict[str, list[str]] = {}
_lock = threading.Lock()


def _connection() -> Any:
    import psycopg

    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)
        _local.conn = conn
    return conn


def _statements_for(session_key: str) -> list[str] | None:
    if not _statements:
        with _lock:
            if not _statements:
                with open(os.environ["BENCH_FLOOR_SQL"], encoding="utf-8") as fh:
                    _statements.update(json.load(fh))
    return _statements.get(session_key)


def floor(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    cookie: SimpleCookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    morsel = cookie.get("sessionid")
    statements = _statements_for(morsel.value) if morsel is not None else None
    if statements is None:
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"unknown session"]
    results = []
    with _connection().cursor() as cursor:
        for sql in statements:
            cursor.execute(sql.encode())
            results.append(cursor.fetchall() if cursor.description is not None else cursor.rowcount)
    body = json.dumps({"statements": len(statements), "results": results}, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(PREFIX):
        return floor(environ, start_response)
    return django_application(environ, start_response)
