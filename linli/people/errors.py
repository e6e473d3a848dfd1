"""The one error type of the people services: a machine-readable code and a Chinese message."""

from __future__ import annotations

from typing import Any


class PeopleError(Exception):
    def __init__(
        self, code: str, message: str, *, status: int = 400, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details
