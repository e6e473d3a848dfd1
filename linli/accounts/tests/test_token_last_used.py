"""A bearer token's ``last_used_at`` is kept to the granularity it is read at, not written on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import ApiToken
from linli.accounts.services import TOKEN_LAST_USED_GRANULARITY, api_token_create, api_token_user
from linli.accounts.tests.factories import ResidentFactory

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _token_writes(queries: CaptureQueriesContext) -> int:
    return sum(
        1 for q in queries.captured_queries if q["sql"].startswith("UPDATE") and "apitoken" in q["sql"]
    )


@pytest.mark.django_db
def test_last_used_is_written_on_first_use_then_at_most_once_per_interval() -> None:
    user = ResidentFactory()
    with time_machine.travel(START, tick=False) as clock:
        token, raw = api_token_create(user=user, name="phone")
        # given a token never used, when it is used, then the time is written
        with CaptureQueriesContext(connection) as first:
            assert api_token_user(raw=raw) == user
        assert _token_writes(first) == 1
        assert ApiToken.objects.get(pk=token.pk).last_used_at == START
        # when it is used again within the interval, then nothing is written
        clock.shift(TOKEN_LAST_USED_GRANULARITY - timedelta(seconds=1))
        with CaptureQueriesContext(connection) as again:
            assert api_token_user(raw=raw) == user
        assert _token_writes(again) == 0
        assert ApiToken.objects.get(pk=token.pk).last_used_at == START
        # when the interval has passed, then the next use writes the new time
        clock.shift(timedelta(seconds=1))
        assert api_token_user(raw=raw) == user
        assert ApiToken.objects.get(pk=token.pk).last_used_at == START + TOKEN_LAST_USED_GRANULARITY
