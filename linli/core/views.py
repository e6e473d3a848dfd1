from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.core.navigation import RESIDENT, WORKBENCH, nav_links
from linli.core.selectors import workbench_summary_for_user


def home(request: HttpRequest) -> HttpResponse:
    """Role-aware home: the resident home (phone) or the staff workbench shell (desktop)."""
    user = request.user
    if user.is_authenticated and user_has_capability(user, Capability.VIEW_WORKBENCH):
        summary = workbench_summary_for_user(user=user)
        quick_links = [link for link in nav_links(WORKBENCH, user) if link.key != "home"]
        return render(request, "core/workbench.html", {"summary": summary, "quick_links": quick_links})
    return render(request, "core/resident_home.html", {"entries": nav_links(RESIDENT, user)})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
