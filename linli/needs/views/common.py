"""Pieces shared by the staff pages: the sign-in and capability gate, paging, htmx detection."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.needs.transitions import Flow, state_label

PER_PAGE = 50


View = Callable[..., HttpResponseBase]


def staff_view(capability: str = Capability.NEEDS_VIEW) -> Callable[[View], View]:
    """Signed-in users holding ``capability`` somewhere; anonymous → sign-in page; others → 404 (the page
    does not exist for them). Row-level scope is each view's selector's business."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not user_has_capability(request.user, capability):
                raise Http404
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def user_of(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    return user


def is_htmx(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request"))


def paginate(request: HttpRequest, rows: Any) -> Page[Any]:
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for the pager's links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


EVENT_LABELS = {"create": "登记", "edit": "修改"}


def timeline(flow: Flow, events: Iterable[Any]) -> list[dict[str, Any]]:
    """Events as the page shows them: when, who, what (the table's label), the new state's label."""
    rows = []
    for e in events:
        t = flow.table.get(e.action)
        rows.append(
            {
                "at": e.created_at,
                "on": getattr(e, "occurred_on", None),
                "actor": str(e.actor) if e.actor else "系统",
                "label": str(t.label) if t else EVENT_LABELS.get(e.action, e.action),
                "state": state_label(flow, e.to_state) if e.to_state != e.from_state else "",
                "note": e.note,
                "data": e.data,
            }
        )
    return rows
