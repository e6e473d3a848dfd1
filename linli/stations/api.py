"""Station endpoints: find the nearest stations (public), read a station (public), and for staff within
their scope: edit a station, its hours, its menu and its 七有 checklist; coverage and siting."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import Field, File, Form, Router, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.catalog.models import ServiceItem
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.places.geometry import GeometryError, validate_lat_lng
from linli.security.ratelimit import RateLimited, api_rate_limit
from linli.stations.hours import Period
from linli.stations.index import get_station_index
from linli.stations.models import StationKind
from linli.stations.planning import coverage_for_user, siting_for_user
from linli.stations.presenters import nearest_json, station_detail_dict, station_summary_dict
from linli.stations.selectors import (
    station_for_edit,
    station_public,
    stations_editable_for_user,
    stations_public,
)
from linli.stations.services import (
    StationError,
    station_checklist_set,
    station_hours_replace,
    station_menu_remove,
    station_menu_set,
    station_photo_add,
    station_photo_delete,
    station_update,
)

router = Router(tags=["stations"])

MAX_K = 20


def _error(exc: StationError) -> ApiError:
    return ApiError(exc.code, exc.message, status=400)


# --- finding a station (public) ------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _kind_labels(language: str | None) -> dict[str, str]:
    """Kind labels translated once per language, not three times per request."""
    return {value: str(label) for value, label in StationKind.choices}


class NearestOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    address: str
    phone: str
    lat: float
    lng: float
    distance_m: int = Field(..., description="straight-line distance, metres")
    walk_m: int = Field(..., description="walking distance = straight line × 1.3")
    walk_minutes: int = Field(..., description="at 4.5 km/h, at least 1")
    open_now: bool
    weekend_open: bool = Field(..., description="六日不打烊")
    extended_hours: bool = Field(..., description="错时延时")
    is_24h: bool


def _query(request: HttpRequest) -> dict[str, str]:
    """The query's parameters, the last value of a repeated one winning as with ``request.GET``. A short,
    plain query (the usual ``lat=…&lng=…&k=3``) is split here, a quarter of the cost of building the
    QueryDict; anything escaped, non-ASCII or long goes through ``request.GET``, which decodes it."""
    qs = request.META.get("QUERY_STRING", "")
    if len(qs) > 200 or not qs.isascii() or "%" in qs or "+" in qs:
        return request.GET.dict()
    params = {}
    for part in qs.split("&"):
        if part:
            key, _, value = part.partition("=")
            params[key] = value
    return params


def _parse_float(params: dict[str, str], name: str) -> float:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        raise ApiError("missing_coordinates", "请提供位置坐标 lat 和 lng", status=400)
    try:
        return float(raw)
    except ValueError as exc:
        raise ApiError("invalid_coordinates", f"{name} 必须是数字", status=400) from exc


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@router.get(
    "/nearest",
    response={200: list[NearestOut], 400: ErrorOut},
    auth=None,
    openapi_extra={
        "parameters": [
            {"in": "query", "name": "lat", "required": True, "schema": {"type": "number"}},
            {"in": "query", "name": "lng", "required": True, "schema": {"type": "number"}},
            {"in": "query", "name": "k", "schema": {"type": "integer", "default": 3, "maximum": MAX_K}},
            {"in": "query", "name": "service", "schema": {"type": "string"}, "description": "事项编码或编号"},
            {"in": "query", "name": "open_now", "schema": {"type": "boolean", "default": False}},
        ]
    },
    url_name="stations_nearest",
)
@api_rate_limit("public_api")  # public and anonymous: bounded per client IP (CFG-2)
def nearest(request: HttpRequest) -> HttpResponse:
    """The k nearest published stations (WGS84), nearest first, with walking distance and minutes;
    ``service`` keeps only stations offering that item, ``open_now`` only those open now.

    Parsed by hand and answered with a plain JSON response: this is the hottest public endpoint and the
    schema layer would double its cost (bench/nearest_stations.py); the output still follows NearestOut.
    """
    params = _query(request)
    lat, lng = _parse_float(params, "lat"), _parse_float(params, "lng")
    try:
        validate_lat_lng(lat, lng)
    except GeometryError as exc:
        raise ApiError(exc.code, exc.message, status=400) from exc
    raw_k = params.get("k", "3").strip() or "3"
    if not raw_k.isdigit() or not 1 <= int(raw_k) <= MAX_K:
        raise ApiError("invalid_k", f"k 应为 1 到 {MAX_K} 的整数", status=400)
    raw_open = params.get("open_now", "").strip().lower()
    if raw_open not in _TRUE and raw_open not in _FALSE:
        raise ApiError("invalid_open_now", "open_now 应为 true 或 false", status=400)
    index = get_station_index()
    item_id = None
    service = params.get("service", "").strip()
    if service:
        item_id = index.item_id(service)
        if item_id is None:
            raise ApiError("unknown_service", f"没有编码或编号为“{service[:40]}”的服务事项", status=400)
    hits = index.nearest(
        lat, lng, k=int(raw_k), item_id=item_id, open_at=timezone.now() if raw_open in _TRUE else None
    )
    # LocaleMiddleware has activated this language and noted it on the request (cheaper to read back).
    language = getattr(request, "LANGUAGE_CODE", None) or get_language()
    fragments = index.memo.setdefault(("nearest", language), {})
    return HttpResponse(
        nearest_json(hits, fragments, _kind_labels(language)), content_type="application/json"
    )


def nearest_direct(request: HttpRequest) -> HttpResponse:
    """``nearest`` mounted straight in ``linli/urls.py`` ahead of the API's URL list: Django then resolves
    the hottest public URL among a dozen top-level patterns instead of every API route, and skips the
    framework's per-call wrapper. Same function, same answers and error bodies; the OpenAPI entry above
    documents it (bench/nearest_stations.py measures the difference)."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"code": "method_not_allowed", "message": "只支持 GET"}, status=405)
    try:
        return nearest(request)
    except ApiError as exc:
        body = {"code": exc.code, "message": exc.message, **({"details": exc.details} if exc.details else {})}
        response = JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response


