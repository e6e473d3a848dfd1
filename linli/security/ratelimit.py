"""Rate limits (CFG-2): a fixed window per rule and client, counted in the cache.

The counting is django-ratelimit's: ``cache.add(key, 1)`` opens a window and ``cache.incr(key)`` counts in
it. Both are atomic on Redis (``REDIS_URL``) and on Django's LocMemCache (one lock per process), so N
concurrent requests against a limit L let exactly L through. LocMemCache counts per process: right for
the embedded single-process mode; as soon as more than one process serves, set ``REDIS_URL``.

Rules and their rates live in ``settings.LINLI_RATE_LIMITS`` (``rule -> "count/period"``).

Use:
- Django views: ``@rate_limit("login")`` (counts POSTs by client IP; answers a Chinese 429 page, or a
  fragment to htmx).
- API endpoints: ``@api_rate_limit("public_api")`` under ``@router.get(...)`` (every call counts, and the
  operation's OpenAPI entry lists the 429), or call ``rate_limit_enforce(request, rule="case_submit",
  key="user_or_ip")`` first in the endpoint; either raises ``RateLimited`` (an ``ApiError``), answered as
  429 ``{"code": "rate_limited", ...}`` with Retry-After.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from ninja.utils import contribute_operation_callback

from linli.core.api import ApiError
from linli.security.signin import client_ip

logger = logging.getLogger(__name__)

KeyKind = Literal["ip", "user_or_ip"]
V = TypeVar("V", bound=Callable[..., HttpResponse])
F = TypeVar("F", bound=Callable[..., Any])


def rate_limited_message() -> str:
    return _("操作过于频繁,请稍后再试。")


class RateLimited(ApiError):
    """Over a rate limit: 429 with ``Retry-After`` (linli.api adds the header)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate_limited", rate_limited_message(), status=429, details={"retry_after": retry_after}
        )
        self.retry_after = retry_after


def _ip_key(group: str, request: HttpRequest) -> str:
    return "ip:" + (client_ip(request) or "-")


def _user_or_ip_key(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return _ip_key(group, request)


_KEYS: dict[str, Callable[[str, HttpRequest], str]] = {"ip": _ip_key, "user_or_ip": _user_or_ip_key}


def rate_limit_hit(request: HttpRequest, *, rule: str, key: KeyKind = "ip") -> int | None:
    """Count this request against ``rule``. Returns the seconds to wait when over the limit, else None."""
    if not settings.LINLI_RATE_LIMITS_ENABLED:
        return None
    rate = settings.LINLI_RATE_LIMITS.get(rule)
    if not rate:
        raise ImproperlyConfigured(f"LINLI_RATE_LIMITS has no rule {rule!r}")
    try:
        usage = get_usage(request, group=f"linli.{rule}", key=_KEYS[key], rate=rate, increment=True)
    except Exception:  # the cache server is down: serve rather than lock the whole district out
        logger.warning("rate limit %s not counted: cache unavailable", rule, exc_info=True)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))


def rate_limit_enforce(request: HttpRequest, *, rule: str, key: KeyKind = "ip") -> None:
    """For API endpoints: raise ``RateLimited`` when over the limit."""
    wait = rate_limit_hit(request, rule=rule, key=key)
    if wait is not None:
        raise RateLimited(wait)


def rate_limited_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    """The 429 answer for pages: JSON under /api/, a fragment for htmx, a page otherwise."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "code": "rate_limited",
                "message": rate_limited_message(),
                "details": {"retry_after": retry_after},
            },
            status=429,
        )
    else:
        template = (
            "security/_rate_limited.html"
            if request.headers.get("HX-Request") == "true"
            else ("security/rate_limited.html")
        )
        context = {"message": rate_limited_message(), "retry_after": retry_after}
        response = render(request, template, context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def rate_limit(rule: str, *, key: KeyKind = "ip", methods: tuple[str, ...] = ("POST",)) -> Callable[[V], V]:
    """Decorate a Django view: requests with one of ``methods`` count against ``rule``."""

    def decorate(view: V) -> V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                wait = rate_limit_hit(request, rule=rule, key=key)
                if wait is not None:
                    return rate_limited_response(request, wait)
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _document_429(operation: Any) -> None:
    """Add the 429 answer to a django-ninja operation's OpenAPI entry (clients and the schema fuzz test)."""
    extra = dict(operation.openapi_extra or {})
    responses = dict(extra.get("responses") or {})
    responses.setdefault(
        "429",
        {
            "description": "请求过于频繁(rate_limited),Retry-After 给出等待秒数",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
        },
    )
    operation.openapi_extra = {**extra, "responses": responses}


def api_rate_limit(rule: str, *, key: KeyKind = "ip") -> Callable[[F], F]:
    """Decorate a django-ninja endpoint, under its ``@router.<method>(...)``: each call counts against
    ``rule`` before the endpoint runs; over the limit the API answers 429 ``rate_limited``."""

    def decorate(endpoint: F) -> F:
        @wraps(endpoint)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            rate_limit_enforce(request, rule=rule, key=key)
            return endpoint(request, *args, **kwargs)

        contribute_operation_callback(limited, _document_429)
        return limited  # type: ignore[return-value]

    return decorate
