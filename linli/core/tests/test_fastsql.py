"""``linli.core.fastsql``: hand-built INSERTs and row reads store and load exactly what the ORM does."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_tasks_db.models import DBTaskResult, get_date_max

from linli.accounts.models import ApiToken, User
from linli.cases.tasks import case_submitted_notify
from linli.core.fastsql import insert_instance, row_reader
from linli.notifications.models import OutboxMessage
from linli.notifications.tests.conftest import run_worker_batch
from linli.security.crypto import blind_index

pytestmark = pytest.mark.django_db


def _message(key: str, phone: str, **fields: Any) -> OutboxMessage:
    return OutboxMessage(
        channel="sms", kind="test", phone=phone, dedup_key=key, **({"text": "您好"} | fields)
    )


def test_an_inserted_row_reads_back_as_a_saved_one() -> None:
    # given two outbox rows with an encrypted, blind-indexed phone: one saved by the ORM, one inserted by hand
    user = User.objects.create(username="recipient")
    # (a lazy translation is not a str: it takes the field's full preparation, as in save())
    saved = _message("k-saved", "13800138000", recipient=user, last_error=gettext_lazy("超时"))
    saved.save()
    fast = _message("k-fast", "13800138000", recipient=user, last_error=gettext_lazy("超时"))
    insert_instance(fast)
    # then the hand-inserted one has its id, and every stored field equals the saved one's
    assert fast.pk is not None and fast.pk != saved.pk and not fast._state.adding
    a, b = OutboxMessage.objects.get(pk=saved.pk), OutboxMessage.objects.get(pk=fast.pk)
    assert b.last_error == "超时" and b.sent_at is None and b.recipient_id == user.pk
    assert b.phone == "13800138000" and b.phone_index == a.phone_index == blind_index("phone", "13800138000")
    assert b.updated_at is not None and abs(b.updated_at - a.updated_at) < timedelta(minutes=1)  # auto_now
    for field in OutboxMessage._meta.concrete_fields:
        if field.name not in {"id", "dedup_key", "created_at", "next_attempt_at", "updated_at"}:
            assert getattr(a, field.attname) == getattr(b, field.attname), field.name
    # and the phone is not stored in the clear
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {OutboxMessage._meta.db_table} WHERE id = %s", [fast.pk])  # noqa: S608
        assert "13800138000" not in str(cursor.fetchone()[0])


def test_signals_are_sent_as_save_sends_them() -> None:
    seen: list[tuple[str, Any]] = []

    def before(sender: Any, instance: OutboxMessage, **kwargs: Any) -> None:
        seen.append(("pre", instance.pk))
        instance.text = "由信号填写"

    def after(sender: Any, instance: OutboxMessage, created: bool, **kwargs: Any) -> None:
        seen.append(("post", created))

    pre_save.connect(before, sender=OutboxMessage, dispatch_uid="fastsql-test-pre")
    post_save.connect(after, sender=OutboxMessage, dispatch_uid="fastsql-test-post")
    try:
        message = _message("k-signal", "")
        insert_instance(message)
    finally:
        pre_save.disconnect(dispatch_uid="fastsql-test-pre", sender=OutboxMessage)
        post_save.disconnect(dispatch_uid="fastsql-test-post", sender=OutboxMessage)
    assert seen == [("pre", None), ("post", True)]
    assert OutboxMessage.objects.get(pk=message.pk).text == "由信号填写"  # what pre_save set was stored


def test_an_expression_value_or_a_model_of_its_own_save_falls_back_to_save() -> None:
    message = _message("k-expr", "", text=Value("表达式"))
    insert_instance(message)
    assert OutboxMessage.objects.get(pk=message.pk).text == "表达式"
    # User.save() does more than store the row (a changed password is reported to the validators)
    user = User(username="own-save")
    insert_instance(user)
    assert User.objects.filter(pk=user.pk, username="own-save").exists()


def test_a_row_read_by_hand_equals_the_orm_instance_and_deferred_fields_load_on_access() -> None:
    user = User.objects.create(username="reader", display_name="李四", phone="13900139000", is_staff=True)
    token = ApiToken.objects.create(
        user=user, name="app", key_hash="h" * 64, expires_at=timezone.now() + timedelta(hours=1)
    )
    tokens, users = row_reader(ApiToken, "t"), row_reader(User, "u", defer=frozenset({"phone"}))
    sql = (
        f"SELECT {tokens.columns()}, {users.columns()} FROM {ApiToken._meta.db_table} t "  # noqa: S608
        f"JOIN {User._meta.db_table} u ON u.id = t.user_id WHERE t.id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [token.pk])
        row = cursor.fetchone()
    got_token, got_user = tokens.instance(row), users.instance(row, tokens.width)
    orm_token = ApiToken.objects.get(pk=token.pk)
    for field in ApiToken._meta.concrete_fields:
        assert getattr(got_token, field.attname) == getattr(orm_token, field.attname), field.name
    assert got_token.expires_at.tzinfo is not None and got_user.is_staff is True  # converted as the ORM does
    assert got_user.display_name == "李四" and "phone" in got_user.get_deferred_fields()
    with CaptureQueriesContext(connection) as queries:
        assert got_user.phone == "13900139000"  # loaded (and decrypted) on first access
    assert len(queries) == 1


def test_the_task_backend_writes_a_ready_row_that_the_worker_runs() -> None:
    # given a task enqueued through the project's backend (the row written by insert_instance)
    result = case_submitted_notify.enqueue(987654, 1)
    row = DBTaskResult.objects.get(pk=result.id)
    # then it is the row the library writes: ready now (run_after = the library's "no date"), stamped
    assert row.run_after == get_date_max() and row.enqueued_at is not None
    assert row.task_path == "linli.cases.tasks.case_submitted_notify" and row.args_kwargs["args"] == [
        987654,
        1,
    ]
    # and the result handed back (and to task_enqueued) is the one the library builds from the row
    library = row.task_result
    for name in ("id", "status", "enqueued_at", "args", "kwargs", "backend", "errors", "worker_ids"):
        assert getattr(result, name) == getattr(library, name), name
    assert result.task.module_path == library.task.module_path and result.task.func is library.task.func
    assert (result.task.priority, result.task.queue_name) == (library.task.priority, library.task.queue_name)
    # and the real worker runs it (the case does not exist: nothing to tell, no error)
    assert run_worker_batch() == 1
    row.refresh_from_db()
    assert row.status == "SUCCESSFUL" and row.return_value is False


def test_every_short_cut_preparation_gives_what_the_field_itself_gives() -> None:
    # given real rows of the three models a submission writes, with values of every kind (ints, floats,
    # aware datetimes, text, booleans, NULLs, JSON, an encrypted phone and its blind index)
    from linli.cases.models import Case, CaseEvent
    from linli.cases.tests.factories import build_world, submit
    from linli.core.fastsql import insert_prepare

    world = build_world()
    case = submit(world, grid=0)
    case.lat, case.lng, case.reopen_count = 31.82, 117.23, 2
    event = CaseEvent.objects.filter(case=case).first()
    row = DBTaskResult.objects.first() or DBTaskResult.objects.get(pk=case_submitted_notify.enqueue(1, 2).id)
    # then for every field the prepared parameter equals the field's own get_db_prep_save of that value
    for obj in (case, event, row):
        obj.pk = uuid.uuid4() if isinstance(obj, DBTaskResult) else None  # (its id is not generated)
        if isinstance(obj, Case):
            obj.number, obj.idempotency_key = "20261205-999999", "fastsql-check-0001"
        prepared = insert_prepare(obj)
        assert prepared.statement is not None, type(obj).__name__
        for field, param in zip(prepared.statement.fields, prepared.params, strict=True):
            stamped = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = getattr(obj, field.attname) if stamped else field.pre_save(obj, True)  # stamped once
            assert param == field.get_db_prep_save(value, connection) or (
                hasattr(param, "obj") and param.obj == field.get_db_prep_save(value, connection).obj  # Jsonb
            ), f"{type(obj).__name__}.{field.name}"
        prepared.execute()  # and the row goes in
        assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_statement_on_the_drivers_cursor_fails_with_djangos_error_and_shows_when_watched() -> None:
    from django.db import IntegrityError, transaction

    from linli.cases.models import CaseNumberCounter
    from linli.core import fastsql

    sql = f"INSERT INTO {CaseNumberCounter._meta.db_table} (day, last) VALUES (%s, 1)"  # noqa: S608
    day = timezone.localdate()
    fastsql.execute(sql, [day])
    with pytest.raises(IntegrityError), transaction.atomic():  # Django's class, not the driver's
        fastsql.execute(sql, [day])
    assert CaseNumberCounter.objects.get(day=day).last == 1
    # a literal %% is the driver's %, as through Django's cursor; nothing logged when nobody watches
    row, _ = fastsql.execute("SELECT 7 %% 4", [], fetchone=True)
    assert row[0] == 3
    with CaptureQueriesContext(connection) as watched:
        row, _ = fastsql.execute("SELECT %s", [5], fetchone=True)
    assert row[0] == 5 and len(watched.captured_queries) == 1  # watched: through Django's cursor
