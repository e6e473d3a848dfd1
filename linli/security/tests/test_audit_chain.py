"""The audit trail is append-only and hash-chained with a keyed hash (AUD-2); pruning keeps 180 days (AUD-3)."""

from __future__ import annotations

import base64
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from linli.accounts.tests.factories import UserFactory
from linli.core.scheduler import periodic_jobs
from linli.core.tests.concurrency import run_in_threads
from linli.security.audit import audit_record, audit_verify, row_hash
from linli.security.audit_guard import (
    AuditChainBrokenError,
    _prune_permitted,
    audit_guard_install,
    audit_guard_installed,
    audit_guard_uninstall,
    audit_prune,
)
from linli.security.models import AuditAppendOnlyError, AuditChainHead, AuditEvent, AuditResult

pytestmark = pytest.mark.django_db


def record(n: int = 1, **data: Any) -> list[AuditEvent]:
    return [
        audit_record(action="test.event", actor=None, obj=None, result=AuditResult.OK, data={"i": i, **data})
        for i in range(n)
    ]


def raw(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


@contextmanager
def guard_off() -> Iterator[None]:
    """What an attacker with the database owner's rights (but not the audit key) can do."""
    if connection.vendor == "postgresql":
        raw("ALTER TABLE security_auditevent DISABLE TRIGGER security_auditevent_append_only")
        try:
            yield
        finally:
            raw("ALTER TABLE security_auditevent ENABLE TRIGGER security_auditevent_append_only")
    else:
        audit_guard_uninstall(connection)
        try:
            yield
        finally:
            audit_guard_install(connection)


def verify_failure() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert failure.value.returncode == 1
    return str(failure.value)


# --- the chain ------------------------------------------------------------------------------------
def test_rows_are_chained_in_order_and_the_chain_verifies() -> None:
    rows = record(4)

    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert len({r.hash for r in rows}) == 4
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (4, rows[-1].hash)
    report = audit_verify()
    assert report.ok and report.rows == 4


def test_verify_command_reports_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    record(3)

    call_command("verify_audit")

    assert "audit chain OK: 3 rows (seq 1..3)" in capsys.readouterr().out


def test_each_row_is_in_utc_and_keeps_its_data_as_written() -> None:
    [row] = record(1, reason="核对", nested={"b": [1, None, "x"]}, when=timezone.now())
    stored = AuditEvent.objects.get(pk=row.pk)

    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.data["nested"] == {"b": [1, None, "x"]} and isinstance(stored.data["when"], str)
    assert audit_verify().ok


# --- append-only ------------------------------------------------------------------------------------
def test_the_orm_refuses_to_update_or_delete_audit_rows() -> None:
    [row] = record(1)

    row.action = "auth.logout"
    for attempt in (
        row.save,
        row.delete,
        AuditEvent.objects.all().delete,
        lambda: AuditEvent.objects.filter(pk=row.pk).update(action="x"),
        lambda: AuditEvent.objects.bulk_update([row], ["action"]),
        lambda: AuditEvent.objects.bulk_create([AuditEvent(seq=99, action="x", result="ok")]),
    ):
        with pytest.raises(AuditAppendOnlyError):
            attempt()
    assert AuditEvent.objects.get().action == "test.event"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE security_auditevent SET action = 'auth.logout'",
        "DELETE FROM security_auditevent",
    ],
)
def test_the_database_refuses_update_and_delete_even_in_raw_sql(sql: str) -> None:
    record(2)
    assert audit_guard_installed(connection)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        raw(sql)

    assert AuditEvent.objects.filter(action="test.event").count() == 2


def test_deleting_a_user_leaves_their_audit_rows_as_they_were(rf: Any) -> None:
    user = UserFactory()
    audit_record(action="test.event", actor=user, obj=None, result=AuditResult.OK)
    user_id = user.pk

    user.delete()

    row = AuditEvent.objects.get(action="test.event")
    assert (row.actor_id, row.actor_label) == (user_id, user.username)
    assert audit_verify().ok


