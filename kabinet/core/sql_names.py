"""Quoted table and column names of models, for the few hand-written SQL statements on hot reads.

Names come from the models' metadata (so a renamed column or table cannot drift from the SQL); values
are always query parameters, never formatted in.
"""

from __future__ import annotations

from typing import Any

from django.db import connection


def sql_table(model: Any) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def sql_column(model: Any, field_name: str) -> str:
    return str(connection.ops.quote_name(model._meta.get_field(field_name).column))
