"""Backups that can be proven restorable (REL-7): ``backup_create`` and ``backup_restore``.

A backup is two files side by side, both mode 0600:

- ``linli-backup-<vendor>-<UTC time>-<random>.sqlite3`` (SQLite's online backup API from the live
  connection: one step, so one consistent snapshot even while others write under WAL) or ``.pgdump``
  (``pg_dump --format=custom`` run on a snapshot exported by our own REPEATABLE READ transaction);
- ``<same name>.manifest.json``: the data file's SHA-256, per table the row count and a SHA-256 over its
  rows in primary-key order, and the audit chain's head - all read from the same snapshot as the dump.

``backup_restore`` refuses a non-empty target unless ``force``, checks the data file against its
manifest, restores (SQLite backup API / ``pg_restore --single-transaction``), then recomputes every
table's count and checksum on the restored database, compares them with the manifest and walks the
audit chain there. Anything that differs is reported and the restore counts as failed.

The dump holds personal data only as ciphertext (PI-1), but the keys are in the environment: keep backups
and keys apart. Backups are not encrypted by this module; put them on an encrypted volume (see
docs/security.md, "Backups").
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from linli.security.audit import audit_record, audit_verify
from linli.security.models import AuditResult

MANIFEST_FORMAT = 1
MANIFEST_SUFFIX = ".manifest.json"
_PG_DJANGO_OPTIONS = {"isolation_level", "assume_role", "server_side_binding", "pool", "prepare_threshold"}


class BackupError(Exception):
    """A refused or failed backup or restore; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class BackupResult:
    data_path: Path
    manifest_path: Path
    manifest: dict[str, Any]


@dataclass
class RestoreResult:
    target: str
    tables: int
    rows: int
    differences: list[str] = field(default_factory=list)
    audit_ok: bool = False
    audit_problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.differences and self.audit_ok


# --- checksums --------------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _digest_rows(rows: Iterator[tuple[Any, ...]]) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    for row in rows:
        digest.update(("\x1f".join(_cell(v) for v in row) + "\x1e").encode("utf-8", "surrogatepass"))
        count += 1
    return count, digest.hexdigest()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _order_by(pk: list[str], column_count: int) -> str:
    return ", ".join(_quote(c) for c in pk) if pk else ", ".join(str(i + 1) for i in range(column_count))


def sqlite_digest(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Per table: row count and SHA-256 of its rows in primary-key order."""
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    out: dict[str, dict[str, Any]] = {}
    for table in tables:
        info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
        pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        cursor = conn.execute(f"SELECT * FROM {_quote(table)} ORDER BY {_order_by(pk, len(info))}")  # noqa: S608
        count, checksum = _digest_rows(iter(cursor))
        out[table] = {"rows": count, "sha256": checksum}
    return out


def pg_digest(conn: Any) -> dict[str, dict[str, Any]]:
    """The same for PostgreSQL, inside the caller's (snapshot) transaction; rows stream through a
    server-side cursor so a large table never sits in memory."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        )
        tables = [r[0] for r in cursor.fetchall()]
    out: dict[str, dict[str, Any]] = {}
    for table in tables:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)",
                [_quote(table)],
            )
            pk = [r[0] for r in cursor.fetchall()]
            cursor.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s",
                [table],
            )
            columns = cursor.fetchone()[0]
        with conn.cursor(name=f"digest_{secrets.token_hex(4)}") as rows:
            rows.itersize = 2000
            rows.execute(f"SELECT * FROM {_quote(table)} ORDER BY {_order_by(pk, columns)}")  # noqa: S608
            count, checksum = _digest_rows(iter(rows))
        out[table] = {"rows": count, "sha256": checksum}
    return out