# --- tampering is named --------------------------------------------------------------------------------
def test_verify_names_a_row_whose_content_was_edited() -> None:
    rows = record(5)
    with guard_off():
        raw("UPDATE security_auditevent SET action = 'auth.logout' WHERE seq = 3")

    message = verify_failure()

    assert f"row id={rows[2].pk} seq=3" in message and "edited" in message


def test_verify_names_a_row_whose_json_data_was_edited() -> None:
    rows = record(4)
    with guard_off():
        raw("UPDATE security_auditevent SET data = '{\"i\": 99}' WHERE seq = 2")

    assert f"row id={rows[1].pk} seq=2" in verify_failure()


def test_verify_names_the_row_after_a_deleted_middle_row() -> None:
    rows = record(5)
    with guard_off():
        raw("DELETE FROM security_auditevent WHERE seq = 3")

    message = verify_failure()

    assert f"row id={rows[3].pk} seq=4" in message and "seq 3 missing" in message


def test_verify_names_a_reordered_row() -> None:
    rows = record(5)
    with guard_off():
        raw("UPDATE security_auditevent SET seq = -1 WHERE seq = 3")
        raw("UPDATE security_auditevent SET seq = 3 WHERE seq = 4")
        raw("UPDATE security_auditevent SET seq = 4 WHERE seq = -1")

    message = verify_failure()

    assert f"row id={rows[3].pk} seq=3" in message and "reordered" in message


def test_verify_notices_that_the_last_rows_were_deleted() -> None:
    rows = record(5)
    with guard_off():
        raw("DELETE FROM security_auditevent WHERE seq >= 4")

    message = verify_failure()

    assert f"row id={rows[2].pk} seq=3" in message and "last rows deleted" in message


def test_verify_notices_an_edited_chain_head() -> None:
    record(3)
    raw("UPDATE security_auditchainhead SET last_seq = 2")

    assert "chain head was edited" in verify_failure()


def test_rechaining_after_an_edit_without_the_key_is_still_found() -> None:
    """A forger who edits a row and recomputes every hash with a key of their own gains nothing."""
    rows = record(4)
    forged_key = os.urandom(32)
    prev = rows[0].hash
    with guard_off():
        for row in AuditEvent.objects.filter(seq__gte=2).order_by("seq").values():
            row.update(prev_hash=prev, action="forged" if row["seq"] == 2 else row["action"])
            row["hash"] = row_hash(row, forged_key)
            raw(
                "UPDATE security_auditevent SET action = %s, prev_hash = %s, hash = %s WHERE seq = %s",
                [row["action"], row["prev_hash"], row["hash"], row["seq"]],
            )
            prev = row["hash"]

    assert f"row id={rows[1].pk} seq=2" in verify_failure()


def test_rows_signed_with_an_earlier_key_still_verify_after_rotation(settings: Any) -> None:
    old = "old:" + base64.b64encode(os.urandom(32)).decode()
    new = "new:" + base64.b64encode(os.urandom(32)).decode()
    settings.LINLI_AUDIT_KEY = old
    record(2)
    settings.LINLI_AUDIT_KEY = f"{new},{old}"
    later = record(1)

    assert later[0].key_id == "new"
    assert audit_verify().ok
    settings.LINLI_AUDIT_KEY = new  # the old key dropped too early
    assert "not in LINLI_AUDIT_KEY" in verify_failure()


# --- concurrency -------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    for _ in range(3):
        run_in_threads(lambda: record(1)[0].seq, n=6)

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 19))
    assert audit_verify().ok


# --- retention (AUD-3) ------------------------------------------------------------------------------------
def test_prune_removes_only_rows_older_than_the_retention_and_reanchors_the_chain() -> None:
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=200), tick=False):
        old = record(3)
    with time_machine.travel(now - timedelta(days=179, hours=23), tick=False):
        young = record(2)

    result = audit_prune(now=now)

    assert result.deleted == 3
    left = list(AuditEvent.objects.order_by("seq").values_list("seq", "action"))
    assert left == [(4, "test.event"), (5, "test.event"), (6, "audit.prune")]
    head = AuditChainHead.objects.get()
    assert (head.genesis_seq, head.genesis_hash) == (3, old[-1].hash)
    assert young[0].prev_hash == old[-1].hash
    assert audit_verify().ok


