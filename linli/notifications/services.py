"""Writes for notifications: send (in-app + outbox + delivery tasks, one transaction), mark read.

How other modules notify people::

    with transaction.atomic():
        case = ...  # the business change
        notification_send(
            recipients=[case.reporter], kind="case.resolved", title=..., body=..., link=f"/cases/{case.pk}",
            sms_text=..., dedup_key=f"case:{case.pk}:resolved:{event.pk}",
        )

The dedup key names the business event (not the time), so a retried request, a re-run sweep or a
double click sends nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.services import AccountError, phone_normalize
from linli.notifications.models import (
    Notification,
    OutboxChannel,
    OutboxMessage,
    link_is_relative,
)
from linli.notifications.outbox import outbox_enqueue
from linli.notifications.phones import outbox_phone_fields

SMS_TEXT_MAX = 500  # a gateway splits long texts into ≤ 67-character parts; 500 is already 8 parts


class NotificationError(Exception):
    """A refusal with a machine-readable code and a Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class NotificationSendResult:
    notifications_created: int
    messages_enqueued: list[int]  # outbox ids that got a delivery task in this call


def _phone_key(phone: str) -> str:
    """A stable, non-reversible token for a phone inside a dedup key (keys reach logs and providers)."""
    return hmac.new(settings.SECRET_KEY.encode(), phone.encode(), hashlib.sha256).hexdigest()[:20]


def _validate(*, kind: str, title: str, link: str, sms_text: str | None, dedup_key: str) -> None:
    if not dedup_key or len(dedup_key) > 150:
        raise NotificationError("invalid_dedup_key", _("去重键不能为空且不超过150个字符"))
    if not kind or len(kind) > 50:
        raise NotificationError("invalid_kind", _("消息类型不能为空且不超过50个字符"))
    if not title or len(title) > 120:
        raise NotificationError("invalid_title", _("消息标题不能为空且不超过120个字符"))
    if len(link) > 300 or not link_is_relative(link):
        raise NotificationError("invalid_link", _("链接只能是以 / 开头的站内地址"))
    if sms_text is not None and (not sms_text.strip() or len(sms_text) > SMS_TEXT_MAX):
        raise NotificationError("invalid_sms_text", _("短信内容不能为空且不超过500个字符"))


def notification_send(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str,
    link: str = "",
    sms_text: str | None = None,
    dedup_key: str,
    phones: Sequence[str] = (),
) -> NotificationSendResult:
    """Write in-app notifications, SMS outbox rows and their delivery tasks in the caller's transaction.

    ``recipients`` get an in-app notification, and an SMS when ``sms_text`` is given and they have a
    phone. ``phones`` are extra SMS-only recipients without an account (e.g. a hotline caller).
    Idempotent by ``dedup_key``: a second call with the same key creates nothing (not even tasks), also
    when two calls race (the unique keys decide; the loser's INSERT does nothing).
    """
    if not transaction.get_connection().in_atomic_block:
        # Outside a transaction the business row could commit while the messages fail, or vice versa.
        raise RuntimeError("notification_send must be called inside the caller's transaction.atomic()")
    _validate(kind=kind, title=title, link=link, sms_text=sms_text, dedup_key=dedup_key)
    try:
        extra_phones = sorted({phone_normalize(p) for p in phones})
    except AccountError as exc:
        raise NotificationError(exc.code, exc.message) from exc
    users = list({u.pk: u for u in recipients if u.is_active}.values())
    now = timezone.now()

    with transaction.atomic():  # a savepoint: this call's rows are all-or-nothing even if the caller goes on
        already = set(
            Notification.objects.filter(dedup_key=dedup_key, recipient__in=users).values_list(
                "recipient_id", flat=True
            )
        )
        new_rows = [
            Notification(
                recipient=u, kind=kind, title=title, body=body, link=link, dedup_key=dedup_key, created_at=now
            )
            for u in users
            if u.pk not in already
        ]
        # ignore_conflicts: a concurrent call with the same key may have inserted since the read above.
        Notification.objects.bulk_create(new_rows, ignore_conflicts=True)
        messages = []
        if sms_text is not None:
            messages += [
                _sms(user=u, phone=u.phone, kind=kind, text=sms_text, key=f"{dedup_key}:sms:u{u.pk}", now=now)
                for u in users
                if u.phone
            ]
            messages += [
                _sms(
                    user=None,
                    phone=p,
                    kind=kind,
                    text=sms_text,
                    key=f"{dedup_key}:sms:p{_phone_key(p)}",
                    now=now,
                )
                for p in extra_phones
            ]
        enqueued = _insert_and_enqueue(messages)
    return NotificationSendResult(notifications_created=len(new_rows), messages_enqueued=enqueued)


