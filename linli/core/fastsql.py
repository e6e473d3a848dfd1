"""Hand-built SQL for the few statements on the hottest request path, from the models' own metadata.

Django compiles every ORM statement anew: for a row of the case table that is about half a millisecond of
CPU per INSERT, more than the database needs to store it. Case submission writes a handful of rows and
authenticates a bearer token on every request, so those statements are built here once per model and
database vendor and then only executed. Values still go through each field's own ``pre_save`` and
``get_db_prep_save`` (so ``auto_now`` stamps, encrypted fields and blind indexes are stored exactly as
``Model.save`` stores them) and rows read back through the backend's and the fields' converters (so
datetimes, booleans and encrypted fields come back as the ORM gives them).

``pre_save`` and ``post_save`` are sent as ``save_base`` sends them, when the model has receivers.
What this does not do: models with their own ``save()``, database defaults and expressions as values
(those instances fall back to ``Model.save``), multi-table inheritance, other databases than the
default. Everything else in the code base uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple[Field[Any, Any], ...]
    returns_pk: bool
    # Per field, the Python type whose values Django's own field class stores unchanged on both backends
    # (``str`` for text, ``bool`` for booleans), and whether None is stored as NULL unchanged: such values
    # skip the three calls of ``get_db_prep_save``. Every other value (and every other field class:
    # encrypted, JSON, date/time, numbers that PostgreSQL's adapter wraps) takes the full path.
    passthrough: tuple[tuple[type | None, bool], ...]


_TEXT_FIELDS = (models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField)
_NULL_AS_IS = (*_TEXT_FIELDS, models.BooleanField, models.DateTimeField, models.DateField, models.ForeignKey)


def _passthrough(field: Field[Any, Any]) -> tuple[type | None, bool]:
    kind = type(field)
    same: type | None = str if kind in _TEXT_FIELDS else bool if kind is models.BooleanField else None
    return same, kind in _NULL_AS_IS


def _quote(name: str) -> str:
    """SQLite's and PostgreSQL's identifier quoting (the two backends the project runs on)."""
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _insert_statement(model: type[Model], with_pk: bool, can_return: bool) -> _Insert:
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(_quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from model meta
    returns_pk = not with_pk and can_return
    if returns_pk:
        sql += f" RETURNING {_quote(meta.pk.column)}"
    passthrough = tuple(_passthrough(f) for f in fields)
    return _Insert(sql=sql, fields=fields, returns_pk=returns_pk, passthrough=passthrough)


def insert_instance(obj: Model) -> None:
    """INSERT ``obj`` as ``obj.save(force_insert=True)`` would (pk set afterwards), without compiling.

    Falls back to ``save`` when a value is an expression or a database default (they need the compiler).
    """
    connection = connections["default"]
    model = type(obj)
    if model.save is not Model.save:  # the model's own save() may do more than store the row
        obj.save(force_insert=True)
        return
    if pre_save.has_listeners(model):
        pre_save.send(sender=model, instance=obj, raw=False, using="default", update_fields=None)
    with_pk = obj.pk is not None
    statement = _insert_statement(model, with_pk, connection.features.can_return_columns_from_insert)
    params: list[Any] = []
    for field, (same, null_as_is) in zip(statement.fields, statement.passthrough, strict=True):
        value = field.pre_save(obj, True)
        if (value is None and null_as_is) or (same is not None and type(value) is same):
            params.append(value)
            continue
        if hasattr(value, "resolve_expression"):
            obj.save(force_insert=True)
            return
        params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        if not with_pk:
            pk = cursor.fetchone()[0] if statement.returns_pk else cursor.lastrowid
            obj.pk = pk
    obj._state.adding = False
    obj._state.db = "default"
    if post_save.has_listeners(model):
        post_save.send(
            sender=model, instance=obj, created=True, update_fields=None, raw=False, using="default"
        )


@dataclass(frozen=True)
class RowReader:
    """Reads one model's concrete columns from a hand-written SELECT into an instance, as the ORM would."""

    model: type[Model]
    alias: str
    fields: tuple[Field[Any, Any], ...]
    converters: tuple[tuple[tuple[Converter, ...], Any], ...]

    @property
    def width(self) -> int:
        return len(self.fields)

    def columns(self) -> str:
        """The SELECT list for this model's columns, qualified by ``alias``."""
        return _select_list(self.alias, tuple(f.column for f in self.fields))

    def instance(self, row: Sequence[Any], start: int = 0) -> Model:
        connection = connections["default"]
        values = []
        for value, (funcs, expression) in zip(row[start : start + self.width], self.converters, strict=True):
            for func in funcs:
                value = func(value, expression, connection)
            values.append(value)
        return self.model.from_db("default", [f.attname for f in self.fields], values)


@functools.cache
def _select_list(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f"{_quote(alias)}.{_quote(c)}" for c in columns)


@functools.cache
def _row_reader(model: type[Model], alias: str, vendor: str, defer: frozenset[str]) -> RowReader:
    # vendor: part of the cache key (the converters differ)
    connection = connections["default"]
    fields = tuple(f for f in model._meta.concrete_fields if f.name not in defer)
    converters = []
    for field in fields:
        expression = field.get_col(alias)
        funcs = [*connection.ops.get_db_converters(expression), *expression.get_db_converters(connection)]
        converters.append((tuple(funcs), expression))
    return RowReader(model=model, alias=alias, fields=fields, converters=tuple(converters))


def row_reader(model: type[M], alias: str, *, defer: frozenset[str] = frozenset()) -> RowReader:
    """The reader of ``model``'s columns under table alias ``alias`` for the default database. Fields in
    ``defer`` are not read: the instance loads them on first access, as ``QuerySet.defer`` does."""
    return _row_reader(model, alias, connections["default"].vendor, defer)
