"""Pieces the needs endpoints share: error mapping, the caller, the staff gate, event rows."""

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
from linli.core.api import ApiError
from linli.needs.errors import NeedsError

T = TypeVar("T")
NOT_FOUND = ApiError("not_found", "对象不存在或无权访问", status=404)


def call(fn: Callable[[], T]) -> T:
    """Run a service; a refusal becomes ``{code, message}`` with its HTTP status."""
    try:
        return fn()
    except NeedsError as exc:
        raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


def user_of(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def require(request: HttpRequest, capability: str = Capability.NEEDS_VIEW) -> User:
    """Callers without the capability get 404: a resident never learns the staff lists exist."""
    user = user_of(request)
    if not user_has_capability(user, capability):
        raise ApiError("not_found", "对象不存在或无权访问", status=404)
    return user


class EventOut(Schema):
    action: str
    from_state: str
    to_state: str
    note: str
    created_at: dt.datetime
    occurred_on: dt.date | None = None


def events_of(events: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "note": e.note,
            "created_at": timezone.localtime(e.created_at),
            "occurred_on": getattr(e, "occurred_on", None),
        }
        for e in events
    ]
