"""Building QR posters for staff: the buildings in scope, a printable poster per building (the QR code
as our own inline SVG, the building, and the 三亮 people), the same poster as one downloadable SVG file
and as PDF (WeasyPrint, when installed), and the bare QR SVG for a print shop. A building outside the
user's scope, or an id that is not a building, answers 404 on every one of them."""

from __future__ import annotations

import io
import re

import segno
from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.accounts.roles import Capability
from linli.cases.poster_svg import building_poster_svg
from linli.cases.qr import building_qr_path, poster_people
from linli.cases.views.access import paginate, query_without_page, staff_view, user_of
from linli.party.pdf import html_to_pdf, pdf_available
from linli.places.models import Level, Region
from linli.security.qr import qr_svg

PDF_STYLESHEET = "cases/poster-pdf.css"


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
    url = qr_url(request, building)
    context = {
        "building": building,
        "url": url,
        "svg": qr_svg(url),
        "people": poster_people(building),
        "community": building.grid.community if building.grid else None,
        "pdf": pdf_available(),
    }
    return render(request, "cases/poster.html", context)


def qr_url(request: HttpRequest, building: Region) -> str:
    """The address printed in a building's QR code: under ``LINLI_PUBLIC_BASE_URL`` when set (a poster
    printed from an intranet address or 127.0.0.1 would otherwise carry that host on the wall for
    years), else the address this page was asked for."""
    base = str(settings.LINLI_PUBLIC_BASE_URL).rstrip("/")
    path = building_qr_path(building)
    return base + path if base else request.build_absolute_uri(path)


def _file_name(building: Region, suffix: str, prefix: str = "poster") -> str:
    """``poster-<code>.svg``, the code cut to characters safe in a Content-Disposition header."""
    return f"{prefix}-{re.sub(r'[^A-Za-z0-9._-]', '_', building.code)[:60]}.{suffix}"


def _poster_document(request: HttpRequest, building: Region, *, xml_declaration: bool = True) -> str:
    community = building.grid.community if building.grid else None
    return building_poster_svg(
        url=qr_url(request, building),
        building_name=building.name,
        building_code=building.code,
        estate_name=building.parent.name if building.parent else "",
        community_name=community.name if community else "",
        address=building.address or (building.parent.address if building.parent else ""),
        people=poster_people(building),
        platform_name=str(settings.LINLI_PLATFORM_NAME),
        xml_declaration=xml_declaration,
    )


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster_download(request: HttpRequest, building_id: int) -> HttpResponse:
    """The whole poster (building, QR code, 三亮 people) as one self-contained SVG file."""
    building = _building_or_404(request, building_id)
    response = HttpResponse(_poster_document(request, building), content_type="image/svg+xml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(building, "svg")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster_pdf(request: HttpRequest, building_id: int) -> HttpResponse:
    """The same poster as an A4 PDF; without WeasyPrint a 501 that points to the SVG and to printing."""
    building = _building_or_404(request, building_id)
    svg = _poster_document(request, building, xml_declaration=False)
    html = render_to_string("cases/poster_document.html", {"building": building, "svg": mark_safe(svg)})  # noqa: S308 - built by ElementTree, every text escaped
    pdf = html_to_pdf(html, stylesheet=PDF_STYLESHEET)
    if pdf is None:
        return HttpResponse(
            _("本服务器未安装PDF组件,请下载SVG海报或使用“打印”另存为PDF。"),
            status=501,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(building, "pdf")}"'
    response["Cache-Control"] = "private, no-store"
    return response


@staff_view(Capability.VIEW_PLACES)
@require_GET
def poster_svg(request: HttpRequest, building_id: int) -> HttpResponse:
    """The QR code alone as an SVG file (for a print shop), error correction Q for outdoor stickers."""
    building = _building_or_404(request, building_id)
    url = qr_url(request, building)
    out = io.BytesIO()
    segno.make(url, error="q").save(out, kind="svg", scale=10, border=4, title=building.name)
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(building, "svg", "qr")}"'
    return response
