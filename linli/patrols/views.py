"""Patrol pages: the phone recorder (grid workers), the list and one track on a map, weekly coverage.

The recorder page is a shell: ``static/patrols/recorder.js`` does the work against the JSON API (every
request replayable from its offline queue). The track page renders the track server-side through the
audited selector and hands the GeoJSON to ``static/patrols/track.js`` as a JSON script element.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.cases.models import Category
from linli.core.scoping import scope_for
from linli.patrols import selectors
from linli.patrols.models import PatrolStatus
from linli.patrols.presenters import track_dict
from linli.places.models import Grid

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # login_required ran first
    return user


@login_required
def record(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user_has_capability(user, Capability.PATROLS_RECORD):
        raise Http404
    grids = list(Grid.objects.filter(pk__in=sorted(scope_for(user, Capability.PATROLS_RECORD).grid_ids)))
    active = selectors.patrols_for_user(user).filter(worker=user, status=PatrolStatus.ACTIVE).first()
    categories = Category.objects.filter(is_active=True, parent__isnull=False).order_by("code")[:200]
    context = {
        "grids": grids,
        "active": active,
        "categories": categories,
        "api_base": reverse("api:patrols_root"),
        "list_url": reverse("patrols:list"),
    }
    return render(request, "patrols/record.html", context)


@login_required
def patrol_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs = selectors.patrols_for_user(user)
    viewer_staff = user_has_capability(user, Capability.PATROLS_VIEW)
    if not viewer_staff and not user_has_capability(user, Capability.PATROLS_RECORD):
        raise Http404
    grid_id = request.GET.get("grid", "")
    if grid_id.isdigit():
        qs = qs.filter(grid_id=int(grid_id))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "patrols/list.html",
        {
            "page": page,
            "viewer_staff": viewer_staff,
            "can_record": user_has_capability(user, Capability.PATROLS_RECORD),
        },
    )


@login_required
def patrol_detail(request: HttpRequest, patrol_id: int) -> HttpResponse:
    view = selectors.patrol_track_read(viewer=_user(request), patrol_id=patrol_id, request=request)
    data = track_dict(view)
    context = {
        "view": view,
        "patrol": view.patrol,
        "data": data,
        "tile_url": settings.LINLI_MAP_TILE_URL,
        "tile_attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
    }
    return render(request, "patrols/detail.html", context)


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user_has_capability(user, Capability.PATROLS_COVERAGE):
        raise Http404
    day = parse_date(request.GET.get("week", "") or "") or timezone.localdate()
    monday = selectors.week_start_of(day)
    rows = selectors.patrol_coverage_week(user=user, week_start=monday)
    total_buildings = sum(r.buildings for r in rows)
    total_passed = sum(r.passed for r in rows)
    context = {
        "rows": rows,
        "monday": monday,
        "sunday": monday + dt.timedelta(days=6),
        "previous": monday - dt.timedelta(days=7),
        "next": monday + dt.timedelta(days=7)
        if monday + dt.timedelta(days=7) <= timezone.localdate()
        else None,
        "overall": round(100 * total_passed / total_buildings, 1) if total_buildings else None,
        "total_buildings": total_buildings,
        "total_passed": total_passed,
        "patrols": sum(r.patrols for r in rows),
    }
    return render(request, "patrols/coverage.html", context)
