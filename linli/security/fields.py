"""Model fields for personal data: an encrypted text column and its blind index.

Usage::

    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")

    User.objects.filter(phone_index__matches="13812345678")      # exact lookup, current + previous key
    User.objects.filter(phone_index=blind_index("phone", value))  # the same, current key only

The plaintext lives only in Python objects. The database holds ``<algorithm>.<key id>.<base64>``; the
empty string stays empty (so "has a phone" stays a cheap query) and ``None`` stays NULL. Encrypted
columns support no value lookups (a random nonce makes equal values differ): filtering on one raises a
``FieldError`` that names the blind index instead of silently matching nothing.

The blind index is recomputed from its source on every ``save()`` (like ``auto_now``). Two things skip
``save()`` and must set it themselves: ``QuerySet.update()`` and ``bulk_update()``; and
``save(update_fields=[...])`` must list the index together with its source.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Exact, In, IsNull

from linli.security import crypto


class EncryptedTextField(models.TextField):
    description = "Text encrypted at rest (SM4-GCM or AES-256-GCM, key id in the value)"

    @property
    def crypto_context(self) -> str:
        """The associated data: a ciphertext only decrypts in the column it was written to."""
        return f"{self.model._meta.db_table}.{self.column}"

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value, context=self.crypto_context)

    def to_python(self, value: Any) -> Any:
        # Deserialisation (loaddata) hands back what value_to_string wrote: a ciphertext of this column.
        # Services validate phone and ID input before it reaches a model, so user input never looks like one.
        if isinstance(value, str) and crypto.is_ciphertext(value):
            return crypto.decrypt(value, context=self.crypto_context)
        return super().to_python(value)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value), context=self.crypto_context)

    def value_to_string(self, obj: models.Model) -> str:
        # dumpdata writes ciphertext, never the plaintext (PI-1 holds for fixtures and JSON dumps too).
        value = self.value_from_object(obj)
        if value is None or value == "":
            return "" if value is None else str(value)
        return crypto.encrypt(str(value), context=self.crypto_context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EncryptedEmptyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


class _EncryptedEmptyExact(Exact):
    """``field=""`` works (empty is stored as empty); any other value must go through the blind index."""

    def get_prep_lookup(self) -> Any:
        if self.rhs != "":
            raise FieldError(
                f"{self.lhs.output_field.name} is encrypted: look it up through its blind index "
                f"(e.g. <field>_index__matches=value), not by value"
            )
        return super().get_prep_lookup()

    def process_rhs(self, compiler: Any, connection: BaseDatabaseWrapper) -> Any:
        # The empty string is stored as is; never run it through encryption.
        return "%s", [""]


class BlindIndexField(models.CharField):
    """HMAC-SHA256 (own key) of the normalised source value, 32 hex chars; "" when the source is empty."""

    description = "Keyed hash of another field's normalised value, for exact lookup"

    def __init__(self, *args: Any, source: str, kind: str, **kwargs: Any) -> None:
        if kind not in crypto.BLIND_INDEX_NORMALISERS:
            raise ValueError(f"unknown blind index kind {kind!r}")
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", crypto.BLIND_INDEX_CHARS)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs["kind"] = self.kind
        for key, default in (
            ("max_length", crypto.BLIND_INDEX_CHARS),
            ("editable", False),
            ("blank", True),
            ("default", ""),
        ):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        source_value = getattr(model_instance, self.source)
        value = crypto.blind_index(self.kind, source_value) if source_value else ""
        setattr(model_instance, self.attname, value)
        return value


@BlindIndexField.register_lookup
class BlindIndexMatches(In):
    """``<index>__matches=<plaintext>``: compares with the index under the current and previous key."""

    lookup_name = "matches"

    def get_prep_lookup(self) -> Any:
        field = self.lhs.output_field
        if not isinstance(field, BlindIndexField):
            raise FieldError("__matches only applies to a BlindIndexField")
        self.rhs = crypto.blind_index_candidates(field.kind, str(self.rhs))
        return super().get_prep_lookup()
