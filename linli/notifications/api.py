"""Notification endpoints: my inbox (unread first), unread count, mark one or all read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from linli.core.api import CappedPagination, ErrorOut, session_or_token
from linli.notifications.selectors import notification_list_for_user, notification_unread_count
from linli.notifications.services import notification_mark_all_read, notification_mark_read

router = Router(tags=["notifications"], auth=session_or_token)


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str = Field(..., description="site-relative URL, or empty")
    is_read: bool
    read_at: datetime | None
    created_at: datetime


class UnreadOut(Schema):
    unread: int


class MarkedOut(Schema):
    marked: int


@router.get("/", response=list[NotificationOut])
@paginate(CappedPagination)
def notification_list(request: HttpRequest, unread: bool = False) -> Any:
    """My notifications: unread first, then newest first (``?unread=true``: only the unread)."""
    return notification_list_for_user(user=request.user, unread_only=unread)  # type: ignore[arg-type]


@router.get("/unread-count", response=UnreadOut)
def unread_count(request: HttpRequest) -> Any:
    """How many of my notifications are unread (for the badge)."""
    return {"unread": notification_unread_count(user=request.user)}  # type: ignore[arg-type]


@router.post("/read-all", response=MarkedOut)
def read_all(request: HttpRequest) -> Any:
    """Mark all my notifications read."""
    return {"marked": notification_mark_all_read(user=request.user)}  # type: ignore[arg-type]


@router.post("/{notification_id}/read", response={200: NotificationOut, 404: ErrorOut})
def read_one(request: HttpRequest, notification_id: int) -> Any:
    """Mark one of my notifications read; someone else's answers 404."""
    notification = notification_mark_read(user=request.user, notification_id=notification_id)  # type: ignore[arg-type]
    if notification is None:
        raise Http404
    return notification
