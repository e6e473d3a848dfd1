"""Refusals of the bookings services: a machine-readable code, a Chinese message and an HTTP status.

Every refusal is raised before anything is written, or inside the transaction it rolls back: a refused
request leaves nothing behind.
"""

from __future__ import annotations

from typing import Any


class BookingError(Exception):
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


class TransitionError(BookingError):
    """The transition table (or the actor's relation to the row) does not allow this action now."""

    status = 409


def not_found(noun: str) -> BookingError:
    return BookingError("not_found", f"{noun}不存在或无权访问", status=404)
