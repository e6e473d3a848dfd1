"""The audit trail's writer and checker (AUD-1, AUD-2): ``audit_record`` appends one hash-chained row;
``audit_verify`` walks the chain and names the first broken row.

Every audited action makes exactly one ``audit_record`` call. The actor's roles, the client IP and the
request id are taken here so callers cannot forget them: pass ``request`` when there is one; without it
the IP stays empty and the request id comes from the context variable of ``RequestIdMiddleware``. Never
put a personal-data value in ``data``: name the field (``{"field": "phone"}``), not its content.

The chain. Each row stores ``seq`` (1, 2, 3 ... with no gaps), ``prev_hash`` (the previous row's hash)
and ``hash = HMAC-SHA256(audit key, canonical(row))``, where ``canonical`` is compact, key-sorted JSON of
every column that means something (see ``canonical_bytes``). Appends lock the one ``AuditChainHead`` row
(``select_for_update``; SQLite's IMMEDIATE transactions serialise writers anyway), so two writers can
never link to the same predecessor: the chain cannot fork. The lock is held until the caller's
transaction commits, so audit at the end of a transaction, not at its start.

A keyed hash, not a plain one: whoever can write the table but does not hold ``LINLI_AUDIT_KEY`` cannot
forge a row or re-chain the rows after an edit. Rows name the key id they were signed with, so the key
can be rotated (put the new key first in ``LINLI_AUDIT_KEY`` and keep the old one after it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from linli.core.middleware import current_request_id
from linli.security.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditResult

logger = logging.getLogger("linli.security.audit")

CANONICAL_VERSION = 1
_KEY_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# (column, max length): values are cut to fit so PostgreSQL and SQLite store (and hash) the same text.
_TEXT_LIMITS = {
    "actor_label": 150,
    "role": 200,
    "action": 64,
    "result": 16,
    "object_type": 100,
    "object_id": 64,
    "request_id": 64,
}


class AuditKeyError(ImproperlyConfigured):
    """``LINLI_AUDIT_KEY`` is missing or malformed."""


@dataclass(frozen=True)
class AuditKeys:
    active_id: str
    keys: dict[str, bytes]


@cache
def _parse_keys(raw: str) -> AuditKeys:
    keys: dict[str, bytes] = {}
    active = ""
    for position, item in enumerate(part.strip() for part in raw.split(",") if part.strip()):
        key_id, sep, encoded = item.partition(":")
        if not sep:
            key_id, encoded = "default", item
        if not key_id or len(key_id) > 32 or not set(key_id) <= _KEY_ID_CHARS:
            raise AuditKeyError(f"LINLI_AUDIT_KEY: key id {key_id!r} must be 1-32 of A-Z a-z 0-9 _ -")
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_")
        except (binascii.Error, ValueError) as exc:
            raise AuditKeyError(f"LINLI_AUDIT_KEY: key {key_id!r} is not valid base64") from exc
        if len(key) < 32:
            raise AuditKeyError(f"LINLI_AUDIT_KEY: key {key_id!r} must be at least 32 random bytes")
        if key_id in keys:
            raise AuditKeyError(f"LINLI_AUDIT_KEY: key id {key_id!r} appears twice")
        keys[key_id] = key
        if position == 0:
            active = key_id
    if not keys:
        raise AuditKeyError("LINLI_AUDIT_KEY is empty")
    return AuditKeys(active_id=active, keys=keys)


def audit_keys() -> AuditKeys:
    """The configured audit keys; the first one signs new rows."""
    return _parse_keys(settings.LINLI_AUDIT_KEY)


# --- the canonical form -------------------------------------------------------------------------
def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's HMAC covers: every column except ``id`` (assigned by the database after the
    hash is computed; ``seq`` is the row's identity in the chain) and ``hash`` itself."""
    body = {
        "v": CANONICAL_VERSION,
        "seq": int(row["seq"]),
        "created_at": _utc_text(row["created_at"]),
        "actor_id": row["actor_id"],
        "actor_label": row["actor_label"],
        "role": row["role"],
        "ip": str(row["ip"]) if row["ip"] else None,
        "action": row["action"],
        "result": row["result"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "request_id": row["request_id"],
        "data": row["data"],
        "key_id": row["key_id"],
        "prev_hash": row["prev_hash"],
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def row_hash(row: Mapping[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical_bytes(row), hashlib.sha256).hexdigest()


def head_mac(head: AuditChainHead, key: bytes) -> str:
    text = f"head|{head.genesis_seq}|{head.genesis_hash}|{head.last_seq}|{head.last_hash}"
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def head_sign(head: AuditChainHead) -> None:
    keys = audit_keys()
    head.key_id = keys.active_id
    head.mac = head_mac(head, keys.keys[keys.active_id])
    head.updated_at = timezone.now()


# --- writing ------------------------------------------------------------------------------------
def _clean_text(value: Any, limit: int | None = None) -> str:
    text = "" if value is None else str(value).replace("\x00", "")  # PostgreSQL text refuses NUL
    return text[:limit] if limit else text


def _clean_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """JSON as it will read back from either database: tuples become lists, dates and other objects
    their text, NUL characters go. The hash is computed over exactly this."""
    text = json.dumps(data or {}, default=str, ensure_ascii=False).replace("\\u0000", "")
    cleaned = json.loads(text)
    return cleaned if isinstance(cleaned, dict) else {"value": cleaned}


def client_ip(request: HttpRequest | None) -> str | None:
    """The client IP as the sign-in code sees it (trusted proxies honoured), normalised, or None."""
    if request is None:
        return None
    try:
        from linli.security.signin import client_ip as signin_client_ip

        raw = signin_client_ip(request)
    except ImportError:  # pragma: no cover - the sign-in module is part of this app
        raw = request.META.get("REMOTE_ADDR")
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def _roles(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    from linli.accounts.scopes import user_roles

    return ",".join(sorted(user_roles(actor)))


def _head_for_update(using: str) -> AuditChainHead:
    head = AuditChainHead.objects.using(using).select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # No head: a fresh database (the migration makes one; a test flush removes it). Rebuild it from the
    # stored rows, if any, so the chain continues where it is.
    first = AuditEvent.objects.using(using).order_by("seq").values("seq", "prev_hash").first()
    last = AuditEvent.objects.using(using).order_by("-seq").values("seq", "hash").first()
    if first is not None:
        logger.warning("audit chain head was missing; rebuilt from rows %s..%s", first["seq"], last)
    head = AuditChainHead(
        pk=1,
        genesis_seq=first["seq"] - 1 if first else 0,
        genesis_hash=first["prev_hash"] if first else GENESIS_HASH,
        last_seq=last["seq"] if last else 0,
        last_hash=last["hash"] if last else GENESIS_HASH,
    )
    head_sign(head)
    AuditChainHead.objects.using(using).bulk_create([head], ignore_conflicts=True)  # a racing writer may win
    return AuditChainHead.objects.using(using).select_for_update().get(pk=1)


def audit_record(
    *,
    action: str,
    actor: Any,
    obj: models.Model | None,
    result: str,
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str = "",
    using: str = "default",
) -> AuditEvent:
    """Append one audit row. ``result`` is an ``AuditResult`` value; ``action`` a dotted name
    (``pii.reveal``). ``object_type``/``object_id`` name an object without loading it (``obj`` wins)."""
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    request_id = getattr(request, "request_id", None) or current_request_id()
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = str(obj.pk) if obj.pk is not None else ""
    row: dict[str, Any] = {
        "actor_id": actor.pk if authenticated else None,
        "actor_label": _clean_text(actor.get_username() if authenticated else "", 150),
        "role": _clean_text(_roles(actor), 200),
        "ip": client_ip(request),
        "action": _clean_text(action, 64),
        "result": _clean_text(result, 16),
        "object_type": _clean_text(object_type, 100),
        "object_id": _clean_text(object_id, 64),
        "request_id": "" if request_id == "-" else _clean_text(request_id, 64),
        "data": _clean_data(data),
    }
    keys = audit_keys()
    with transaction.atomic(using=using):
        head = _head_for_update(using)
        row.update(
            seq=head.last_seq + 1,
            created_at=timezone.now(),
            key_id=keys.active_id,
            prev_hash=head.last_hash,
        )
        row["hash"] = row_hash(row, keys.keys[keys.active_id])
        event = AuditEvent.objects.using(using).create(**row)
        head.last_seq, head.last_hash = row["seq"], row["hash"]
        head_sign(head)
        head.save(using=using, update_fields=["last_seq", "last_hash", "key_id", "mac", "updated_at"])
    if request is not None and result == AuditResult.DENIED:
        # The view audited its own refusal (with a more specific action): the generic denial hooks
        # (linli.security.denials) must not write a second row for the same request.
        request.linli_denial_audited = True  # type: ignore[attr-defined]
    return event


def audit_sensitive_read(
    *,
    viewer: Any,
    obj: models.Model,
    fields: Iterable[str] = (),
    purpose: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """One ``pii.read`` row for showing a personal record's detail (masked or not) to ``viewer``.
    Call it from detail views of personal records (a person, a household, a care-registry entry), once
    per page view; list pages are not audited row by row. Revealing a full value is ``pii_reveal``."""
    from linli.security.masking import mask_text

    return audit_record(
        action="pii.read",
        actor=viewer,
        obj=obj,
        result=AuditResult.OK,
        data={"fields": sorted(fields), "purpose": mask_text(purpose)[:200]},
        request=request,
    )


# --- verifying ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainBreak:
    """The first place the chain does not hold."""

    problem: str
    id: int | None = None
    seq: int | None = None
    created_at: datetime | None = None

    def describe(self) -> str:
        if self.id is None:
            return self.problem
        local = timezone.localtime(self.created_at) if self.created_at else None
        when = (
            f"{local:%Y-%m-%d %H:%M:%S%z} ({_utc_text(self.created_at)})"
            if local and self.created_at
            else "-"
        )
        return f"row id={self.id} seq={self.seq} time={when}: {self.problem}"


@dataclass(frozen=True)
class VerifyReport:
    rows: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str
    broken: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.broken is None


_VERIFY_COLUMNS = (
    "id", "seq", "created_at", "actor_id", "actor_label", "role", "ip", "action", "result",
    "object_type", "object_id", "request_id", "data", "key_id", "prev_hash", "hash",
)  # fmt: skip


def _rows(using: str, chunk: int, after_seq: int | None = None) -> Iterator[dict[str, Any]]:
    queryset = AuditEvent.objects.using(using).order_by("seq")
    if after_seq is not None:
        queryset = queryset.filter(seq__gt=after_seq)
    return queryset.values(*_VERIFY_COLUMNS).iterator(chunk_size=chunk)


def chain_check_row(row: Mapping[str, Any], *, expected_seq: int, expected_prev: str) -> ChainBreak | None:
    """Why ``row`` does not continue the chain at ``expected_seq`` after ``expected_prev``, or None."""

    def broken(problem: str) -> ChainBreak:
        return ChainBreak(problem, id=row["id"], seq=row["seq"], created_at=row["created_at"])

    keys = audit_keys().keys
    if row["seq"] > expected_seq:
        missing = f"{expected_seq}" if row["seq"] == expected_seq + 1 else f"{expected_seq}..{row['seq'] - 1}"
        return broken(f"row(s) seq {missing} missing before this row (deleted)")
    if row["seq"] < expected_seq:
        return broken(f"seq {row['seq']} precedes the chain's start {expected_seq} (head edited?)")
    if row["prev_hash"] != expected_prev:
        return broken(
            "prev_hash does not match the previous row's hash (rows reordered, inserted or deleted)"
        )
    key = keys.get(row["key_id"])
    if key is None:
        return broken(f"signed with key id {row['key_id']!r}, which is not in LINLI_AUDIT_KEY")
    if not hmac.compare_digest(row_hash(row, key), row["hash"]):
        return broken("content does not match its hash (row edited)")
    return None


def audit_verify(*, using: str = "default", chunk: int = 5000) -> VerifyReport:
    """Walk the whole chain in ``seq`` order; the report names the first broken row, if any."""
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    if head is None:
        head = AuditChainHead(pk=1)  # a database that never audited anything
        head_ok = not AuditEvent.objects.using(using).exists()
        if not head_ok:
            report_break: ChainBreak | None = ChainBreak("chain head row is missing while rows exist")
            return VerifyReport(0, None, None, "", report_break)
    else:
        key = audit_keys().keys.get(head.key_id)
        if key is None or not hmac.compare_digest(head_mac(head, key), head.mac):
            return VerifyReport(
                0, None, None, head.last_hash, ChainBreak("chain head was edited (MAC mismatch)")
            )
    expected_seq, expected_prev = head.genesis_seq + 1, head.genesis_hash
    count, first_seq, last_row = 0, None, None
    for row in _rows(using, chunk):
        broken = chain_check_row(row, expected_seq=expected_seq, expected_prev=expected_prev)
        if broken is not None:
            return VerifyReport(count, first_seq, expected_seq - 1, head.last_hash, broken)
        count += 1
        first_seq = row["seq"] if first_seq is None else first_seq
        expected_seq, expected_prev, last_row = row["seq"] + 1, row["hash"], row
    if head.last_seq != expected_seq - 1 or head.last_hash != expected_prev:
        problem = (
            f"the chain ends at seq {expected_seq - 1} but the head says {head.last_seq}: last rows deleted"
        )
        if last_row is not None:
            broken = ChainBreak(
                problem, id=last_row["id"], seq=last_row["seq"], created_at=last_row["created_at"]
            )
        else:
            broken = ChainBreak(problem)
        return VerifyReport(count, first_seq, expected_seq - 1, head.last_hash, broken)
    return VerifyReport(count, first_seq, expected_seq - 1 if count else None, head.last_hash, None)


def audit_head(*, using: str = "default") -> dict[str, Any]:
    """The chain's two ends, as stored (for backup manifests and external anchoring)."""
    head = AuditChainHead.objects.using(using).filter(pk=1).first()
    if head is None:
        return {"genesis_seq": 0, "genesis_hash": GENESIS_HASH, "last_seq": 0, "last_hash": GENESIS_HASH}
    return {
        "genesis_seq": head.genesis_seq,
        "genesis_hash": head.genesis_hash,
        "last_seq": head.last_seq,
        "last_hash": head.last_hash,
    }
