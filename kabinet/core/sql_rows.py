"""Model instances from hand-written SELECTs on hot reads, exactly as the ORM would build them; and
an INSERT that tolerates a unique conflict without a savepoint.

Names always come from the models' metadata and values are always query parameters (hence the
``noqa: S608`` on the statements built here).

The ORM spends more time compiling a simple ``SELECT ... WHERE`` than the database spends answering
it. For the few reads on every request, the statement is written once from the model's metadata
(``RowReader.columns``), each value goes through the converters the ORM would apply (SQLite returns datetimes
as text, JSON columns as strings, ...), and ``Model.from_db`` makes the instance.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connections, models
from psycopg.types.json import Jsonb

from kabinet.core.prepared import hot_cursor


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


@cache
def _instance_by_sql(model: type[models.Model], fields: tuple[str, ...], lock: bool, alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    meta = model._meta
    columns = [str((meta.pk if f == "pk" else meta.get_field(f)).column) for f in fields]  # type: ignore[union-attr]
    where = " AND ".join(f"{table}.{quote(column)} = %s" for column in columns)
    locking = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    return f"SELECT {row_reader(model, alias).columns} FROM {table} WHERE {where}{locking}"  # noqa: S608


def instance_by(
    model: type[models.Model], *, lock: bool = False, alias: str = "default", **equals: Any
) -> Any:
    """The one instance of ``model`` whose fields equal ``equals`` (a unique lookup), or None; with
    ``lock``, its row locked FOR UPDATE (call inside a transaction). One hand-written statement,
    preparable (kabinet.core.prepared.hot_cursor)."""
    fields = tuple(sorted(equals))
    with hot_cursor(alias) as cursor:
        cursor.execute(_instance_by_sql(model, fields, lock, alias), [equals[f] for f in fields])
        row = cursor.fetchone()
    return None if row is None else row_reader(model, alias).instance(row)


@cache
def _instances_by_pks_sql(model: type[models.Model], size: int, lock: bool, alias: str) -> str:
    connection = connections[alias]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk = f"{table}.{quote(str(model._meta.pk.column))}"  # type: ignore[union-attr]
    locking = " FOR UPDATE" if lock and connection.features.has_select_for_update else ""
    return f"SELECT {row_reader(model, alias).columns} FROM {table} WHERE {pk}{in_list(size)} ORDER BY {pk}{locking}"  # noqa: S608


def instances_by_pks(
    model: type[models.Model], pks: Sequence[Any], *, lock: bool = False, alias: str = "default"
) -> dict[Any, Any]:
    """The instances of ``model`` with these primary keys, by primary key (missing ones left out); with
    ``lock``, their rows locked FOR UPDATE in primary-key order, so two such locks never deadlock (call
    inside a transaction). One hand-written statement for any number of keys on PostgreSQL."""
    ordered = sorted(set(pks))
    if not ordered:
        return {}
    sql = _instances_by_pks_sql(model, in_list_size(len(ordered), alias), lock, alias)
    with hot_cursor(alias) as cursor:
        cursor.execute(sql, in_list_params(ordered, alias))
        rows = cursor.fetchall()
    reader = row_reader(model, alias)
    return {instance.pk: instance for instance in (reader.instance(row) for row in rows)}


@cache
def _insert_sql(model: type[models.Model], unless_conflict: bool, alias: str) -> tuple[str, list[Any]]:
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    pk_column = quote(str(meta.pk.column))  # type: ignore[union-attr]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
        + (" ON CONFLICT DO NOTHING" if unless_conflict else "")
        + f" RETURNING {pk_column}"
    )
    return sql, fields


def _insert(instance: models.Model, *, unless_conflict: bool, alias: str) -> bool:
    connection = connections[alias]
    sql, fields = _insert_sql(type(instance), unless_conflict, alias)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with hot_cursor(alias) as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = alias
    return True


def instance_get_or_create(
    model: type[models.Model], *, defaults: dict[str, Any] | None = None, **equals: Any
) -> Any:
    """``get_or_create`` for a row that is there on every call but the first (a singleton rules row, a
    system ledger account): one hand-written statement, the ORM's ``get_or_create`` only when missing."""
    found = instance_by(model, **equals)
    if found is None:
        found, _created = model._default_manager.get_or_create(defaults=defaults, **equals)
    return found