def _audit_head_from(cursor: Any) -> dict[str, Any] | None:
    cursor.execute(
        "SELECT genesis_seq, genesis_hash, last_seq, last_hash FROM security_auditchainhead WHERE id = 1"
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return {"genesis_seq": row[0], "genesis_hash": row[1], "last_seq": row[2], "last_hash": row[3]}


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- connections --------------------------------------------------------------------------------------
def pg_params(settings_dict: dict[str, Any]) -> dict[str, Any]:
    """psycopg connection parameters (and the libpq ones pg_dump reads) from a DATABASES entry."""
    params = {
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": str(settings_dict.get("PORT") or "") or None,
    }
    extra = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if k not in _PG_DJANGO_OPTIONS}
    return {k: v for k, v in {**params, **extra}.items() if v is not None}


def _pg_env_and_dsn(params: dict[str, Any]) -> tuple[dict[str, str], str]:
    from psycopg.conninfo import make_conninfo

    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])  # not on the command line, where `ps` shows it
    dsn = make_conninfo(**{k: v for k, v in params.items() if k != "password"})
    return env, dsn


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            "tool_missing", f"{name} 不在 PATH 中:请安装 PostgreSQL 客户端工具(postgresql-client)"
        )
    return path


@contextlib.contextmanager
def temporary_database(settings_dict: dict[str, Any]) -> Iterator[str]:
    """A Django connection alias for another database (a restored copy), removed afterwards."""
    from django.db.utils import load_backend

    alias = f"restore_{secrets.token_hex(4)}"
    configured = connections.configure_settings({"default": dict(settings_dict)})["default"]
    # Installed as a connection, not as a DATABASES entry: nothing iterating the configured databases
    # (migrate, the test runner) sees it.
    wrapper = load_backend(configured["ENGINE"]).DatabaseWrapper(configured, alias)
    connections[alias] = wrapper
    try:
        yield alias
    finally:
        wrapper.close()
        del connections[alias]


