"""PostgreSQL connections prepare hot statements (server-side binding), unless switched off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

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
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5


def test_prepared_statements_can_be_switched_off_or_tuned() -> None:
    url = "postgres://u@127.0.0.1:5432/kabinet"
    off = _database_options(DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="false")
    assert "server_side_binding" not in off and "prepare_threshold" not in off
    tuned = _database_options(DATABASE_URL=url, DATABASE_PREPARE_THRESHOLD="2")
    assert tuned["prepare_threshold"] == 2


def test_sqlite_has_no_postgresql_options() -> None:
    options = _database_options()
    assert "server_side_binding" not in options


@pytest.mark.django_db
def test_a_repeated_statement_is_prepared_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (runs in the PostgreSQL CI run)")
    # when the same parametrised statement runs more often than the threshold on one connection
    with connection.cursor() as cursor:
        for n in range(6):
            cursor.execute("SELECT %s::int + 40 AS kabinet_prepare_probe", [n])
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # then PostgreSQL holds it as a prepared statement
    assert any("kabinet_prepare_probe" in sql for sql in prepared)
