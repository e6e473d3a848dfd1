"""Denials are audited (AUD-1): one ``access.denied`` row per refused request.

- Pages: ``DenialAuditMiddleware`` records a view's ``PermissionDenied`` (403) and ``ScopeDenied`` (404).
- API: the exception handlers in ``linli/api.py`` call ``audit_api_denial`` for 403 answers and for
  ``ScopeDenied``.

A scope refusal answers 404, exactly like a missing object, so nobody learns what exists outside their
scope (AC-1). A plain ``Http404`` is not audited (most are typos and missing rows); a view that knows the
object exists but is out of the user's scope raises ``ScopeDenied`` instead, and the refusal is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from linli.security.audit import audit_record
from linli.security.models import AuditResult

DENIED_ACTION = "access.denied"


class ScopeDenied(Http404):
    """A 404 for an object or page outside the user's scope; audited once where it is turned into the
    response."""

    def __init__(self, *, object_type: str = "", object_id: Any = "", reason: str = "out_of_scope") -> None:
        super().__init__("not found")
        self.object_type = object_type
        self.object_id = "" if object_id is None else str(object_id)
        self.reason = reason


def audit_denied(
    *,
    request: HttpRequest,
    status: int,
    reason: str,
    object_type: str = "",
    object_id: str = "",
) -> None:
    """Record one refused request (who, which path, why), unless this request's refusal is already in
    the trail. The path is kept without its query string."""
    if getattr(request, "linli_denial_audited", False):
        return
    audit_record(
        action=DENIED_ACTION,
        actor=getattr(request, "user", None),
        obj=None,
        object_type=object_type,
        object_id=object_id,
        result=AuditResult.DENIED,
        data={"path": request.path[:200], "method": request.method, "status": status, "reason": reason},
        request=request,
    )


def audit_api_denial(request: HttpRequest, exc: Exception, *, status: int, code: str = "") -> None:
    """For the API's exception handlers: audit a 403, or a 404 that is a ``ScopeDenied``."""
    if isinstance(exc, ScopeDenied):
        audit_denied(
            request=request,
            status=404,
            reason=exc.reason,
            object_type=exc.object_type,
            object_id=exc.object_id,
        )
    elif status == 403:
        audit_denied(request=request, status=403, reason=code or "forbidden")


class DenialAuditMiddleware:
    """Records refusals that views raise; the response is whatever Django makes of the exception."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, ScopeDenied):
            audit_denied(
                request=request,
                status=404,
                reason=exception.reason,
                object_type=exception.object_type,
                object_id=exception.object_id,
            )
        elif isinstance(exception, PermissionDenied):
            audit_denied(request=request, status=403, reason=str(exception)[:100] or "permission_denied")
        return None