def insert(instance: models.Model, alias: str = "default") -> Any:
    """``Model.objects.create`` for an unsaved instance (auto primary key) in one hand-written INSERT,
    without the ORM's compilation (the project connects no save signals). Returns the instance."""
    _insert(instance, unless_conflict=False, alias=alias)
    return instance


def insert_unless_conflict(instance: models.Model, alias: str = "default") -> bool:
    """INSERT an unsaved instance (auto primary key), or nothing if a unique constraint already holds
    its values. True, with the primary key set, if it was inserted. Unlike ``create`` in a savepoint
    (to survive the IntegrityError), one statement and no savepoint round trips."""
    return _insert(instance, unless_conflict=True, alias=alias)


@cache
def _update_fields_sql(model: type[models.Model], attnames: tuple[str, ...], alias: str) -> str:
    quote = connections[alias].ops.quote_name
    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    assignments = ", ".join(f"{quote(str(by_attname[a].column))} = %s" for a in attnames)
    pk_column = quote(str(meta.pk.column))  # type: ignore[union-attr]
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {pk_column} = %s"  # noqa: S608


def update_fields(instance: models.Model, fields: list[str], alias: str = "default") -> None:
    """``instance.save(update_fields=fields)`` in one hand-written statement: the same values written
    (``auto_now`` fields such as ``updated_at`` refreshed when named), without the ORM's compilation
    (the project connects no save signals). The row must exist."""
    connection = connections[alias]
    meta = instance._meta
    named = [meta.get_field(name) for name in dict.fromkeys(fields)]
    attnames = tuple(f.attname for f in named)  # type: ignore[union-attr]
    values = [f.get_db_prep_save(f.pre_save(instance, False), connection) for f in named]  # type: ignore[union-attr]
    with hot_cursor(alias) as cursor:
        cursor.execute(_update_fields_sql(type(instance), attnames, alias), [*values, instance.pk])


@cache
def _insert_many_sql(
    model: type[models.Model], count: int, unless_conflict: bool, returning: str | None, alias: str
) -> tuple[str, list[Any]]:
    """The multi-row INSERT: on PostgreSQL the rows come as one JSON parameter (``count`` is 0: the same
    statement for any number of rows); elsewhere as a VALUES list of ``count`` rows.

    Why JSON: psycopg converts a statement's placeholders once and caches that only for statements of
    at most 50 parameters, and PostgreSQL prepares only a statement it has seen 5 times; a VALUES list
    of a batch of credits (a dozen rows of ten columns) is neither. Converting it anew was a tenth of
    the notification endpoint's CPU samples; with JSON rows the endpoint spent 1.94-2.05 ms of CPU per
    notification against 2.14-2.26 ms (1,000 notifications, three runs each, 2026-11-26). Unnesting
    one array per column (Django's bulk_create) cost more than it saved: psycopg dumps list items one
    by one in Python."""
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if f is not meta.pk]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    if count == 0:
        record = ", ".join(f"{quote(str(f.column))} {f.db_type(connection)}" for f in fields)
        rows = f"SELECT {columns} FROM jsonb_to_recordset(%s::jsonb) AS row({record})"  # noqa: S608
    else:
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        rows = f"VALUES {', '.join([row] * count)}"
    returned = [str(meta.pk.column)] + ([str(meta.get_field(returning).column)] if returning else [])  # type: ignore[union-attr]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) {rows}"
        + (" ON CONFLICT DO NOTHING" if unless_conflict else "")
        + f" RETURNING {', '.join(quote(c) for c in returned)}"
    )
    return sql, fields


