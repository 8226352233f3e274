"""Prepared statements for the few hand-written reads that run on every request (PostgreSQL).

Planning the dashboard's join cost PostgreSQL more than running it. psycopg can prepare a statement on a
connection, and PostgreSQL then plans it once per connection instead of on every request. Django's own
queries stay as Django runs them (client-side binding, never prepared): with server-side binding on,
Django 5.2 sends an integer expression value such as the delta in ``F("balance_kopecks") + delta`` as a
4-byte integer, silently wrapping a delta above 2^31 kopecks (found by ``kabinet ledger verify`` in the
billing benchmark). So only the statements read through ``hot_cursor`` are prepared: their parameters are
plain Python values that psycopg types by value itself.

A statement is prepared once a connection has run it ``DATABASE_PREPARE_THRESHOLD`` times (psycopg's
``prepare_threshold``, set in ``DATABASES["default"]["OPTIONS"]``; none: never prepared, as behind a
transaction-mode connection pooler). The cursor is Django's wrapper around psycopg's (error mapping,
execute wrappers); where Django logs queries (DEBUG, query-count tests) it is Django's own cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections


@contextmanager
def hot_cursor(alias: str = "default") -> Iterator[Any]:
    """A cursor whose statements psycopg may prepare (PostgreSQL); any other database: Django's cursor."""
    connection = connections[alias]
    if connection.vendor != "postgresql" or connection.queries_logged:
        # Where queries are logged (DEBUG, query-count tests, the benchmark's capture), Django's own
        # cursor: it records each statement with its parameters filled in.
        with connection.cursor() as cursor:
            yield cursor
        return
    import psycopg

    connection.close_if_health_check_failed()  # as Django does before each cursor
    connection.ensure_connection()
    django_connection: Any = connection  # private attributes are not in the type stubs
    raw = getattr(django_connection, "_kabinet_hot_cursor", None)
    if raw is None or raw.closed or raw.connection is not connection.connection:
        # One cursor per connection, kept open: psycopg caches the dumpers and loaders it picked for each
        # parameter and column type in its cursor; looking them up anew for every statement was the
        # largest single item of the notification endpoint's CPU profile (psycopg's get_dumper, 7% of it,
        # 2026-11-26). Each execute() discards the previous result.
        with connection.wrap_database_errors:
            raw = psycopg.Cursor(connection.connection)  # server-side binding: preparable
        django_connection._kabinet_hot_cursor = raw
    yield django_connection._prepare_cursor(raw)  # error mapping, debug capture, execute wrappers
