"""Building QR posters for staff: the buildings in scope, a printable poster per building (the QR code
as our own inline SVG, the building, and the 三亮 people), and the bare SVG for a print shop."""

from __future__ import annotations

import io

import segno
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.accounts.roles import Capability
from linli.cases.qr import building_qr_path, poster_people
from linli.cases.views.access import paginate, query_without_page, staff_view, user_of
from linli.places.models import Level, Region
from linli.security.qr import qr_svg


def _building_or_404(request: HttpRequest, building_id: int) -> Region:
    building = (
        Region.objects.for_user(user_of(request))
        .filter(pk=building_id, level=Level.BUILDING)
        .select_related("parent", "grid", "grid__community")
        .first()
    )
    if building is None:
        raise Http404
    return building


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster_list(request: HttpRequest) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:50]
    buildings = (
        Region.objects.for_user(user_of(request))
        .filter(level=Level.BUILDING)
        .select_related("parent", "grid")
        .order_by("path")
    )
    if q:
        buildings = buildings.filter(
            Q(name__contains=q) | Q(parent__name__contains=q) | Q(code__startswith=q)
        )
    page = paginate(request, buildings, 50)
    return render(
        request, "cases/wb/posters.html", {"page": page, "q": q, "query": query_without_page(request)}
    )


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster(request: HttpRequest, building_id: int) -> HttpResponse:
    """The printable A4 poster: 扫码反映问题 + the building + its stewards and grid worker (三亮)."""
    building = _building_or_404(request, building_id)
    url = request.build_absolute_uri(building_qr_path(building))
    context = {
        "building": building,
        "url": url,
        "svg": qr_svg(url),
        "people": poster_people(building),
        "community": building.grid.community if building.grid else None,
    }
    return render(request, "cases/poster.html", context)


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster_svg(request: HttpRequest, building_id: int) -> HttpResponse:
    """The QR code alone as an SVG file (for a print shop), error correction Q for outdoor stickers."""
    building = _building_or_404(request, building_id)
    url = request.build_absolute_uri(building_qr_path(building))
    out = io.BytesIO()
    segno.make(url, error="q").save(out, kind="svg", scale=10, border=4, title=building.name)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="qr-{building.code}.svg"'
    return response