@router.get("/layer", response=dict[str, Any], auth=None, url_name="stations_layer")
@api_rate_limit("public_api")
def station_layer(request: HttpRequest) -> Any:
    """Every published station as a GeoJSON point (map pins), with its kind and whether it is open now."""
    index = get_station_index()
    mask = index.open_mask(timezone.now())
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [e.lng, e.lat]},
                "properties": {
                    "id": e.id,
                    "name": e.name,
                    "kind": e.kind,
                    "kind_label": str(StationKind(e.kind).label),
                    "open_now": bool(mask[i]),
                    "url": reverse("stations:detail", kwargs={"station_id": e.id}),
                },
            }
            for i, e in enumerate(index.entries)
        ],
    }


class StationOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    address: str
    phone: str
    lat: float
    lng: float
    open_now: bool
    weekend_open: bool
    extended_hours: bool
    is_24h: bool
    url: str


@router.get("/", response={200: list[StationOut], 400: ErrorOut}, auth=None, url_name="stations_list")
@api_rate_limit("public_api")
@paginate(CappedPagination)
def station_list(request: HttpRequest, kind: str = "", service: str = "", open_now: bool = False) -> Any:
    """Published stations (by kind, then code), optionally of one ``kind``, offering ``service`` (item code or
    id) and/or open now."""
    if kind and kind not in StationKind.values:
        raise ApiError("unknown_kind", f"未知的阵地类型:{kind[:40]}", status=400)
    item_id = None
    if service:
        item_id = get_station_index().item_id(service)
        if item_id is None:
            raise ApiError("unknown_service", f"没有编码或编号为“{service[:40]}”的服务事项", status=400)
    now = timezone.now()
    rows = [station_summary_dict(s, now) for s in stations_public(kind=kind, item_id=item_id)]
    return [r for r in rows if r["open_now"]] if open_now else rows


