"""Rate limits (CFG-2): exact under concurrency on Redis and on the embedded LocMemCache; 429 answers with
``Retry-After``, a machine code for the API and a Chinese message for pages."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import caches
from django.test import Client, RequestFactory
from django.utils import timezone

from linli.security.ratelimit import rate_limit_hit

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def burst(rule: str, *, requests: int, ip: str = "10.1.1.1") -> list[int | None]:
    """Fire ``requests`` concurrent hits (all released together) and collect each one's answer."""
    factory = RequestFactory()
    start = threading.Barrier(requests)
    answers: list[int | None] = [None] * requests
    ok = [False] * requests

    def one(i: int) -> None:
        request = factory.post("/x", REMOTE_ADDR=ip)
        start.wait()
        answers[i] = rate_limit_hit(request, rule=rule)
        ok[i] = True
        caches.close_all()  # each thread's own cache connection

    threads = [threading.Thread(target=one, args=(i,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(ok), "a thread did not finish"
    return answers


@pytest.fixture
def burst_rule(settings: Any) -> str:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "burst": "10/h"}
    return "burst"


def redis_reachable() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[str]:
    if not redis_reachable():
        pytest.skip(
            f"no Redis at {REDIS_HOST}:{REDIS_PORT} (start redis-server to run the Redis rate-limit test)"
        )
    prefix = f"linli-test-{uuid.uuid4().hex}"
    location = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    import redis

    client = redis.Redis.from_url(location)
    for key in client.scan_iter(match=f"{prefix}*"):  # only this test's keys, never FLUSHDB
        client.delete(key)


@pytest.mark.parametrize("threads", [40])
def test_concurrent_requests_over_the_limit_let_exactly_the_limit_through_locmem(
    burst_rule: str, threads: int
) -> None:
    with time_machine.travel(timezone.now(), tick=False):  # one window for the whole burst
        answers = burst(burst_rule, requests=threads)
    assert sum(a is None for a in answers) == 10
    assert all(a is not None and a > 0 for a in answers if a is not None)


def test_concurrent_requests_over_the_limit_let_exactly_the_limit_through_redis(
    burst_rule: str, redis_cache: str
) -> None:
    assert caches["default"].__class__.__name__ == "RedisCache"
    with time_machine.travel(timezone.now(), tick=False):
        answers = burst(burst_rule, requests=40)
    assert sum(a is None for a in answers) == 10


def test_limits_are_counted_per_client_ip(burst_rule: str) -> None:
    with time_machine.travel(timezone.now(), tick=False):
        assert sum(a is None for a in burst(burst_rule, requests=12, ip="10.1.1.1")) == 10
        assert sum(a is None for a in burst(burst_rule, requests=12, ip="10.1.1.2")) == 10


def test_a_new_window_opens_after_the_period(burst_rule: str) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert sum(a is None for a in burst(burst_rule, requests=11)) == 10
        clock.shift(3600 + 1)
        assert sum(a is None for a in burst(burst_rule, requests=11)) == 10


def test_the_sign_in_page_answers_429_in_chinese_with_retry_after(
    client: Client, db: None, settings: Any
) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "login": "3/m"}
    with time_machine.travel(timezone.now(), tick=False):  # one window, however slow the machine
        answers = [client.post("/accounts/login/", {"username": "x", "password": "y"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    body = answers[3].content.decode()
    assert "操作过于频繁" in body and int(answers[3]["Retry-After"]) > 0
    assert client.get("/accounts/login/").status_code == 200  # showing the form is not counted


def test_the_sms_code_api_answers_rate_limited_with_retry_after(
    client: Client, db: None, settings: Any
) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "sms_code": "2/h"}
    settings.SMS_BACKEND = "linli.security.tests.test_signin.CapturingSms"
    phones = ["13800000001", "13800000002", "13800000003"]
    answers = [
        client.post("/api/accounts/sms-code", {"phone": p}, content_type="application/json") for p in phones
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited" and "频繁" in answers[2].json()["message"]
    assert int(answers[2]["Retry-After"]) > 0


def test_the_sms_button_gets_a_fragment_under_htmx(client: Client, db: None, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "sms_code": "1/h"}
    settings.SMS_BACKEND = "linli.security.tests.test_signin.CapturingSms"
    client.post("/accounts/login/phone/code/", {"phone": "13800000001"}, HTTP_HX_REQUEST="true")
    second = client.post("/accounts/login/phone/code/", {"phone": "13800000002"}, HTTP_HX_REQUEST="true")
    body = second.content.decode()
    assert second.status_code == 429 and "操作过于频繁" in body and "<html" not in body


def test_the_public_locate_api_is_rate_limited(client: Client, small_district: Any, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "public_api": "3/m"}
    grid = small_district.grids[0]
    answers = [client.get("/api/places/locate", {"lat": grid.lat, "lng": grid.lng}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["code"] == "rate_limited"


PUBLIC_READS = [
    ("/api/stations/nearest", {"lat": "30.27", "lng": "120.15"}),
    ("/api/stations/layer", {}),
    ("/api/stations/", {}),
    ("/api/stations/999999", {}),
    ("/api/needs/public/no-such-community", {}),
    ("/api/cases/public", {}),
    ("/api/cases/categories", {}),
]


@pytest.mark.parametrize(("path", "params"), PUBLIC_READS, ids=[p for p, _ in PUBLIC_READS])
def test_every_public_read_api_answers_429_with_a_machine_code_past_its_limit(
    client: Client, db: None, settings: Any, path: str, params: dict[str, str]
) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "public_api": "3/m"}
    with time_machine.travel(timezone.now(), tick=False):  # one window for the whole run
        answers = [client.get(path, params, REMOTE_ADDR="10.9.9.9") for _ in range(4)]
        other_client = client.get(path, params, REMOTE_ADDR="10.9.9.10")

    assert 429 not in [a.status_code for a in answers[:3]]
    over = answers[3]
    assert over.status_code == 429
    assert over.json()["code"] == "rate_limited" and "频繁" in over.json()["message"]
    assert over.json()["details"]["retry_after"] == int(over["Retry-After"]) > 0
    assert other_client.status_code != 429  # counted per client IP


def test_the_public_read_apis_share_one_budget_per_client(client: Client, db: None, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "public_api": "3/m"}
    with time_machine.travel(timezone.now(), tick=False):
        statuses = [client.get(path, params).status_code for path, params in PUBLIC_READS[:4]]
    assert statuses[3] == 429 and 429 not in statuses[:3]


def test_rate_limits_can_be_switched_off(burst_rule: str, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS_ENABLED = False
    assert all(a is None for a in burst(burst_rule, requests=15))


def test_a_failing_cache_does_not_lock_everyone_out(burst_rule: str, settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    request = RequestFactory().post("/x", REMOTE_ADDR="10.1.1.1")
    assert rate_limit_hit(request, rule=burst_rule) is None
