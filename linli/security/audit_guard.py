"""The database refuses to change or remove audit rows (AUD-2), except old rows the prune job removes (AUD-3).

PostgreSQL: a row trigger ``security_auditevent_append_only`` raises on every UPDATE and DELETE - for the
table's owner too - unless the transaction has set ``linli.audit_prune = on`` and the row is older than
``AUDIT_FLOOR_DAYS`` by the database's own clock. Only the SECURITY DEFINER function
``linli_audit_prune(after_seq, upto_seq, cutoff)`` sets it, and it refuses a range holding any younger
row. The application role is granted INSERT and SELECT on the table and EXECUTE on that function, never
UPDATE, DELETE or TRUNCATE (``manage.py audit_grants --print``).

SQLite: a BEFORE UPDATE trigger raises always; a BEFORE DELETE trigger raises unless the application
function ``linli_audit_may_delete(created_at)`` returns 1, which it does only inside ``audit_prune`` (for
rows older than the cut-off) - or while the test runner flushes a test database. A connection that does
not have the function (the ``sqlite3`` shell) cannot delete at all. SQLite rebuilds a table for many
``ALTER TABLE`` migrations and the triggers go with the old table, so ``post_migrate`` reinstalls them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from linli.security.models import AuditChainHead, AuditEvent, AuditResult

AUDIT_FLOOR_DAYS = 180  # no setting can make the trail shorter than this (等保: six months)
TABLE = "security_auditevent"

PG_INSTALL = [
    f"""
CREATE OR REPLACE FUNCTION linli_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('linli.audit_prune', true) = 'on'
       AND OLD.created_at < now() - interval '{AUDIT_FLOOR_DAYS} days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '{TABLE} is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$
""",
    f"DROP TRIGGER IF EXISTS security_auditevent_append_only ON {TABLE}",
    f"""
CREATE TRIGGER security_auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
FOR EACH ROW EXECUTE FUNCTION linli_audit_append_only()
""",
    f"""
CREATE OR REPLACE FUNCTION linli_audit_prune(after_seq bigint, upto_seq bigint, cutoff timestamptz)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    floor_at timestamptz := LEAST(cutoff, now() - interval '{AUDIT_FLOOR_DAYS} days');
    young bigint;
    removed bigint;
BEGIN
    SELECT count(*) INTO young FROM {TABLE}
     WHERE seq > after_seq AND seq <= upto_seq AND created_at >= floor_at;
    IF young > 0 THEN
        RAISE EXCEPTION 'linli_audit_prune: % row(s) in seq (%, %] are younger than the retention floor',
            young, after_seq, upto_seq USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM set_config('linli.audit_prune', 'on', true);
    DELETE FROM {TABLE} WHERE seq > after_seq AND seq <= upto_seq;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('linli.audit_prune', 'off', true);
    RETURN removed;
END
$$
""",  # noqa: S608 - constants only, no user input
]
PG_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS security_auditevent_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS linli_audit_append_only()",
    "DROP FUNCTION IF EXISTS linli_audit_prune(bigint, bigint, timestamptz)",
]
SQLITE_INSTALL = [
    f"""
CREATE TRIGGER IF NOT EXISTS security_auditevent_no_update BEFORE UPDATE ON {TABLE}
BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END
""",
    f"""
