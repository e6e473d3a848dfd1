"""notification_send: same-transaction writes (REL-2), idempotency by dedup key, input validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from linli.accounts.models import User
from linli.accounts.tests.factories import ResidentFactory
from linli.core.tests.concurrency import run_in_threads
from linli.notifications.models import Notification, OutboxChannel, OutboxMessage, OutboxStatus
from linli.notifications.outbox import retry_delay
from linli.notifications.services import NotificationError, notification_send


class Boom(Exception):
    pass


def _send(recipients: list[User], key: str = "case:1:resolved", **extra: object) -> object:
    kwargs: dict[str, object] = {
        "recipients": recipients,
        "kind": "case.resolved",
        "title": "您的诉求已办结",
        "body": "请对办理结果进行评价",
        "link": "/cases/1",
        "sms_text": "【邻里】您反映的问题已办结,请登录评价。",
        "dedup_key": key,
    }
    kwargs.update(extra)
    return notification_send(**kwargs)  # type: ignore[arg-type]


def test_error_after_notify_in_the_same_transaction_leaves_no_notification_outbox_or_task_row(
    db: None,
) -> None:
    # given a resident with a phone
    resident = ResidentFactory()
    # when the caller's transaction fails after notifying
    with pytest.raises(Boom), transaction.atomic():
        business_row = ResidentFactory(username="business-row")
        _send([resident])
        assert Notification.objects.count() == 1 and DBTaskResult.objects.count() == 1
        raise Boom
    # then neither the business row nor any notification, outbox message or task row exists
    assert not User.objects.filter(pk=business_row.pk).exists()
    assert Notification.objects.count() == 0
    assert OutboxMessage.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


def test_committed_notify_has_one_delivery_task_per_outbox_message(db: None) -> None:
    residents = ResidentFactory.create_batch(3)
    with transaction.atomic():
        result = _send(residents)
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert Notification.objects.filter(recipient__in=residents).count() == 3
    assert [m.status for m in messages] == [OutboxStatus.PENDING] * 3
    assert result.messages_enqueued == [m.pk for m in messages]  # type: ignore[attr-defined]
    tasks = {str(t.id): t for t in DBTaskResult.objects.all()}
    assert len(tasks) == 3
    for message in messages:
        task = tasks[message.task_id]
        assert task.task_path == "linli.notifications.tasks.outbox_deliver"
        assert task.args_kwargs == {"args": [message.pk], "kwargs": {}}


def test_sending_twice_with_the_same_dedup_key_creates_nothing_new(db: None) -> None:
    resident = ResidentFactory()
    with transaction.atomic():
        first = _send([resident])
    with transaction.atomic():
        second = _send([resident])
    assert first.notifications_created == 1 and len(first.messages_enqueued) == 1  # type: ignore[attr-defined]
    assert second.notifications_created == 0 and second.messages_enqueued == []  # type: ignore[attr-defined]
    assert (Notification.objects.count(), OutboxMessage.objects.count(), DBTaskResult.objects.count()) == (
        1,
        1,
        1,
    )


def test_a_new_recipient_under_an_existing_key_gets_only_their_own_rows(db: None) -> None:
    first, second = ResidentFactory.create_batch(2)
    with transaction.atomic():
        _send([first])
    with transaction.atomic():
        result = _send([first, second])
    assert result.notifications_created == 1  # type: ignore[attr-defined]
    assert OutboxMessage.objects.get(pk=result.messages_enqueued[0]).recipient == second  # type: ignore[attr-defined]
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_sends_with_one_dedup_key_create_one_set_of_rows_and_autocommit_is_refused() -> None:
    resident = ResidentFactory()
    # (in autocommit, outside any transaction, the call is refused)
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        _send([resident], key="race")

    def send() -> int:
        with transaction.atomic():
            return len(_send([resident], key="race").messages_enqueued)  # type: ignore[attr-defined]

    enqueued = run_in_threads(send, n=2)
    assert sorted(enqueued) == [0, 1]
    assert (Notification.objects.count(), OutboxMessage.objects.count(), DBTaskResult.objects.count()) == (
        1,
        1,
        1,
    )


def test_users_without_a_phone_get_only_the_in_app_notification(db: None) -> None:
    staff = ResidentFactory(phone="")
    with transaction.atomic():
        _send([staff])
    assert Notification.objects.filter(recipient=staff).count() == 1
    assert OutboxMessage.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_without_sms_text_no_sms_is_queued(db: None) -> None:
    resident = ResidentFactory()
    with transaction.atomic():
        _send([resident], sms_text=None)
    assert Notification.objects.count() == 1 and OutboxMessage.objects.count() == 0


def test_extra_phones_get_an_sms_with_the_number_masked_for_display(db: None) -> None:
    with transaction.atomic():
        _send([], phones=["+86 138-0013-8000"])
    message = OutboxMessage.objects.get()
    assert message.channel == OutboxChannel.SMS and message.recipient is None
    assert message.phone == "13800138000" and message.phone_display == "138****8000"
    assert "13800138000" not in message.dedup_key and "13800138000" not in str(message)


def test_inactive_users_are_skipped(db: None) -> None:
    gone = ResidentFactory(is_active=False)
    with transaction.atomic():
        _send([gone])
    assert Notification.objects.count() == 0 and OutboxMessage.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("link", "https://evil.example/phish", "invalid_link"),
        ("link", "//evil.example/phish", "invalid_link"),
        ("link", "javascript:alert(1)", "invalid_link"),
        ("link", "/cases/1\\x", "invalid_link"),
        ("dedup_key", "", "invalid_dedup_key"),
        ("title", "", "invalid_title"),
        ("sms_text", "   ", "invalid_sms_text"),
        ("sms_text", "字" * 501, "invalid_sms_text"),
        ("phones", ["12345"], "invalid_phone"),
    ],
)
def test_bad_input_is_refused_with_a_specific_code_and_writes_nothing(
    db: None, field: str, value: object, code: str
) -> None:
    resident = ResidentFactory()
    with pytest.raises(NotificationError) as info, transaction.atomic():
        _send([resident], **{field: value})
    assert info.value.code == code and info.value.message
    assert Notification.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_backoff_doubles_up_to_an_hour() -> None:
    delays = [retry_delay(n) for n in range(1, 10)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(delays) == timedelta(hours=1) and delays == sorted(delays)
