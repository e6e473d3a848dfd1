"""Reads for notifications; every query goes through ``for_user`` (an inbox is the owner's alone)."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from linli.accounts.models import User
from linli.notifications.models import Notification


def notification_list_for_user(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's inbox: unread first, then newest first."""
    qs = Notification.objects.for_user(user)
    if unread_only:
        return qs.filter(read_at__isnull=True).order_by("-created_at", "-id")
    return qs.alias(
        already_read=ExpressionWrapper(Q(read_at__isnull=False), output_field=BooleanField())
    ).order_by("already_read", "-created_at", "-id")  # False (unread) sorts first


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.for_user(user).filter(read_at__isnull=True).count()
