from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from linli.accounts.roles import Capability
from linli.accounts.scopes import active_memberships, user_has_capability


def home(request: HttpRequest) -> HttpResponse:
    """Role-aware home: the resident home (phone) or the staff workbench shell (desktop)."""
    user = request.user
    if user.is_authenticated and user_has_capability(user, Capability.VIEW_WORKBENCH):
        memberships = active_memberships(user)
        return render(request, "core/workbench.html", {"memberships": memberships})
    return render(request, "core/resident_home.html")


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
