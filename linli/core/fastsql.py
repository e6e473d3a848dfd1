"""Hand-built SQL for the few statements on the hottest request path, from the models' own metadata.

Django compiles every ORM statement anew: for a row of the case table that is about half a millisecond of
CPU per INSERT, more than the database needs to store it. Case submission writes a handful of rows and
authenticates a bearer token on every request, so those statements are built here once per model and
database vendor and then only executed. Values still go through each field's own ``pre_save`` and
``get_db_prep_save`` (so ``auto_now`` stamps, encrypted fields and blind indexes are stored exactly as
``Model.save`` stores them) and rows read back through the backend's and the fields' converters (so
datetimes, booleans and encrypted fields come back as the ORM gives them).

``pre_save`` and ``post_save`` are sent as ``save_base`` sends them, when the model has receivers.
``execute`` runs such a statement on the driver's own cursor: Django's cursor wrapper (thread check,
execute wrappers, ``%s`` rewritten to ``?`` for SQLite by a regular expression on every call) cost about as
much CPU as SQLite needs to store a row. Errors are still Django's (``IntegrityError`` …), and whenever
something watches the statements (``CaptureQueriesContext``, ``DEBUG``'s query log, an execute wrapper)
they go through Django's cursor as every other statement does.
What this does not do: models with their own ``save()``, database defaults and expressions as values
(those instances fall back to ``Model.save``), multi-table inheritance, other databases than the
default. Everything else in the code base uses the ORM.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import connections, models
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


Prep = Callable[[Any], Any]


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: tuple[Field[Any, Any], ...]
    returns_pk: bool
    # Per field: its ``pre_save`` when it does more than read the attribute (``auto_now``, custom fields),
    # else None; and the preparation of its value for this database (``_preparer``).
    pre_saves: tuple[Callable[[Model, bool], Any] | None, ...]
    preps: tuple[Prep, ...]
    index: dict[str, int]  # attname → position in the parameters


_TEXT_FIELDS = (models.CharField, models.TextField, models.SlugField, models.EmailField, models.URLField)
_INT_FIELDS = (
    models.IntegerField,
    models.SmallIntegerField,
    models.BigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.PositiveBigIntegerField,
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
)


def _preparer(field: Field[Any, Any], connection: Any) -> Prep:
    """``field.get_db_prep_save`` for this database, short-cut for the values Django's own field classes
    store unchanged (or, for datetimes, by one known conversion); every other value and every other field
    class (encrypted, JSON, custom) takes the full path, exactly as ``save()`` does."""
    full = functools.partial(field.get_db_prep_save, connection=connection)
    kind = type(field)
    target = field.target_field if kind is models.ForeignKey else field  # type: ignore[attr-defined]
    same: type | None = None
    if kind in _TEXT_FIELDS:
        same = str
    elif kind is models.BooleanField:
        same = bool
    elif kind is models.FloatField:
        same = float
    elif type(target) in _INT_FIELDS:
        same = int  # both backends store a Python int as given (PostgreSQL's wrapper only names the width)
    if same is not None:
        return lambda value: value if (value is None or type(value) is same) else full(value)
    if kind is models.DateTimeField:
        if connection.vendor == "postgresql":  # aware datetimes go to the driver as they are
            return lambda value: (
                value if (value is None or (type(value) is datetime and value.tzinfo)) else full(value)
            )
        if connection.vendor == "sqlite":  # adapt_datetimefield_value: naive in the connection's zone, str()
            zone = connection.timezone

            def sqlite_datetime(value: Any) -> Any:
                if value is None:
                    return None
                if type(value) is datetime and value.tzinfo is not None:
                    return str(value.astimezone(zone).replace(tzinfo=None))
                return full(value)

            return sqlite_datetime
    return full


def _plain_pre_save(field: Field[Any, Any]) -> bool:
    """True when ``field.pre_save`` only reads the attribute (no ``auto_now``, not overridden)."""
    method = type(field).pre_save
    if method is Field.pre_save:
        return True
    if method in (models.DateTimeField.pre_save, models.DateField.pre_save):
        return not (field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
    return False


def _quote(name: str) -> str:
    """SQLite's and PostgreSQL's identifier quoting (the two backends the project runs on)."""
    return '"' + name.replace('"', '""') + '"'


@functools.cache
def _insert_statement(model: type[Model], with_pk: bool, vendor: str) -> _Insert:
    # vendor: part of the cache key (the preparations differ)
    connection = connections["default"]
    meta = model._meta
    fields = tuple(f for f in meta.local_concrete_fields if with_pk or not f.primary_key)
    columns = ", ".join(_quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608 - names from model meta
    returns_pk = not with_pk and connection.features.can_return_columns_from_insert
    if returns_pk:
        sql += f" RETURNING {_quote(meta.pk.column)}"
    return _Insert(
        sql=sql,
        fields=fields,
        returns_pk=returns_pk,
        pre_saves=tuple(None if _plain_pre_save(f) else f.pre_save for f in fields),
        preps=tuple(_preparer(f, connection) for f in fields),
        index={f.attname: i for i, f in enumerate(fields)},
    )


@functools.lru_cache(maxsize=128)
def _driver_sql(sql: str, vendor: str) -> str:
    """``sql`` in the driver's parameter style: SQLite's ``?`` for Django's ``%s`` (as Django converts it)."""
    if vendor == "sqlite":
        return FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%")
    return sql


