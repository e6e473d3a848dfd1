"""Every personal-data field declares its purpose and retention (PI-4)."""

from __future__ import annotations

import pytest
from django.apps import apps

from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import (
    looks_personal,
    pii_exemptions,
    pii_registry,
    stale_registry_entries,
    untagged_personal_fields,
)


def test_no_personal_looking_field_is_left_untagged() -> None:
    untagged = untagged_personal_fields()
    assert untagged == [], (
        "Tag these in the model's `pii_fields` (purpose + retention) or exempt them with a reason in "
        "`pii_exempt` (see linli/security/pii.py):\n" + "\n".join(untagged)
    )


def test_registry_names_only_existing_fields() -> None:
    assert stale_registry_entries() == []


def test_every_tag_has_a_purpose_and_a_retention() -> None:
    for key, tag in pii_registry().items():
        assert tag.category and tag.purpose.strip() and tag.retention.strip(), key
        assert tag.retention_days is None or tag.retention_days > 0, key


def test_every_exemption_gives_a_reason() -> None:
    assert all(reason.strip() for reason in pii_exemptions().values())


def test_every_encrypted_field_and_blind_index_is_tagged() -> None:
    registry = pii_registry()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField | BlindIndexField):
                assert (model._meta.label, field.name) in registry, f"{model._meta.label}.{field.name}"


@pytest.mark.parametrize(
    "name",
    [
        "phone", "mobile", "contact_phone", "id_number", "id_card_no", "idcard", "passport_no", "home_address",
        "lat", "lng", "gps_track", "email", "wechat_openid", "birth_date", "gender", "health_note",
        "care_level", "display_name", "real_name", "reporter_name", "guardian_name", "ip",
    ],
)  # fmt: skip
def test_heuristic_flags_personal_names(name: str) -> None:
    assert looks_personal("Station", name) is not None


@pytest.mark.parametrize(
    "name",
    ["name", "title", "status", "code", "page_size", "storage", "category_name", "created_at", "region"],
)
def test_heuristic_leaves_ordinary_names_alone(name: str) -> None:
    assert looks_personal("Station", name) is None


def test_bare_name_is_personal_on_a_person_like_model() -> None:
    assert looks_personal("Person", "name") is not None
