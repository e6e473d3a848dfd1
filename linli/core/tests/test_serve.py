"""``make run``'s launcher: without Redis the web server is one process, so rate limits count exactly."""

from __future__ import annotations

import pytest

from linli.serve import web_workers


@pytest.mark.parametrize("requested", [None, "", "1", "2", "8"])
def test_without_redis_the_web_server_is_one_process(requested: str | None) -> None:
    workers, note = web_workers(requested, redis_url="")
    assert workers == 1
    assert ("REDIS_URL" in note) == (requested not in (None, "", "1"))


@pytest.mark.parametrize(("requested", "expected"), [(None, 2), ("", 2), ("1", 1), ("6", 6)])
def test_with_redis_the_requested_number_of_workers_serve(requested: str | None, expected: int) -> None:
    assert web_workers(requested, redis_url="redis://127.0.0.1:6379/0") == (expected, "")


@pytest.mark.parametrize("requested", ["two", "0", "-3"])
def test_a_bad_worker_count_falls_back_to_the_default_with_a_note(requested: str) -> None:
    workers, note = web_workers(requested, redis_url="")
    assert workers == 1 and "LINLI_WEB_WORKERS" in note
