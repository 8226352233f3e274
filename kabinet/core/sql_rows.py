"""Model instances from hand-written SELECTs on hot reads, exactly as the ORM would build them.

The ORM spends more time compiling a simple ``SELECT ... WHERE`` than the database spends answering
it. For the few reads on every request, the statement is written once from the model's metadata
(``RowReader.columns``), each value goes through the converters the ORM would apply (SQLite returns datetimes
as text, JSON columns as strings, ...), and ``Model.from_db`` makes the instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, models


@dataclass(frozen=True)
class RowReader:
    model: type[models.Model]
    alias: str
    columns: str  # the quoted column list, in the order of ``attnames``
    attnames: list[str]
    converters: list[tuple[int, list[Any], Any]]  # (index, converters, the column expression)

    def instance(self, row: Sequence[Any]) -> Any:
        values = list(row)
        connection = connections[self.alias]
        for index, found, column in self.converters:
            for converter in found:
                values[index] = converter(values[index], column, connection)
        return self.model.from_db(self.alias, self.attnames, values)


@cache
def row_reader(model: type[models.Model], alias: str = "default") -> RowReader:
    """How to select every concrete field of ``model`` and turn a row into an instance."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, found, column))
    return RowReader(
        model=model,
        alias=alias,
        columns=", ".join(f"{quote(table)}.{quote(str(f.column))}" for f in fields),
        attnames=[f.attname for f in fields],
        converters=converters,
    )