# --- backup -------------------------------------------------------------------------------------------
def _new_private_file(path: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(manifest, out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")


def backup_create(*, output_dir: Path | None = None, using: str = "default") -> BackupResult:
    """Write a backup of database ``using`` and its manifest into ``output_dir``; audited."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError("vendor_unsupported", f"不支持备份 {vendor} 数据库")
    directory = Path(output_dir or settings.LINLI_BACKUP_DIR)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    stem = f"linli-backup-{vendor}-{stamp}-{secrets.token_hex(3)}"
    data_path = directory / (stem + (".sqlite3" if vendor == "sqlite" else ".pgdump"))
    _new_private_file(data_path)
    try:
        if vendor == "sqlite":
            tables, head = _sqlite_backup(connection, data_path)
        else:
            tables, head = _pg_backup(connection.settings_dict, data_path)
    except BaseException:
        data_path.unlink(missing_ok=True)
        raise
    manifest = {
        "format": MANIFEST_FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "vendor": vendor,
        "data_file": data_path.name,
        "data_sha256": _file_sha256(data_path),
        "data_bytes": data_path.stat().st_size,
        "tables": tables,
        "audit_head": head,
    }
    manifest_path = directory / (stem + MANIFEST_SUFFIX)
    _write_manifest(manifest_path, manifest)
    audit_record(
        action="backup.create",
        actor=None,
        obj=None,
        result=AuditResult.OK,
        data={"file": data_path.name, "sha256": manifest["data_sha256"], "tables": len(tables)},
    )
    return BackupResult(data_path=data_path, manifest_path=manifest_path, manifest=manifest)


def _sqlite_backup(connection: Any, data_path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    if connection.in_atomic_block:
        # SQLite's backup would wait for this very connection's open transaction to end: forever.
        raise BackupError("in_transaction", "不能在事务中备份 SQLite 数据库")
    connection.ensure_connection()
    target = sqlite3.connect(data_path)
    try:
        # pages=-1: the whole database in one step, i.e. one read transaction, one consistent snapshot.
        connection.connection.backup(target, pages=-1)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        tables = sqlite_digest(target)
        head = _audit_head_from(target.cursor()) if "security_auditchainhead" in tables else None
    finally:
        target.close()
    return tables, head


def _pg_backup(
    settings_dict: dict[str, Any], data_path: Path
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    import psycopg

    params = pg_params(settings_dict)
    env, dsn = _pg_env_and_dsn(params)
    pg_dump = _pg_tool("pg_dump")
    with psycopg.connect(**params) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            exported = cursor.fetchone()
            assert exported is not None
            snapshot = exported[0]
            # The manifest reads the same snapshot pg_dump dumps, while this transaction keeps it alive.
            tables = pg_digest(conn)
            head = _audit_head_from(cursor) if "security_auditchainhead" in tables else None
        done = subprocess.run(  # noqa: S603 - fixed tool path, arguments are not shell-parsed
            [
                pg_dump,
                "--format=custom",
                f"--snapshot={snapshot}",
                "--no-password",
                f"--file={data_path}",
                dsn,
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        conn.rollback()
    if done.returncode != 0:
        raise BackupError("pg_dump_failed", f"pg_dump 失败:{done.stderr.strip()[:500]}")
    return tables, head


# --- restore ------------------------------------------------------------------------------------------
def manifest_load(path: Path) -> tuple[dict[str, Any], Path]:
    """The manifest and the data file for ``path`` (either of the two files of a backup)."""
    path = Path(path)
    manifest_path = (
        path if path.name.endswith(MANIFEST_SUFFIX) else path.with_name(path.stem + MANIFEST_SUFFIX)
    )
    if not manifest_path.exists():
        raise BackupError("manifest_missing", f"找不到备份清单 {manifest_path.name}(应与备份文件放在一起)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError("manifest_invalid", f"备份清单无法读取:{exc}") from exc
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError("manifest_format", "备份清单格式版本不支持")
    data_path = manifest_path.with_name(str(manifest["data_file"]))
    if not data_path.exists():
        raise BackupError("data_missing", f"找不到备份文件 {data_path.name}")
    return manifest, data_path


def manifest_compare(
    expected: dict[str, Any], tables: dict[str, Any], head: dict[str, Any] | None
) -> list[str]:
    """Differences between a manifest and a restored database's tables and audit head."""
    problems = []
    want, got = expected["tables"], tables
    for name in sorted(set(want) | set(got)):
        if name not in got:
            problems.append(f"table {name}: missing after restore")
        elif name not in want:
            problems.append(f"table {name}: not in the backup")
        elif want[name]["rows"] != got[name]["rows"]:
            problems.append(f"table {name}: {got[name]['rows']} rows, backup had {want[name]['rows']}")
        elif want[name]["sha256"] != got[name]["sha256"]:
            problems.append(f"table {name}: checksum differs from the backup's")
    if expected.get("audit_head") != head:
        problems.append("audit chain head differs from the backup's")
    return problems


def backup_restore(
    *, source: Path, target: str | None = None, force: bool = False, using: str = "default"
) -> RestoreResult:
    """Restore a backup into ``target`` (a SQLite path or a postgres:// URL; default: database
    ``using``), then prove it: counts, checksums and the audit chain."""
    manifest, data_path = manifest_load(source)
    if _file_sha256(data_path) != manifest["data_sha256"]:
        raise BackupError("data_corrupt", "备份文件的校验和与清单不符(文件损坏或被改动),未恢复")
    base = dict(connections[using].settings_dict)
    vendor = manifest["vendor"]
    if vendor == "sqlite":
        target_dict = _sqlite_target(base, target)
        _sqlite_restore(data_path, Path(target_dict["NAME"]), force=force)
    elif vendor == "postgresql":
        target_dict = _pg_target(base, target)
        _pg_restore(data_path, target_dict, force=force)
    else:
        raise BackupError("vendor_unsupported", f"不支持恢复 {vendor} 备份")
    result = _restore_check(manifest, target_dict)
    if target is None:
        audit_record(
            action="backup.restore",
            actor=None,
            obj=None,
            result=AuditResult.OK if result.ok else AuditResult.FAILED,
            data={
                "file": data_path.name,
                "differences": len(result.differences),
                "audit_ok": result.audit_ok,
            },
            using=using,
        )
    return result


def _sqlite_target(base: dict[str, Any], target: str | None) -> dict[str, Any]:
    if base.get("ENGINE") != "django.db.backends.sqlite3" and target is None:
        raise BackupError("vendor_mismatch", "这是 SQLite 备份,请用 --target 指定恢复到的文件")
    name = str(target or base["NAME"])
    if name.startswith("postgres") or "mode=memory" in name or name == ":memory:":
        raise BackupError("target_invalid", "SQLite 备份只能恢复到一个数据库文件")
    template = base if base.get("ENGINE") == "django.db.backends.sqlite3" else {}
    return {
        **template,
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {k: v for k, v in (template.get("OPTIONS") or {}).items() if k != "init_command"},
        "TEST": {},
    }


def _sqlite_restore(data_path: Path, target: Path, *, force: bool) -> None:
    if target.exists() and target.stat().st_size > 0:
        with contextlib.closing(sqlite3.connect(target)) as probe:
            tables = probe.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables and not force:
            raise BackupError("target_not_empty", f"目标数据库 {target} 不是空的;确认要覆盖请加 --force")
    elif not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _new_private_file(target)
    with (
        contextlib.closing(sqlite3.connect(f"file:{data_path}?mode=ro", uri=True)) as source,
        contextlib.closing(sqlite3.connect(target)) as destination,
    ):
        source.backup(destination, pages=-1)  # replaces the whole target, through its own journal/WAL


def _pg_target(base: dict[str, Any], target: str | None) -> dict[str, Any]:
    from linli.settings import database_from_url

    if target is None:
        if base.get("ENGINE") != "django.db.backends.postgresql":
            raise BackupError(
                "vendor_mismatch", "这是 PostgreSQL 备份,请用 --target postgres://... 指定目标库"
            )
        return {**base, "TEST": {}}
    parsed = database_from_url(target)
    template = base if base.get("ENGINE") == "django.db.backends.postgresql" else {}
    return {**template, **parsed, "TEST": {}}


def _pg_restore(data_path: Path, target_dict: dict[str, Any], *, force: bool) -> None:
    import psycopg

    params = pg_params(target_dict)
    with psycopg.connect(**params, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()
    if row is not None and row[0] and not force:
        raise BackupError(
            "target_not_empty", f"目标数据库 {params['dbname']} 不是空的;确认要覆盖请加 --force"
        )
    env, dsn = _pg_env_and_dsn(params)
    arguments = [
        _pg_tool("pg_restore"),
        "--no-owner",
        "--exit-on-error",
        "--single-transaction",
        "--no-password",
    ]
    if force:
        arguments += ["--clean", "--if-exists"]
    done = subprocess.run(  # noqa: S603 - fixed tool path, arguments are not shell-parsed
        [*arguments, f"--dbname={dsn}", str(data_path)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError("pg_restore_failed", f"pg_restore 失败(目标库未改动):{done.stderr.strip()[:500]}")


def _restore_check(manifest: dict[str, Any], target_dict: dict[str, Any]) -> RestoreResult:
    if target_dict["ENGINE"] == "django.db.backends.sqlite3":
        with contextlib.closing(sqlite3.connect(target_dict["NAME"])) as conn:
            tables = sqlite_digest(conn)
            head = _audit_head_from(conn.cursor()) if "security_auditchainhead" in tables else None
    else:
        import psycopg

        with psycopg.connect(**pg_params(target_dict)) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            tables = pg_digest(conn)
            with conn.cursor() as cursor:
                head = _audit_head_from(cursor) if "security_auditchainhead" in tables else None
            conn.rollback()
    result = RestoreResult(
        target=str(target_dict["NAME"]),
        tables=len(tables),
        rows=sum(t["rows"] for t in tables.values()),
        differences=manifest_compare(manifest, tables, head),
    )
    with temporary_database(target_dict) as alias:
        report = audit_verify(using=alias)
    result.audit_ok = report.ok
    result.audit_problem = report.broken.describe() if report.broken else ""
    return result
