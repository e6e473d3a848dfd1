"""Restoring a backup and proving it (REL-7): ``backup_restore`` refuses a non-empty target unless
``force``, checks the data file against its manifest, restores (SQLite's backup API /
``pg_restore --single-transaction``), recomputes every table's count and checksum on the restored
database, compares them with the manifest and walks the audit chain there. See ``linli.security.backup``
for what a backup is."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connections

from linli.core.sqlite import SQLITE_ENGINES
from linli.security.audit import audit_record, audit_verify
from linli.security.backup import (
    MANIFEST_FORMAT,
    MANIFEST_SUFFIX,
    BackupError,
    audit_head_from,
    file_sha256,
    new_private_file,
    pg_digest,
    pg_env_and_dsn,
    pg_params,
    pg_tool,
    sqlite_digest,
    temporary_database,
)
from linli.security.models import AuditResult


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
    if file_sha256(data_path) != manifest["data_sha256"]:
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
    if base.get("ENGINE") not in SQLITE_ENGINES and target is None:
        raise BackupError("vendor_mismatch", "这是 SQLite 备份,请用 --target 指定恢复到的文件")
    name = str(target or base["NAME"])
    if name.startswith("postgres") or "mode=memory" in name or name == ":memory:":
        raise BackupError("target_invalid", "SQLite 备份只能恢复到一个数据库文件")
    template = base if base.get("ENGINE") in SQLITE_ENGINES else {}
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
        new_private_file(target)
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
    env, dsn = pg_env_and_dsn(params)
    arguments = [
        pg_tool("pg_restore"),
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
    if target_dict["ENGINE"] in SQLITE_ENGINES:
        with contextlib.closing(sqlite3.connect(target_dict["NAME"])) as conn:
            tables = sqlite_digest(conn)
            head = audit_head_from(conn.cursor()) if "security_auditchainhead" in tables else None
    else:
        import psycopg

        with psycopg.connect(**pg_params(target_dict)) as conn:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            tables = pg_digest(conn)
            with conn.cursor() as cursor:
                head = audit_head_from(cursor) if "security_auditchainhead" in tables else None
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
