"""Open311 API keys: issue (raw key returned once), authenticate (hash lookup), revoke."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.utils import timezone

from linli.integrations.models import Open311Client

KEY_PREFIX = "o311_"


def key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    client: Open311Client
    raw_key: str  # shown to the admin once; never stored


def key_new() -> tuple[str, str, str]:
    """(raw key, its hash, its display prefix)."""
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    return raw, key_hash(raw), raw[:12]


def open311_client_issue(*, name: str, note: str = "") -> IssuedKey:
    raw, digest, prefix = key_new()
    client = Open311Client.objects.create(
        name=name.strip()[:100], note=note[:200], key_hash=digest, key_prefix=prefix
    )
    return IssuedKey(client=client, raw_key=raw)


def open311_client_rekey(*, client: Open311Client) -> str:
    """A new key for an existing client (the old one stops working at once)."""
    raw, digest, prefix = key_new()
    Open311Client.objects.filter(pk=client.pk).update(key_hash=digest, key_prefix=prefix)
    client.key_hash, client.key_prefix = digest, prefix
    return raw


def open311_client_authenticate(raw: str) -> Open311Client | None:
    if not raw or len(raw) > 200:
        return None
    client = Open311Client.objects.filter(key_hash=key_hash(raw), is_active=True).first()
    if client is not None:
        now = timezone.now()
        # At most one write a minute per client: a busy client must not serialise on its own row.
        if client.last_used_at is None or (now - client.last_used_at).total_seconds() > 60:
            Open311Client.objects.filter(pk=client.pk).update(last_used_at=now)
    return client
