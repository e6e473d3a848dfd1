"""Backups that can be proven restorable (REL-7): ``backup_create`` here, ``backup_restore`` in
``linli.security.restore``.

A backup is two files side by side, both mode 0600:

- ``linli-backup-<vendor>-<UTC time>-<random>.sqlite3`` (SQLite's online backup API from the live
  connection: one step, so one consistent snapshot even while others write under WAL) or ``.pgdump``
  (``pg_dump --format=custom`` run on a snapshot exported by our own REPEATABLE READ transaction);
- ``<same name>.manifest.json``: the data file's SHA-256, per table the row count and a SHA-256 over its
  rows in primary-key order, and the audit chain's head - all read from the same snapshot as the dump.

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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

from linli.security.audit import audit_record
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
    """The same for PostgreSQL, inside the caller's (snapshot) transaction. Each row is hashed in the
    server's own text form (``t::text``) under fixed output settings, so the result does not depend on
    the client's type adapters or the session's time zone; rows stream through a server-side cursor."""
    with conn.cursor() as cursor:
        for setting in (
            "SET LOCAL TimeZone = 'UTC'",
            "SET LOCAL DateStyle = 'ISO, YMD'",
            "SET LOCAL IntervalStyle = 'postgres'",
            "SET LOCAL extra_float_digits = 1",
            "SET LOCAL bytea_output = 'hex'",
        ):
            cursor.execute(setting)
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
        order = ", ".join(f"t.{_quote(c)}" for c in pk) if pk else "1"
        with conn.cursor(name=f"digest_{secrets.token_hex(4)}") as rows:
            rows.itersize = 2000
            rows.execute(f"SELECT t::text FROM {_quote(table)} AS t ORDER BY {order}")  # noqa: S608
            count, checksum = _digest_rows(iter(rows))
        out[table] = {"rows": count, "sha256": checksum}
    return out


def audit_head_from(cursor: Any) -> dict[str, Any] | None:
    cursor.execute(
        "SELECT genesis_seq, genesis_hash, last_seq, last_hash FROM security_auditchainhead WHERE id = 1"
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return {"genesis_seq": row[0], "genesis_hash": row[1], "last_seq": row[2], "last_hash": row[3]}


def file_sha256(path: Path) -> str:
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


def pg_env_and_dsn(params: dict[str, Any]) -> tuple[dict[str, str], str]:
    from psycopg.conninfo import make_conninfo

    env = dict(os.environ)
    if params.get("password"):
        env["PGPASSWORD"] = str(params["password"])  # not on the command line, where `ps` shows it
    dsn = make_conninfo(**{k: v for k, v in params.items() if k != "password"})
    return env, dsn


def pg_tool(name: str) -> str:
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
def new_private_file(path: Path) -> None:
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
    new_private_file(data_path)
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
        "data_sha256": file_sha256(data_path),
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
        head = audit_head_from(target.cursor()) if "security_auditchainhead" in tables else None
    finally:
        target.close()
    return tables, head


def _pg_backup(
    settings_dict: dict[str, Any], data_path: Path
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    import psycopg

    params = pg_params(settings_dict)
    env, dsn = pg_env_and_dsn(params)
    pg_dump = pg_tool("pg_dump")
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
            head = audit_head_from(cursor) if "security_auditchainhead" in tables else None
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
