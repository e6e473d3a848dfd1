"""The inbox page: mine only, unread first; htmx marks one read and swaps the card in place."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client

from linli.accounts.models import User
from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import Notification
from linli.notifications.services import notification_send


def _notify(user: User, title: str, key: str) -> Notification:
    with transaction.atomic():
        notification_send(
            recipients=[user], kind="notice", title=title, body="正文<b>", link="/notices/1", dedup_key=key
        )
    return Notification.objects.get(recipient=user, dedup_key=key)


@pytest.fixture
def me(db: None) -> User:
    return ResidentFactory()


def test_the_inbox_shows_my_notifications_escaped_and_not_others(me: User) -> None:
    _notify(me, "停水通知", "a")
    _notify(ResidentFactory(), "别人的消息", "b")
    client = Client()
    client.force_login(me)
    html = client.get("/notifications/").content.decode()
    assert "停水通知" in html and "别人的消息" not in html
    assert "正文&lt;b&gt;" in html and "1 条未读" in html


def test_htmx_mark_read_returns_the_card_without_the_button(me: User) -> None:
    mine = _notify(me, "停水通知", "a")
    client = Client()
    client.force_login(me)
    response = client.post(f"/notifications/{mine.pk}/read", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and f'id="notification-{mine.pk}"' in html
    assert "标为已读" not in html and "<html" not in html
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_someone_elses_notification_cannot_be_marked_and_anonymous_users_are_sent_to_log_in(me: User) -> None:
    theirs = _notify(ResidentFactory(), "别人的消息", "b")
    client = Client()
    client.force_login(me)
    assert client.post(f"/notifications/{theirs.pk}/read").status_code == 404
    anonymous = Client().get("/notifications/")
    assert anonymous.status_code == 302 and "/accounts/" in anonymous["Location"]