def _json_value(value: Any) -> Any:
    """A parameter value as JSON that PostgreSQL reads back as the column's type."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, Jsonb):  # a JSONField's value, adapted with the field's encoder
        dumps: Any = value.dumps
        return json.loads(dumps(value.obj))
    raise TypeError(f"cannot pass {type(value).__name__} in a JSON row")


def _insert_many(
    instances: Sequence[models.Model], *, unless_conflict: bool, returning: str | None, alias: str
) -> list[tuple[Any, ...]]:
    connection = connections[alias]
    by_json = connection.vendor == "postgresql"
    model = type(instances[0])
    sql, fields = _insert_many_sql(model, 0 if by_json else len(instances), unless_conflict, returning, alias)
    if by_json:
        names = [str(f.column) for f in fields]
        rows = [
            dict(
                zip(names, (f.get_db_prep_save(f.pre_save(i, True), connection) for f in fields), strict=True)
            )
            for i in instances
        ]
        params: list[Any] = [json.dumps(rows, default=_json_value)]
    else:
        params = [f.get_db_prep_save(f.pre_save(i, True), connection) for i in instances for f in fields]
    with hot_cursor(alias) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _saved(instance: models.Model, pk: Any, alias: str) -> None:
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = alias


def insert_many(instances: Sequence[models.Model], alias: str = "default") -> None:
    """``insert`` for several unsaved instances of one model (auto primary keys) in one multi-row
    INSERT; their primary keys are set in order (PostgreSQL and SQLite return the rows in the order of
    the VALUES list, as Django's ``bulk_create`` relies on)."""
    if not instances:
        return
    rows = _insert_many(instances, unless_conflict=False, returning=None, alias=alias)
    for instance, row in zip(instances, rows, strict=True):
        _saved(instance, row[0], alias)


def insert_many_unless_conflict(
    instances: Sequence[models.Model], *, unique: str, alias: str = "default"
) -> list[bool]:
    """``insert_unless_conflict`` for several unsaved instances of one model in one multi-row INSERT.
    ``unique`` names a unique field whose values differ between the instances: the rows that were
    inserted are told apart by it. Returns, in order, whether each was inserted (primary key set)."""
    if not instances:
        return []
    rows = _insert_many(instances, unless_conflict=True, returning=unique, alias=alias)
    by_value = {row[1]: row[0] for row in rows}
    inserted = []
    for instance in instances:
        pk = by_value.get(getattr(instance, unique))
        if pk is not None:
            _saved(instance, pk, alias)
        inserted.append(pk is not None)
    return inserted


def update_fields_many(instances: Sequence[models.Model], fields: list[str], alias: str = "default") -> None:
    """``update_fields`` for several rows of one model with the same field list: one statement per row,
    sent together (psycopg's ``executemany`` pipelines them: one round trip on PostgreSQL), run in the
    order given, which is the order their row locks are taken."""
    if not instances:
        return
    connection = connections[alias]
    meta = instances[0]._meta
    named = [meta.get_field(name) for name in dict.fromkeys(fields)]
    attnames = tuple(f.attname for f in named)  # type: ignore[union-attr]
    params = [
        [*(f.get_db_prep_save(f.pre_save(i, False), connection) for f in named), i.pk]  # type: ignore[union-attr]
        for i in instances
    ]
    with hot_cursor(alias) as cursor:
        cursor.executemany(_update_fields_sql(type(instances[0]), attnames, alias), params)


def in_list_size(count: int, alias: str = "default") -> int:
    """The size to build an ``in_list`` statement for: 0 (any size) on PostgreSQL."""
    return 0 if connections[alias].vendor == "postgresql" else count


def in_list(size: int) -> str:
    """The right-hand side of a hand-written "column IN values" for ``in_list_size``'s size: on PostgreSQL
    ``= ANY(%s)`` with one array parameter, so one statement serves any number of values (psycopg
    converts it once, PostgreSQL prepares it); elsewhere ``IN (%s, ...)``."""
    return " = ANY(%s)" if size == 0 else f" IN ({', '.join(['%s'] * size)})"


def in_list_params(values: Sequence[Any], alias: str = "default") -> list[Any]:
    """The parameters for ``in_list``'s placeholders."""
    return [list(values)] if connections[alias].vendor == "postgresql" else list(values)
