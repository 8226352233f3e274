"""PostgreSQL connections prepare the hot hand-written reads (kabinet.core.prepared), unless switched off."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from kabinet.billing.models import LedgerAccount, LedgerTransfer
from kabinet.billing.services import ledger_transfer_post
from kabinet.core.prepared import hot_cursor

ROOT = Path(__file__).resolve().parents[3]


def _database_options(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    out = subprocess.run(
        [sys.executable, "-c",
         "import json, config.settings as s; print(json.dumps(s.DATABASES['default'].get('OPTIONS', {})))"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_postgresql_prepares_statements_by_default() -> None:
    options = _database_options(DATABASE_URL="postgres://u@127.0.0.1:5432/kabinet")
    assert options["prepare_threshold"] == 5
    # Django's own queries keep client-side binding (kabinet.core.prepared says why)
    assert "server_side_binding" not in options


def test_prepared_statements_can_be_switched_off_or_tuned() -> None:
    url = "postgres://u@127.0.0.1:5432/kabinet"
    off = _database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false")
    assert "prepare_threshold" not in off
    tuned = _database_options(DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="2")
    assert tuned["prepare_threshold"] == 2


def test_sqlite_has_no_postgresql_options() -> None:
    options = _database_options()
    assert "server_side_binding" not in options


@pytest.mark.django_db
def test_hot_reads_are_prepared_and_django_queries_are_not_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (runs in the PostgreSQL CI run)")
    # when a hot read and an ORM query each run more often than the threshold on one connection
    for n in range(6):
        with hot_cursor() as cursor:
            cursor.execute("SELECT %s::int + 40 AS kabinet_hot_probe", [n])
            assert cursor.fetchone() == (n + 40,)
        list(LedgerAccount.objects.filter(code="kabinet_orm_probe").values_list("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # then PostgreSQL holds the hot read as a prepared statement, and nothing of Django's
    assert any("kabinet_hot_probe" in sql for sql in prepared)
    assert not any("kabinet_orm_probe" in sql for sql in prepared)


@pytest.mark.django_db
def test_a_ledger_delta_above_two_to_the_31_kopecks_is_exact() -> None:
    # given two accounts (a delta above 2^31 kopecks is what a bulk seeding or a month of a big
    # operator's revenue can reach; with Django's server-side binding it wrapped around)
    debit = LedgerAccount.objects.create(
        code="test:big-debit", kind=LedgerAccount.Kind.ADJUSTMENT, name="big"
    )
    credit = LedgerAccount.objects.create(
        code="test:big-credit", kind=LedgerAccount.Kind.ADJUSTMENT, name="big"
    )
    amount = 14_292_834_094
    # when it moves in one transfer
    ledger_transfer_post(
        key="test:big",
        debit=debit,
        credit=credit,
        amount_kopecks=amount,
        kind=LedgerTransfer.Kind.ADJUSTMENT,
        value_date=dt.date(2026, 11, 26),
    )
    # then both balances are exact
    debit.refresh_from_db()
    credit.refresh_from_db()
    assert (debit.balance_kopecks, credit.balance_kopecks) == (-amount, amount)


@pytest.mark.django_db(transaction=True)
def test_the_hot_cursor_is_kept_per_connection_and_renewed_after_a_reconnect() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (runs in the PostgreSQL CI run)")
    # given: two statements on one connection share psycopg's cursor (its adapters are cached there)
    with hot_cursor() as cursor:
        cursor.execute("SELECT %s::int", [1])
        first = cursor.cursor
    with hot_cursor() as cursor:
        cursor.execute("SELECT %s::int", [2])
        assert cursor.cursor is first
        assert cursor.fetchone() == (2,)
    # when: the connection is closed and opened again
    connection.close()
    with hot_cursor() as cursor:
        cursor.execute("SELECT %s::int", [3])
        # then: a new cursor on the new connection answers
        assert cursor.cursor is not first
        assert cursor.fetchone() == (3,)
