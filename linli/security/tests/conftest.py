from __future__ import annotations

import base64
import os
from typing import Any

import pytest


def make_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture
def data_keys(settings: Any) -> dict[str, str]:
    """Fresh test keys: 'old' active; tests switch to 'new' to rotate."""
    keys = {"old": make_key(), "new": make_key(), "blind": make_key(), "blind2": make_key()}
    settings.LINLI_DATA_KEYS = f"old:{keys['old']}"
    settings.LINLI_DATA_KEY_ID = "old"
    settings.LINLI_BLIND_INDEX_KEY = keys["blind"]
    settings.LINLI_BLIND_INDEX_KEY_PREVIOUS = ""
    settings.LINLI_DATA_CIPHER = "auto"
    return keys


@pytest.fixture
def fast_password_hashing(settings: Any) -> None:
    # The factories hash a password per staff user; PBKDF2's cost is not what these tests measure.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