@dataclass(frozen=True)
class Outgoing:
    """One message of a batch (``notification_send_many``): to an account and/or an SMS-only phone."""

    dedup_key: str  # names the business event, as for notification_send
    body: str
    link: str = ""
    user_id: int | None = None  # in-app, and an SMS to their phone when ``sms_text`` is given
    phone: str = ""  # SMS-only recipient without an account (a mainland mobile, normalised)
    sms_text: str | None = None


BATCH = 500  # rows per statement: well under SQLite's bound-parameter limit


def notification_send_many(*, kind: str, title: str, items: Sequence[Outgoing]) -> NotificationSendResult:
    """``notification_send`` for many events at once, each with its own recipient and dedup key (a sweep
    telling each reporter about their own case): a few statements per 500 messages, not a few per message.

    Same rules: inside the caller's transaction, idempotent by dedup key (the SMS keys are built the same
    way, so a message sent by either function is not sent again by the other).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notification_send_many must be called inside the caller's transaction.atomic()")
    for item in items:
        _validate(kind=kind, title=title, link=item.link, sms_text=item.sms_text, dedup_key=item.dedup_key)
    user_ids = sorted({i.user_id for i in items if i.user_id is not None})
    users: dict[int, User] = {}
    for start in range(0, len(user_ids), BATCH):
        users.update(
            (u.pk, u) for u in User.objects.filter(pk__in=user_ids[start : start + BATCH], is_active=True)
        )
    now = timezone.now()
    created = 0
    enqueued: list[int] = []
    with transaction.atomic():
        for start in range(0, len(items), BATCH):
            chunk = list(items[start : start + BATCH])
            to_users = [i for i in chunk if i.user_id in users]
            already = set(
                Notification.objects.filter(
                    dedup_key__in=[i.dedup_key for i in to_users],
                    recipient_id__in=[i.user_id for i in to_users],
                ).values_list("recipient_id", "dedup_key")
            )
            rows = [
                Notification(
                    recipient=users[i.user_id],
                    kind=kind,
                    title=title,
                    body=i.body,
                    link=i.link,
                    dedup_key=i.dedup_key,
                    created_at=now,
                )
                for i in to_users
                if i.user_id is not None and (i.user_id, i.dedup_key) not in already
            ]
            Notification.objects.bulk_create(rows, ignore_conflicts=True)
            created += len(rows)
            messages: list[OutboxMessage] = []
            for i in chunk:
                user = users.get(i.user_id) if i.user_id is not None else None
                messages += _sms_for(i, user=user, kind=kind, now=now)
            enqueued += _insert_and_enqueue(messages)
    return NotificationSendResult(notifications_created=created, messages_enqueued=enqueued)


def _sms_for(item: Outgoing, *, user: User | None, kind: str, now: datetime) -> list[OutboxMessage]:
    """The SMS rows of one item: to the account's phone and/or to the item's own number (keys per target)."""
    if item.sms_text is None:
        return []
    out: list[OutboxMessage] = []
    if user is not None and user.phone:
        key = f"{item.dedup_key}:sms:u{user.pk}"
        out.append(_sms(user=user, phone=user.phone, kind=kind, text=item.sms_text, key=key, now=now))
    if item.phone:
        try:
            phone = phone_normalize(item.phone)
        except AccountError as exc:
            raise NotificationError(exc.code, exc.message) from exc
        key = f"{item.dedup_key}:sms:p{_phone_key(phone)}"
        out.append(_sms(user=None, phone=phone, kind=kind, text=item.sms_text, key=key, now=now))
    return out


def _sms(*, user: User | None, phone: str, kind: str, text: str, key: str, now: datetime) -> OutboxMessage:
    return OutboxMessage(
        channel=OutboxChannel.SMS,
        kind=kind,
        recipient=user,
        text=text,
        dedup_key=key,
        next_attempt_at=now,
        created_at=now,
        **outbox_phone_fields(phone),
    )


def _insert_and_enqueue(messages: list[OutboxMessage]) -> list[int]:
    if not messages:
        return []
    # ON CONFLICT DO NOTHING: on PostgreSQL a concurrent call with the same keys waits for ours to
    # commit, then inserts nothing, and below finds our rows already carrying their task ids.
    OutboxMessage.objects.bulk_create(messages, ignore_conflicts=True)
    fresh = list(
        OutboxMessage.objects.filter(dedup_key__in=[m.dedup_key for m in messages], task_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    outbox_enqueue(message_ids=fresh)
    return fresh


def notification_mark_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's notifications read (idempotent: the first read time is kept).

    Returns None when it is not theirs, so the API answers 404 without telling whether it exists.
    """
    now = timezone.now()
    mine = Notification.objects.for_user(user).filter(pk=notification_id)
    mine.filter(read_at__isnull=True).update(read_at=now)
    return mine.first()


def notification_mark_all_read(*, user: User) -> int:
    """Mark all of the user's unread notifications read; returns how many changed."""
    return Notification.objects.for_user(user).filter(read_at__isnull=True).update(read_at=timezone.now())
