"""Refusals of the party services: a machine-readable code, a Chinese message, the HTTP status it maps to."""

from __future__ import annotations

from typing import Any


class PartyError(Exception):
    """Bad input or a refused request; nothing was written."""

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


class CheckInTransitionError(PartyError):
    """The check-in transition table does not allow this action (in this state, by this actor)."""

    status = 409
