"""The PostgreSQL backend's health check (kabinet.core.postgresql): no round trip for a healthy idle
connection, and a connection the server closed is found unusable and replaced."""

from __future__ import annotations

import time
from typing import Any

import psycopg
import pytest
from django.db import connection, connections

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")


def _admin_url() -> str:
    params = connection.get_connection_params()
    return psycopg.conninfo.make_conninfo(
        host=params.get("host") or "", port=params.get("port") or "", user=params.get("user") or "",
        dbname=params["dbname"],
    )  # fmt: skip


def test_the_backend_is_ours() -> None:
    from kabinet.core.postgresql.base import DatabaseWrapper

    assert isinstance(connections["default"], DatabaseWrapper)
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_healthy_idle_connection_is_usable_without_a_statement(monkeypatch: Any) -> None:
    # given: an open connection, idle between requests
    connection.ensure_connection()
    raw = connection.connection

    def no_statements(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the health check sent a statement")

    monkeypatch.setattr(raw, "cursor", no_statements)
    monkeypatch.setattr(raw, "execute", no_statements)
    # when / then
    assert connection.is_usable() is True


def test_a_connection_the_server_closed_is_unusable_and_replaced() -> None:
    # given: an open connection whose server process is terminated by someone else
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches the socket
    # when: the next request starts (Django resets the check, then runs it before the first query)
    assert connection.is_usable() is False
    connection.health_check_done = False  # type: ignore[attr-defined]
    connection.close_if_health_check_failed()
    # then: the first query runs on a new connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_inside_a_transaction_is_checked_by_a_statement() -> None:
    # given: an open transaction (never the case between requests, but is_usable is public)
    from django.db import transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        # then: the cheap path is not taken, Django's SELECT 1 answers
        assert connection.is_usable() is True
