"""REL-7: backup -> restore into an empty database -> equal row counts and checksums; the audit chain
verifies on the restored copy. SQLite restores into a temporary file; PostgreSQL (when the run uses it)
into a temporary database ``linli_restore_<random>`` that the test creates and drops."""

from __future__ import annotations

import contextlib
import json
import secrets
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection, connections, transaction

from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.accounts.tests.factories import ResidentFactory
from linli.places.tests.factories import build_small_district
from linli.security.audit import audit_head, audit_record
from linli.security.backup import (
    BackupError,
    backup_create,
    pg_digest,
    pg_params,
    sqlite_digest,
    temporary_database,
)
from linli.security.models import AuditEvent, AuditResult
from linli.security.restore import backup_restore, manifest_compare

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


def populate() -> None:
    district = build_small_district()
    for i in range(3):
        person = ResidentFactory(phone=f"1391234{i:04d}")
        membership_grant(user=person, role=Role.RESIDENT, region_id=district.communities[i].id)
    for i in range(5):
        audit_record(action="test.event", actor=None, obj=None, result=AuditResult.OK, data={"i": i})


@contextlib.contextmanager
def empty_target(tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into, of the vendor this run uses; removed afterwards."""
    if connection.vendor == "sqlite":
        yield str(tmp_path / "restored.sqlite3")
        return
    import psycopg

    settings_dict = connection.settings_dict
    name = f"linli_restore_{secrets.token_hex(4)}"
    server = pg_params({**settings_dict, "NAME": "postgres"})
    with psycopg.connect(**server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    user = quote(settings_dict["USER"] or "", safe="")
    password = f":{quote(settings_dict['PASSWORD'], safe='')}" if settings_dict.get("PASSWORD") else ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    try:
        yield f"postgres://{user}{password}@{settings_dict['HOST'] or 'localhost'}{port}/{name}"
    finally:
        with psycopg.connect(**server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_an_empty_database_with_equal_counts_checksums_and_a_verified_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    populate()
    backup = backup_create(output_dir=tmp_path / "backups")

    for path in (backup.data_path, backup.manifest_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = backup.manifest
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["security_auditevent"]["rows"] == 5 + 3 * 1  # 5 events + 3 role grants
    assert manifest["audit_head"]["last_seq"] == 8
    assert manifest["tables"]["accounts_user"]["rows"] == 3
    # The backup's own row is written after the snapshot: the live trail has moved on, the backup has not.
    assert AuditEvent.objects.filter(action="backup.create").count() == 1

    with empty_target(tmp_path) as target:
        result = backup_restore(source=backup.data_path, target=target)

        assert result.ok, (result.differences, result.audit_problem)
        assert result.tables == len(manifest["tables"])
        assert result.rows == sum(t["rows"] for t in manifest["tables"].values())
        # The restored copy, read on its own: the audit chain verifies and the data is there.
        with temporary_database(_target_settings(target)) as alias:
            call_command("verify_audit", database=alias)
            assert AuditEvent.objects.using(alias).filter(action="test.event").count() == 5
            tables, head = _digest(alias)
        assert tables == manifest["tables"] and head == manifest["audit_head"]
        # A manifest that disagrees with the restored data is reported table by table.
        tampered = {**manifest, "tables": {**manifest["tables"], "accounts_user": {"rows": 4, "sha256": "x"}}}
        assert manifest_compare(tampered, tables, head) == ["table accounts_user: 3 rows, backup had 4"]
        # A second restore into the now non-empty database is refused.
        with pytest.raises(BackupError) as refused:
            backup_restore(source=backup.manifest_path, target=target)
        assert refused.value.code == "target_not_empty" and "--force" in refused.value.message

    assert "audit chain OK: 8 rows (seq 1..8)" in capsys.readouterr().out


def _target_settings(target: str) -> dict[str, Any]:
    if target.startswith("postgres"):
        from linli.settings import database_from_url

        return {**connection.settings_dict, **database_from_url(target), "TEST": {}}
    return {**connection.settings_dict, "NAME": target, "OPTIONS": {}, "TEST": {}}


def _digest(alias: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Counts, checksums and audit head of the restored copy, computed independently of the restore."""
    restored = connections[alias]
    restored.ensure_connection()
    if restored.vendor == "sqlite":
        # A plain connection: Django's converts declared types (bool, datetime) and would read differently.
        with contextlib.closing(sqlite3.connect(restored.settings_dict["NAME"])) as plain:
            tables = sqlite_digest(plain)
    else:
        with transaction.atomic(using=alias):
            tables = pg_digest(restored.connection)
    return tables, audit_head(using=alias)


def test_a_damaged_backup_file_is_refused_before_anything_is_restored(tmp_path: Path) -> None:
    data = tmp_path / "linli-backup-sqlite-x.sqlite3"
    data.write_bytes(b"SQLite format 3\x00 damaged in transit")
    manifest = {
        "format": 1,
        "vendor": "sqlite",
        "data_file": data.name,
        "data_sha256": "0" * 64,
        "tables": {},
    }
    (tmp_path / "linli-backup-sqlite-x.manifest.json").write_text(json.dumps(manifest))

    with pytest.raises(BackupError) as refused:
        backup_restore(source=data, target=str(tmp_path / "never.sqlite3"))

    assert refused.value.code == "data_corrupt"
    assert not (tmp_path / "never.sqlite3").exists()


def test_a_backup_inside_a_transaction_is_refused_on_sqlite(tmp_path: Path, db: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("pg_dump reads its own snapshot; only SQLite's backup shares the connection")
    with pytest.raises(BackupError, match="事务"):
        backup_create(output_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_manifest_is_a_clear_error(tmp_path: Path) -> None:
    stray = tmp_path / "linli-backup-x.sqlite3"
    stray.write_bytes(b"")

    with pytest.raises(BackupError, match="找不到备份清单"):
        backup_restore(source=stray, target=str(tmp_path / "t.sqlite3"))


@pytest.mark.django_db(transaction=True)
def test_the_backup_and_restore_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("backup", "--output", str(tmp_path / "out"))
    [data_file] = [p for p in (tmp_path / "out").iterdir() if not p.name.endswith(".manifest.json")]

    with empty_target(tmp_path) as target:
        call_command("restore", str(data_file), "--target", target)

    out = capsys.readouterr().out
    assert "backup written" in out and "row counts and checksums match the manifest" in out