def execute(sql: str, params: Sequence[Any], *, fetchone: bool = False) -> tuple[Any, int | None]:
    """Run one statement (``%s`` placeholders) on the default connection: ``(first row or None, lastrowid)``.

    On the driver's cursor when the connection is open and nothing watches the statements (see the module
    docstring), else on Django's. Errors come out as Django's either way; a transaction already broken by
    an error refuses the statement, as Django's cursor does.
    """
    connection = connections["default"]
    if connection.connection is None or connection.queries_logged or connection.execute_wrappers:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return (cursor.fetchone() if fetchone else None), getattr(cursor, "lastrowid", None)
    connection.validate_thread_sharing()
    connection.validate_no_broken_transaction()
    with connection.wrap_database_errors:
        cursor = connection.connection.cursor()
        try:
            cursor.execute(_driver_sql(sql, connection.vendor), params)
            return (cursor.fetchone() if fetchone else None), getattr(cursor, "lastrowid", None)
        finally:
            cursor.close()


class PreparedInsert:
    """One row's INSERT with its parameters computed: prepared before the transaction, executed inside.

    ``statement`` None: the row can only be stored by ``save(force_insert=True)``, which ``execute`` calls.
    """

    __slots__ = ("obj", "params", "statement")

    def __init__(self, obj: Model, statement: _Insert | None, params: list[Any]) -> None:
        self.obj, self.statement, self.params = obj, statement, params

    def set(self, attname: str, value: Any) -> None:
        """Change one value after preparation (the instance too), e.g. a key known only in the transaction."""
        setattr(self.obj, attname, value)
        if self.statement is not None:
            i = self.statement.index[attname]
            self.params[i] = self.statement.preps[i](value)

    def values_sql(self, computed: dict[str, tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
        """This row's INSERT, without RETURNING, with the named columns (by attname) given as SQL
        expressions with their own parameters instead of values — one part of a statement that writes
        several rows — and the statement's parameters in order. ``done(pk)`` marks the instance saved once
        that statement has run."""
        statement = self.statement
        if statement is None:
            raise ValueError("this row can only be stored by save()")
        marks: list[str] = []
        params: list[Any] = []
        for field, value in zip(statement.fields, self.params, strict=True):
            if field.attname in computed:
                expression, expression_params = computed[field.attname]
                marks.append(expression)
                params.extend(expression_params)
            else:
                marks.append("%s")
                params.append(value)
        head = statement.sql[: statement.sql.index(" VALUES (")]
        return f"{head} VALUES ({', '.join(marks)})", params

    def done(self, pk: Any, **values: Any) -> None:
        """The row was written by a statement of the caller's (``values_sql``): its pk and the values the
        database computed go on the instance, which is marked saved; ``post_save`` is sent."""
        obj = self.obj
        obj.pk = pk
        for attname, value in values.items():
            setattr(obj, attname, value)
        self._saved()

    def _saved(self) -> None:
        obj, model = self.obj, type(self.obj)
        obj._state.adding = False
        obj._state.db = "default"
        if post_save.has_listeners(model):
            post_save.send(
                sender=model, instance=obj, created=True, update_fields=None, raw=False, using="default"
            )

    def execute(self) -> None:
        """INSERT the row; the instance gets its pk and is marked saved; ``post_save`` is sent."""
        obj, statement = self.obj, self.statement
        if statement is None:
            obj.save(force_insert=True)
            return
        row, lastrowid = execute(statement.sql, self.params, fetchone=statement.returns_pk)
        if obj.pk is None:
            obj.pk = row[0] if statement.returns_pk else lastrowid
        self._saved()


def insert_prepare(obj: Model) -> PreparedInsert:
    """The INSERT of ``obj`` as ``save(force_insert=True)`` would send it, ready to execute (``pre_save``
    is sent now). Where only ``save`` can store the row — the model has its own ``save()``, or a value is
    an expression or a database default (they need the compiler) — ``execute`` calls it instead."""
    model = type(obj)
    if model.save is not Model.save:  # the model's own save() may do more than store the row
        return PreparedInsert(obj, None, [])
    if pre_save.has_listeners(model):
        pre_save.send(sender=model, instance=obj, raw=False, using="default", update_fields=None)
    statement = _insert_statement(model, obj.pk is not None, connections["default"].vendor)
    params: list[Any] = []
    for field, pre, prep in zip(statement.fields, statement.pre_saves, statement.preps, strict=True):
        value = getattr(obj, field.attname) if pre is None else pre(obj, True)
        if hasattr(value, "resolve_expression"):
            return PreparedInsert(obj, None, [])
        params.append(prep(value))
    return PreparedInsert(obj, statement, params)


def insert_instance(obj: Model) -> None:
    """INSERT ``obj`` as ``obj.save(force_insert=True)`` would (pk set afterwards), without compiling.

    Falls back to ``save`` when a value is an expression or a database default (they need the compiler).
    """
    insert_prepare(obj).execute()


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
        connection = connections["default"]  # the converters' argument
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
