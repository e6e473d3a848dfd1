"""Refusals of the needs services: a machine-readable code, a Chinese message and an HTTP status.

Every refusal is raised before anything is written, or inside the transaction it rolls back: a refused
request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any


class NeedsError(Exception):
    """Bad input or a refused request."""

    status = 400

    def __init__(
        self, code: str, message: str, *, status: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details


class TransitionError(NeedsError):
    """The transition table does not allow this action in the row's current state."""

    status = 409


def not_found(noun: str) -> NeedsError:
    return NeedsError("not_found", f"{noun}不存在或无权访问", status=404)
