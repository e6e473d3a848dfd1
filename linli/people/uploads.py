"""Removing stored upload files (visit and steward photos) when their row goes or a write fails."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files.storage import default_storage


def uploads_delete(names: Iterable[str]) -> None:
    for name in names:
        if name and default_storage.exists(name):
            default_storage.delete(name)
