"""Key rotation over every encrypted column and blind index (``manage.py rotate_keys``).

Re-encryption picks the rows whose ciphertext does not start with the active ``<algorithm>.<key id>.``,
in primary-key order, ``batch`` rows per transaction with the rows locked. A row once rotated no longer
matches, so the job is idempotent and resumes where an interrupted run stopped. ``updated_at`` is not
touched: the data did not change.

Re-indexing (after ``LINLI_BLIND_INDEX_KEY`` changed, with the old key in
``LINLI_BLIND_INDEX_KEY_PREVIOUS`` so lookups keep working meanwhile) recomputes every blind index from
its decrypted source and writes the ones that differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models.functions import Cast

from linli.security import crypto
from linli.security.fields import BlindIndexField, EncryptedTextField


@dataclass
class RotationResult:
    label: str  # "accounts.User.phone"
    changed: int = 0
    failed: list[str] = field(default_factory=list)  # "pk=12: reason"


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedTextField]]:
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, EncryptedTextField):
                yield model, f


def blind_index_fields() -> Iterator[tuple[type[models.Model], BlindIndexField]]:
    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, BlindIndexField):
                yield model, f


def _stale_ciphertexts(model: type[models.Model], f: EncryptedTextField) -> models.QuerySet[models.Model]:
    # Cast to a plain TextField: the annotation is the raw ciphertext, not decrypted by the field.
    return (
        model._default_manager.annotate(_raw=Cast(f.attname, output_field=models.TextField()))
        .filter(_raw__isnull=False)
        .exclude(_raw="")
        .exclude(_raw__startswith=crypto.keyring().active_prefix)
    )


def ciphertexts_pending() -> dict[str, int]:
    """How many values per column are not yet under the active key and algorithm."""
    return {
        f"{model._meta.label}.{f.name}": _stale_ciphertexts(model, f).count()
        for model, f in encrypted_fields()
    }


def ciphertexts_rotate(
    *, batch: int = 1000, progress: Callable[[str, int], None] | None = None
) -> list[RotationResult]:
    """Re-encrypt every value not under the active key/algorithm; returns per-column counts and failures."""
    results = []
    for model, f in encrypted_fields():
        result = RotationResult(f"{model._meta.label}.{f.name}")
        last_pk = None
        while True:
            with transaction.atomic():
                qs = _stale_ciphertexts(model, f).select_for_update().order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                rows = list(qs.values_list("pk", "_raw")[:batch])
                for pk, raw in rows:
                    try:
                        plaintext = crypto.decrypt(raw, context=f.crypto_context)
                    except crypto.CryptoError as exc:
                        result.failed.append(f"pk={pk}: {exc}")
                        continue
                    fresh = crypto.encrypt(plaintext, context=f.crypto_context)
                    model._default_manager.filter(pk=pk).update(
                        **{f.attname: models.Value(fresh, output_field=models.TextField())}
                    )
                    result.changed += 1
            if not rows:
                break
            last_pk = rows[-1][0]
            if progress is not None:
                progress(result.label, result.changed)
        results.append(result)
    return results


def blind_indexes_rebuild(
    *, batch: int = 1000, progress: Callable[[str, int], None] | None = None
) -> list[RotationResult]:
    """Recompute every blind index with the current key; writes only the values that change."""
    results = []
    for model, f in blind_index_fields():
        result = RotationResult(f"{model._meta.label}.{f.name}")
        last_pk = None
        source_field = model._meta.get_field(f.source)
        context = source_field.crypto_context if isinstance(source_field, EncryptedTextField) else None
        while True:
            with transaction.atomic():
                qs = (
                    model._default_manager.select_for_update()
                    .order_by("pk")
                    .annotate(_raw=Cast(f.source, output_field=models.TextField()))
                )
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                rows = list(qs.values_list("pk", "_raw", f.attname)[:batch])
                for pk, raw, current in rows:
                    try:
                        source = crypto.decrypt(raw, context=context) if context and raw else raw
                    except crypto.CryptoError as exc:
                        result.failed.append(f"pk={pk}: {exc}")
                        continue
                    wanted = crypto.blind_index(f.kind, source) if source else ""
                    if wanted != current:
                        model._default_manager.filter(pk=pk).update(**{f.attname: wanted})
                        result.changed += 1
            if not rows:
                break
            last_pk = rows[-1][0]
            if progress is not None:
                progress(result.label, result.changed)
        results.append(result)
    return results