class PeriodOut(Schema):
    weekday: int
    weekday_label: str
    opens: str
    closes: str
    overnight: bool


class MenuLineOut(Schema):
    item_code: str
    item_name: str
    category: str
    tier: str
    note: str


class ChecklistOut(Schema):
    item: str
    label: str
    met: bool
    evidence: str


class PartnerOut(Schema):
    name: str
    kind_label: str
    services: str


class StationDetailOut(StationOut):
    description: str
    contact_name: str
    hours_note: str
    open_on_holidays: bool
    periods: list[PeriodOut]
    menu: list[MenuLineOut]
    checklist: list[ChecklistOut]
    partners: list[PartnerOut]
    photos: list[str]
    office_area_m2: float | None
    public_area_m2: float | None
    office_share: float | None


@router.get(
    "/{station_id}", response={200: StationDetailOut, 404: ErrorOut}, auth=None, url_name="stations_detail"
)
@api_rate_limit("public_api")
def station_detail(request: HttpRequest, station_id: int) -> Any:
    station = station_public(station_id=station_id)
    if station is None:
        raise Http404
    return station_detail_dict(station, timezone.now())


# --- staff: edit within scope ----------------------------------------------------------------------
class StationPatchIn(Schema):
    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    contact_name: str | None = Field(None, max_length=50)
    description: str | None = None
    lat: float | None = None
    lng: float | None = None
    office_area_m2: float | None = None
    public_area_m2: float | None = None
    hours_note: str | None = Field(None, max_length=200)
    is_published: bool | None = None


def _editable(request: HttpRequest, station_id: int) -> Any:
    station = station_for_edit(user=request.user, station_id=station_id)
    if station is None:
        raise Http404
    return station


@router.get("/manage/list", response=list[StationOut], auth=session_or_token, url_name="stations_manage_list")
@paginate(CappedPagination)
def manage_list(request: HttpRequest) -> Any:
    """Stations the caller may edit."""
    now = timezone.now()
    qs = stations_editable_for_user(user=request.user).prefetch_related("periods")
    return [station_summary_dict(s, now) for s in qs]


