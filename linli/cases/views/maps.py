"""Maps of cases: the staff map of open cases (scoped) and the public map of solved, published cases.

Pins come from JSON endpoints filtered by the visible bounding box: at most 100 per answer, in one
query whatever the number of cases (the user's memberships are read once per request)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.cases import selectors
from linli.cases.models import Case, Status, StatusCategory
from linli.cases.views.access import district_bbox, json_error, staff_view, user_of
from linli.security.ratelimit import rate_limit_hit, rate_limited_message

MAX_PINS = 100
BBox = tuple[float, float, float, float]


def parse_bbox(raw: str | None) -> BBox | None:
    """``min_lng,min_lat,max_lng,max_lat`` (Leaflet's ``toBBoxString``), or None when malformed."""
    try:
        parts = [float(p) for p in (raw or "").split(",")]
    except ValueError:
        return None
    if len(parts) != 4:
        return None
    min_lng, min_lat, max_lng, max_lat = parts
    if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
        return None
    return min_lng, min_lat, max_lng, max_lat


def map_context(pins_url: str, detail_url: str) -> dict[str, Any]:
    return {
        "pins_url": pins_url,
        "detail_url": detail_url,
        "community_url": reverse("api:public_layer", kwargs={"level": "community"}),
        "tile_url": settings.LINLI_MAP_TILE_URL,
        "tile_attribution": settings.LINLI_MAP_TILE_ATTRIBUTION,
        "district_bbox": district_bbox(),
    }


@staff_view()
@require_GET
def staff_map(request: HttpRequest) -> HttpResponse:
    context = map_context(reverse("cases:map_pins"), reverse("cases:detail", kwargs={"case_id": 0}))
    return render(request, "cases/wb/map.html", context)


@staff_view()
@require_GET
def staff_pins(request: HttpRequest) -> JsonResponse:
    """Open cases in the user's scope inside the box: most urgent deadline first, ≤ 100."""
    bbox = parse_bbox(request.GET.get("bbox"))
    if bbox is None:
        return json_error(_("地图范围参数不正确"), code="invalid_bbox")
    min_lng, min_lat, max_lng, max_lat = bbox
    rows = list(
        Case.objects.for_user(user_of(request))
        .filter(
            status_category=StatusCategory.OPEN,
            lat__range=(min_lat, max_lat),
            lng__range=(min_lng, max_lng),
        )
        .order_by("resolve_due_at", "id")
        .values_list("pk", "number", "lat", "lng", "status", "category__name", "resolve_due_at")[
            : MAX_PINS + 1
        ]
    )
    now = timezone.now()
    pins = [
        {
            "id": pk,
            "n": number,
            "lat": lat,
            "lng": lng,
            "s": str(Status(status).label),
            "c": category or "",
            "o": due is not None and due < now,
        }
        for pk, number, lat, lng, status, category, due in rows[:MAX_PINS]
    ]
    return JsonResponse({"pins": pins, "truncated": len(rows) > MAX_PINS})


@require_GET
def public_pins(request: HttpRequest) -> JsonResponse:
    """公示 map: solved public cases, points rounded to ~100 m like ``case_public_dict``, no text."""
    wait = rate_limit_hit(request, rule="public_api")
    if wait is not None:
        return json_error(rate_limited_message(), status=429, code="rate_limited")
    bbox = parse_bbox(request.GET.get("bbox"))
    if bbox is None:
        return json_error(_("地图范围参数不正确"), code="invalid_bbox")
    min_lng, min_lat, max_lng, max_lat = bbox
    lat_range = selectors.public_cell_range(min_lat, max_lat)
    lng_range = selectors.public_cell_range(min_lng, max_lng)
    rows = list(
        selectors.cases_public()
        .filter(  # on the public (rounded) points only: see public_cell_range
            lat__gte=lat_range[0], lat__lt=lat_range[1], lng__gte=lng_range[0], lng__lt=lng_range[1]
        )
        .values_list("pk", "number", "lat", "lng", "category__name")[: MAX_PINS + 1]
    )
    pins = [
        {
            "id": pk,
            "n": number,
            "lat": selectors.public_round(lat) if lat is not None else None,
            "lng": selectors.public_round(lng) if lng is not None else None,
            "s": "",
            "c": category or "",
            "o": False,
        }
        for pk, number, lat, lng, category in rows[:MAX_PINS]
    ]
    return JsonResponse({"pins": pins, "truncated": len(rows) > MAX_PINS})
