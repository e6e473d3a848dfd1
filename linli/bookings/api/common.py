"""Pieces the bookings endpoints share: error mapping, the caller, event rows, the staff check."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.bookings.errors import BookingError
from linli.core.api import ApiError

T = TypeVar("T")


def call(fn: Callable[[], T]) -> T:
    """Run a service; a refusal becomes ``{code, message}`` with its HTTP status."""
    try:
        return fn()
    except BookingError as exc:
        raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


class EventOut(Schema):
    action: str
    from_state: str
    to_state: str
    actor_role: str
    note: str
    created_at: dt.datetime


def events_of(events: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "actor_role": e.actor_role,
            "note": e.note,
            "created_at": timezone.localtime(e.created_at),
        }
        for e in events
    ]


class StaffCheck:
    """Staff lists answer 404 to callers without the capability (a resident never learns they exist)."""

    @staticmethod
    def view(request: HttpRequest) -> None:
        if not user_has_capability(user_of(request), Capability.BOOKINGS_VIEW):
            raise ApiError("not_found", "对象不存在或无权访问", status=404)

    @staticmethod
    def agency(request: HttpRequest) -> None:
        if not user_has_capability(user_of(request), Capability.BOOKINGS_AGENCY):
            raise ApiError("not_found", "对象不存在或无权访问", status=404)

    @staticmethod
    def manage(request: HttpRequest) -> None:
        if not user_has_capability(user_of(request), Capability.BOOKINGS_MANAGE):
            raise ApiError("not_found", "对象不存在或无权访问", status=404)