def test_prune_keeps_everything_when_nothing_is_old_enough() -> None:
    record(3)

    with time_machine.travel(timezone.now() + timedelta(days=179), tick=False):
        assert audit_prune().deleted == 0
    assert AuditEvent.objects.count() == 3


def test_retention_shorter_than_180_days_is_refused(settings: Any) -> None:
    settings.LINLI_AUDIT_RETENTION_DAYS = 90

    with pytest.raises(ImproperlyConfigured, match="at least 180"):
        audit_prune()


def test_a_longer_retention_keeps_rows_longer(settings: Any) -> None:
    settings.LINLI_AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=200), tick=False):
        record(2)

    assert audit_prune(now=now).deleted == 0


def test_the_database_refuses_to_remove_young_rows_even_when_asked_to_prune() -> None:
    record(2)
    now = timezone.now()

    with pytest.raises(DatabaseError), transaction.atomic():
        if connection.vendor == "postgresql":
            raw("SELECT linli_audit_prune(0, 10, %s)", [now])
        else:
            with _prune_permitted(now + timedelta(days=1)):  # a buggy caller's cut-off
                raw("DELETE FROM security_auditevent")
    assert AuditEvent.objects.count() == 2


def test_prune_stops_at_a_broken_chain() -> None:
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=300), tick=False):
        record(3)
    with guard_off():
        raw("UPDATE security_auditevent SET action = 'edited' WHERE seq = 2")

    with pytest.raises(AuditChainBrokenError, match="seq=2"):
        audit_prune(now=now)
    assert AuditEvent.objects.count() == 3


def test_prune_runs_daily_from_the_scheduler_and_from_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    jobs = {job.name: job for job in periodic_jobs()}
    assert jobs["security.audit_prune"].every == timedelta(days=1)

    now = timezone.now()
    with time_machine.travel(now - timedelta(days=181), tick=False):
        record(2)
    call_command("prune_audit")

    assert "pruned 2 audit rows" in capsys.readouterr().out
    assert audit_verify().ok


def test_grants_sql_gives_the_app_role_no_update_delete_or_truncate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("audit_grants", "--print", "--role", "linli_app")
    sql = capsys.readouterr().out

    assert 'GRANT SELECT, INSERT ON TABLE security_auditevent TO "linli_app";' in sql
    granted = [line for line in sql.splitlines() if line.startswith("GRANT")]
    assert not any(
        word in line
        for line in granted
        for word in ("UPDATE ON TABLE security_auditevent", "DELETE", "TRUNCATE")
    )
    with pytest.raises(CommandError):
        call_command("audit_grants", "--role", "x; DROP TABLE y")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants are PostgreSQL's")
def test_on_postgresql_the_granted_app_role_cannot_update_or_delete() -> None:
    from linli.security.audit_guard import audit_grants_sql

    record(2)
    role = f"linli_app_test_{os.getpid()}"
    raw(f'CREATE ROLE "{role}" NOLOGIN')  # rolled back with the test's transaction
    raw(f'GRANT USAGE ON SCHEMA public TO "{role}"')
    raw(audit_grants_sql(role=role))
    raw(f'SET LOCAL ROLE "{role}"')
    for sql in ("UPDATE security_auditevent SET action = 'x'", "DELETE FROM security_auditevent"):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            raw(sql)
    raw("SELECT count(*) FROM security_auditevent")  # reading is allowed
    raw("RESET ROLE")
    assert AuditEvent.objects.count() == 2


# --- the key -----------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_production_refuses_to_start_without_an_audit_key_and_checks_a_malformed_one() -> None:
    from linli.core.tests.test_settings import _manage, production_env

    env = production_env()
    del env["LINLI_AUDIT_KEY"]
    missing = _manage("check", env=env)
    assert missing.returncode != 0 and "LINLI_AUDIT_KEY must be set in production" in missing.stderr

    short = _manage("check", env=production_env(LINLI_AUDIT_KEY="k1:" + base64.b64encode(b"short").decode()))
    assert short.returncode != 0 and "linli_security.E002" in short.stderr