@router.patch(
    "/{station_id}",
    response={200: StationDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_patch",
)
def station_patch(request: HttpRequest, station_id: int, payload: StationPatchIn) -> Any:
    station = _editable(request, station_id)
    changes = payload.dict(exclude_unset=True)
    try:
        station_update(station=station, changes=changes, actor=request.user, request=request)  # type: ignore[arg-type]
    except StationError as exc:
        raise _error(exc) from exc
    return station_detail_dict(_editable(request, station_id), timezone.now())


class PeriodIn(Schema):
    weekday: int = Field(..., ge=0, le=7, description="0 = Monday … 6 = Sunday, 7 = holidays")
    opens: dt.time
    closes: dt.time = Field(..., description="not after opens: ends the next day")


class HoursIn(Schema):
    periods: list[PeriodIn]
    is_24h: bool | None = None
    open_on_holidays: bool | None = None
    hours_note: str | None = Field(None, max_length=200)


@router.put(
    "/{station_id}/hours",
    response={200: StationDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_hours_put",
)
def station_hours_put(request: HttpRequest, station_id: int, payload: HoursIn) -> Any:
    """Replace the week's opening periods (overlaps → ``overlapping_hours``)."""
    station = _editable(request, station_id)
    try:
        station_hours_replace(
            station=station,
            periods=[Period(p.weekday, p.opens, p.closes) for p in payload.periods],
            is_24h=payload.is_24h,
            open_on_holidays=payload.open_on_holidays,
            hours_note=payload.hours_note,
            actor=request.user,  # type: ignore[arg-type]
            request=request,
        )
    except StationError as exc:
        raise _error(exc) from exc
    return station_detail_dict(_editable(request, station_id), timezone.now())


class MenuLineIn(Schema):
    tier: str = "basic"
    note: str = Field("", max_length=200)
    sort_order: int = Field(100, ge=0)
    is_active: bool = True


def _item(code: str) -> ServiceItem:
    item = ServiceItem.objects.filter(code=code, is_active=True).first()
    if item is None:
        raise ApiError("unknown_service", f"没有编码为“{code[:40]}”的服务事项", status=400)
    return item


@router.put(
    "/{station_id}/menu/{item_code}",
    response={200: StationDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_menu_put",
)
def station_menu_put(request: HttpRequest, station_id: int, item_code: str, payload: MenuLineIn) -> Any:
    station = _editable(request, station_id)
    try:
        station_menu_set(
            station=station,
            item=_item(item_code),
            tier=payload.tier,
            note=payload.note,
            sort_order=payload.sort_order,
            is_active=payload.is_active,
            actor=request.user,  # type: ignore[arg-type]
            request=request,
        )
    except StationError as exc:
        raise _error(exc) from exc
    return station_detail_dict(_editable(request, station_id), timezone.now())


@router.delete(
    "/{station_id}/menu/{item_code}",
    response={204: None, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_menu_delete",
)
def station_menu_delete(request: HttpRequest, station_id: int, item_code: str) -> Any:
    station = _editable(request, station_id)
    station_menu_remove(
        station=station,
        item=_item(item_code),
        actor=request.user,  # type: ignore[arg-type]
        request=request,
    )
    return HttpStatus(204, None)


class ChecklistIn(Schema):
    met: bool
    evidence: str = ""
    photo_id: int | None = None


@router.put(
    "/{station_id}/checklist/{item}",
    response={200: StationDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_checklist_put",
)
def station_checklist_put(request: HttpRequest, station_id: int, item: str, payload: ChecklistIn) -> Any:
    station = _editable(request, station_id)
    photo = None
    if payload.photo_id is not None:
        photo = station.photos.filter(pk=payload.photo_id).first()
        if photo is None:
            raise ApiError("photo_not_of_station", "佐证照片必须是本阵地的照片", status=400)
    try:
        station_checklist_set(
            station=station,
            item=item,
            met=payload.met,
            evidence=payload.evidence,
            photo=photo,
            user=request.user,  # type: ignore[arg-type]
            request=request,
        )
    except StationError as exc:
        raise _error(exc) from exc
    return station_detail_dict(_editable(request, station_id), timezone.now())


class PhotoOut(Schema):
    id: int
    url: str
    caption: str
    width: int
    height: int


@router.post(
    "/{station_id}/photos",
    response={201: PhotoOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_photo_post",
)
def station_photo_post(
    request: HttpRequest, station_id: int, file: File[UploadedFile], caption: Form[str] = ""
) -> Any:
    """Upload a photo (JPEG/PNG/HEIC ≤ 10 MB; re-encoded, EXIF/GPS removed)."""
    station = _editable(request, station_id)
    try:
        photo = station_photo_add(
            station=station,
            file=file,
            caption=caption,
            user=request.user,  # type: ignore[arg-type]
            request=request,
        )
    except StationError as exc:
        raise _error(exc) from exc
    url = reverse("stations:photo", kwargs={"station_id": station.id, "photo_id": photo.id})
    body = {
        "id": photo.id,
        "url": url,
        "caption": photo.caption,
        "width": photo.width,
        "height": photo.height,
    }
    return HttpStatus(201, body)


@router.delete(
    "/{station_id}/photos/{photo_id}",
    response={204: None, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_photo_delete",
)
def station_photo_remove(request: HttpRequest, station_id: int, photo_id: int) -> Any:
    """Delete a photo of the station (its file leaves storage after the commit); 404 when the station is
    outside the caller's scope or the photo is not this station's."""
    station = _editable(request, station_id)
    removed = station_photo_delete(
        station=station,
        photo_id=photo_id,
        actor=request.user,  # type: ignore[arg-type]
        request=request,
    )
    if not removed:
        raise Http404
    return HttpStatus(204, None)


# --- staff: coverage planning -------------------------------------------------------------------------
class CoverageEstateOut(Schema):
    id: int
    name: str
    lat: float
    lng: float
    population: int
    station_id: int | None
    distance_m: float | None
    walk_minutes: float | None
    within_5: bool
    within_15: bool


class CoverageOut(Schema):
    population: int
    covered_5: int
    covered_15: int
    share_5: float
    share_15: float
    stations: int
    area_km2: float | None
    stations_per_km2: float | None
    target_stations_per_km2: float
    stations_needed_for_target: int | None
    estates: list[CoverageEstateOut]


def _require_view(request: HttpRequest) -> None:
    if not user_has_capability(request.user, Capability.STATIONS_VIEW):  # type: ignore[arg-type]
        raise Http404


@router.get(
    "/planning/coverage",
    response={200: CoverageOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_coverage",
)
def coverage(request: HttpRequest, uncovered_only: bool = False) -> Any:
    """Every estate in the caller's scope: nearest station, walk, inside the 5/15-minute circles."""
    _require_view(request)
    report = coverage_for_user(user=request.user)  # type: ignore[arg-type]
    rows = report.uncovered(15) if uncovered_only else report.rows
    return {
        "population": report.population,
        "covered_5": report.covered_population[5],
        "covered_15": report.covered_population[15],
        "share_5": round(report.share(5), 4),
        "share_15": round(report.share(15), 4),
        "stations": report.stations,
        "area_km2": round(report.area_km2, 3) if report.area_km2 else None,
        "stations_per_km2": round(report.stations_per_km2, 3) if report.stations_per_km2 else None,
        "target_stations_per_km2": round(1 / report.target_km2_per_station, 3),
        "stations_needed_for_target": report.stations_needed_for_target,
        "estates": [
            {
                "id": r.estate.id,
                "name": r.estate.name,
                "lat": r.estate.lat,
                "lng": r.estate.lng,
                "population": r.estate.population,
                "station_id": r.station_id,
                "distance_m": round(r.distance_m, 1) if r.station_id is not None else None,
                "walk_minutes": round(r.walk_minutes, 1) if r.station_id is not None else None,
                "within_5": r.within[5],
                "within_15": r.within[15],
            }
            for r in rows
        ],
    }


class SitingIn(Schema):
    k: int = Field(5, ge=1, le=20, description="how many new stations")
    minutes: int = Field(5, description="walking circle: 5 or 15")


class SiteOut(Schema):
    estate_id: int
    name: str
    lat: float
    lng: float


class SitingOut(Schema):
    k: int
    minutes: int
    gain_population: int
    covered_estates: list[int]
    sites: list[SiteOut]
    optimal: bool
    seconds: float


@router.post(
    "/planning/siting",
    response={200: SitingOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="stations_siting",
)
def siting(request: HttpRequest, payload: SitingIn) -> Any:
    """Where to add k stations to bring the most people inside the walking circle (CP-SAT)."""
    _require_view(request)
    if payload.minutes not in (5, 15):
        raise ApiError("invalid_minutes", "步行圈只能是 5 或 15 分钟", status=400)
    result = siting_for_user(user=request.user, k=payload.k, minutes=payload.minutes)  # type: ignore[arg-type]
    return {
        "k": payload.k,
        "minutes": payload.minutes,
        "gain_population": result.gain,
        "covered_estates": result.covered_estates,
        "sites": [{"estate_id": p.id, "name": p.name, "lat": p.lat, "lng": p.lng} for p in result.chosen],
        "optimal": result.optimal,
        "seconds": round(result.wall_seconds, 3),
    }
