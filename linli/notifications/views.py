"""The inbox page (mobile-first): my notifications, unread first; htmx marks one read in place."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.notifications.selectors import notification_list_for_user, notification_unread_count
from linli.notifications.services import notification_mark_all_read, notification_mark_read

INBOX_PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    context = {
        "base_template": "base_workbench.html"
        if user_has_capability(user, Capability.VIEW_WORKBENCH)
        else "base.html",
        "notifications": notification_list_for_user(user=user)[:INBOX_PAGE_SIZE],
        "unread": notification_unread_count(user=user),
    }
    return render(request, "notifications/inbox.html", context)


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notification = notification_mark_read(user=_user(request), notification_id=notification_id)
    if notification is None:
        raise Http404
    if request.headers.get("HX-Request"):
        return render(request, "notifications/inbox.html#item", {"n": notification})
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notification_mark_all_read(user=_user(request))
    return redirect("notifications:inbox")
