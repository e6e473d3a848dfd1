"""notification_send_many: many events, each with its own recipient and key, in a few statements; the
same idempotency and dedup keys as notification_send (a message sent by either is not sent again)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from linli.accounts.models import User
from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import Notification, OutboxMessage
from linli.notifications.phones import outbox_phone
from linli.notifications.services import (
    NotificationError,
    Outgoing,
    notification_send,
    notification_send_many,
)

pytestmark = pytest.mark.django_db


def _items(users: list[User], prefix: str = "case") -> list[Outgoing]:
    return [
        Outgoing(
            dedup_key=f"{prefix}:{u.pk}:auto_close:1:r",
            body=f"工单{u.pk}",
            link="/cases/1/",
            user_id=u.pk,
            sms_text="【邻里】已结案。",
        )
        for u in users
    ]


def test_each_item_reaches_its_own_recipient_once_however_often_it_is_sent() -> None:
    residents = ResidentFactory.create_batch(3)
    inactive = ResidentFactory(is_active=False)
    anonymous = Outgoing(
        dedup_key="case:9:auto_close:1:r", body="工单9", phone="13912345678", sms_text="【邻里】已结案。"
    )
    items = [*_items([*residents, inactive]), anonymous]
    with transaction.atomic():
        first = notification_send_many(kind="case.auto_close", title="已自动结案", items=items)
    assert first.notifications_created == 3  # the inactive account gets nothing
    assert len(first.messages_enqueued) == 4  # three phones of accounts, one contact mobile
    for r in residents:
        note = Notification.objects.get(recipient=r)
        assert (note.kind, note.title, note.body) == ("case.auto_close", "已自动结案", f"工单{r.pk}")
        assert outbox_phone(OutboxMessage.objects.get(recipient=r)) == r.phone
    assert outbox_phone(OutboxMessage.objects.get(recipient=None)) == "13912345678"
    assert DBTaskResult.objects.count() == 4

    with transaction.atomic():  # a re-run sweep: nothing new, not even a task
        again = notification_send_many(kind="case.auto_close", title="已自动结案", items=items)
        single = notification_send(
            recipients=[residents[0]],
            kind="case.auto_close",
            title="已自动结案",
            body="x",
            sms_text="【邻里】已结案。",
            dedup_key=items[0].dedup_key,
        )
    assert (again.notifications_created, again.messages_enqueued) == (0, [])
    assert (single.notifications_created, single.messages_enqueued) == (0, [])
    assert Notification.objects.count() == 3 and OutboxMessage.objects.count() == 4
    assert DBTaskResult.objects.count() == 4


def test_a_batch_costs_a_few_statements_not_a_few_per_message() -> None:
    residents = ResidentFactory.create_batch(30)
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        notification_send_many(kind="case.escalate_timed", title="已升级", items=_items(residents))
    writes = [q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # users, existing notifications, notifications, outbox rows, their ids, then one task row per SMS.
    assert len(writes) <= 8 + 30


def test_it_checks_each_item() -> None:
    resident = ResidentFactory()
    with pytest.raises(NotificationError), transaction.atomic():
        notification_send_many(
            kind="case.x", title="t", items=[Outgoing(dedup_key="", body="b", user_id=resident.pk)]
        )
    with pytest.raises(NotificationError), transaction.atomic():
        notification_send_many(
            kind="case.x", title="t", items=[Outgoing(dedup_key="k:1", body="b", phone="12", sms_text="x")]
        )
    assert Notification.objects.count() == 0 and OutboxMessage.objects.count() == 0
