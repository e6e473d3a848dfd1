"""GET /api/notifications/ (mine, unread first, capped pages) and marking read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import Notification
from linli.notifications.services import notification_send


def _notify(user: User, n: int) -> None:
    with transaction.atomic():
        notification_send(
            recipients=[user],
            kind="notice.published",
            title=f"通知{n}",
            body="正文",
            link=f"/notices/{n}",
            dedup_key=f"notice:{n}",
        )
    # spread creation times so "newest first" is well defined
    Notification.objects.filter(dedup_key=f"notice:{n}").update(
        created_at=timezone.now() + timedelta(minutes=n)
    )


@pytest.fixture
def inbox(db: None) -> tuple[User, User]:
    me, other = ResidentFactory(), ResidentFactory()
    for n in range(1, 5):
        _notify(me, n)
    _notify(other, 99)
    return me, other


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_my_inbox_lists_only_mine_unread_first_then_newest(inbox: tuple[User, User]) -> None:
    me, _other = inbox
    Notification.objects.filter(recipient=me, dedup_key__in=["notice:3", "notice:4"]).update(
        read_at=timezone.now()
    )
    body = _client(me).get("/api/notifications/").json()
    assert body["count"] == 4
    assert [item["title"] for item in body["items"]] == ["通知2", "通知1", "通知4", "通知3"]
    assert [item["is_read"] for item in body["items"]] == [False, False, True, True]
    assert body["items"][0]["link"] == "/notices/2"


def test_the_page_size_is_capped(inbox: tuple[User, User]) -> None:
    me, _other = inbox
    client = _client(me)
    assert client.get("/api/notifications/?page_size=101").status_code == 422
    body = client.get("/api/notifications/?page_size=3&page=2").json()
    assert (body["count"], len(body["items"]), body["page"]) == (4, 1, 2)


def test_marking_read_is_idempotent_and_updates_the_unread_count(inbox: tuple[User, User]) -> None:
    me, _other = inbox
    client = _client(me)
    target = Notification.objects.filter(recipient=me).first()
    assert target is not None
    assert client.get("/api/notifications/unread-count").json() == {"unread": 4}
    first = client.post(f"/api/notifications/{target.pk}/read").json()
    second = client.post(f"/api/notifications/{target.pk}/read").json()
    assert first["is_read"] is True and first["read_at"] == second["read_at"]
    assert client.get("/api/notifications/unread-count").json() == {"unread": 3}
    assert client.get("/api/notifications/?unread=true").json()["count"] == 3
    assert client.post("/api/notifications/read-all").json() == {"marked": 3}
    assert client.get("/api/notifications/unread-count").json() == {"unread": 0}


def test_someone_elses_notification_answers_404_and_stays_unread(inbox: tuple[User, User]) -> None:
    me, other = inbox
    theirs = Notification.objects.get(recipient=other)
    response = _client(me).post(f"/api/notifications/{theirs.pk}/read")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_anonymous_callers_get_401(db: None) -> None:
    response = Client().get("/api/notifications/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_the_inbox_is_listed_in_a_constant_number_of_queries(
    inbox: tuple[User, User], django_assert_num_queries: Any
) -> None:
    me, _other = inbox
    client = _client(me)
    # session, user, memberships (scope), the page, the count; the same for 4 or 24 notifications
    with django_assert_num_queries(5):
        assert len(client.get("/api/notifications/").json()["items"]) == 4
    for n in range(10, 30):
        _notify(me, n)
    with django_assert_num_queries(5):
        assert len(client.get("/api/notifications/").json()["items"]) == 20