CREATE TRIGGER IF NOT EXISTS security_auditevent_no_delete BEFORE DELETE ON {TABLE}
WHEN linli_audit_may_delete(OLD.created_at) IS NOT 1
BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END
""",
]
SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS security_auditevent_no_update",
    "DROP TRIGGER IF EXISTS security_auditevent_no_delete",
]


def audit_guard_install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the triggers on ``connection``'s database; idempotent."""
    statements = {"postgresql": PG_INSTALL, "sqlite": SQLITE_INSTALL}.get(connection.vendor, [])
    if not statements or TABLE not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def audit_guard_uninstall(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": PG_UNINSTALL, "sqlite": SQLITE_UNINSTALL}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def audit_guard_installed(connection: BaseDatabaseWrapper) -> bool | None:
    """True when the append-only triggers exist (None: a database vendor without them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN (%s, %s)",
                ["security_auditevent_no_update", "security_auditevent_no_delete"],
            )
            return bool(cursor.fetchone()[0] == 2)
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = %s AND tgenabled <> 'D'",
                ["security_auditevent_append_only"],
            )
            return bool(cursor.fetchone()[0] == 1)
    return None


# --- SQLite: the application function the delete trigger asks ----------------------------------
_FLUSH = "flush"
# None: deleting is refused. A datetime (naive UTC): rows created before it may go. _FLUSH: all may go.
_delete_permit: ContextVar[datetime | str | None] = ContextVar("linli_audit_delete_permit", default=None)


def _may_delete(created_at: Any) -> int:
    permit = _delete_permit.get()
    if permit is None:
        return 0
    if permit == _FLUSH:
        return 1
    try:
        created = datetime.fromisoformat(str(created_at))
    except ValueError:
        return 0
    if created.tzinfo is not None:
        created = created.astimezone(UTC).replace(tzinfo=None)
    # The floor holds whatever cut-off the caller passed, as the PostgreSQL trigger's does.
    floor = (timezone.now() - timedelta(days=AUDIT_FLOOR_DAYS)).astimezone(UTC).replace(tzinfo=None)
    return int(isinstance(permit, datetime) and created < min(permit, floor))


def sqlite_register_functions(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created`` receiver: give every SQLite connection the trigger's function."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("linli_audit_may_delete", 1, _may_delete)


@contextlib.contextmanager
def audit_flush_permitted() -> Iterator[None]:
    """Lets ``manage.py flush`` empty the table on SQLite (the test runner flushes between transactional
    tests). PostgreSQL flushes with TRUNCATE, which the row trigger does not see."""
    token = _delete_permit.set(_FLUSH)
    try:
        yield
    finally:
        _delete_permit.reset(token)


@contextlib.contextmanager
def _prune_permitted(cutoff: datetime) -> Iterator[None]:
    token = _delete_permit.set(cutoff.astimezone(UTC).replace(tzinfo=None))
    try:
        yield
    finally:
        _delete_permit.reset(token)


# --- pruning (AUD-3) ------------------------------------------------------------------------------
class AuditChainBrokenError(Exception):
    """Pruning stops rather than delete rows whose chain does not verify: they may be evidence."""


@dataclass(frozen=True)
class PruneResult:
    deleted: int
    cutoff: datetime
    genesis_seq: int


def audit_retention_days() -> int:
    days = int(settings.LINLI_AUDIT_RETENTION_DAYS)
    if days < AUDIT_FLOOR_DAYS:
        raise ImproperlyConfigured(
            f"LINLI_AUDIT_RETENTION_DAYS must be at least {AUDIT_FLOOR_DAYS}, got {days}"
        )
    return days


def _delete_range(using: str, after_seq: int, upto_seq: int, cutoff: datetime) -> int:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT linli_audit_prune(%s, %s, %s)", [after_seq, upto_seq, cutoff])
            return int(cursor.fetchone()[0])
    rows = AuditEvent.objects.using(using).filter(seq__gt=after_seq, seq__lte=upto_seq, created_at__lt=cutoff)
    with _prune_permitted(cutoff):
        # The base QuerySet's raw delete: AuditQuerySet refuses it everywhere else.
        return int(models.QuerySet._raw_delete(rows, using))


def audit_prune(*, now: datetime | None = None, batch: int = 5000, using: str = "default") -> PruneResult:
    """Delete the oldest rows, up to the first row younger than the retention period, in chain order,
    and re-anchor the chain on the last deleted row's hash. Never touches a row younger than
    ``LINLI_AUDIT_RETENTION_DAYS`` (≥ 180); stops at a break in the chain. One transaction per batch."""
    from linli.security.audit import audit_record, chain_check_row, head_sign

    now = now or timezone.now()
    cutoff = now - timedelta(days=audit_retention_days())
    deleted = 0
    while True:
        with transaction.atomic(using=using):
            head = AuditChainHead.objects.using(using).select_for_update().filter(pk=1).first()
            if head is None:
                break
            young = (
                AuditEvent.objects.using(using)
                .filter(seq__gt=head.genesis_seq, created_at__gte=cutoff)
                .order_by("seq")
                .values_list("seq", flat=True)
                .first()
            )
            candidates = AuditEvent.objects.using(using).filter(
                seq__gt=head.genesis_seq, created_at__lt=cutoff
            )
            if young is not None:
                candidates = candidates.filter(seq__lt=young)
            rows = list(
                candidates.order_by("seq").values(
                    "id", "seq", "created_at", "actor_id", "actor_label", "role", "ip", "action", "result",
                    "object_type", "object_id", "request_id", "data", "key_id", "prev_hash", "hash",
                )[:batch]
            )  # fmt: skip
            if not rows:
                break
            expected_seq, expected_prev = head.genesis_seq + 1, head.genesis_hash
            for row in rows:
                broken = chain_check_row(row, expected_seq=expected_seq, expected_prev=expected_prev)
                if broken is not None:
                    raise AuditChainBrokenError(f"not pruning: {broken.describe()}")
                expected_seq, expected_prev = row["seq"] + 1, row["hash"]
            last = rows[-1]
            removed = _delete_range(using, head.genesis_seq, last["seq"], cutoff)
            if removed != len(rows):
                raise AuditChainBrokenError(
                    f"expected to prune {len(rows)} rows, the database removed {removed}"
                )
            head.genesis_seq, head.genesis_hash = last["seq"], last["hash"]
            head_sign(head)
            head.save(
                using=using, update_fields=["genesis_seq", "genesis_hash", "key_id", "mac", "updated_at"]
            )
            deleted += removed
    genesis = AuditChainHead.objects.using(using).filter(pk=1).values_list("genesis_seq", flat=True).first()
    if deleted:
        audit_record(
            action="audit.prune",
            actor=None,
            obj=None,
            result=AuditResult.OK,
            data={"deleted": deleted, "cutoff": cutoff.isoformat(), "genesis_seq": genesis},
        )
    return PruneResult(deleted=deleted, cutoff=cutoff, genesis_seq=genesis or 0)


def audit_grants_sql(*, role: str) -> str:
    """PostgreSQL statements giving the application role append-only access to the trail."""
    quoted = '"' + role.replace('"', '""') + '"'
    return "\n".join(
        [
            "-- linli: the application role reads and appends the audit trail; it never updates, deletes",
            "-- or truncates it (AUD-2). Run as the tables' owner after `manage.py migrate`.",
            f"REVOKE ALL ON TABLE {TABLE} FROM {quoted};",
            f"GRANT SELECT, INSERT ON TABLE {TABLE} TO {quoted};",
            f"GRANT USAGE, SELECT ON SEQUENCE {TABLE}_id_seq TO {quoted};",
            "-- The chain head is updated on every append; it is never deleted.",
            f"REVOKE ALL ON TABLE security_auditchainhead FROM {quoted};",
            f"GRANT SELECT, INSERT, UPDATE ON TABLE security_auditchainhead TO {quoted};",
            "-- Pruning goes through the one function that refuses rows younger than 180 days.",
            "REVOKE ALL ON FUNCTION linli_audit_prune(bigint, bigint, timestamptz) FROM PUBLIC;",
            f"GRANT EXECUTE ON FUNCTION linli_audit_prune(bigint, bigint, timestamptz) TO {quoted};",
        ]
    )
